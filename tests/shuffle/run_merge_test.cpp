// The k-way merge yields every record of its runs once, in (key, origin)
// order, with records of equal key and origin (one block's) in their run's
// order: checked against a stable sort of all runs' records, for string keys
// (one compare each) and floating-point keys (NaN last, -0.0 equal to +0.0,
// so the origin decides), from 0 to 70 runs.
#include "shuffle/run_merge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace sluice {
namespace {

template <class K>
using Rec = ReduceRecord<K, uint64_t>;

// Merges `runs` (each sorted by RecordOrder) and returns what came out.
template <class K>
std::vector<Rec<K>> Merge(const std::vector<std::vector<Rec<K>>>& runs) {
  std::vector<std::unique_ptr<RunCursor<K, uint64_t>>> cursors;
  for (const auto& run : runs) {
    cursors.push_back(RunCursor<K, uint64_t>::OverArray(run.data(), run.data() + run.size()));
  }
  RunMerger<K, uint64_t> merger(std::move(cursors));
  EXPECT_TRUE(merger.Start().ok());
  std::vector<Rec<K>> out;
  for (const Rec<K>* r; (r = merger.current()) != nullptr;) {
    out.push_back(*r);
    EXPECT_TRUE(merger.Advance().ok());
  }
  return out;
}

// Runs as the store makes them: each run holds whole blocks (one origin
// each, records of a block in place order), sorted stably by (key, origin).
// `value` numbers every record, so the comparison sees each one's identity.
template <class K, class MakeKey>
std::vector<std::vector<Rec<K>>> MakeRuns(size_t runs, std::mt19937_64& rng, MakeKey make_key) {
  std::vector<std::vector<Rec<K>>> out(runs);
  uint64_t id = 0;
  for (size_t r = 0; r < runs; ++r) {
    const size_t blocks = rng() % 4;
    for (size_t b = 0; b < blocks; ++b) {
      const uint64_t origin = (uint64_t{rng() % 8} << 32) | (r * 16 + b);  // unique per block
      const size_t n = rng() % 40;
      for (size_t i = 0; i < n; ++i) out[r].push_back(Rec<K>{make_key(rng), id++, origin});
    }
    std::stable_sort(out[r].begin(), out[r].end(), RecordOrder<K, uint64_t>());
  }
  return out;
}

template <class K>
void ExpectMergeIsStableSort(const std::vector<std::vector<Rec<K>>>& runs) {
  std::vector<Rec<K>> want;
  for (const auto& run : runs) want.insert(want.end(), run.begin(), run.end());
  std::stable_sort(want.begin(), want.end(), RecordOrder<K, uint64_t>());
  const std::vector<Rec<K>> got = Merge<K>(runs);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].value, want[i].value) << "record " << i << " of " << got.size() << ", "
                                           << runs.size() << " runs";
  }
}

TEST(RunMerger, StringKeysComeOutAsAStableSortOfAllRuns) {
  std::mt19937_64 rng(7);
  // Few distinct keys, some prefixes of others and one empty: many ties.
  const std::vector<std::string> keys = {"", "a", "ab", "abc", "b", "ba", std::string("a\0b", 3), "\xff"};
  std::vector<std::string> storage;  // the views must outlive the runs
  storage.reserve(1 << 20);
  for (size_t runs : {0, 1, 2, 3, 5, 8, 17, 64, 70}) {
    for (int trial = 0; trial < 20; ++trial) {
      auto made = MakeRuns<std::string>(runs, rng, [&](std::mt19937_64& g) {
        return std::string_view(keys[g() % keys.size()]);
      });
      ExpectMergeIsStableSort<std::string>(made);
    }
  }
}

TEST(RunMerger, FloatKeysPutNanLastAndLetTheOriginOrderSignedZeros) {
  std::mt19937_64 rng(11);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> keys = {-0.0, 0.0, 1.5, -2.0, nan, std::numeric_limits<double>::infinity()};
  for (size_t runs : {1, 2, 4, 9, 33}) {
    for (int trial = 0; trial < 20; ++trial) {
      auto made = MakeRuns<double>(runs, rng, [&](std::mt19937_64& g) { return keys[g() % keys.size()]; });
      ExpectMergeIsStableSort<double>(made);
      const auto got = Merge<double>(made);
      const auto first_nan = std::find_if(got.begin(), got.end(), [](const auto& r) { return std::isnan(r.key); });
      EXPECT_TRUE(std::all_of(first_nan, got.end(), [](const auto& r) { return std::isnan(r.key); }));
    }
  }
}

TEST(RunMerger, CompareRecordsIsThreeWayAndAgreesWithKeyOrder) {
  using R = Rec<std::string>;
  EXPECT_LT(CompareRecords(R{"a", 0, 5}, R{"b", 0, 1}), 0);
  EXPECT_GT(CompareRecords(R{"b", 0, 1}, R{"a", 0, 5}), 0);
  EXPECT_LT(CompareRecords(R{"a", 0, 1}, R{"a", 0, 2}), 0);
  EXPECT_EQ(CompareRecords(R{"a", 7, 2}, R{"a", 9, 2}), 0);
  EXPECT_LT(CompareRecords(R{"a", 0, 9}, R{"ab", 0, 1}), 0);  // a prefix first
  EXPECT_LT(CompareRecords(R{"\x7f", 0, 9}, R{"\x80", 0, 1}), 0);  // bytes unsigned
  using D = Rec<double>;
  EXPECT_EQ(CompareRecords(D{-0.0, 0, 3}, D{0.0, 0, 3}), 0);
  EXPECT_LT(CompareRecords(D{1e300, 0, 9}, D{std::nan(""), 0, 1}), 0);
}

}  // namespace
}  // namespace sluice
