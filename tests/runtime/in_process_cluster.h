// N ranks of one job in one process, without MPI: what engine tests use to
// check that output does not depend on the rank count (STYLE.md: "Many
// ranks inside one test process").
//
// Run() places work the way the job driver does (runtime/driver/
// job_driver.cpp): every rank's runner is set up before any task; a range
// partitioned job samples the same splits whatever the rank count and rank
// 0 chooses the cuts; split i maps on rank i % N, in split order, so the
// ranks' map tasks interleave; then every rank finishes the shuffle; then
// partition p reduces on its owner, OwnerOf(p, N) (shuffle/partitioner.h).
//
// Blocks travel like MPI's, not by direct call: SendBlock queues the frame
// for its destination, and the destination receives it only when it polls
// (its runner does, once per input chunk) or finishes the shuffle. A runner
// that relied on a block arriving during SendBlock, or that never polled,
// would fail here as it would under mpirun.
//
// Between sources, MPI promises no arrival order (only that one source's
// blocks arrive in the order sent); Arrival::kHighestSourceFirst delivers
// every poll's pending blocks highest source rank first, so a test can show
// the output does not depend on which rank's blocks come first.
//
// Single-threaded; not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/status.h"
#include "shuffle/transport.h"
#include <sluice/counters.h>
#include <sluice/detail/job_runner.h>
#include <sluice/detail/job_settings.h>
#include <sluice/detail/typed_runner.h>

namespace sluice {

// What one run produced.
struct ClusterRun {
  // The output bytes of partition p (map-only jobs: of split p), in order.
  std::vector<std::string> parts;
  TaskCounters counters;  // summed over ranks
  // Blocks sent from rank a to rank b: blocks_sent[a][b].
  std::vector<std::vector<uint64_t>> blocks_sent;

  // Every part, concatenated in order.
  std::string all() const;
  // Blocks that went from one rank to another (not to itself).
  uint64_t cross_rank_blocks() const;
};

class InProcessCluster {
 public:
  using RunnerFactory = std::function<std::unique_ptr<JobRunner>()>;
  enum class Arrival {
    kAsSent,              // in the order sent, whatever the source
    kHighestSourceFirst,  // each source's blocks in order, sources reversed
  };

  // `ranks` >= 1. `work_dir` must exist and outlive the cluster; each Run
  // keeps its inputs, scratch and part files in a fresh folder under it.
  InProcessCluster(int ranks, std::string work_dir, Arrival arrival = Arrival::kAsSent);
  ~InProcessCluster();
  InProcessCluster(const InProcessCluster&) = delete;
  InProcessCluster& operator=(const InProcessCluster&) = delete;

  int ranks() const { return static_cast<int>(ranks_.size()); }
  // Rank r's end of the transport (valid for the cluster's life).
  BlockTransport* transport(int rank);

  // Runs one job over `inputs` (each string one input file, input_index its
  // position) cut into splits of `split_size` bytes. settings.scratch_dir is
  // replaced by one folder per rank. Returns the first error any step
  // reported (naming the step and the rank), or what every partition wrote.
  // Runners are made by `make_runner` once per rank and destroyed (scratch
  // removed) before Run returns.
  Result<ClusterRun> Run(const RunnerFactory& make_runner, const std::vector<std::string>& inputs,
                         JobSettings settings, uint64_t split_size);

  template <class J>
  Result<ClusterRun> Run(const std::vector<std::string>& inputs, JobSettings settings,
                         uint64_t split_size) {
    return Run([] { return std::make_unique<TypedRunner<J>>(); }, inputs, std::move(settings),
               split_size);
  }

 private:
  class Rank;
  friend class Rank;

  // Hands rank `dest` every frame queued for it, in the order sent.
  void Deliver(int dest);

  std::string work_dir_;
  Arrival arrival_;
  std::vector<std::unique_ptr<Rank>> ranks_;
  struct Pending {
    int source;
    std::string frame;
  };
  std::vector<std::deque<Pending>> inbox_;        // by destination
  std::vector<BlockReceiver*> receivers_;         // by rank; not owned
  std::vector<std::vector<uint64_t>> sent_;       // [source][dest]
};

// The '\n'-terminated lines of `text` (a part file), without their '\n'.
std::vector<std::string> Lines(const std::string& text);

}  // namespace sluice
