#include "jobs/stream/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cstdio>
#include <mutex>
#include <tuple>
#include <utility>

extern char** environ;

namespace sluice {
namespace {

// Reads and writes move at most this much per call: large enough that a
// block costs a handful of syscalls, small enough that stdout is read again
// long before a busy child's pipe buffer has filled for long.
constexpr size_t kIoChunk = size_t{1} << 20;

std::string Joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

// A child that exits while we still write to its stdin must cost us EPIPE
// from write(), not SIGPIPE's default (our death). Set once, process-wide;
// the child gets the default back (posix_spawnattr_setsigdefault).
void IgnoreSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction old = {};
    if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
  });
}

std::string Seconds(std::chrono::milliseconds ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", static_cast<double>(ms.count()) / 1000.0);
  return text;
}

int MillisLeft(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
}

int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

// One message on the status pipe (command_guard.cpp writes them).
struct GuardMessage {
  enum Kind : int32_t { kCommandPid = 1, kExecErrno = 2, kDirErrno = 3 };
  int32_t kind;
  int32_t value;
};

// The guard program (command_guard.cpp): next to the running executable
// (build/bin, or the installed bin/), or where SLUICE_COMMAND_GUARD says.
Result<std::string> GuardPath() {
  if (const char* set = ::getenv("SLUICE_COMMAND_GUARD"); set != nullptr && *set != '\0') {
    if (::access(set, X_OK) != 0) {
      return Status::Usage(std::string("SLUICE_COMMAND_GUARD='") + set + "' is not an executable: " +
                           std::strerror(errno));
    }
    return std::string(set);
  }
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return Status::FromErrno("readlink", "/proc/self/exe", errno);
  std::string path(self, static_cast<size_t>(n));
  path = path.substr(0, path.rfind('/') + 1) + "sluice-command-guard";
  if (::access(path.c_str(), X_OK) != 0) {
    return Status::Internal("the stream job runs commands through '" + path + "', which is missing (" +
                            std::strerror(errno) + "): build or install it with sluice, or set SLUICE_COMMAND_GUARD");
  }
  return path;
}

}  // namespace

std::string ChildExit::Describe(std::chrono::milliseconds idle_timeout) const {
  if (timed_out) {
    return "killed after " + Seconds(idle_timeout) + " without reading input or writing output";
  }
  if (signaled) return "killed by signal " + std::to_string(code) + " (" + ::strsignal(code) + ")";
  std::string what = "exit status " + std::to_string(code);
  if (unread_input > 0) what += " with " + std::to_string(unread_input) + " bytes of its input unread";
  return what;
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const ChildOptions& options, Sink out, Sink err) {
  if (options.argv.empty() || options.argv[0].empty()) return Status::Usage("empty command");
  IgnoreSigpipe();
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return Status::FromErrno("pipe", "", errno);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(in_pipe[0]), ::close(in_pipe[1]);
    return Status::FromErrno("pipe", "", e);
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    const int e = errno;
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) ::close(fd);
    return Status::FromErrno("pipe", "", e);
  }

  std::vector<char*> argv;
  for (const std::string& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // Our environment, with options.env set over it (a NAME it names is
  // replaced, not doubled).
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const std::string_view name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const std::string& set : options.env) {
      overridden = overridden || (set.size() > name.size() && set.compare(0, name.size(), name) == 0 &&
                                  set[name.size()] == '=');
    }
    if (!overridden) envp.push_back(*e);
  }
  for (const std::string& set : options.env) envp.push_back(const_cast<char*>(set.c_str()));
  envp.push_back(nullptr);

  static const Result<std::string> guard_path = GuardPath();  // once: it does not move
  if (!guard_path.ok()) {
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    return guard_path.status();
  }
  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
    const int e = errno;
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    return Status::FromErrno("pipe", "", e);
  }
  std::vector<char*> guard_argv;
  std::string rank_pid = std::to_string(::getpid());
  std::string guard_name = "sluice-command-guard", separator = "--";
  guard_argv.push_back(guard_name.data());
  guard_argv.push_back(rank_pid.data());
  std::string dir_mode = options.private_dir_under.empty() ? "in" : "private-under";
  std::string dir = options.private_dir_under.empty() ? options.working_dir : options.private_dir_under;
  guard_argv.push_back(dir_mode.data());
  guard_argv.push_back(dir.data());
  guard_argv.push_back(separator.data());
  guard_argv.insert(guard_argv.end(), argv.begin(), argv.end());  // ends with its nullptr

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_adddup2(&actions, status_pipe[1], 3);
  // Nothing else of ours (MPI's sockets, open outputs) reaches the command.
  posix_spawn_file_actions_addclosefrom_np(&actions, 4);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  // The guard in a process group of its own too: mpirun ends a rank by
  // signalling the rank's whole group, SIGTERM then SIGKILL, and a guard
  // killed with it could not clean up after the command.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  pid_t guard = -1;
  const int spawn_errno =
      ::posix_spawn(&guard, guard_path->c_str(), &actions, &attr, guard_argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]), ::close(err_pipe[1]), ::close(status_pipe[1]);
  // The guard reports the command's pid; the command, only if exec failed,
  // its errno. End of file: both wrote what they had and the command runs.
  pid_t command = -1;
  int exec_errno = spawn_errno, dir_errno = 0;
  for (GuardMessage m; spawn_errno == 0;) {
    const ssize_t got = ::read(status_pipe[0], &m, sizeof m);
    if (got < 0 && errno == EINTR) continue;
    if (got != static_cast<ssize_t>(sizeof m)) break;
    if (m.kind == GuardMessage::kCommandPid) command = m.value;
    if (m.kind == GuardMessage::kExecErrno && exec_errno == 0) exec_errno = m.value;
    if (m.kind == GuardMessage::kDirErrno && dir_errno == 0) dir_errno = m.value;
  }
  ::close(status_pipe[0]);
  if (spawn_errno == 0 && (exec_errno != 0 || command <= 0)) {
    int ignored = 0;
    while (::waitpid(guard, &ignored, 0) < 0 && errno == EINTR) {
    }
  }
  if (exec_errno != 0 || dir_errno != 0 || command <= 0) {
    ::close(in_pipe[0]), ::close(in_pipe[1]), ::close(out_pipe[0]), ::close(err_pipe[0]);
    if (dir_errno != 0 && !options.private_dir_under.empty()) {
      return Status::FromErrno("mkdtemp", "a working directory under '" + options.private_dir_under + "'", dir_errno);
    }
    std::string where = options.working_dir.empty() || !options.private_dir_under.empty() ? "" : " in " + options.working_dir;
    if (dir_errno != 0) exec_errno = dir_errno;
    return Status::Usage("cannot run '" + Joined(options.argv) + "'" + where + ": " +
                         std::strerror(exec_errno != 0 ? exec_errno : ECHILD));
  }
  const pid_t pid = guard;
  for (int fd : {in_pipe[1], out_pipe[0], err_pipe[0]}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const int pidfd = PidfdOpen(pid);
  std::unique_ptr<ChildProcess> child(new ChildProcess(pid, pidfd, in_pipe[1], out_pipe[0], err_pipe[0],
                                                       std::move(out), std::move(err), options.idle_timeout));
  child->group_ = command;
  // With a pidfd to learn of its exit we keep a reader on its stdin (so a
  // write never fails with EPIPE: the pidfd ends it) and count, once it has
  // exited, what it did not read. Without one, the read end must go, or a
  // child that exits early would leave our write blocked for good.
  if (pidfd >= 0) {
    child->in_reader_ = in_pipe[0];
  } else {
    ::close(in_pipe[0]);
  }
  return child;
}

ChildProcess::ChildProcess(pid_t pid, int pidfd, int in, int out, int err, Sink out_sink, Sink err_sink,
                           std::chrono::milliseconds idle_timeout)
    : pid_(pid),
      pidfd_(pidfd),
      in_(in),
      out_(out),
      err_(err),
      out_sink_(std::move(out_sink)),
      err_sink_(std::move(err_sink)),
      idle_timeout_(idle_timeout),
      last_progress_(std::chrono::steady_clock::now()),
      read_buffer_(new char[kIoChunk]) {}

ChildProcess::~ChildProcess() {
  if (!reaped_) KillNow();
  CloseFd(&in_);
  CloseFd(&in_reader_);
  CloseFd(&out_);
  CloseFd(&err_);
  CloseFd(&pidfd_);
}

void ChildProcess::KillNow() {
  if (reaped_) return;  // its pid, and its group's, may belong to someone else now
  ::kill(-group_, SIGKILL);  // the command and all it started
  ::kill(pid_, SIGTERM);     // its guard: reaps them, removes their directory, exits
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

void ChildProcess::CloseStdin() { CloseFd(&in_); }

Status ChildProcess::Pump(std::string_view* pending) {
  pollfd fds[4];
  int n = 0;
  int out_at = -1, err_at = -1, in_at = -1, exit_at = -1;
  if (out_ >= 0) out_at = n, fds[n++] = {out_, POLLIN, 0};
  if (err_ >= 0) err_at = n, fds[n++] = {err_, POLLIN, 0};
  if (pending != nullptr && !pending->empty() && in_ >= 0) {
    in_at = n, fds[n++] = {in_, POLLOUT, 0};
    // We hold a reader of its stdin: its exit, not EPIPE, ends the write.
    if (in_reader_ >= 0) exit_at = n, fds[n++] = {pidfd_, POLLIN, 0};
  }
  if (n == 0) return Status::OK();

  const int wait_ms = idle_timeout_.count() > 0 ? MillisLeft(last_progress_ + idle_timeout_) : -1;
  const int ready = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
  if (ready < 0) {
    if (errno == EINTR) return Status::OK();
    return Status::FromErrno("poll", "pipes of '" + std::to_string(pid_) + "'", errno);
  }
  if (ready == 0) {
    timed_out_ = true;
    KillNow();
    CloseStdin();
    return Status::UserCode("no input read and no output written for " + Seconds(idle_timeout_));
  }

  bool moved = false;
  for (auto [at, fd, sink] : {std::tuple{out_at, &out_, &out_sink_}, std::tuple{err_at, &err_, &err_sink_}}) {
    if (at < 0 || fds[at].revents == 0) continue;
    const ssize_t got = ::read(*fd, read_buffer_.get(), kIoChunk);
    if (got > 0) {
      moved = true;
      (*sink)(std::string_view(read_buffer_.get(), static_cast<size_t>(got)));
    } else if (got == 0) {
      CloseFd(fd);
    } else if (errno != EAGAIN && errno != EINTR) {
      return Status::FromErrno("read", "a pipe from the command", errno);
    }
  }
  if (exit_at >= 0 && fds[exit_at].revents != 0) {
    CloseStdin();
    return Status::UserCode("stopped reading its standard input (it exited) with " +
                            std::to_string(pending->size()) + " bytes left to give it");
  }
  if (in_at >= 0 && fds[in_at].revents != 0) {
    const ssize_t put = ::write(in_, pending->data(), std::min(pending->size(), kIoChunk));
    if (put > 0) {
      moved = true;
      pending->remove_prefix(static_cast<size_t>(put));
    } else if (errno == EPIPE) {
      CloseStdin();
      return Status::UserCode("stopped reading its standard input with " + std::to_string(pending->size()) +
                              " bytes left to give it");
    } else if (errno != EAGAIN && errno != EINTR) {
      return Status::FromErrno("write", "the command's standard input", errno);
    }
  }
  if (moved) last_progress_ = std::chrono::steady_clock::now();
  return Status::OK();
}

Status ChildProcess::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    if (in_ < 0) return Status::UserCode("standard input already closed");
    SLUICE_RETURN_IF_ERROR(Pump(&bytes));
  }
  return Status::OK();
}

Result<ChildExit> ChildProcess::Finish() {
  CloseStdin();
  while (out_ >= 0 || err_ >= 0) {
    Status s = Pump(nullptr);
    if (!s.ok() && !timed_out_) return s;
    if (timed_out_) break;
  }
  return Reap();
}

Result<ChildExit> ChildProcess::Reap() {
  ChildExit exit;
  exit.timed_out = timed_out_;
  // Both pipes are closed, but the child may still run (it closed them
  // itself, or left a descendant holding them): with a timeout, wait for its
  // exit only that long past the last byte it moved.
  if (!timed_out_ && idle_timeout_.count() > 0) {
    const auto deadline = last_progress_ + idle_timeout_;
    bool exited = false;
    while (!exited) {
      if (pidfd_ >= 0) {
        pollfd fd = {pidfd_, POLLIN, 0};
        const int ready = ::poll(&fd, 1, MillisLeft(deadline));
        if (ready < 0 && errno == EINTR) continue;
        exited = ready != 0;
      } else {
        siginfo_t info = {};
        exited = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_;
        if (!exited && MillisLeft(deadline) > 0) {
          ::usleep(10000);
          continue;
        }
      }
      if (!exited) break;
    }
    if (!exited) {
      timed_out_ = exit.timed_out = true;
      KillNow();
    }
  }
  if (exit.timed_out) {
    exit.signaled = true;
    exit.code = SIGKILL;
    return exit;
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return Status::FromErrno("waitpid", "the command", errno);
  }
  reaped_ = true;
  exit.signaled = WIFSIGNALED(status);
  exit.code = exit.signaled ? WTERMSIG(status) : WEXITSTATUS(status);
  if (in_reader_ >= 0) {
    // What is still in the pipe was never read: Finish closed our end, so
    // the child saw end of input only if it read up to it.
    int unread = 0;
    if (::ioctl(in_reader_, FIONREAD, &unread) == 0 && unread > 0) exit.unread_input = static_cast<uint64_t>(unread);
    CloseFd(&in_reader_);
  }
  return exit;
}

}  // namespace sluice
