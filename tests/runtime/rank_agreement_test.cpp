// AgreeAcrossRanks (cluster/rank_agreement.h): every rank leaves with the
// same status, the lowest failing rank's, or OK; on one rank (the local
// communicator) and on three ranks simulated by threads over an in-memory
// communicator.
#include "cluster/rank_agreement.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/local_communicator.h"

namespace sluice {
namespace {

TEST(RankAgreementTest, OneLocalRankGetsItsOwnStatusBack) {
  LocalCommunicator comm;
  EXPECT_TRUE(AgreeAcrossRanks(comm, Status::OK()).ok());
  const Status got = AgreeAcrossRanks(comm, Status::IOError("disk full"));
  EXPECT_EQ(got.code(), StatusCode::kIOError);
  EXPECT_EQ(got.message(), "disk full");
}

TEST(RankAgreementTest, EveryCodeAndAnyMessageBytesSurvive) {
  LocalCommunicator comm;
  const std::string odd("a\0b\xff\n", 5);
  for (StatusCode code : {StatusCode::kUsage, StatusCode::kBadInput, StatusCode::kIOError,
                          StatusCode::kCorruption, StatusCode::kUserCode, StatusCode::kInternal}) {
    for (const std::string& message : {std::string(), odd, std::string(100000, 'm')}) {
      const Status got = AgreeAcrossRanks(comm, Status(code, message));
      EXPECT_EQ(got.code(), code);
      EXPECT_EQ(got.message(), message);
    }
  }
}

// The collectives of `size` ranks, each rank a thread. Each collective is a
// round: every rank puts its part in, waits for all, reads, waits for all to
// have read. A rank that skips a collective the others make shows as a
// timeout (a hang under MPI), failed here instead of hanging the test.
class ThreadWorld {
 public:
  explicit ThreadWorld(int size) : size_(size), slots_(size) {}
  int size() const { return size_; }
  bool timed_out() const { return timed_out_; }
  int collectives() const { return rounds_ / 2; }

  // Contributes `mine` for `rank`; returns every rank's contribution.
  std::vector<std::string> Exchange(int rank, const std::string& mine) {
    std::unique_lock<std::mutex> lock(mu_);
    slots_[rank] = mine;
    Arrive(lock);
    std::vector<std::string> all = slots_;
    Arrive(lock);
    return all;
  }

 private:
  void Arrive(std::unique_lock<std::mutex>& lock) {
    const int round = rounds_;
    if (++arrived_ == size_) {
      arrived_ = 0;
      ++rounds_;
      cv_.notify_all();
      return;
    }
    if (!cv_.wait_for(lock, std::chrono::seconds(10), [&] { return rounds_ != round || timed_out_; })) {
      timed_out_ = true;
      cv_.notify_all();
    }
  }

  const int size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> slots_;
  int arrived_ = 0;
  int rounds_ = 0;
  bool timed_out_ = false;
};

// One rank's view of a ThreadWorld. Only the collectives AgreeAcrossRanks
// may use are real; it counts which ones this rank made.
class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(ThreadWorld* world, int rank) : world_(world), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return world_->size(); }
  int ranks_on_node() const override { return world_->size(); }
  bool distributed() const override { return true; }

  void Broadcast(std::string* bytes, int root) override {
    calls += "B" + std::to_string(root);
    *bytes = world_->Exchange(rank_, rank_ == root ? *bytes : std::string())[root];
  }
  std::vector<std::string> Gather(const std::string& mine, int root) override {
    calls += "G" + std::to_string(root);
    std::vector<std::string> all = world_->Exchange(rank_, mine);
    return rank_ == root ? all : std::vector<std::string>{};
  }
  void AllReduceSum(std::vector<uint64_t>*) override { calls += "S"; }
  int AllReduceMax(int value) override {
    calls += "M";
    return value;
  }
  void Barrier() override {
    calls += "b";
    world_->Exchange(rank_, "");
  }
  void StartSplits(uint32_t) override {}
  int64_t NextSplit() override { return -1; }
  uint32_t SplitsHandedOut() const override { return 0; }
  void SetReceiver(BlockReceiver*) override {}
  void SendBlock(int, std::string) override {}
  void Poll() override {}
  void FinishShuffle() override {}
  [[noreturn]] void Abort(int) override { std::abort(); }

  std::string calls;  // the collectives this rank made, in order

 private:
  ThreadWorld* world_;
  int rank_;
};

struct Agreed {
  std::vector<Status> statuses;  // by rank
  std::vector<std::string> calls;
  bool timed_out = false;
};

// Runs AgreeAcrossRanks on every rank at once, rank r contributing mine[r].
Agreed AgreeOnThreads(const std::vector<Status>& mine) {
  const int n = static_cast<int>(mine.size());
  ThreadWorld world(n);
  std::vector<std::unique_ptr<ThreadCommunicator>> comms;
  for (int r = 0; r < n; ++r) comms.push_back(std::make_unique<ThreadCommunicator>(&world, r));
  Agreed out;
  out.statuses.resize(n);
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] { out.statuses[r] = AgreeAcrossRanks(*comms[r], mine[r]); });
  }
  for (std::thread& t : threads) t.join();
  for (auto& c : comms) out.calls.push_back(c->calls);
  out.timed_out = world.timed_out();
  return out;
}

void ExpectAll(const Agreed& got, const Status& want) {
  ASSERT_FALSE(got.timed_out) << "a rank skipped a collective the others made";
  for (size_t r = 0; r < got.statuses.size(); ++r) {
    EXPECT_EQ(got.statuses[r].code(), want.code()) << "rank " << r;
    EXPECT_EQ(got.statuses[r].message(), want.message()) << "rank " << r;
  }
  // Collective: every rank made the same calls in the same order.
  for (const std::string& calls : got.calls) EXPECT_EQ(calls, got.calls[0]);
}

TEST(RankAgreementTest, ThreeRanksAllOkAgreeOnOk) {
  const Agreed got = AgreeOnThreads({Status::OK(), Status::OK(), Status::OK()});
  ExpectAll(got, Status::OK());
  EXPECT_FALSE(got.calls[0].empty());
}

TEST(RankAgreementTest, OneFailingRankGivesEveryRankItsStatus) {
  for (int failing = 0; failing < 3; ++failing) {
    SCOPED_TRACE(failing);
    std::vector<Status> mine(3, Status::OK());
    mine[failing] = Status::Corruption("bad block on rank " + std::to_string(failing));
    ExpectAll(AgreeOnThreads(mine), mine[failing]);
  }
}

TEST(RankAgreementTest, TwoFailingRanksGiveEveryRankTheLowestRanksStatus) {
  // The header's rule: "the status of the lowest-numbered rank that failed".
  ExpectAll(AgreeOnThreads({Status::OK(), Status::BadInput("rank 1"), Status::IOError("rank 2")}),
            Status::BadInput("rank 1"));
  ExpectAll(AgreeOnThreads({Status::UserCode("rank 0"), Status::OK(), Status::Internal("rank 2")}),
            Status::UserCode("rank 0"));
  // Not the worst code: kInternal (exit 70) on rank 2 does not beat rank 0.
  ExpectAll(AgreeOnThreads({Status::Usage("rank 0"), Status::Internal("rank 1"),
                            Status::Internal("rank 2")}),
            Status::Usage("rank 0"));
}

TEST(RankAgreementTest, ManyRanksAllFailingAgreeOnRankZero) {
  std::vector<Status> mine;
  for (int r = 0; r < 7; ++r) mine.push_back(Status::IOError("rank " + std::to_string(r)));
  ExpectAll(AgreeOnThreads(mine), mine[0]);
}

}  // namespace
}  // namespace sluice
