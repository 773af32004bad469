#include "io/file_system.h"

#include "io/fault_injecting_file_system.h"

#include <dirent.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {

namespace {

class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixReadableFile() override { ::close(fd_); }

  PosixReadableFile(const PosixReadableFile&) = delete;
  PosixReadableFile& operator=(const PosixReadableFile&) = delete;

  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, dst + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        *got = done;
        return Status::FromErrno("read", path_, errno);
      }
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    *got = done;
    return Status::OK();
  }

  uint64_t size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  const std::string path_;
  const int fd_;
  const uint64_t size_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  PosixWritableFile(const PosixWritableFile&) = delete;
  PosixWritableFile& operator=(const PosixWritableFile&) = delete;

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Status::Internal("append to closed file '" + path_ + "'");
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t r = ::write(fd_, p, left);
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno("write", path_, errno);
      }
      p += r;
      left -= static_cast<size_t>(r);
    }
    return Status::OK();
  }

  Status Sync() override {
    if (fd_ < 0) return Status::Internal("sync of closed file '" + path_ + "'");
    if (::fsync(fd_) != 0) return Status::FromErrno("fsync", path_, errno);
    return Status::OK();
  }

  void StartWriteback() override {
    // SYNC_FILE_RANGE_WRITE alone queues the dirty pages and does not wait
    // for them (0, 0: the whole file). See the header for why the result is
    // not needed.
    if (fd_ >= 0) (void)::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int fd = fd_;
    fd_ = -1;
    // Linux releases the descriptor even when close() fails (EINTR included),
    // so it must not be retried; the error still means data may be lost.
    if (::close(fd) != 0) return Status::FromErrno("close", path_, errno);
    return Status::OK();
  }

  const std::string& path() const override { return path_; }

 private:
  const std::string path_;
  int fd_;
};

FileInfo InfoFromStat(const struct stat& st) {
  FileInfo info;
  if (S_ISREG(st.st_mode)) {
    info.type = FileType::kRegular;
  } else if (S_ISDIR(st.st_mode)) {
    info.type = FileType::kDirectory;
  } else {
    info.type = FileType::kOther;
  }
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  info.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  info.device = static_cast<uint64_t>(st.st_dev);
  info.inode = static_cast<uint64_t>(st.st_ino);
  info.uid = static_cast<uint32_t>(st.st_uid);
  info.mode = static_cast<uint32_t>(st.st_mode & 07777);
  info.symlink = S_ISLNK(st.st_mode);
  return info;
}

// The two refusals of a directory Sluice keeps for itself (staging, work,
// scratch) that someone else put in its place.
Status SymlinkInTheWay(const std::string& path) {
  return Status::Usage("'" + path + "' is a symlink, where Sluice keeps a private directory: "
                       "refusing to follow it (remove it, or choose another --output)");
}

Status OwnedByAnotherUser(const std::string& path, uint32_t uid) {
  return Status::Usage("'" + path + "' is owned by uid " + std::to_string(uid) +
                       ", not by this user (uid " + std::to_string(::geteuid()) +
                       "): another user may be tampering with this output; remove it, or "
                       "choose another --output");
}

// Removes `path` without following symlinks: a symlink to a directory is
// unlinked, never descended into, so RemoveAll cannot escape its tree.
Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::OK();
    return Status::FromErrno("lstat", path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::FromErrno("unlink", path, errno);
    }
    return Status::OK();
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("opendir", path, errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno("opendir", path, err);
  }
  // Collect names first: removing entries while readdir() walks the same
  // directory may skip entries.
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      names.emplace_back(e->d_name);
    }
    errno = 0;
  }
  int read_err = errno;
  ::closedir(dir);
  if (read_err != 0) return Status::FromErrno("readdir", path, read_err);
  for (const std::string& name : names) {
    SLUICE_RETURN_IF_ERROR(RemoveTree(path + "/" + name));
  }
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno("rmdir", path, errno);
  }
  return Status::OK();
}

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override {
    int fd;
    do {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return Status::FromErrno("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno("fstat", path, err);
    }
    return std::unique_ptr<ReadableFile>(
        new PosixReadableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override {
    int fd;
    do {
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0 && errno == ELOOP) {
      return Status::Usage("'" + path + "' is a symlink; Sluice never writes through one");
    }
    if (fd < 0) return Status::FromErrno("create", path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }

  Result<FileInfo> LinkStat(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return Status::FromErrno("lstat", path, errno);
    return InfoFromStat(st);
  }

  Status CreatePrivateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0700) == 0) return Status::OK();
    if (errno != EEXIST) return Status::FromErrno("mkdir", path, errno);
    // Whoever made it, it is used only through a descriptor that proves it
    // is a real directory of ours.
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      struct stat st;
      if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
        return SymlinkInTheWay(path);
      }
      if (err == ENOTDIR) {
        return Status::Usage("'" + path + "' is in the way: Sluice needs a directory of that name");
      }
      return Status::FromErrno("open directory", path, err);
    }
    struct stat st;
    Status s;
    if (::fstat(fd, &st) != 0) {
      s = Status::FromErrno("fstat", path, errno);
    } else if (st.st_uid != ::geteuid()) {
      s = OwnedByAnotherUser(path, st.st_uid);
    } else if ((st.st_mode & 07777) != 0700 && ::fchmod(fd, 0700) != 0) {
      s = Status::FromErrno("chmod", path, errno);
    }
    ::close(fd);
    return s;
  }

  Result<bool> Exchange(const std::string& a, const std::string& b) override {
    if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) return true;
    if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) return false;
    return Status::FromErrno("exchange", a + "' with '" + b, errno);
  }

  Status SetMode(const std::string& path, uint32_t mode) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("open", path, errno);
    const int rc = ::fchmod(fd, static_cast<mode_t>(mode));
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno("chmod", path, err);
    return Status::OK();
  }

  Status SyncFilesystem(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("open", path, errno);
    const int rc = ::syncfs(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno("syncfs", path, err);
    return Status::OK();
  }

  Result<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Status::FromErrno("stat", path, errno);
    return InfoFromStat(st);
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("opendir", path, errno);
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno("opendir", path, err);
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(dir)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        names.emplace_back(e->d_name);
      }
      errno = 0;
    }
    int read_err = errno;
    ::closedir(dir);
    if (read_err != 0) return Status::FromErrno("readdir", path, read_err);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status CreateDirs(const std::string& path) override {
    if (path.empty()) return Status::Usage("cannot create a directory with an empty name");
    // Walk the prefixes ending before each '/', then the whole path, so that
    // "a/b/c" creates a, a/b and a/b/c; an existing prefix is fine.
    size_t pos = 0;
    while (true) {
      size_t slash = path.find('/', pos);
      std::string prefix = slash == std::string::npos ? path : path.substr(0, slash);
      bool last =
          slash == std::string::npos || path.find_first_not_of('/', slash) == std::string::npos;
      if (!prefix.empty() && ::mkdir(prefix.c_str(), 0755) != 0) {
        int err = errno;
        if (err != EEXIST) return Status::FromErrno("mkdir", prefix, err);
        // EEXIST says nothing about the type: a file in the way is an error.
        struct stat st;
        if (::stat(prefix.c_str(), &st) != 0) return Status::FromErrno("stat", prefix, errno);
        if (!S_ISDIR(st.st_mode)) return Status::FromErrno("mkdir", prefix, ENOTDIR);
      }
      if (last) break;
      pos = slash + 1;
    }
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      // Reads "rename 'a' to 'b': <reason>".
      return Status::FromErrno("rename", from + "' to '" + to, errno);
    }
    return Status::OK();
  }

  Status Link(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) != 0) {
      return Status::FromErrno("link", from + "' to '" + to, errno);
    }
    return Status::OK();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Status::FromErrno("unlink", path, errno);
    return Status::OK();
  }

  Status RemoveAll(const std::string& path) override { return RemoveTree(path); }

  bool Exists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }

  bool IsReadable(const std::string& path) override { return ::access(path.c_str(), R_OK) == 0; }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("open directory", path, errno);
    int rc;
    do {
      rc = ::fsync(fd);
    } while (rc != 0 && errno == EINTR);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno("fsync directory", path, err);
    return Status::OK();
  }
};

}  // namespace

// The POSIX filesystem behind an (unarmed) fault injector, so that fault
// points can make "the next I/O call" fail in a real job. Unarmed, the
// injector costs a branch per file operation, not per record. Leaked on
// purpose: a static destructor could run while another thread still uses
// the filesystem at exit.
FaultInjectingFileSystem& DefaultFileSystemFaults() {
  static FaultInjectingFileSystem* const fs = new FaultInjectingFileSystem(new PosixFileSystem);
  return *fs;
}

FileSystem* FileSystem::Default() { return &DefaultFileSystemFaults(); }

Status RemoveOwnTree(FileSystem& fs, const std::string& path) {
  Result<FileInfo> info = fs.LinkStat(path);
  if (!info.ok()) {
    struct stat st;
    const bool missing = ::lstat(path.c_str(), &st) != 0 && errno == ENOENT;
    return missing ? Status::OK() : info.status();
  }
  if (info->symlink) {
    return SymlinkInTheWay(path);
  }
  if (info->uid != static_cast<uint32_t>(::geteuid())) {
    return OwnedByAnotherUser(path, info->uid);
  }
  return fs.RemoveAll(path);
}

Status CheckSafeParent(FileSystem& fs, const std::string& dir, const std::string& what,
                       bool owner_checked) {
  SLUICE_ASSIGN_OR_RETURN(FileInfo info, fs.Stat(dir));
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", info.mode);
  if ((info.mode & S_IWOTH) != 0 && (info.mode & S_ISVTX) == 0) {
    return Status::Usage(what + " '" + dir + "' (mode " + mode + ") is writable by everyone and not "
                         "sticky: anyone could replace what Sluice keeps there; chmod o-w or +t it, "
                         "or choose another folder");
  }
  const uint32_t me = static_cast<uint32_t>(::geteuid());
  if (owner_checked && info.uid != me && info.uid != 0) {
    return Status::Usage(what + " '" + dir + "' belongs to uid " + std::to_string(info.uid) +
                         ", not to this user (uid " + std::to_string(me) +
                         ") or root: its owner could replace what Sluice keeps there; choose "
                         "another folder");
  }
  return Status::OK();
}

Result<std::string> ReadFileToString(FileSystem& fs, const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, fs.OpenForRead(path));
  std::string data;
  // The size at open is a hint: keep reading until a short read proves EOF,
  // in case the file grew in between.
  size_t want = static_cast<size_t>(file->size()) + 1;
  uint64_t offset = 0;
  while (true) {
    data.resize(static_cast<size_t>(offset) + want);
    size_t got = 0;
    Status s = file->ReadAt(offset, want, data.data() + offset, &got);
    if (!s.ok()) return s;
    offset += got;
    if (got < want) break;
    want = std::max<size_t>(want, 4096);
  }
  data.resize(static_cast<size_t>(offset));
  return data;
}

Result<uint64_t> Xxh3OfFile(ReadableFile& file, uint64_t end) {
  constexpr size_t kPiece = 1 << 20;
  std::unique_ptr<char[]> buf(new char[kPiece]);
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (uint64_t at = 0; at < end;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kPiece, end - at));
    size_t got = 0;
    SLUICE_RETURN_IF_ERROR(file.ReadAt(at, want, buf.get(), &got));
    if (got == 0) {
      return Status::IOError("'" + file.path() + "' ended at byte " + std::to_string(at) +
                             " of the " + std::to_string(end) + " to hash");
    }
    XXH3_64bits_update(&state, buf.get(), got);
    at += got;
  }
  return static_cast<uint64_t>(XXH3_64bits_digest(&state));
}

Result<uint64_t> Xxh3OfFile(FileSystem& fs, const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, fs.OpenForRead(path));
  return Xxh3OfFile(*file, file->size());
}

Status WriteStringToFile(FileSystem& fs, const std::string& path, std::string_view data) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs.Create(path));
  Status s = file->Append(data);
  if (s.ok()) s = file->Sync();
  Status closed = file->Close();
  if (s.ok()) s = closed;
  return s;
}

}  // namespace sluice
