#include "io/output_lock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

namespace sluice {
namespace {

constexpr char kTokenTag[] = "token ";

std::string ReadAll(int fd) {
  std::string out;
  char buf[512];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    at += n;
    if (out.size() > 4096) break;  // a lock file is one short line
  }
  return out;
}

// The first line: who holds it.
std::string HolderLine(const std::string& contents) {
  std::string line = contents.substr(0, contents.find('\n'));
  return line.empty() ? "an unknown process" : line;
}

std::string TokenOf(const std::string& contents) {
  const size_t at = contents.find(std::string("\n") + kTokenTag);
  if (at == std::string::npos) return {};
  const size_t begin = at + 1 + sizeof kTokenTag - 1;
  return contents.substr(begin, contents.find('\n', begin) - begin);
}

Status Refuse(const std::string& lock_path, const std::string& why) {
  return Status::Usage("output lock '" + lock_path + "' " + why);
}

}  // namespace

std::string DescribeThisProcess() {
  char host[256] = "unknown-host";
  (void)::gethostname(host, sizeof host - 1);
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
  return "pid " + std::to_string(::getpid()) + " on host " + host + " (uid " +
         std::to_string(::geteuid()) + "), since " + when;
}

OutputLock::~OutputLock() {
  if (fd_ >= 0) ::close(fd_);
}

OutputLock::OutputLock(OutputLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

OutputLock& OutputLock::operator=(OutputLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

Result<OutputLock> OutputLock::Acquire(const std::string& lock_path, const std::string& output_dir,
                                       const std::string& holder, const std::string& token) {
  // A few rounds: a holder that ends removes the file, and the descriptor we
  // opened may then lock an unlinked file; that lock is worthless, so retry
  // on the file now at the path.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      const int err = errno;
      // In a sticky folder the kernel answers EACCES, not ELOOP, for another
      // user's symlink or file: say what is in the way.
      struct stat in_way;
      if (::lstat(lock_path.c_str(), &in_way) == 0) {
        if (S_ISLNK(in_way.st_mode)) {
          return Refuse(lock_path, "is a symlink: refusing to follow it (remove it)");
        }
        if (in_way.st_uid != ::geteuid()) {
          return Refuse(lock_path, "is owned by uid " + std::to_string(in_way.st_uid) +
                                       ", not by this user (uid " + std::to_string(::geteuid()) +
                                       "): remove it, or choose another --output");
        }
      }
      return Status::FromErrno("open output lock", lock_path, err);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return Status::FromErrno("fstat", lock_path, err);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return Refuse(lock_path, "is not a regular file (remove it)");
    }
    if (st.st_uid != ::geteuid()) {
      ::close(fd);
      return Refuse(lock_path, "is owned by uid " + std::to_string(st.st_uid) +
                                   ", not by this user (uid " + std::to_string(::geteuid()) +
                                   "): another user could hold it or lie in it; remove it, or "
                                   "choose another --output");
    }
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
      const int err = errno;
      // The holder writes who it is right after it locks: give it a moment.
      std::string contents = ReadAll(fd);
      for (int wait = 0; wait < 50 && contents.find('\n') == std::string::npos; ++wait) {
        ::usleep(10000);
        contents = ReadAll(fd);
      }
      ::close(fd);
      if (err == EAGAIN || err == EACCES) {
        return Status::Usage("output '" + output_dir + "' is in use by another Sluice job: lock '" +
                             lock_path + "' is held by " + HolderLine(contents) +
                             "; wait for that job, or choose another --output");
      }
      return Status::FromErrno("lock", lock_path, err);
    }
    struct stat now;
    if (::stat(lock_path.c_str(), &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
      ::close(fd);  // the previous holder removed this file while we opened it
      continue;
    }
    const std::string contents = holder + "\n" + kTokenTag + token + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, contents.data(), contents.size(), 0) != static_cast<ssize_t>(contents.size())) {
      const int err = errno;
      ::close(fd);
      return Status::FromErrno("write output lock", lock_path, err);
    }
    OutputLock lock;
    lock.fd_ = fd;
    lock.path_ = lock_path;
    return lock;
  }
  return Status::IOError("output lock '" + lock_path + "' keeps disappearing while being taken");
}

Status OutputLock::CheckHeldBy(const std::string& lock_path, const std::string& output_dir,
                               const std::string& token) {
  const int fd = ::open(lock_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Status::Usage("output lock '" + lock_path + "' cannot be read on this rank (" +
                         std::string(std::strerror(errno)) + "): is the output's folder on a "
                         "filesystem shared by every rank?");
  }
  const std::string contents = ReadAll(fd);
  ::close(fd);
  if (TokenOf(contents) != token) {
    return Status::Usage("output '" + output_dir + "' is not locked by this job on this rank: '" +
                         lock_path + "' names " + HolderLine(contents) +
                         " (is the output's folder on a filesystem shared by every rank?)");
  }
  return Status::OK();
}

void OutputLock::Release() {
  if (fd_ < 0) return;
  struct stat mine, now;
  if (::fstat(fd_, &mine) == 0 && ::stat(path_.c_str(), &now) == 0 && mine.st_dev == now.st_dev &&
      mine.st_ino == now.st_ino) {
    (void)::unlink(path_.c_str());
  }
  ::close(fd_);
  fd_ = -1;
}

}  // namespace sluice
