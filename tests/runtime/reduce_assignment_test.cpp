// Reduce assignment: heaviest partition first to the least-loaded rank.
#include "runtime/driver/reduce_assignment.h"

#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(ReduceAssignment, AHeavyPartitionHasItsRankToItself) {
  // Partition 3 alone weighs as much as all the others together.
  std::vector<uint64_t> w(8, 100);
  w[3] = 700;
  std::vector<int> owners = AssignPartitions(w, 4);
  for (size_t p = 0; p < w.size(); ++p) {
    if (p != 3) {
      EXPECT_NE(owners[p], owners[3]) << "partition " << p;
    }
  }
  // p mod ranks would give rank 3 partitions 3 and 7: 800 of 1400, 2.29x
  // the mean; by weight the heaviest rank is partition 3 alone, 2.0x.
  std::vector<int> mod(8);
  for (int p = 0; p < 8; ++p) mod[p] = p % 4;
  EXPECT_DOUBLE_EQ(HeaviestOverMean(w, mod, 4), 800.0 / 350.0);
  EXPECT_DOUBLE_EQ(HeaviestOverMean(w, owners, 4), 700.0 / 350.0);
}

TEST(ReduceAssignment, EveryRankGetsAPartitionWhenThereAreEnough) {
  for (int ranks = 1; ranks <= 16; ++ranks) {
    std::vector<uint64_t> w(16);
    for (size_t p = 0; p < w.size(); ++p) w[p] = (p * 7919) % 1000;  // uneven
    std::vector<int> owners = AssignPartitions(w, ranks);
    std::set<int> used(owners.begin(), owners.end());
    EXPECT_EQ(used.size(), static_cast<size_t>(ranks)) << ranks << " ranks";
    for (int o : owners) EXPECT_TRUE(o >= 0 && o < ranks);
  }
}

TEST(ReduceAssignment, UnsampledPartitionsStillSpread) {
  // A sample that saw nothing (an empty input, say) must not put every
  // partition on one rank.
  std::vector<int> owners = AssignPartitions(std::vector<uint64_t>(16, 0), 4);
  std::vector<int> per_rank(4, 0);
  for (int o : owners) ++per_rank[o];
  EXPECT_EQ(per_rank, (std::vector<int>{4, 4, 4, 4}));
  EXPECT_EQ(HeaviestOverMean(std::vector<uint64_t>(16, 0), owners, 4), 0.0);
}

TEST(ReduceAssignment, HeaviestOverMeanNeverReadsPastItsRanks) {
  // Owners that name ranks the job does not have (a mismatched report):
  // their weight counts toward the mean, nothing is indexed out of range.
  EXPECT_DOUBLE_EQ(HeaviestOverMean({100, 300}, {0, 5}, 2), 100.0 / 200.0);
  EXPECT_DOUBLE_EQ(HeaviestOverMean({100, 300}, {0}, 2), 100.0 / 200.0);
}

TEST(ReduceAssignment, SameInputsSameOwners) {
  std::vector<uint64_t> w = {5, 5, 9, 1, 5, 9, 0, 3};
  EXPECT_EQ(AssignPartitions(w, 3), AssignPartitions(w, 3));
  // Ties go to the lower partition first and to the lower rank.
  EXPECT_EQ(AssignPartitions({5, 5}, 2), (std::vector<int>{0, 1}));
}

TEST(ReduceAssignment, MoreRanksThanPartitions) {
  std::vector<int> owners = AssignPartitions({10, 20, 30}, 8);
  EXPECT_EQ(std::set<int>(owners.begin(), owners.end()).size(), 3u);
}

}  // namespace
}  // namespace sluice
