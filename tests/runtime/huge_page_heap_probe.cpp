// For huge_page_heap_test.cpp: starts as a job binary's main() does, then
// prints what the test checks: its pid, the file the kernel last executed
// for it (AT_EXECFN: /proc/self/exe once restarted), its arguments and name,
// the environment its children would get, and how many page faults writing
// a fresh 64 MiB allocation took (16,384 with 4 KiB pages, 32 with 2 MiB
// ones).
#include <sys/auxv.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/cli/huge_page_heap.h"

namespace {

// This process's own count: the kernel's huge page counters are
// machine-wide, and smaps leaves some kernels' THP out of AnonHugePages.
long MinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "(unset)" : v;
}

}  // namespace

int main(int argc, char** argv) {
  sluice::StartWithHugePageHeap(argv);
  std::printf("pid=%d\n", static_cast<int>(getpid()));
  std::printf("execfn=%s\n", reinterpret_cast<const char*>(getauxval(AT_EXECFN)));
  for (int i = 1; i < argc; ++i) std::printf("arg=%s\n", argv[i]);
  char comm[64] = {};
  if (FILE* f = std::fopen("/proc/self/comm", "r")) {
    if (std::fgets(comm, sizeof comm, f) != nullptr) comm[std::strcspn(comm, "\n")] = '\0';
    std::fclose(f);
  }
  std::printf("comm=%s\n", comm);
  std::printf("SLUICE_HUGE_PAGE_HEAP_NAME=%s\n", Env("SLUICE_HUGE_PAGE_HEAP_NAME"));
  std::printf("GLIBC_TUNABLES=%s\n", Env("GLIBC_TUNABLES"));
  std::printf("SLUICE_HUGE_PAGE_HEAP=%s\n", Env("SLUICE_HUGE_PAGE_HEAP"));
  const long before = MinorFaults();
  constexpr size_t kBytes = size_t{64} << 20;
  char* block = static_cast<char*>(std::malloc(kBytes));
  if (block == nullptr) return 1;
  std::memset(block, 1, kBytes);
  const long faults = MinorFaults() - before;
  // Read back, so the compiler cannot drop the unused block altogether.
  long sum = 0;
  for (size_t i = 0; i < kBytes; i += 4096) sum += block[i];
  std::printf("faults=%ld\ntouched=%ld\n", faults, sum);
  std::free(block);
  return 0;
}
