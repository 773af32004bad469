// Runs under mpirun (see CMakeLists.txt). Checks what the job driver relies
// on from MpiCommunicator and prints "communicator_mpi_test: ok" on rank 0
// when every check held on every rank; any failure exits 1 naming it.
//   --past-2gib: rank 1 gathers 2.25 GiB to rank 0 (MPI's int counts would
//   overflow in one call) and rank 0 checks every byte's pattern.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cluster/communicator.h"

namespace {

int failures = 0;

void Expect(bool ok, const std::string& what, int rank) {
  if (ok) return;
  std::fprintf(stderr, "communicator_mpi_test: rank %d: FAILED: %s\n", rank, what.c_str());
  ++failures;
}

// A byte pattern that differs per rank and per offset, so that a piece
// placed at the wrong offset or from the wrong rank shows.
char PatternByte(int rank, uint64_t i) { return static_cast<char>((i * 131 + i / 4099 + rank * 7) & 0xff); }

std::string Pattern(int rank, uint64_t n) {
  std::string s(n, '\0');
  for (uint64_t i = 0; i < n; ++i) s[i] = PatternByte(rank, i);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const bool past_2gib = argc > 1 && std::strcmp(argv[1], "--past-2gib") == 0;
  auto comm = sluice::ConnectCluster(&argc, &argv);
  const int rank = comm->rank(), size = comm->size();
  Expect(comm->distributed(), "not distributed under mpirun", rank);

  if (!past_2gib) {
    // Every rank of this test runs on one machine: all share its memory.
    Expect(comm->ranks_on_node() == size,
           "ranks_on_node() = " + std::to_string(comm->ranks_on_node()) + ", want " + std::to_string(size),
           rank);
    // Uneven sizes, one empty, at a root other than 0.
    const int root = size - 1;
    const std::string mine = Pattern(rank, rank == 1 ? 0 : 1000 + 777 * rank);
    std::vector<std::string> all = comm->Gather(mine, root);
    if (rank == root) {
      Expect(static_cast<int>(all.size()) == size, "gather returned a wrong count", rank);
      for (int r = 0; r < size && r < static_cast<int>(all.size()); ++r) {
        Expect(all[r] == Pattern(r, r == 1 ? 0 : 1000 + 777 * r), "gathered bytes of rank " + std::to_string(r), rank);
      }
    } else {
      Expect(all.empty(), "non-root got gathered data", rank);
    }
    std::vector<uint64_t> sums = {1, uint64_t(rank), uint64_t{1} << 40};
    comm->AllReduceSum(&sums);
    Expect(sums[0] == uint64_t(size) && sums[1] == uint64_t(size) * (size - 1) / 2 &&
               sums[2] == uint64_t(size) << 40,
           "AllReduceSum", rank);
    Expect(comm->AllReduceMax(rank * 3) == (size - 1) * 3, "AllReduceMax", rank);
  } else {
    const uint64_t big = (uint64_t{9} << 28);  // 2.25 GiB
    const std::string mine = rank == 1 ? Pattern(1, big) : Pattern(0, 12345);
    std::vector<std::string> all = comm->Gather(mine, 0);
    if (rank == 0) {
      Expect(all.size() == 2 && all[0].size() == 12345 && all[1].size() == big, "gathered sizes", rank);
      if (all.size() == 2 && all[1].size() == big) {
        uint64_t bad = 0;
        for (uint64_t i = 0; i < big; ++i) bad += all[1][i] != PatternByte(1, i);
        Expect(bad == 0, std::to_string(bad) + " wrong bytes past 2 GiB gather", rank);
      }
    }
  }
  // Every rank's verdict reaches rank 0, which speaks for the job.
  std::vector<uint64_t> failed = {uint64_t(failures)};
  comm->AllReduceSum(&failed);
  comm->Barrier();
  if (rank == 0 && failed[0] == 0) std::printf("communicator_mpi_test: ok\n");
  return failed[0] == 0 ? 0 : 1;
}
