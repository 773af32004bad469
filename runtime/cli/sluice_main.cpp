#include <csignal>

#include "runtime/cli/cli.h"
#include "runtime/cli/huge_page_heap.h"

int main(int argc, char** argv) {
  sluice::StartWithHugePageHeap(argv);  // first: it may start the program again
  // A closed stderr or stdout (`sluice run ... 2>&1 | head -c0`, a log
  // reader that exited) must not kill the job silently by SIGPIPE halfway
  // through: writes to it fail with EPIPE instead, which logging ignores, and
  // the job finishes and commits. Before MPI starts, so its threads inherit
  // the disposition too.
  std::signal(SIGPIPE, SIG_IGN);
  return sluice::SluiceMain(argc, argv);
}
