// Reduce tasks: a heavy partition cut by key into pieces of about equal
// sampled weight; the task table's numbering, encoding and hash.
#include "runtime/driver/reduce_tasks.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace sluice {
namespace {

using Keys = std::vector<std::pair<std::string, uint64_t>>;

TEST(ReduceTasks, OnePerPartitionIsTheIdentity) {
  const ReduceTasks t = ReduceTasks::OnePerPartition(5);
  EXPECT_EQ(t.partitions(), 5u);
  EXPECT_EQ(t.count(), 5u);
  EXPECT_TRUE(t.one_per_partition());
  for (uint32_t p = 0; p < 5; ++p) {
    EXPECT_EQ(t.first(p), p);
    EXPECT_EQ(t.pieces(p), 1u);
    EXPECT_EQ(t.PartitionOf(p), p);
    EXPECT_EQ(t.PieceOf(p), 0u);
  }
}

TEST(ReduceTasks, PiecesAreNumberedInPartitionThenKeyOrder) {
  // Partition 1 in three pieces, partition 3 in two.
  const ReduceTasks t = ReduceTasks::FromCuts({{}, {"g", "p"}, {}, {"m"}});
  EXPECT_EQ(t.count(), 7u);
  EXPECT_FALSE(t.one_per_partition());
  const std::vector<uint32_t> partition = {0, 1, 1, 1, 2, 3, 3};
  const std::vector<uint32_t> piece = {0, 0, 1, 2, 0, 0, 1};
  for (uint32_t task = 0; task < t.count(); ++task) {
    EXPECT_EQ(t.PartitionOf(task), partition[task]) << task;
    EXPECT_EQ(t.PieceOf(task), piece[task]) << task;
  }
  EXPECT_EQ(t.first(3), 5u);
  EXPECT_EQ(t.pieces(1), 3u);
}

TEST(ReduceTasks, EncodingRoundTripsAndTheHashTellsTablesApart) {
  const ReduceTasks t = ReduceTasks::FromCuts({{}, {"g", "p"}, {std::string("\0x", 2)}});
  auto back = ReduceTasks::Decode(t.Encode());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->Encode(), t.Encode());
  EXPECT_EQ(back->Hash(), t.Hash());
  EXPECT_NE(ReduceTasks::OnePerPartition(3).Hash(), t.Hash());
  EXPECT_NE(ReduceTasks::FromCuts({{}, {"g"}, {}}).Hash(), ReduceTasks::FromCuts({{"g"}, {}, {}}).Hash());
  // Truncated or with bytes after it: refused, never a shorter table.
  const std::string bytes = t.Encode();
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(ReduceTasks::Decode(bytes.substr(0, n)).ok()) << n;
  EXPECT_FALSE(ReduceTasks::Decode(bytes + "x").ok());
}

TEST(ReduceTasks, PiecesForFollowsTheEstimateWithinItsBounds) {
  EXPECT_EQ(PiecesFor(100, 256, 1000), 1u);
  EXPECT_EQ(PiecesFor(256, 256, 1000), 1u);
  EXPECT_EQ(PiecesFor(257, 256, 1000), 2u);
  EXPECT_EQ(PiecesFor(2560, 256, 1000), 10u);
  EXPECT_EQ(PiecesFor(2560, 256, 4), 4u) << "no more pieces than sampled keys";
  EXPECT_EQ(PiecesFor(2560, 256, 1), 1u);
  EXPECT_EQ(PiecesFor(uint64_t{1} << 50, 1, 1'000'000), kMaxPiecesPerPartition);
  EXPECT_EQ(PiecesFor(2560, 0, 1000), 1u) << "--reduce-task-size 0: never cut";
}

TEST(ReduceTasks, CutAtWeightGivesPiecesOfAboutEqualWeight) {
  Keys keys;
  for (int i = 0; i < 100; ++i) keys.emplace_back("k" + std::to_string(1000 + i), 10);
  std::vector<uint64_t> weights;
  const std::vector<std::string> cuts = CutAtWeight(keys, 4, &weights);
  EXPECT_EQ(cuts, (std::vector<std::string>{"k1025", "k1050", "k1075"}));
  EXPECT_EQ(weights, (std::vector<uint64_t>{250, 250, 250, 250}));
}

TEST(ReduceTasks, AHeavyKeyIsAPieceOfItsOwnAndCutsStayIncreasing) {
  // "m" outweighs the rest: it cannot be split, so the pieces around it
  // take the other keys and no cut repeats.
  const Keys keys = {{"a", 10}, {"b", 10}, {"m", 1000}, {"x", 10}, {"y", 10}};
  std::vector<uint64_t> weights;
  const std::vector<std::string> cuts = CutAtWeight(keys, 4, &weights);
  ASSERT_EQ(weights.size(), cuts.size() + 1);
  for (size_t i = 1; i < cuts.size(); ++i) EXPECT_LT(cuts[i - 1], cuts[i]);
  uint64_t total = 0;
  for (uint64_t w : weights) total += w;
  EXPECT_EQ(total, 1040u);
  EXPECT_EQ(cuts.front(), "m") << "the heavy key starts a piece";
  EXPECT_EQ(weights.front(), 20u);
}

TEST(ReduceTasks, OnePieceOrNoKeysMeansNoCut) {
  std::vector<uint64_t> weights;
  EXPECT_TRUE(CutAtWeight({{"a", 5}, {"b", 5}}, 1, &weights).empty());
  EXPECT_EQ(weights, (std::vector<uint64_t>{10}));
  EXPECT_TRUE(CutAtWeight({}, 3, &weights).empty());
  EXPECT_EQ(weights, (std::vector<uint64_t>{0}));
}

}  // namespace
}  // namespace sluice
