// Defends the partitioning contract: a key's partition depends only on its
// bytes and the partition count, and keys spread evenly over partitions.
#include "shuffle/partitioner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice {
namespace {

TEST(PartitionerTest, DeterministicAcrossCalls) {
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "key-" + std::to_string(i);
    EXPECT_EQ(PartitionOf(key, 7), PartitionOf(key, 7));
    EXPECT_EQ(PartitionOf(key, 7), PartitionOf(std::string(key), 7));
  }
}

TEST(PartitionerTest, SameBytesSamePartitionWhateverTheStorage) {
  const std::string a = "hello world";
  const char buf[] = "xxhello worldyy";
  const std::string_view b(buf + 2, 11);
  ASSERT_EQ(a, b);
  EXPECT_EQ(PartitionOf(a, 16), PartitionOf(b, 16));
}

TEST(PartitionerTest, KnownValueIsXxh3ModP) {
  // Pins the hash so that part files stay stable across builds.
  const std::string key = "sluice";
  EXPECT_EQ(PartitionOf(key, 1000003),
            static_cast<uint32_t>(XXH3_64bits(key.data(), key.size()) % 1000003));
  EXPECT_EQ(PartitionOf("", 5), static_cast<uint32_t>(XXH3_64bits("", 0) % 5));
}

TEST(PartitionerTest, ValuesBelowPartitionCount) {
  for (uint32_t p : {1u, 2u, 3u, 16u, 97u, 1024u}) {
    for (int i = 0; i < 2000; ++i) {
      EXPECT_LT(PartitionOf(std::to_string(i), p), p);
    }
  }
  EXPECT_EQ(PartitionOf("anything", 1), 0u);
}

TEST(PartitionerTest, RoughlyUniformOver16Partitions) {
  constexpr uint32_t kParts = 16;
  constexpr int kKeys = 100000;
  std::vector<int> counts(kParts, 0);
  for (int i = 0; i < kKeys; ++i) {
    ++counts[PartitionOf("word" + std::to_string(i), kParts)];
  }
  const double mean = static_cast<double>(kKeys) / kParts;
  for (uint32_t p = 0; p < kParts; ++p) {
    EXPECT_GT(counts[p], mean * 0.8) << "partition " << p;
    EXPECT_LT(counts[p], mean * 1.2) << "partition " << p;
  }
}

TEST(PartitionerTest, OwnerOfIsRoundRobin) {
  EXPECT_EQ(OwnerOf(0, 4), 0);
  EXPECT_EQ(OwnerOf(1, 4), 1);
  EXPECT_EQ(OwnerOf(3, 4), 3);
  EXPECT_EQ(OwnerOf(4, 4), 0);
  EXPECT_EQ(OwnerOf(9, 4), 1);
  for (int nranks : {1, 2, 3, 7}) {
    std::vector<int> owned(nranks, 0);
    for (uint32_t p = 0; p < 70; ++p) {
      const int owner = OwnerOf(p, nranks);
      ASSERT_GE(owner, 0);
      ASSERT_LT(owner, nranks);
      EXPECT_EQ(owner, static_cast<int>(p) % nranks);
      ++owned[owner];
    }
    for (int r = 0; r < nranks; ++r) EXPECT_EQ(owned[r], 70 / nranks + (r < 70 % nranks ? 1 : 0));
  }
}

}  // namespace
}  // namespace sluice
