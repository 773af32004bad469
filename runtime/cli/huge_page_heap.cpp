#include "runtime/cli/huge_page_heap.h"

#include <gnu/libc-version.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace sluice {
namespace {

constexpr char kSwitch[] = "SLUICE_HUGE_PAGE_HEAP";
constexpr char kTunable[] = "glibc.malloc.hugetlb";
constexpr char kAdded[] = "glibc.malloc.hugetlb=1";
// The process name (comm) before the restart, for the restarted process.
constexpr char kName[] = "SLUICE_HUGE_PAGE_HEAP_NAME";

bool SanitizerOrValgrind() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#else
  // Valgrind preloads its vgpreload_*.so into the program it runs.
  const char* preload = std::getenv("LD_PRELOAD");
  return preload != nullptr && std::strstr(preload, "vgpreload") != nullptr;
#endif
}

// The tunable arrived in glibc 2.35.
bool GlibcHasTunable() {
  int major = 0;
  int minor = 0;
  if (std::sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor) != 2) return false;
  return major > 2 || (major == 2 && minor >= 35);
}

// "always" or "madvise" is selected (shown in brackets); "never" or no file
// means advice would do nothing.
bool KernelHasTransparentHugePages() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  if (!std::getline(in, modes)) return false;
  return modes.find("[always]") != std::string::npos || modes.find("[madvise]") != std::string::npos;
}

// Started as `/lib64/ld-linux-x86-64.so.2 ./job ...`, /proc/self/exe is the
// loader, which would take the job's first flag for the program to run.
// The kernel then ran no interpreter of its own, so AT_BASE is 0.
bool StartedByItsInterpreter() { return getauxval(AT_BASE) != 0; }

// The environment as the user gave it: glibc has read the tunable by now,
// and the job's children (a stream job's commands) must not inherit a
// malloc setting they never asked for. A Sluice program among them decides
// for itself. The tunable was added last, after any of the user's.
void RestoreEnvironment() {
  if (const char* now = std::getenv("GLIBC_TUNABLES")) {
    const std::string value = now;
    const std::string appended = std::string(":") + kAdded;
    if (value == kAdded) {
      unsetenv("GLIBC_TUNABLES");
    } else if (value.ends_with(appended)) {
      setenv("GLIBC_TUNABLES", value.substr(0, value.size() - appended.size()).c_str(), 1);
    }
  }
  unsetenv(kSwitch);
  unsetenv(kName);
}

}  // namespace

void StartWithHugePageHeap(char** argv) {
  const char* chosen = std::getenv(kSwitch);
  if (chosen != nullptr && std::strcmp(chosen, "on") == 0) {
    // Started again. exec named the process "exe", after /proc/self/exe;
    // ps, top, pgrep -x and pkill know it by its own name, so it gets that
    // back.
    if (const char* name = std::getenv(kName)) {
      (void)prctl(PR_SET_NAME, name, 0, 0, 0);  // cosmetic, cannot fail for a short string
    }
    RestoreEnvironment();
    return;
  }
  if (chosen != nullptr && std::strcmp(chosen, "0") == 0) return;  // opted out
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const std::string before = tunables == nullptr ? "" : tunables;
  if (before.find(kTunable) != std::string::npos) return;
  if (SanitizerOrValgrind() || !StartedByItsInterpreter() || !GlibcHasTunable() ||
      !KernelHasTransparentHugePages()) {
    return;
  }

  char name[17] = {};  // the kernel's 16 bytes, and a terminator for sure
  if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0) return;
  const std::string after = before + (before.empty() ? "" : ":") + kAdded;
  if (setenv("GLIBC_TUNABLES", after.c_str(), 1) == 0 && setenv(kSwitch, "on", 1) == 0 &&
      setenv(kName, name, 1) == 0) {
    // /proc/self/exe, not the path the program was started by: the same
    // file even if that path now names another (a rebuild, a deploy), so
    // every rank runs the program it was started as.
    execv("/proc/self/exe", argv);
  }
  // Not started again (no /proc, say): go on as started.
  RestoreEnvironment();
}

}  // namespace sluice
