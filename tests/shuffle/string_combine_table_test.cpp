#include "shuffle/string_combine_table.h"

#include <map>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(StringCombineTable, AggregatesLikeAMapThroughGrowth) {
  StringCombineTable<uint64_t> table(4);  // tiny: forces many doublings
  std::map<std::string, uint64_t> ref;
  std::mt19937 rng(1);
  auto add = [](uint64_t a, uint64_t b) { return a + b; };
  for (int i = 0; i < 200000; ++i) {
    std::string key = "w" + std::to_string(rng() % 30000);
    if (i % 1000 == 0) key.clear();  // the empty key is a key too
    uint64_t v = rng() % 10;
    table.Add(key, StringCombineTable<uint64_t>::Hash(key), v, add);
    ref[key] += v;
  }
  EXPECT_EQ(table.size(), ref.size());
  std::map<std::string, uint64_t> got;
  table.ForEach([&](std::string_view k, uint64_t h, const uint64_t& v) {
    EXPECT_EQ(h, StringCombineTable<uint64_t>::Hash(k));
    EXPECT_TRUE(got.emplace(std::string(k), v).second);
  });
  EXPECT_EQ(got, ref);
}

TEST(StringCombineTable, ClearEmptiesAndReleasesSlots) {
  StringCombineTable<std::string> table(8);
  auto concat = [](const std::string& a, const std::string& b) { return a + b; };
  for (int i = 0; i < 1000; ++i) {
    std::string k = std::to_string(i % 10);
    table.Add(k, StringCombineTable<std::string>::Hash(k), "x", concat);
  }
  EXPECT_EQ(table.size(), 10u);
  size_t before = table.memory_bytes();
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_LE(table.memory_bytes(), before);
  int n = 0;
  table.ForEach([&](std::string_view, uint64_t, const std::string&) { ++n; });
  EXPECT_EQ(n, 0);
}

TEST(StringCombineTable, KeysThatShareAHashPrefixStayDistinct) {
  StringCombineTable<int> table(16);
  auto add = [](int a, int b) { return a + b; };
  // Same hash forced: equality must still compare lengths and bytes.
  table.Add("ab", 42, 1, add);
  table.Add("abc", 42, 1, add);
  table.Add("ab", 42, 1, add);
  std::map<std::string, int> got;
  table.ForEach([&](std::string_view k, uint64_t, const int& v) { got[std::string(k)] = v; });
  EXPECT_EQ(got, (std::map<std::string, int>{{"ab", 2}, {"abc", 1}}));
}

}  // namespace
}  // namespace sluice
