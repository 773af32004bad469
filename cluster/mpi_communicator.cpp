#include "cluster/mpi_communicator.h"

#include "io/fault_points.h"

#include <sched.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace sluice {
namespace {

enum Tag : int {
  kTagSplitRequest = 11,
  kTagSplitReply = 12,
  kTagBlock = 13,
  kTagShuffleDone = 14,
  kTagGather = 15,
};

std::string U64Bytes(uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), sizeof v); }

}  // namespace

MpiCommunicator::MpiCommunicator(int* argc, char*** argv) {
  MPI_Init(argc, argv);
  MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
  MPI_Comm_dup(MPI_COMM_WORLD, &gather_comm_);
  MPI_Comm_dup(MPI_COMM_WORLD, &block_comm_);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  MPI_Comm node;
  MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &ranks_on_node_);
  {
    // Which ranks of comm_ are this node's: translate the node group's ranks.
    MPI_Group node_group, all_group;
    MPI_Comm_group(node, &node_group);
    MPI_Comm_group(comm_, &all_group);
    std::vector<int> local(ranks_on_node_), global(ranks_on_node_);
    for (int i = 0; i < ranks_on_node_; ++i) local[i] = i;
    MPI_Group_translate_ranks(node_group, ranks_on_node_, local.data(), all_group, global.data());
    on_my_node_.assign(size_, false);
    for (int r : global) {
      if (r >= 0 && r < size_) on_my_node_[r] = true;
    }
    MPI_Group_free(&node_group);
    MPI_Group_free(&all_group);
  }
  MPI_Comm_free(&node);
  BeginJob();
}

MpiCommunicator::~MpiCommunicator() {
  MPI_Comm_free(&block_comm_);
  MPI_Comm_free(&gather_comm_);
  MPI_Comm_free(&comm_);
  MPI_Finalize();
}

void MpiCommunicator::Broadcast(std::string* bytes, int root) {
  uint64_t n = bytes->size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm_);
  bytes->resize(n);
  // MPI counts are int: send in pieces so a large plan cannot overflow.
  constexpr uint64_t kPiece = uint64_t{1} << 30;
  for (uint64_t off = 0; off < n; off += kPiece) {
    int len = static_cast<int>(std::min(kPiece, n - off));
    MPI_Bcast(bytes->data() + off, len, MPI_BYTE, root, comm_);
  }
}

// MPI counts and displacements are int: MPI_Gatherv cannot place past 2 GiB
// in total. Lengths travel as 64-bit values, then each rank's bytes go to
// root point to point in pieces of at most 1 GiB, received in rank order
// (a gather is rare and small next to the shuffle; simplicity wins). On
// its own communicator: the shuffle's polling (ReceiveOne) takes any
// message on comm_, and rank 0 polls while a faster rank already sends its
// part of the gather.
std::vector<std::string> MpiCommunicator::Gather(const std::string& mine, int root) {
  constexpr uint64_t kPiece = uint64_t{1} << 30;
  uint64_t len = mine.size();
  std::vector<uint64_t> lens(rank_ == root ? size_ : 0);
  MPI_Gather(&len, 1, MPI_UINT64_T, lens.data(), 1, MPI_UINT64_T, root, gather_comm_);
  std::vector<std::string> out;
  if (rank_ != root) {
    for (uint64_t off = 0; off < len; off += kPiece) {
      MPI_Send(mine.data() + off, static_cast<int>(std::min(kPiece, len - off)), MPI_BYTE, root,
               kTagGather, gather_comm_);
    }
    return out;
  }
  out.resize(size_);
  for (int r = 0; r < size_; ++r) {
    if (r == root) {
      out[r] = mine;
      continue;
    }
    out[r].resize(lens[r]);
    for (uint64_t off = 0; off < lens[r]; off += kPiece) {
      MPI_Recv(out[r].data() + off, static_cast<int>(std::min(kPiece, lens[r] - off)), MPI_BYTE, r,
               kTagGather, gather_comm_, MPI_STATUS_IGNORE);
    }
  }
  return out;
}

void MpiCommunicator::AllReduceSum(std::vector<uint64_t>* values) {
  constexpr size_t kPiece = size_t{1} << 28;  // elements: int counts
  for (size_t off = 0; off < values->size(); off += kPiece) {
    MPI_Allreduce(MPI_IN_PLACE, values->data() + off,
                  static_cast<int>(std::min(kPiece, values->size() - off)), MPI_UINT64_T, MPI_SUM,
                  comm_);
  }
}

int MpiCommunicator::AllReduceMax(int value) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT, MPI_MAX, comm_);
  return value;
}

void MpiCommunicator::Barrier() { MPI_Barrier(comm_); }

void MpiCommunicator::BeginJob() {
  blocks_sent_to_.assign(size_, 0);
  blocks_received_from_.assign(size_, 0);
  blocks_expected_from_.assign(size_, 0);
  done_from_.assign(size_, false);
  num_splits_ = next_split_ = 0;
  split_asked_ = split_reply_ready_ = false;
  split_reply_ = -1;
  splits_left_ = 0;
  receiver_ = nullptr;
}

void MpiCommunicator::StartSplits(uint32_t num_splits) {
  num_splits_ = num_splits;
  next_split_ = 0;
}

template <class Done>
void MpiCommunicator::ProgressUntil(Done done) {
  int idle = 0;
  while (!done()) {
    bool progressed = RetireSends();
    progressed |= ReceiveOne();
    progressed |= RetireReceives();
    if (progressed) {
      idle = 0;
    } else {
      Backoff(&idle);
    }
  }
}

int64_t MpiCommunicator::NextSplit() {
  if (rank_ == 0) {
    Poll();  // answer peers first: they are idle while they wait
    return next_split_ < num_splits_ ? int64_t{next_split_++} : -1;
  }
  if (!split_asked_) {
    Isend(comm_, 0, kTagSplitRequest, std::string());
    split_asked_ = true;
  }
  ProgressUntil([this] { return split_reply_ready_; });
  split_reply_ready_ = false;
  split_asked_ = false;
  const int64_t split = split_reply_;
  // Ask ahead only while at least two splits per rank remain.
  if (split >= 0 && splits_left_ >= 2 * static_cast<uint64_t>(size_)) {
    Isend(comm_, 0, kTagSplitRequest, std::string());
    split_asked_ = true;
  }
  return split;
}

void MpiCommunicator::SendBlock(int dest, std::string frame) {
  if (dest == rank_) {
    receiver_->OnBlock(rank_, std::move(frame));
    return;
  }
  ProgressUntil([this, &frame] {
    return inflight_bytes_ == 0 || inflight_bytes_ + frame.size() <= options_.max_inflight_bytes;
  });
  ++blocks_sent_to_[dest];
  Isend(block_comm_, dest, kTagBlock, std::move(frame));
  SLUICE_FAULT_POINT("mid_shuffle_send");
}

void MpiCommunicator::Isend(MPI_Comm comm, int dest, int tag, std::string bytes) {
  inflight_bytes_ += bytes.size();
  pending_.push_back(std::make_unique<PendingSend>(PendingSend{MPI_REQUEST_NULL, std::move(bytes)}));
  PendingSend& p = *pending_.back();
  MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()), MPI_BYTE, dest, tag, comm,
            &p.request);
}

bool MpiCommunicator::RetireSends() {
  bool any = false;
  for (size_t i = 0; i < pending_.size();) {
    int done = 0;
    MPI_Test(&pending_[i]->request, &done, MPI_STATUS_IGNORE);
    if (done) {
      inflight_bytes_ -= pending_[i]->bytes.size();
      pending_[i] = std::move(pending_.back());
      pending_.pop_back();
      any = true;
    } else {
      ++i;
    }
  }
  return any;
}

bool MpiCommunicator::ReceiveOne() {
  int flag = 0;
  MPI_Message msg;
  MPI_Status st;
  MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &msg, &st);
  // Past the receive cap, blocks wait in MPI until one being received arrives.
  if (!flag && !ReceivesFull()) MPI_Improbe(MPI_ANY_SOURCE, kTagBlock, block_comm_, &flag, &msg, &st);
  if (!flag) return false;
  int count = 0;
  MPI_Get_count(&st, MPI_BYTE, &count);
  const int src = st.MPI_SOURCE;
  switch (st.MPI_TAG) {
    case kTagBlock: {
      receiving_.push_back(std::make_unique<PendingReceive>(
          PendingReceive{MPI_REQUEST_NULL, src, std::string(static_cast<size_t>(count), '\0')}));
      PendingReceive& r = *receiving_.back();
      receiving_bytes_ += r.frame.size();
      MPI_Imrecv(r.frame.data(), count, MPI_BYTE, &msg, &r.request);
      RetireReceives();  // a small block, or one copied in one go, is already here
      break;
    }
    case kTagSplitRequest: {
      MPI_Mrecv(nullptr, 0, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
      int64_t split = next_split_ < num_splits_ ? int64_t{next_split_++} : -1;
      Isend(comm_, src, kTagSplitReply, U64Bytes(static_cast<uint64_t>(split)) + U64Bytes(num_splits_ - next_split_));
      break;
    }
    case kTagSplitReply: {
      uint64_t v[2] = {0, 0};  // the split (or -1 as u64), splits left after it
      if (count != static_cast<int>(sizeof v)) {
        throw std::runtime_error("split reply of " + std::to_string(count) + " bytes from rank 0");
      }
      MPI_Mrecv(v, sizeof v, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
      split_reply_ = static_cast<int64_t>(v[0]);
      splits_left_ = v[1];
      split_reply_ready_ = true;
      break;
    }
    case kTagShuffleDone: {
      uint64_t v = 0;
      MPI_Mrecv(&v, sizeof v, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
      blocks_expected_from_[src] = v;
      done_from_[src] = true;
      break;
    }
    default: {
      // Nothing else is sent on comm_ or block_comm_: a message of another
      // tag is a bug (once, a gather's piece was dropped here and the job
      // hung).
      std::string junk(static_cast<size_t>(count), '\0');
      MPI_Mrecv(junk.data(), count, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
      throw std::logic_error("unexpected message (tag " + std::to_string(st.MPI_TAG) + ") from rank " +
                             std::to_string(st.MPI_SOURCE) + " during the shuffle");
    }
  }
  return true;
}

bool MpiCommunicator::RetireReceives() {
  size_t kept = 0;
  bool any = false;
  for (size_t i = 0; i < receiving_.size(); ++i) {
    int done = 0;
    MPI_Test(&receiving_[i]->request, &done, MPI_STATUS_IGNORE);
    if (done) {
      receiving_bytes_ -= receiving_[i]->frame.size();
      ++blocks_received_from_[receiving_[i]->source];
      receiver_->OnBlock(receiving_[i]->source, std::move(receiving_[i]->frame));
      any = true;
    } else {
      if (kept != i) receiving_[kept] = std::move(receiving_[i]);
      ++kept;
    }
  }
  receiving_.resize(kept);
  return any;
}

void MpiCommunicator::Poll() {
  RetireSends();
  while (ReceiveOne()) {
  }
  RetireReceives();
}

void MpiCommunicator::FinishShuffle() {
  for (int r = 0; r < size_; ++r) {
    if (r != rank_) Isend(comm_, r, kTagShuffleDone, U64Bytes(blocks_sent_to_[r]));
  }
  done_from_[rank_] = true;
  auto complete = [this] {
    if (!pending_.empty() || !receiving_.empty()) return false;
    for (int r = 0; r < size_; ++r) {
      if (r == rank_) continue;
      if (!done_from_[r] || blocks_received_from_[r] != blocks_expected_from_[r]) return false;
    }
    return true;
  };
  ProgressUntil(complete);
}

void MpiCommunicator::Backoff(int* idle_rounds) {
  ++*idle_rounds;
  if (*idle_rounds < 64) return;  // a message is usually microseconds away
  if (*idle_rounds < 256) {
    sched_yield();
    return;
  }
  timespec ts{0, 200 * 1000};  // 0.2 ms: invisible next to a 64 MiB split
  nanosleep(&ts, nullptr);
}

void MpiCommunicator::Abort(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort does not return; this satisfies [[noreturn]]
}

}  // namespace sluice
