// The block transport a job's map side sends through: forwards every block
// to the cluster and, while a map task is being saved for resume, appends
// it to the task's saved output (map_task_store.h).
#pragma once

#include <string>
#include <utility>

#include "runtime/driver/map_task_store.h"
#include <sluice/detail/step_times.h>
#include "shuffle/transport.h"

namespace sluice {

class TaskRecordingTransport final : public BlockTransport {
 public:
  // Neither is owned; both must outlive this.
  TaskRecordingTransport(BlockTransport* cluster, MapTaskStore* store)
      : cluster_(cluster), store_(store) {}

  int rank() const override { return cluster_->rank(); }
  int size() const override { return cluster_->size(); }
  bool SharesNodeWith(int rank) const override { return cluster_->SharesNodeWith(rank); }
  void SetReceiver(BlockReceiver* receiver) override { cluster_->SetReceiver(receiver); }
  void SendBlock(int dest, std::string frame) override {
    if (store_->task_open()) {
      StepTimer saving(&save_ns_);
      store_->Append(frame);
    }
    cluster_->SendBlock(dest, std::move(frame));
  }
  void Poll() override { cluster_->Poll(); }
  void FinishShuffle() override { cluster_->FinishShuffle(); }
  // Time spent appending blocks to saved tasks: inside the engine's send step.
  uint64_t save_ns() const { return save_ns_; }

 private:
  BlockTransport* cluster_;
  MapTaskStore* store_;
  uint64_t save_ns_ = 0;
};

}  // namespace sluice
