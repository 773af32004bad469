#include <csignal>

#include "runtime/cli/cli.h"
#include "runtime/cli/huge_page_heap.h"

int main(int argc, char** argv) {
  sluice::StartWithHugePageHeap(argv);  // first: it may start the program again
  // As in sluice_main.cpp: a closed stderr or stdout is EPIPE, not a silent
  // SIGPIPE death. Before MPI starts.
  std::signal(SIGPIPE, SIG_IGN);
  return sluice::JobBinaryMain(argc, argv);
}
