// sluice-command-guard: runs one command of the stream job so that it never
// outlives the rank that started it (child_process.h).
//
//   sluice-command-guard RANK_PID in DIR -- COMMAND [ARG...]
//   sluice-command-guard RANK_PID private-under PARENT -- COMMAND [ARG...]
//
// Started by the rank (posix_spawn: no copy of the rank's memory) with the
// command's stdin, stdout and stderr as its own and the write end of a
// status pipe as descriptor 3. It starts the command in DIR (empty: ours),
// or in a private directory it makes under PARENT and removes when it ends,
// in a process group of its own, and tells the rank, on descriptor 3, the
// command's pid, or the errno of what failed. Then it waits:
//   - the rank dies, even by SIGKILL: the kernel sends us SIGTERM
//     (PR_SET_PDEATHSIG); we kill the command's whole group and whatever
//     else it started (we are a child subreaper: its orphans come to us,
//     even those in a session of their own), reap them all and remove the
//     private directory;
//   - SIGTERM from the rank itself (a task killed: timeout, failure): the same;
//   - the command exits: we kill what it left running, the same way (a
//     `sleep &` would hold the rank's pipes open), remove the private
//     directory and exit as it did, with its status or of its signal, so
//     that waiting for us is waiting for it.
// A separate small program rather than a fork of the rank: a forked guard
// shares the rank's pages copy-on-write for as long as the command runs,
// so every page the rank writes meanwhile is copied (10% of a cat|cat
// stream job's time, and up to the rank's size in memory).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace {

constexpr int kStatusFd = 3;

// What the guard and the command tell the rank on the status pipe (one
// write each, atomic: smaller than PIPE_BUF). child_process.cpp reads it.
struct GuardMessage {
  int32_t kind;  // 1: the command's pid; 2: errno of a failed exec; 3: errno of the directory
  int32_t value;
};

// The private directory, once made: removed however we end.
char private_dir[4096];

void RemovePrivateDir() {
  if (private_dir[0] == '\0') return;
  std::error_code ignored;  // best effort: a command may leave a read-only tree
  std::filesystem::remove_all(private_dir, ignored);
  private_dir[0] = '\0';
}

void Tell(int32_t kind, int32_t value) {
  const GuardMessage m{kind, value};
  while (::write(kStatusFd, &m, sizeof m) < 0 && errno == EINTR) {
  }
}

// Kills the command's process group, then every process still below us:
// as a child subreaper we inherit what the command started and left, even
// one that moved to a session of its own (setsid, a daemon). Reaps them
// all, the command's status into *status. Bounded: a process stuck in the
// kernel past about a second is left to init.
void KillWhatWeStarted(pid_t command, int* status) {
  ::kill(-command, SIGKILL);
  char children[64];
  std::snprintf(children, sizeof children, "/proc/self/task/%d/children", static_cast<int>(::getpid()));
  for (int round = 0; round < 500; ++round) {
    for (;;) {
      int st = 0;
      const pid_t reaped = ::waitpid(-1, &st, WNOHANG);
      if (reaped == command) *status = st;
      if (reaped > 0 || (reaped < 0 && errno == EINTR)) continue;
      if (reaped < 0) return;  // ECHILD: nothing of ours is left
      break;                   // some are still alive
    }
    std::ifstream alive(children);
    for (long pid; alive >> pid;) ::kill(static_cast<pid_t>(pid), SIGKILL);
    ::usleep(2000);
  }
}

[[noreturn]] void Usage() {
  static const char kText[] =
      "usage: sluice-command-guard RANK_PID in|private-under DIR -- COMMAND [ARG...] (run by the stream job)\n";
  (void)!::write(2, kText, sizeof kText - 1);
  ::_exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6 || std::strcmp(argv[4], "--") != 0) Usage();
  const pid_t rank = static_cast<pid_t>(std::atol(argv[1]));
  const bool make_private = std::strcmp(argv[2], "private-under") == 0;
  if (!make_private && std::strcmp(argv[2], "in") != 0) Usage();
  const char* dir = argv[3];
  char** command_argv = argv + 5;
  sigset_t wake;
  sigemptyset(&wake);
  sigaddset(&wake, SIGCHLD);
  sigaddset(&wake, SIGTERM);
  sigset_t before;
  ::sigprocmask(SIG_BLOCK, &wake, &before);  // taken with sigwaitinfo below
  // The rank may die while we start (mpirun ending the job): a write to
  // its end of the status pipe must then fail with EPIPE, not kill us with
  // the private directory made and not yet removed. The command gets the
  // default back before exec.
  ::signal(SIGPIPE, SIG_IGN);
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (::getppid() != rank) return 128 + SIGKILL;  // the rank died before prctl took effect
  (void)::fcntl(kStatusFd, F_SETFD, FD_CLOEXEC);  // the command's copy closes at exec
  if (make_private) {
    const int n = std::snprintf(private_dir, sizeof private_dir, "%s/sluice-stream-XXXXXX", dir);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof private_dir || ::mkdtemp(private_dir) == nullptr) {
      Tell(3, n > 0 && static_cast<size_t>(n) >= sizeof private_dir ? ENAMETOOLONG : errno);
      return 127;
    }
    dir = private_dir;
  }
  if (*dir != '\0' && ::chdir(dir) != 0) {
    Tell(3, errno);
    RemovePrivateDir();
    return 127;
  }

  const pid_t command = ::fork();
  if (command == 0) {
    ::setpgid(0, 0);
    ::signal(SIGPIPE, SIG_DFL);
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
    ::execvp(command_argv[0], command_argv);
    Tell(2, errno);
    ::_exit(127);
  }
  if (command < 0) {
    Tell(2, errno);
    RemovePrivateDir();
    return 127;
  }
  ::setpgid(command, command);  // as the command does itself: whichever runs first
  Tell(1, command);
  // No pipe of the command's stays open through us: its stdout ends when
  // it (and what it started) closes it.
  const int null = ::open("/dev/null", O_RDWR);
  for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
  ::close(null);
  ::close(kStatusFd);

  for (;;) {
    siginfo_t info;
    const int sig = ::sigwaitinfo(&wake, &info);
    if (sig == SIGTERM) {
      int ignored = 0;
      KillWhatWeStarted(command, &ignored);
      RemovePrivateDir();
      return 128 + SIGKILL;
    }
    if (sig != SIGCHLD) continue;
    // Exited, not yet reaped: its pid still names its group.
    siginfo_t ended = {};
    if (::waitid(P_PID, static_cast<id_t>(command), &ended, WEXITED | WNOHANG | WNOWAIT) != 0 ||
        ended.si_pid != command) {
      continue;
    }
    int status = 0;
    KillWhatWeStarted(command, &status);
    RemovePrivateDir();
    if (WIFSIGNALED(status)) {  // die of the same signal, without a core of our own
      const int killed_by = WTERMSIG(status);
      const struct rlimit no_core = {0, 0};
      ::setrlimit(RLIMIT_CORE, &no_core);
      ::signal(killed_by, SIG_DFL);
      sigset_t just;
      sigemptyset(&just);
      sigaddset(&just, killed_by);
      ::sigprocmask(SIG_UNBLOCK, &just, nullptr);
      ::kill(::getpid(), killed_by);
      return 128 + killed_by;
    }
    return WEXITSTATUS(status);
  }
}
