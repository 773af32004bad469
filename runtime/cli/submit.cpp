#include "runtime/cli/submit.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/status.h"

namespace sluice {
namespace {

constexpr const char* kSubmitUsage =
    "usage: sluice submit [--retries N] [--retry-delay SECONDS] -- COMMAND [ARGS...]\n"
    "  Runs COMMAND (mpirun ... sluice run JOB ..., or srun ...); when it loses a rank\n"
    "  or a host, runs it again, up to N more times (default 2), each run resuming\n"
    "  from the map tasks saved by the ones before. Bad input, usage errors, I/O\n"
    "  errors and corruption are never retried. Exit: the job's code, or 75 when\n"
    "  the last attempt lost a rank or host.\n";

volatile sig_atomic_t g_signal = 0;
volatile pid_t g_child = 0;

// Forwards SIGINT/SIGTERM (Ctrl-C, scancel) to the launcher, which passes
// it on to the ranks; the submitter then stops instead of retrying.
void ForwardSignal(int sig) {
  g_signal = sig;
  if (g_child > 0) ::kill(g_child, sig);
}

bool IsSluiceExitCode(int code) {
  for (StatusCode c : {StatusCode::kUsage, StatusCode::kBadInput, StatusCode::kIOError,
                       StatusCode::kCorruption, StatusCode::kUserCode, StatusCode::kInternal}) {
    if (code == ExitCodeFor(c)) return true;
  }
  return false;
}

// The text after `key` up to the next space (or the end), "" when absent.
std::string WordAfter(const std::string& line, const std::string& key) {
  size_t at = line.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  size_t end = line.find_first_of(" \t\r\n", at);
  return line.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

std::string TrimPunct(std::string s) {
  while (!s.empty() && (s.back() == '.' || s.back() == ',' || s.back() == ':')) s.pop_back();
  return s;
}

struct Attempt {
  int number = 0;
  int wait_status = 0;
  int exit_code = 0;  // 128 + signal when killed, as a shell shows it
  double seconds = 0;
  std::string lost;  // what the launcher said was lost
};

// One run of the command; its stderr passes through line by line while the
// lines naming a lost rank or host are kept.
Attempt RunAttempt(const std::vector<std::string>& command, int number, const std::string& earlier) {
  Attempt a;
  a.number = number;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "sluice submit: pipe: %s\n", std::strerror(errno));
    std::exit(70);
  }
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "sluice submit: fork: %s\n", std::strerror(errno));
    std::exit(70);
  }
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDERR_FILENO);
    // srun forwards the whole environment; mpirun forwards to other hosts
    // only variables named OMPI_* and those given with -x (which cannot be
    // mixed with mca_base_env_list, so that is not an option here).
    for (const char* prefix : {"SLUICE_", "OMPI_SLUICE_"}) {
      ::setenv((std::string(prefix) + "ATTEMPT").c_str(), std::to_string(number).c_str(), 1);
      ::setenv((std::string(prefix) + "EARLIER_ATTEMPTS").c_str(), earlier.c_str(), 1);
    }
    std::vector<char*> argv;
    for (const std::string& s : command) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "sluice submit: cannot run '%s': %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  g_child = pid;
  ::close(pipe_fds[1]);
  std::string pending;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    (void)!::write(STDERR_FILENO, buf, static_cast<size_t>(n));
    pending.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string found = LossFromLauncherLine(pending.substr(0, nl));
      if (!found.empty() && a.lost.empty()) a.lost = found;  // the first loss is the cause
      pending.erase(0, nl + 1);
    }
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  g_child = 0;
  a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  a.wait_status = status;
  a.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return a;
}

}  // namespace

AttemptVerdict ClassifyAttempt(int wait_status, bool interrupted) {
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) return AttemptVerdict::kSucceeded;
  if (interrupted) return AttemptVerdict::kInterrupted;
  // 126/127: the shell's "cannot execute" / "not found" (a wrong launcher
  // or path) fails the same way every time.
  if (WIFEXITED(wait_status) && (IsSluiceExitCode(WEXITSTATUS(wait_status)) ||
                                 WEXITSTATUS(wait_status) == 126 || WEXITSTATUS(wait_status) == 127)) {
    return AttemptVerdict::kJobFailed;
  }
  return AttemptVerdict::kLostRank;
}

std::string LossFromLauncherLine(const std::string& line) {
  // mpirun: "mpirun noticed that process rank 3 with PID 0 on node h2 exited
  // on signal 9 (Killed)."
  if (line.find("noticed that process rank") != std::string::npos) {
    std::string rank = WordAfter(line, "process rank ");
    std::string host = TrimPunct(WordAfter(line, " on node "));
    std::string how;
    if (size_t at = line.find(" exited on "); at != std::string::npos) how = TrimPunct(line.substr(at + 11));
    return "rank " + rank + " on host " + host + (how.empty() ? "" : ", " + how);
  }
  // mpirun: "  Remote daemon: [[52787,0],2] on node 10.213.0.3" (a host
  // whose daemon died or whose link was cut).
  if (line.find("Remote daemon") != std::string::npos && line.find(" on node ") != std::string::npos) {
    return "host " + TrimPunct(WordAfter(line, " on node ")) + " (its daemon stopped answering)";
  }
  // srun: "srun: error: h2: task 3: Killed" / "srun: error: Node failure on h2"
  if (line.rfind("srun: error: Node failure on ", 0) == 0) {
    return "host " + TrimPunct(WordAfter(line, "Node failure on ")) + " (node failure)";
  }
  if (line.rfind("srun: error: ", 0) == 0 && line.find(": task ") != std::string::npos) {
    const std::string rest = line.substr(13);
    const std::string host = rest.substr(0, rest.find(':'));
    std::string task = TrimPunct(WordAfter(line, ": task "));
    size_t how = line.rfind(": ");
    return "rank " + task + " on host " + host + ", " + line.substr(how + 2);
  }
  return "";
}

int SubmitMain(const std::vector<std::string>& args) {
  int retries = 2;
  double delay = 1.0;
  size_t i = 0;
  auto usage = [](const std::string& why) {
    std::fprintf(stderr, "sluice submit: %s\n%s", why.c_str(), kSubmitUsage);
    return 2;
  };
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--help" || a == "-h") {
      std::fputs(kSubmitUsage, stdout);
      return 0;
    }
    if ((a == "--retries" || a == "--retry-delay") && i + 1 < args.size()) {
      const std::string& v = args[++i];
      char* end = nullptr;
      errno = 0;
      if (a == "--retries") {
        long n = std::strtol(v.c_str(), &end, 10);
        if (errno || end == v.c_str() || *end || n < 0 || n > 100) {
          return usage("flag --retries: '" + v + "' is not a count from 0 to 100");
        }
        retries = static_cast<int>(n);
      } else {
        double d = std::strtod(v.c_str(), &end);
        if (errno || end == v.c_str() || *end || !(d >= 0) || d > 3600) {
          return usage("flag --retry-delay: '" + v + "' is not a number of seconds from 0 to 3600");
        }
        delay = d;
      }
      continue;
    }
    if (a.rfind("-", 0) == 0) return usage("unknown flag '" + a + "' (the command follows --)");
    break;  // the command, without --
  }
  const std::vector<std::string> command(args.begin() + static_cast<long>(i), args.end());
  if (command.empty()) return usage("no command given");

  struct sigaction sa {};
  sa.sa_handler = ForwardSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  nlohmann::json earlier = nlohmann::json::array();
  for (int number = 1;; ++number) {
    Attempt a = RunAttempt(command, number, earlier.dump());
    switch (ClassifyAttempt(a.wait_status, g_signal != 0)) {
      case AttemptVerdict::kSucceeded:
        if (number > 1) std::fprintf(stderr, "sluice submit: attempt %d succeeded\n", number);
        return 0;
      case AttemptVerdict::kJobFailed:
        return a.exit_code;  // the job said why, in its own line
      case AttemptVerdict::kInterrupted:
        std::fprintf(stderr, "sluice submit: stopped by signal %d; not retried\n", static_cast<int>(g_signal));
        return 128 + g_signal;
      case AttemptVerdict::kLostRank:
        break;
    }
    const std::string lost = a.lost.empty() ? "a rank or host" : a.lost;
    const bool again = number <= retries;
    std::fprintf(stderr, "sluice submit: attempt %d of %d lost %s (launcher exit %d, after %.1f s)%s\n",
                 number, retries + 1, lost.c_str(), a.exit_code, a.seconds,
                 again ? "; running it again, resuming" : "; no retries left, exit 75");
    earlier.push_back({{"attempt", number},
                       {"launcher_exit_code", a.exit_code},
                       {"seconds", a.seconds},
                       {"lost", lost}});
    if (!again) return kExitLostRank;
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    if (g_signal != 0) return 128 + g_signal;
  }
}

}  // namespace sluice
