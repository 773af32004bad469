// Values as reduce() sees them: a range-for over values and over
// (key, value) pairs, across refills; and the lifetime rule (a value is
// valid until the range advances) checked in debug and ASan builds.
#include <sluice/value_range.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace sluice {
namespace {

using PairKey = std::pair<std::string, int64_t>;
using Record = ReduceRecord<PairKey, std::string>;

// Serves `chunks` one after another, as the merge does for a group that
// streams in from spill runs.
struct Chunks {
  std::vector<std::vector<Record>> chunks;
  size_t next = 1;
  static bool Refill(void* self, const Record** cur, const Record** end) {
    auto* c = static_cast<Chunks*>(self);
    if (c->next == c->chunks.size()) return false;
    const std::vector<Record>& chunk = c->chunks[c->next++];
    *cur = chunk.data();
    *end = chunk.data() + chunk.size();
    return true;
  }
};

Chunks ThreeChunks() {
  Chunks c;
  c.chunks = {{Record{{"u", 1}, "a", 0}, Record{{"u", 2}, "b", 0}},
              {},  // an empty chunk is skipped
              {Record{{"u", 5}, "c", 0}}};
  return c;
}

TEST(ValueRangeTest, RangeForVisitsEveryValueAcrossRefills) {
  Chunks c = ThreeChunks();
  ValueRange<PairKey, std::string> values(c.chunks[0].data(), c.chunks[0].data() + 2, &Chunks::Refill, &c);
  std::string seen;
  for (std::string_view v : values) seen += v;
  EXPECT_EQ(seen, "abc");
  EXPECT_TRUE(values.empty());
}

TEST(ValueRangeTest, WithKeysGivesEachValueItsFullKey) {
  Chunks c = ThreeChunks();
  ValueRange<PairKey, std::string> values(c.chunks[0].data(), c.chunks[0].data() + 2, &Chunks::Refill, &c);
  std::vector<std::pair<int64_t, std::string>> seen;
  for (const auto& [key, value] : values.with_keys()) seen.emplace_back(key.second, std::string(value));
  EXPECT_EQ(seen, (std::vector<std::pair<int64_t, std::string>>{{1, "a"}, {2, "b"}, {5, "c"}}));
}

TEST(ValueRangeTest, FrontAndKeyShowTheNextUnreadValue) {
  std::vector<Record> records = {Record{{"k", 7}, "x", 0}, Record{{"k", 9}, "y", 0}};
  ValueRange<PairKey, std::string> values(records.data(), records.data() + 2);
  EXPECT_EQ(values.front(), "x");
  EXPECT_EQ(values.key().second, 7);
  auto it = values.begin();
  ++it;
  EXPECT_EQ(*it, "y");
  EXPECT_EQ(values.key().second, 9);
  values.SkipRest();
  EXPECT_TRUE(values.empty());
}

TEST(ValueRangeTest, EmptyRangeWithNothingToRefillIsEmpty) {
  ValueRange<std::string, uint64_t> values(nullptr, nullptr);
  EXPECT_TRUE(values.empty());
  int n = 0;
  for ([[maybe_unused]] uint64_t v : values) ++n;
  EXPECT_EQ(n, 0);
}

#if SLUICE_CHECK_VALUE_LIFETIME
#if defined(__SANITIZE_ADDRESS__)
TEST(ValueRangeDeathTest, UseAfterAdvanceIsCaughtByAddressSanitizer) {
  std::vector<Record> records = {Record{{"k", 1}, "first value", 0}, Record{{"k", 2}, "second", 0}};
  // A job that keeps a view past the next read, and reads it while the
  // range is still alive: the view points at freed memory.
  auto keep_then_read = [&records] {
    ValueRange<PairKey, std::string> values(records.data(), records.data() + records.size());
    auto it = values.begin();
    const std::string_view kept = *it;  // the bug: a view, not a copy
    ++it;
    volatile char c = kept[0];
    (void)c;
  };
  EXPECT_DEATH(keep_then_read(), "heap-use-after-free");
}
#endif

TEST(ValueRangeTest, CheckedBuildHandsOutACopyNotAViewIntoTheRecord) {
  std::vector<Record> records = {Record{{"k", 1}, "first value", 0}};
  ValueRange<PairKey, std::string> values(records.data(), records.data() + 1);
  EXPECT_NE((*values.begin()).data(), records[0].value.data());
  EXPECT_EQ(*values.begin(), "first value");
}
#else
TEST(ValueRangeTest, ReleaseBuildHandsOutViewsIntoTheRecordWithoutACopy) {
  std::vector<Record> records = {Record{{"k", 1}, "first value", 0}};
  ValueRange<PairKey, std::string> values(records.data(), records.data() + 1);
  EXPECT_EQ((*values.begin()).data(), records[0].value.data());
}
#endif

}  // namespace
}  // namespace sluice
