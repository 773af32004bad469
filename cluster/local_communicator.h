// One rank, one plain process: no MPI runtime is started at all, so a job
// runs on a laptop (and under sanitizers) exactly like `mpirun -np 1`.
#pragma once

#include "cluster/communicator.h"

namespace sluice {

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int ranks_on_node() const override { return 1; }
  bool distributed() const override { return false; }

  void Broadcast(std::string*, int) override {}
  std::vector<std::string> Gather(const std::string& mine, int) override { return {mine}; }
  void AllReduceSum(std::vector<uint64_t>*) override {}
  int AllReduceMax(int value) override { return value; }
  void Barrier() override {}

  void StartSplits(uint32_t num_splits) override {
    num_splits_ = num_splits;
    next_split_ = 0;
  }
  int64_t NextSplit() override { return next_split_ < num_splits_ ? int64_t{next_split_++} : -1; }
  uint32_t SplitsHandedOut() const override { return next_split_; }

  void SetReceiver(BlockReceiver* receiver) override { receiver_ = receiver; }
  void SendBlock(int, std::string frame) override { receiver_->OnBlock(0, std::move(frame)); }
  void Poll() override {}
  void FinishShuffle() override {}

  [[noreturn]] void Abort(int exit_code) override;

 private:
  BlockReceiver* receiver_ = nullptr;
  uint32_t num_splits_ = 0;
  uint32_t next_split_ = 0;
};

}  // namespace sluice
