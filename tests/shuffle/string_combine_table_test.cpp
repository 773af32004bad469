#include "shuffle/string_combine_table.h"

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(StringCombineTable, AggregatesLikeAMapThroughGrowth) {
  auto add = [](uint64_t a, uint64_t b) { return a + b; };
  StringCombineTable<uint64_t, decltype(add)> table(add, 4);  // tiny: many doublings
  std::map<std::string, uint64_t> ref;
  std::mt19937 rng(1);
  for (int i = 0; i < 200000; ++i) {
    std::string key = "w" + std::to_string(rng() % 30000);
    if (i % 1000 == 0) key.clear();  // the empty key is a key too
    if (i % 777 == 0) key = std::string(100, 'L') + key;  // long keys bypass the queue
    uint64_t v = rng() % 10;
    table.Add(key, table.Hash(key), v);
    ref[key] += v;
  }
  std::map<std::string, uint64_t> got;
  table.ForEach([&](std::string_view k, uint64_t h, const uint64_t& v) {
    EXPECT_EQ(h, table.Hash(k));
    EXPECT_TRUE(got.emplace(std::string(k), v).second);
  });
  EXPECT_EQ(got, ref);
  EXPECT_EQ(table.size(), ref.size());
}

// A non-commutative combiner sees each key's values in Add order: while the
// slots fit in cache (applied at once), through the prefetch queue once the
// table has grown past that, and for long keys that bypass the queue.
TEST(StringCombineTable, KeepsAddOrderPerKey) {
  auto concat = [](const std::string& a, const std::string& b) { return a + b; };
  using Table = StringCombineTable<std::string, decltype(concat)>;
  Table table(concat, 8);
  // Add queues only once the slots outgrow 256 KiB; the table doubles at
  // half load, so one new filler key per step gets it there halfway through.
  const int steps = static_cast<int>((256 << 10) / Table::kSlotBytes);
  std::map<std::string, std::string> ref;  // the keys whose order is checked
  int steps_with_queued_records = 0;
  for (int i = 0; i < steps; ++i) {
    const std::string filler = "f" + std::to_string(i);
    table.Add(filler, table.Hash(filler), "");
    // Seven short keys, each back within the queue's 16 records.
    const std::string key = (i % 50 == 0 ? std::string(60, 'z') : "k") + std::to_string(i % 7);
    const std::string v = std::to_string(i) + ";";
    table.Add(key, table.Hash(key), v);
    ref[key] += v;
    // size() leaves out queued records: a lag proves the queue holds some.
    if (table.size() < static_cast<size_t>(i + 1) + ref.size()) ++steps_with_queued_records;
  }
  EXPECT_GT(steps_with_queued_records, steps / 4) << "the prefetch queue was never used";
  std::map<std::string, std::string> got;
  int fillers = 0;
  table.ForEach([&](std::string_view k, uint64_t, const std::string& v) {
    if (k[0] == 'f') {
      ++fillers;
      EXPECT_EQ(v, "") << k;
    } else {
      got[std::string(k)] = v;
    }
  });
  EXPECT_EQ(fillers, steps);
  EXPECT_EQ(got, ref);
}

TEST(StringCombineTable, ClearEmptiesAndKeepsCapacity) {
  auto concat = [](const std::string& a, const std::string& b) { return a + b; };
  StringCombineTable<std::string, decltype(concat)> table(concat, 8);
  for (int i = 0; i < 1000; ++i) {
    std::string k = std::to_string(i % 100);
    table.Add(k, table.Hash(k), "x");
  }
  table.Drain();
  EXPECT_EQ(table.size(), 100u);
  size_t before = table.memory_bytes();
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.memory_bytes(), before) << "a flush must not make the next one regrow";
  int n = 0;
  table.ForEach([&](std::string_view, uint64_t, const std::string&) { ++n; });
  EXPECT_EQ(n, 0);
  table.Add("7", table.Hash("7"), "y");
  table.ForEach([&](std::string_view k, uint64_t, const std::string& v) {
    EXPECT_EQ(k, "7");
    EXPECT_EQ(v, "y");
  });
}

// Hash takes XXH3's short-input path itself for keys up to 16 bytes: it
// must equal XXH3_64bits at every length, or partitions and saved map tasks
// would change with it.
TEST(StringCombineTable, HashIsXxh3AtEveryLength) {
  auto add = [](uint64_t a, uint64_t b) { return a + b; };
  using Table = StringCombineTable<uint64_t, decltype(add)>;
  std::mt19937 rng(7);
  std::string bytes(300, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  for (size_t len = 0; len <= bytes.size(); ++len) {
    for (size_t at : {size_t{0}, size_t{1}, bytes.size() - len}) {
      if (at + len > bytes.size()) continue;
      const std::string_view key(bytes.data() + at, len);
      ASSERT_EQ(Table::Hash(key), XXH3_64bits(key.data(), key.size())) << "length " << len;
    }
  }
}

// A Clear or Reset right after a Clear skips zeroing slots that are already
// empty; records queued since (but not yet applied) are dropped all the same.
TEST(StringCombineTable, ClearAfterClearLeavesNothingBehind) {
  auto add = [](uint64_t a, uint64_t b) { return a + b; };
  using Table = StringCombineTable<uint64_t, decltype(add)>;
  Table table(add, 1 << 16);  // past the cached size: adds go through the queue
  for (int i = 0; i < 50000; ++i) {
    const std::string k = "k" + std::to_string(i);
    table.Add(k, Table::Hash(k), 1);
  }
  table.Clear();
  table.Add("queued", Table::Hash("queued"), 5);  // queued, not applied
  EXPECT_EQ(table.size(), 0u);
  table.Clear();
  table.Reset(1 << 16);
  table.Add("a", Table::Hash("a"), 1);
  table.Add("a", Table::Hash("a"), 2);
  std::map<std::string, uint64_t> got;
  table.ForEach([&](std::string_view k, uint64_t, const uint64_t& v) { got[std::string(k)] = v; });
  EXPECT_EQ(got, (std::map<std::string, uint64_t>{{"a", 3}}));
}

// Reset returns the table to its first size, so what it drains next comes
// in the order a fresh table would give: Clear keeps the grown slot array,
// and the slot order of the same keys then differs.
TEST(StringCombineTable, ResetDrainsInTheOrderOfAFreshTable) {
  auto add = [](uint64_t a, uint64_t b) { return a + b; };
  using Table = StringCombineTable<uint64_t, decltype(add)>;
  auto order = [](Table& t) {
    std::vector<std::string> keys;
    t.ForEach([&](std::string_view k, uint64_t, const uint64_t&) { keys.emplace_back(k); });
    return keys;
  };
  auto fill = [](Table& t, const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      const std::string k = prefix + std::to_string(i);
      t.Add(k, t.Hash(k), 1);
    }
  };
  Table fresh(add, 64), cleared(add, 64), reset(add, 64);
  fill(fresh, "few", 20);
  fill(cleared, "many", 5000);  // grows to 16384 slots
  fill(reset, "many", 5000);
  cleared.Clear();
  reset.Reset();
  fill(cleared, "few", 20);
  fill(reset, "few", 20);
  const std::vector<std::string> want = order(fresh);
  ASSERT_EQ(want.size(), 20u);
  EXPECT_EQ(order(reset), want);
  EXPECT_EQ(reset.memory_bytes(), fresh.memory_bytes());
  EXPECT_NE(order(cleared), want) << "the test would not notice a Reset that kept the grown slots";
}

// With a budget the table says full() instead of growing past it, and what
// it held before then is all there, combined.
TEST(StringCombineTable, StaysWithinItsBudgetAndSaysWhenFull) {
  auto add = [](uint64_t a, uint64_t b) { return a + b; };
  const size_t budget = 64 << 10;
  StringCombineTable<uint64_t, decltype(add)> table(add, 16, budget);
  std::map<std::string, uint64_t> ref;
  int i = 0;
  for (; !table.full(); ++i) {
    ASSERT_LT(i, 1000000) << "never full";
    std::string k = "key-" + std::to_string(i);  // longer than a slot: uses the arena too
    table.Add(k, table.Hash(k), 1);
    table.Add(k, table.Hash(k), 2);
    ref[k] += 3;
  }
  EXPECT_LE(table.memory_bytes(), budget + budget / 2) << "slots at most half, arena about half";
  std::map<std::string, uint64_t> got;
  table.ForEach([&](std::string_view k, uint64_t, uint64_t v) { got[std::string(k)] += v; });
  EXPECT_EQ(got, ref);
  table.Clear();
  EXPECT_FALSE(table.full());
}

TEST(StringCombineTable, KeysThatShareAHashPrefixStayDistinct) {
  auto add = [](int a, int b) { return a + b; };
  StringCombineTable<int, decltype(add)> table(add, 16);
  // Same hash forced: equality must still compare lengths and bytes.
  table.Add("ab", 42, 1);
  table.Add("abc", 42, 1);
  table.Add("ab", 42, 1);
  std::map<std::string, int> got;
  table.ForEach([&](std::string_view k, uint64_t, const int& v) { got[std::string(k)] = v; });
  EXPECT_EQ(got, (std::map<std::string, int>{{"ab", 2}, {"abc", 1}}));
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// PadShortKey against the obvious copy, for every length and alignment.
TEST(PadShortKey, EqualsAZeroPaddedCopy) {
  const std::string text = "abcdefghijklmnopqrstuvwxyz0123456789\xff\x80";
  for (size_t at = 0; at + 16 <= text.size(); ++at) {
    for (size_t len = 0; len <= 16; ++len) {
      char expected[16] = {};
      std::memcpy(expected, text.data() + at, len);
      char got[16];
      std::memset(got, 0x5a, sizeof got);
      PadShortKey(text.data() + at, len, got);
      EXPECT_EQ(std::memcmp(got, expected, 16), 0) << "at " << at << " len " << len;
    }
  }
}

}  // namespace
}  // namespace sluice
