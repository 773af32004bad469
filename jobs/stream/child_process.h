// A command the stream job runs (issue 16): started without a shell, fed on
// stdin in large writes, its stdout and stderr read as they arrive.
//
// One thread does all three with poll(), so a child that writes a lot before
// it reads (sort, a mapper that prints a header per record) never deadlocks
// against us: whenever its stdin is full we read what it wrote, and the
// reverse. Nothing here is per record: the caller hands over whole blocks
// and gets chunks back, split anywhere.
//
// The command never outlives us: it runs under sluice-command-guard
// (command_guard.cpp), a small program we spawn next to it, which starts
// it in a process group of its own and waits. When the command exits, the
// guard kills what it left in its group (a `sleep &` would otherwise hold
// our pipes open) and exits as the command did. When we die, even by
// SIGKILL with no cleanup of our own, the kernel tells the guard
// (PR_SET_PDEATHSIG) and it kills the group.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/status.h>

namespace sluice {

struct ChildOptions {
  // argv[0] is looked up in PATH as execvp would; nothing goes through a
  // shell unless argv says so ({"sh", "-c", "..."}).
  std::vector<std::string> argv;
  // The child's working directory; it must exist. Empty: ours.
  std::string working_dir;
  // Kill the child (SIGKILL) when no byte has moved on any of its pipes for
  // this long. Zero: wait as long as it takes.
  std::chrono::milliseconds idle_timeout{0};
  // "NAME=value" entries set in the child's environment, over ours.
  std::vector<std::string> env;
  // Non-empty: the command runs in a fresh private directory made under
  // this one (mkdtemp, "sluice-stream-XXXXXX"), which is removed with
  // everything in it when the command ends, is killed, or we die: its
  // guard makes and removes it, so no moment leaves it behind.
  // working_dir is then ignored.
  std::string private_dir_under;
};

// How a finished child ended.
struct ChildExit {
  bool signaled = false;  // killed by signal `code`; else exited with `code`
  int code = 0;
  bool timed_out = false;  // we killed it: idle past ChildOptions::idle_timeout
  // Bytes of its input still in the pipe when it exited: it ended without
  // reading all of what it was given, so its output may not cover it.
  uint64_t unread_input = 0;
  bool ok() const { return !signaled && !timed_out && code == 0 && unread_input == 0; }
  // "exit status 3", "killed by signal 11 (Segmentation fault)", "killed
  // after 30 s without output or input", "exit status 0 with 4096 bytes of
  // its input unread".
  std::string Describe(std::chrono::milliseconds idle_timeout) const;
};

class ChildProcess {
 public:
  // Receives bytes as they arrive, in chunks of any size and split anywhere.
  // An exception it throws leaves the child to the destructor (killed).
  using Sink = std::function<void(std::string_view)>;

  // Starts argv with stdin, stdout and stderr on pipes and every other
  // descriptor closed. Fails (kUsage) when the command cannot be started:
  // not found, not executable, no such working directory.
  static Result<std::unique_ptr<ChildProcess>> Start(const ChildOptions& options, Sink out, Sink err);

  // Kills (SIGKILL) and reaps a child that is still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Writes all of `bytes` to the child's stdin, handing its output to the
  // sinks meanwhile. Fails (kUserCode) if the child exits first, or goes
  // idle past the timeout.
  Status Write(std::string_view bytes);

  // Closes stdin, reads stdout and stderr to their end and waits for the
  // child to exit (the idle timeout still applies).
  Result<ChildExit> Finish();

  // The guard's pid: a process between us and the command that kills the
  // command's process group if this process dies.
  pid_t pid() const { return pid_; }
  // The command's pid, also its process group's id.
  pid_t command_pid() const { return group_; }

 private:
  ChildProcess(pid_t pid, int pidfd, int in, int out, int err, Sink out_sink, Sink err_sink,
               std::chrono::milliseconds idle_timeout);
  // One poll() round: reads what is ready on stdout and stderr, writes to
  // stdin what fits of `*pending` (advancing it). Returns kUserCode on an
  // idle timeout (after killing the child).
  Status Pump(std::string_view* pending);
  void CloseStdin();
  Result<ChildExit> Reap();
  void KillNow();

  pid_t pid_;    // the guard (command_guard.cpp): waited for, exits as the command did
  pid_t group_ = -1;  // the command's process group: what a kill kills
  int pidfd_;  // becomes readable when the child exits
  int in_, out_, err_;
  // Our copy of the read end of its stdin, kept so that what it leaves
  // unread can be counted when it exits (pidfd kernels only; else -1 and a
  // child that exits early shows as EPIPE).
  int in_reader_ = -1;
  Sink out_sink_, err_sink_;
  std::chrono::milliseconds idle_timeout_;
  std::chrono::steady_clock::time_point last_progress_;
  bool timed_out_ = false;
  bool reaped_ = false;
  std::unique_ptr<char[]> read_buffer_;
};

}  // namespace sluice
