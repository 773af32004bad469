#include "runtime/cli/plugin_loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
// Inline, as everywhere else in Sluice; it also makes XXH3_state_t complete
// (the checksum below keeps one on the stack).
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "io/fault_points.h"
#include <sluice/registration.h>  // the descriptor checks: kSluiceAbiLayoutHash

namespace sluice {
namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

// "owner uid 0, mode 0755"
std::string OwnerAndMode(const struct stat& st) {
  char mode[16];
  std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return "owner uid " + std::to_string(st.st_uid) + ", mode " + mode;
}

// How the plugin is named in messages: as given, and where it led.
std::string Named(const std::string& path, const std::string& real) {
  return "plugin " + Quoted(path) + (real.empty() || real == path ? "" : " (" + real + ")");
}

// A folder on the way to the plugin, opened; `child_st` is what it holds
// next on the way (a folder or the plugin file).
Status CheckFolder(const std::string& plugin, const std::string& dir, const struct stat& dir_st,
                   const std::string& child, const struct stat& child_st, uid_t me) {
  const std::string me_text = "you (uid " + std::to_string(me) + ")";
  if (dir_st.st_uid != 0 && dir_st.st_uid != me) {
    return Status::Usage(plugin + ": refusing to load: folder " + Quoted(dir) + " (" +
                         OwnerAndMode(dir_st) + ") belongs to another user, not " + me_text +
                         " or root, who could replace what it holds; put the plugin under "
                         "folders owned by you or root");
  }
  if ((dir_st.st_mode & (S_IWGRP | S_IWOTH)) == 0) return Status::OK();
  const bool sticky = (dir_st.st_mode & S_ISVTX) != 0;
  if (sticky && child_st.st_uid == me) return Status::OK();  // like ~/x in /tmp: others cannot rename it
  std::string why = sticky ? "; it is sticky, but " + Quoted(child) + " in it is owned by uid " +
                                 std::to_string(child_st.st_uid) + ", not by " + me_text
                           : " and not sticky";
  return Status::Usage(plugin + ": refusing to load: folder " + Quoted(dir) + " (" +
                       OwnerAndMode(dir_st) + ") is writable by group or others" + why +
                       ", so another user could swap what it holds; move the plugin under "
                       "folders only you can write, or chmod go-w " +
                       Quoted(dir));
}

Status CheckFile(const std::string& plugin, const std::string& file, const struct stat& st,
                 uid_t me) {
  if (!S_ISREG(st.st_mode)) return Status::Usage(plugin + " is not a regular file");
  if (st.st_uid != 0 && st.st_uid != me) {
    return Status::Usage(plugin + ": refusing to load: file " + Quoted(file) + " (" +
                         OwnerAndMode(st) + ") is owned by another user, not by you (uid " +
                         std::to_string(me) + ") or root, who could change the code you would "
                         "run; copy it to a file of your own (cp, then chmod go-w)");
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return Status::Usage(plugin + ": refusing to load: file " + Quoted(file) + " (" +
                         OwnerAndMode(st) + ") is writable by group or others, who could "
                         "change the code you would run; chmod go-w " +
                         Quoted(file));
  }
  return Status::OK();
}

// Opens the plugin file for reading, having checked every folder from "/"
// down and the file itself on the opened descriptors (see LoadPlugin).
Result<Fd> OpenChecked(const std::string& path, const std::string& real) {
  const std::string plugin = Named(path, real);
  std::vector<std::string> parts;
  for (size_t at = 0; at < real.size();) {
    size_t slash = real.find('/', at);
    if (slash == std::string::npos) slash = real.size();
    if (slash > at) parts.push_back(real.substr(at, slash - at));
    at = slash + 1;
  }
  if (parts.empty()) return Status::Usage(plugin + " is not a regular file");
  const uid_t me = geteuid();
  Fd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  struct stat dir_st;
  if (dir.get() < 0 || fstat(dir.get(), &dir_st) != 0) {
    return Status::Usage(plugin + ": folder '/' cannot be examined: " + std::strerror(errno));
  }
  std::string dir_path = "/";
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    const std::string child_path = (dir_path == "/" ? "" : dir_path) + "/" + parts[i];
    // The file: opened for reading (O_NONBLOCK: a FIFO must not block us;
    // it is refused below as not a regular file).
    const int flags = last ? O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK
                           : O_PATH | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY;
    Fd child(::openat(dir.get(), parts[i].c_str(), flags));
    if (child.get() < 0) {
      const int err = errno;
      if (err == ENOENT) return Status::Usage(plugin + " does not exist");
      if (err == ELOOP || err == ENOTDIR) {
        return Status::Usage(plugin + ": refusing to load: " + Quoted(child_path) +
                             " changed while being checked (it is now a symbolic link or not a "
                             "folder); someone may be swapping it");
      }
      return Status::Usage(plugin + ": " + Quoted(child_path) +
                           " cannot be opened: " + std::strerror(err));
    }
    struct stat child_st;
    if (fstat(child.get(), &child_st) != 0) {
      return Status::Usage(plugin + ": " + Quoted(child_path) +
                           " cannot be examined: " + std::strerror(errno));
    }
    SLUICE_RETURN_IF_ERROR(CheckFolder(plugin, dir_path, dir_st, child_path, child_st, me));
    if (last) {
      SLUICE_RETURN_IF_ERROR(CheckFile(plugin, child_path, child_st, me));
      return child;
    }
    dir = std::move(child);
    dir_st = child_st;
    dir_path = child_path;
  }
  return Status::Usage(plugin + " is not a regular file");  // not reached
}

Result<uint64_t> Xxh3OfFd(int fd, const std::string& plugin) {
  constexpr size_t kPiece = 1 << 20;
  std::unique_ptr<char[]> buf(new char[kPiece]);
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (off_t at = 0;;) {
    const ssize_t got = ::pread(fd, buf.get(), kPiece, at);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status::Usage(plugin + " cannot be read: " + std::strerror(errno));
    }
    if (got == 0) break;
    XXH3_64bits_update(&state, buf.get(), static_cast<size_t>(got));
    at += got;
  }
  return static_cast<uint64_t>(XXH3_64bits_digest(&state));
}

std::string Hex(uint64_t v) {
  char text[24];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(v));
  return text;
}

// What the host hands each plugin (plugin_api.h): this process's fault points.
const SluiceHostLink kHostLink = {&ShareFaultFlag, &HitFaultPoint};

}  // namespace

// "/proc/self/fd/N" for `*fd`, at a number N no library loaded in this
// process was opened by. dlopen first looks for an object loaded under the
// same name: a second plugin whose descriptor got the number of an earlier
// one would get the earlier library back, unchecked. So the descriptor is
// moved up until its name is new.
Result<std::string> UnloadedFdName(Fd* fd, const std::string& plugin) {
  for (int tries = 0; tries < 1024; ++tries) {
    std::string name = "/proc/self/fd/" + std::to_string(fd->get());
    void* loaded = dlopen(name.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (loaded == nullptr) return name;
    dlclose(loaded);
    const int moved = fcntl(fd->get(), F_DUPFD_CLOEXEC, fd->get() + 1);
    if (moved < 0) return Status::IOError(plugin + ": cannot move its descriptor: " + std::strerror(errno));
    *fd = Fd(moved);
  }
  return Status::Internal(plugin + ": no descriptor number free of an earlier plugin");
}

Result<LoadedPlugin> LoadPlugin(const std::string& path) {
  if (path.find('/') == std::string::npos) {
    return Status::Usage("plugin '" + path + "': give a path containing '/' (e.g. ./" + path +
                         "); the library search path is never used");
  }
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status::Usage("plugin '" + path + "' does not exist");
    return Status::Usage("plugin '" + path + "' cannot be resolved: " + std::strerror(err));
  }
  const std::string real = resolved;
  std::free(resolved);
  const std::string plugin = Named(path, real);

  SLUICE_ASSIGN_OR_RETURN(Fd fd, OpenChecked(path, real));
  SLUICE_ASSIGN_OR_RETURN(uint64_t xxh3, Xxh3OfFd(fd.get(), plugin));
  // The checked, hashed open file is the one loaded: its name can change
  // under us, the descriptor cannot.
  SLUICE_ASSIGN_OR_RETURN(std::string by_fd, UnloadedFdName(&fd, plugin));
  void* handle = dlopen(by_fd.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return Status::Usage(plugin + " cannot be loaded: " + (err ? err : "unknown error"));
  }
  auto entry = reinterpret_cast<SluicePluginEntry>(dlsym(handle, SLUICE_PLUGIN_ENTRY_SYMBOL));
  if (entry == nullptr) {
    dlclose(handle);
    return Status::Usage(plugin + " is not a Sluice job plugin: it does not export " +
                         SLUICE_PLUGIN_ENTRY_SYMBOL + " (end the job source with SLUICE_JOB and "
                         "build it with sluice_add_job)");
  }
  const SluicePluginDescriptor* d = entry();
  // abi_version first, alone: only it is at the same place in every
  // descriptor layout there has been.
  if (d == nullptr || d->abi_version != kSluiceAbiVersion) {
    uint32_t got = d ? d->abi_version : 0;
    dlclose(handle);
    return Status::Usage(plugin + " was built for Sluice plugin ABI " + std::to_string(got) +
                         ", this sluice speaks ABI " + std::to_string(kSluiceAbiVersion) +
                         ": rebuild the plugin against this Sluice");
  }
  if (d->cxx_abi != __GXX_ABI_VERSION) {
    dlclose(handle);
    return Status::Usage(plugin + " was built with C++ ABI " + std::to_string(d->cxx_abi) +
                         ", this sluice with " + std::to_string(__GXX_ABI_VERSION) +
                         ": rebuild it with the same compiler");
  }
  if (d->layout_hash != kSluiceAbiLayoutHash) {
    const uint64_t got = d->layout_hash;
    dlclose(handle);
    return Status::Usage(plugin + " was built against other Sluice headers (plugin ABI layout " +
                         Hex(got) + ", this sluice " + Hex(kSluiceAbiLayoutHash) +
                         "): the job interface it was compiled for differs from this one; "
                         "rebuild the plugin against this Sluice");
  }
  if (d->name == nullptr || d->create == nullptr || d->connect == nullptr) {
    dlclose(handle);
    return Status::Usage(plugin + " has an incomplete descriptor (no name, factory or connect)");
  }
  d->connect(&kHostLink);
  LoadedPlugin p;
  p.entry = JobEntry{d->name, d->description ? d->description : "", d->create};
  p.path = path;
  p.xxh3 = xxh3;
  p.handle = handle;
  return p;
}

}  // namespace sluice
