#include "runtime/termination_cleanup.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace sluice {
namespace {

// Everything the handler needs, prepared before any signal can arrive: the
// handler may not allocate.
char g_staging[4096];
char g_scratch[4096];  // empty when the job has no scratch directory
char g_message[256];
size_t g_message_len = 0;

void OnTermination(int sig) {
  if (g_message_len > 0) (void)!write(STDERR_FILENO, g_message, g_message_len);
  pid_t child = fork();
  if (child == 0) {
    char rm[] = "rm";
    char flags[] = "-rf";
    char dashes[] = "--";
    char* argv[] = {rm, flags, dashes, g_staging, g_scratch[0] ? g_scratch : nullptr, nullptr};
    execv("/bin/rm", argv);
    _exit(127);
  }
  if (child > 0) {
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
    }
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

void InstallTerminationCleanup(const std::string& staging_dir, const std::string& scratch_dir,
                               int rank) {
  // No cleanup beats a truncated path.
  if (staging_dir.size() + 1 > sizeof g_staging || scratch_dir.size() + 1 > sizeof g_scratch) return;
  std::memcpy(g_staging, staging_dir.c_str(), staging_dir.size() + 1);
  std::memcpy(g_scratch, scratch_dir.c_str(), scratch_dir.size() + 1);
  std::string msg = "rank " + std::to_string(rank) +
                    ": interrupted by a signal; removing staging and scratch, no output published\n";
  g_message_len = std::min(msg.size(), sizeof g_message);
  std::memcpy(g_message, msg.data(), g_message_len);
  struct sigaction sa {};
  sa.sa_handler = OnTermination;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

}  // namespace sluice
