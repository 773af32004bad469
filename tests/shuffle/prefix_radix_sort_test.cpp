// The radix sort of reduce's distinct keys (prefix_radix_sort.h) gives the
// order a comparison sort on (key, input index) gives, for keys that share
// prefixes, are shorter than 8 bytes, hold zero bytes or repeat.
#include "shuffle/prefix_radix_sort.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "shuffle/key_prefix.h"

namespace sluice {
namespace {

struct Entry {
  uint64_t prefix;
  uint64_t index;
};

std::vector<uint64_t> SortedIndexes(const std::vector<std::string>& keys) {
  std::vector<Entry> entries, scratch;
  for (size_t i = 0; i < keys.size(); ++i) entries.push_back({KeyPrefix(keys[i]), i});
  StableRadixSortByPrefix(&entries, &scratch);
  SortPrefixTies(&entries, [&keys](const Entry& a, const Entry& b) {
    const int c = keys[a.index].compare(keys[b.index]);
    return c != 0 ? c < 0 : a.index < b.index;
  });
  std::vector<uint64_t> out;
  for (const Entry& e : entries) out.push_back(e.index);
  return out;
}

// The reference: a stable comparison sort on whole keys.
std::vector<uint64_t> ReferenceIndexes(const std::vector<std::string>& keys) {
  std::vector<uint64_t> order(keys.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&keys](uint64_t a, uint64_t b) { return keys[a] < keys[b]; });
  return order;
}

TEST(PrefixRadixSort, OrdersLikeAStableComparisonSort) {
  std::mt19937_64 rng(7);
  // Few letters and lengths around 8: shared prefixes, ties past byte 8,
  // keys shorter than their zero padding, zero bytes inside keys, repeats.
  const std::string alphabet = std::string("ab\0\xff", 4);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string> keys(1 + rng() % 3000);
    for (std::string& k : keys) {
      const size_t len = rng() % 14;
      for (size_t i = 0; i < len; ++i) k += alphabet[rng() % alphabet.size()];
    }
    ASSERT_EQ(SortedIndexes(keys), ReferenceIndexes(keys)) << "round " << round;
  }
}

TEST(PrefixRadixSort, HandlesTheEdges) {
  EXPECT_TRUE(SortedIndexes({}).empty());
  EXPECT_EQ(SortedIndexes({"x"}), std::vector<uint64_t>{0});
  // Every prefix equal: no radix pass moves anything; ties decide it all.
  EXPECT_EQ(SortedIndexes({"samesame9", "samesame1", "samesame", "samesame1"}),
            (std::vector<uint64_t>{2, 1, 3, 0}));
  // "a" and "a\0" share the zero-padded prefix; the shorter comes first.
  EXPECT_EQ(SortedIndexes({std::string("a\0", 2), "a", "", "b"}), (std::vector<uint64_t>{2, 1, 0, 3}));
}

}  // namespace
}  // namespace sluice
