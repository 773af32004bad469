// Communicator over MPI_COMM_WORLD. Only cluster/ sees this header.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cluster/communicator.h"

namespace sluice {

class MpiCommunicator final : public Communicator {
 public:
  // Calls MPI_Init; the destructor calls MPI_Finalize.
  MpiCommunicator(int* argc, char*** argv);
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int ranks_on_node() const override { return ranks_on_node_; }
  bool SharesNodeWith(int rank) const override {
    return rank >= 0 && rank < size_ && on_my_node_[rank];
  }
  void SetTransportOptions(const TransportOptions& options) override { options_ = options; }
  bool distributed() const override { return true; }

  void Broadcast(std::string* bytes, int root) override;
  std::vector<std::string> Gather(const std::string& mine, int root) override;
  void AllReduceSum(std::vector<uint64_t>* values) override;
  int AllReduceMax(int value) override;
  void Barrier() override;

  void BeginJob() override;
  void StartSplits(uint32_t num_splits) override;
  int64_t NextSplit() override;
  uint32_t SplitsHandedOut() const override { return next_split_; }

  void SetReceiver(BlockReceiver* receiver) override { receiver_ = receiver; }
  void SendBlock(int dest, std::string frame) override;
  void Poll() override;
  void FinishShuffle() override;

  [[noreturn]] void Abort(int exit_code) override;

 private:
  struct PendingSend {
    MPI_Request request;
    std::string bytes;  // must outlive the request
  };
  // A block being received (MPI_Imrecv): its buffer must outlive the
  // request.
  struct PendingReceive {
    MPI_Request request;
    int source;
    std::string frame;
  };
  // Handles one matched message; returns false when nothing was waiting.
  bool ReceiveOne();
  // Hands finished block receives to the receiver; returns true if any
  // finished.
  bool RetireReceives();
  // Blocks being received hold half the in-flight budget (--max-inflight,
  // whose share of --memory the sends use) or more: block_comm_ is not
  // polled until one arrives, so many peers sending to one rank at once
  // cannot run its memory past --memory. At least one block is always
  // taken, and the control messages on comm_ always are.
  bool ReceivesFull() const {
    return !receiving_.empty() && receiving_bytes_ >= options_.max_inflight_bytes / 2;
  }
  // Frees finished sends; returns true if any finished.
  bool RetireSends();
  // On `comm`: comm_ for control messages, block_comm_ for blocks.
  void Isend(MPI_Comm comm, int dest, int tag, std::string bytes);
  // Keeps sending and receiving (rank 0 keeps answering split requests)
  // until done() holds: waiting on a peer never stops this rank from
  // serving the others, so ranks cannot deadlock on each other.
  template <class Done>
  void ProgressUntil(Done done);
  // Called while waiting on peers: spin briefly, then sleep in growing steps
  // so that oversubscribed ranks leave the core to the rank doing the work.
  void Backoff(int* idle_rounds);

  MPI_Comm comm_;  // duplicate of MPI_COMM_WORLD: our tags never meet others'
  // Shuffle blocks alone, so that holding them back (ReceivesFull) never
  // holds back a split request or the end of the shuffle.
  MPI_Comm block_comm_;
  // Gather's point-to-point pieces: never seen by the shuffle's any-source,
  // any-tag polling on comm_.
  MPI_Comm gather_comm_;
  int rank_ = 0;
  int size_ = 1;
  int ranks_on_node_ = 1;
  std::vector<bool> on_my_node_;  // by rank of comm_
  TransportOptions options_;
  BlockReceiver* receiver_ = nullptr;

  // Heap-allocated so that an in-flight buffer never moves (a short string
  // lives inside the object, and vector growth would move it).
  std::vector<std::unique_ptr<PendingSend>> pending_;
  // Blocks matched and still arriving, in the order they were matched. A
  // block is received without blocking: a blocking receive of a large
  // message waits for the sender to push each fragment, which a sender busy
  // mapping does only between its input chunks (without single-copy shared
  // memory, as in a VM or over TCP, a 2-rank WordCount spent a quarter of
  // its map phase there).
  std::vector<std::unique_ptr<PendingReceive>> receiving_;
  uint64_t receiving_bytes_ = 0;
  uint64_t inflight_bytes_ = 0;

  // Split scheduling (counter lives on rank 0). A peer asks for its next
  // split as soon as it starts one while many remain (split_asked_): rank 0
  // answers only between its own input chunks, and a peer that asked only
  // when done waited for one (0.29 s of 4.3 s of map per rank, 1 GiB at
  // 2 ranks). Near the end it asks when done, so that no rank sits on a
  // split another could take.
  uint32_t num_splits_ = 0;
  uint32_t next_split_ = 0;
  bool split_asked_ = false;
  bool split_reply_ready_ = false;
  int64_t split_reply_ = -1;
  uint64_t splits_left_ = 0;  // after split_reply_, as rank 0 said

  // End-of-shuffle accounting, per peer rank.
  std::vector<uint64_t> blocks_sent_to_;
  std::vector<uint64_t> blocks_received_from_;
  std::vector<uint64_t> blocks_expected_from_;
  std::vector<bool> done_from_;
};

}  // namespace sluice
