// Backs this process's malloc heap with transparent huge pages, by starting
// the program again once with glibc's `glibc.malloc.hugetlb=1` tunable.
//
// Why: a job's memory is mostly fresh (shuffle frames, the receive store,
// sort arrays). On Debian's default THP mode ("madvise") glibc's heap gets
// 4 KiB pages, and each first touch of one is a page fault: 6-8% of a 1 GiB
// WordCount's time at 1 rank, 10-15% at 2 ranks on this project's VMs
// (docs/performance.md, "Huge pages for the heap"). The tunable makes glibc
// advise each heap extension MADV_HUGEPAGE, so one fault maps 2 MiB. glibc
// reads tunables only from the environment at process start, hence the
// re-exec.
//
// It does nothing, and the program simply goes on, when:
// - SLUICE_HUGE_PAGE_HEAP=0 (the opt-out), or this process was started by
//   this function already (SLUICE_HUGE_PAGE_HEAP=on);
// - GLIBC_TUNABLES already names glibc.malloc.hugetlb (the user's choice);
// - the kernel has no transparent huge pages, or they are "never";
// - glibc is older than 2.35 (no such tunable);
// - the program runs under a sanitizer or valgrind (they bring their own
//   allocator, and valgrind would not follow the exec);
// - the program was started through the dynamic loader by hand
//   (`ld-linux-x86-64.so.2 ./job`), where /proc/self/exe is the loader;
// - /proc/self/exe cannot be executed (the environment is then restored).
// Call it first thing in main(), before MPI or any thread starts: exec keeps
// the pid, arguments, open files and signal dispositions, so mpirun, Slurm
// and a parent waiting on the pid see one process. The restarted process
// takes back its name (comm: ps, pgrep -x), which exec would have made
// "exe", and the environment the user gave it: its children (a stream job's
// commands) inherit no malloc setting, and a Sluice program among them
// decides for itself.
#pragma once

namespace sluice {

// Returns only when the process was not re-executed.
void StartWithHugePageHeap(char** argv);

}  // namespace sluice
