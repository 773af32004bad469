// The cluster as the job driver sees it: ranks, collectives, the split
// scheduler and the block transport. Implemented over MPI (many processes)
// and locally (one plain process, no mpirun). Nothing outside cluster/
// includes <mpi.h>.
//
// Collectives must be called by every rank in the same order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "shuffle/transport.h"

namespace sluice {

struct TransportOptions {
  // Bytes of sent-but-unfinished blocks per rank. Larger: more overlap of
  // mapping and sending; smaller: less memory held in send buffers.
  uint64_t max_inflight_bytes = uint64_t{64} << 20;
};

class Communicator : public BlockTransport {
 public:
  // Ranks of this job on this rank's node (those sharing its memory), as
  // MPI's runtime knows them (MPI_Comm_split_type SHARED): right under
  // mpirun, srun and any other launcher, unlike their environment variables.
  virtual int ranks_on_node() const = 0;
  // Set once the memory budget is known (it caps bytes in flight), before
  // the first block is sent.
  virtual void SetTransportOptions(const TransportOptions&) {}

  // Root's *bytes are copied to every rank's *bytes.
  virtual void Broadcast(std::string* bytes, int root) = 0;
  // Every rank's `mine`, in rank order, returned at root (empty elsewhere).
  // Any sizes: a rank's bytes, and their total, may pass 2 GiB.
  virtual std::vector<std::string> Gather(const std::string& mine, int root) = 0;
  // Element-wise sum over ranks, result on every rank.
  virtual void AllReduceSum(std::vector<uint64_t>* values) = 0;
  // Largest `value` over ranks, on every rank.
  virtual int AllReduceMax(int value) = 0;
  virtual void Barrier() = 0;

  // Dynamic scheduling of splits 0..num_splits-1: every rank calls Start with
  // the same count, then NextSplit until it returns -1. Each split is handed
  // out exactly once, in increasing order, to whichever rank asks first, so a
  // faster rank maps more.
  virtual void StartSplits(uint32_t num_splits) = 0;
  virtual int64_t NextSplit() = 0;
  // On rank 0 (which hands them out): how many splits have been handed out
  // so far, i.e. splits 0..n-1 are done or in progress. For progress display.
  virtual uint32_t SplitsHandedOut() const = 0;

  // A new job starts in this process (pipeline steps run one after another
  // on the same ranks): the shuffle's end-of-job accounting and the split
  // scheduling start again. Every rank calls it before the job's first
  // collective, when the previous job has ended on every rank, so no block
  // or split message of either job is in flight.
  virtual void BeginJob() {}

  // Ends every rank of the job now with `exit_code`. Never returns.
  [[noreturn]] virtual void Abort(int exit_code) = 0;
  // True when several processes take part (mpirun), false for one process.
  virtual bool distributed() const = 0;
};

// Under mpirun (detected from the launcher's environment) an MPI
// communicator over all ranks; otherwise a one-rank local communicator that
// needs no MPI runtime at all. Call once per process.
std::unique_ptr<Communicator> ConnectCluster(int* argc, char*** argv);

}  // namespace sluice
