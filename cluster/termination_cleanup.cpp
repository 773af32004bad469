#include "cluster/termination_cleanup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace sluice {
namespace {

// Everything the handler needs, prepared before any signal can arrive: the
// handler may not allocate.
char g_staging[4096];
char g_container[4096];  // staging's parent: removed only if empty
char g_scratch[4096];  // empty when the job has no scratch directory
char g_message[256];
size_t g_message_len = 0;
pid_t g_main_thread = 0;  // the thread that maps, spills and reduces

// Removes the tree under the directory `dir_fd` (closing it), using only
// system calls: no allocation, no fork. Depth is bounded by the layouts we
// remove (staging/_temporary/part files; scratch/run files). Entries are
// unlinked while the directory is being read, and a filesystem may then skip
// some: the directory is read again from the start until a pass finds
// nothing left to remove.
void RemoveTreeAt(int dir_fd, int depth) {
  alignas(8) char buf[4096];
  for (int pass = 0; pass < 16; ++pass) {
    bool saw_any = false;
    bool removed_any = false;
    (void)lseek(dir_fd, 0, SEEK_SET);
    for (;;) {
      const long n = syscall(SYS_getdents64, dir_fd, buf, sizeof buf);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        auto* d = reinterpret_cast<struct dirent64*>(buf + off);
        off += d->d_reclen;
        const char* name = d->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
        saw_any = true;
        if (unlinkat(dir_fd, name, 0) == 0) {
          removed_any = true;
          continue;
        }
        if (depth < 8) {  // a directory: empty it, then remove it
          const int sub = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0) RemoveTreeAt(sub, depth + 1);
        }
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) == 0) removed_any = true;
      }
    }
    if (!saw_any || !removed_any) break;
  }
  close(dir_fd);
}

void RemoveTree(const char* path) {
  if (path[0] == '\0') return;
  const int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  RemoveTreeAt(fd, 0);
  (void)rmdir(path);
}

// Runs on the interrupted thread. Everything here is a plain system call:
// mpirun follows its SIGTERM with SIGKILL after a second (Open MPI's
// odls_base_sigkill_timeout), and forking /bin/rm from a large or
// sanitizer-instrumented process could miss that window.
//
// A process-directed signal may land on any thread, MPI's own included. The
// cleanup must run on the job's thread: run elsewhere, that thread could
// create a spill run after the removal and before the process dies. So
// another thread passes the signal on and returns.
void OnTermination(int sig) {
  if (static_cast<pid_t>(syscall(SYS_gettid)) != g_main_thread) {
    (void)syscall(SYS_tgkill, getpid(), g_main_thread, sig);
    return;
  }
  // Remove first, then say so: mpirun follows its SIGTERM with a SIGKILL,
  // and a write to a stderr pipe can block for a while.
  RemoveTree(g_scratch);
  RemoveTree(g_staging);
  if (g_container[0] != '\0') (void)rmdir(g_container);
  if (g_message_len > 0) (void)!write(STDERR_FILENO, g_message, g_message_len);
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

void InstallTerminationCleanup(const std::string& staging_dir, const std::string& staging_container,
                               const std::string& scratch_dir, int rank) {
  // No cleanup beats a truncated path.
  if (staging_dir.size() + 1 > sizeof g_staging || scratch_dir.size() + 1 > sizeof g_scratch ||
      staging_container.size() + 1 > sizeof g_container) {
    return;
  }
  std::memcpy(g_staging, staging_dir.c_str(), staging_dir.size() + 1);
  std::memcpy(g_container, staging_container.c_str(), staging_container.size() + 1);
  std::memcpy(g_scratch, scratch_dir.c_str(), scratch_dir.size() + 1);
  std::string msg = "rank " + std::to_string(rank) +
                    ": interrupted by a signal; removed staging and scratch, no output published\n";
  g_message_len = std::min(msg.size(), sizeof g_message);
  std::memcpy(g_message, msg.data(), g_message_len);
  g_main_thread = static_cast<pid_t>(syscall(SYS_gettid));
  struct sigaction sa {};
  sa.sa_handler = OnTermination;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

}  // namespace sluice
