// Floating-point keys through the whole engine, on 1, 2 and 4 ranks in one
// process, in memory and spilled: -0.0 and +0.0 reach one Reduce call as
// +0.0, every NaN (any sign or payload) reaches one Reduce call as the quiet
// positive NaN, after +infinity, and the output bytes do not depend on the
// rank count or the memory budget (shuffle/float_keys.h).
#include <sluice/detail/typed_runner.h>

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/job.h>
#include "tests/runtime/in_process_cluster.h"

namespace sluice {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr uint64_t kCanonicalNaN = 0x7ff8000000000000;

// Input lines are "<key as hex IEEE bits> <value>", so that the test picks
// each NaN's sign and payload exactly.
std::pair<double, int64_t> ParseLine(std::string_view line) {
  uint64_t bits = 0;
  int64_t value = 0;
  const size_t sp = line.find(' ');
  std::from_chars(line.data(), line.data() + sp, bits, 16);
  std::from_chars(line.data() + sp + 1, line.data() + line.size(), value);
  return {std::bit_cast<double>(bits), value};
}

// The bits of every key Reduce was called with, in call order, across every
// rank of the current run.
std::vector<uint64_t>& ReducedKeys() {
  static std::vector<uint64_t> keys;
  return keys;
}

// (key, 1) per line; Reduce writes "key\tcount". kRange: range partitioned,
// so that the part files in order are one sorted list.
template <bool kRange>
class CountJobOf : public Job<CountJobOf<kRange>, double, int64_t> {
 public:
  using Base = Job<CountJobOf<kRange>, double, int64_t>;
  static constexpr bool kRangePartitioned = kRange;
  void Map(std::string_view line, typename Base::Emitter& emit) { emit(ParseLine(line).first, 1); }
  void Reduce(double key, typename Base::Values& values, typename Base::Output& out) {
    ReducedKeys().push_back(std::bit_cast<uint64_t>(key));
    int64_t n = 0;
    for (int64_t v : values) n += v;
    out(key, n);
  }
};
using CountJob = CountJobOf<false>;
using RangeCountJob = CountJobOf<true>;

// The same with a map-side combiner: its table must see one key for both
// zeros and one for all NaNs.
class CombiningCountJob : public Job<CombiningCountJob, double, int64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) { emit(ParseLine(line).first, 1); }
  int64_t Combine(int64_t a, int64_t b) { return a + b; }
  void Reduce(double key, Values& values, Output& out) {
    ReducedKeys().push_back(std::bit_cast<uint64_t>(key));
    int64_t n = 0;
    for (int64_t v : values) n += v;
    out(key, n);
  }
};

// Secondary sort on (key, value) grouped on the double: Reduce writes
// "key\tv1,v2,..." with the values ascending.
class GroupJob : public Job<GroupJob, std::pair<double, int64_t>, int64_t> {
 public:
  static constexpr size_t kGroupFields = 1;
  void Map(std::string_view line, Emitter& emit) {
    const auto [key, value] = ParseLine(line);
    emit(std::make_pair(key, value), value);
  }
  void Reduce(const Key& key, Values& values, Output& out) {
    ReducedKeys().push_back(std::bit_cast<uint64_t>(key.first));
    std::string joined;
    for (int64_t v : values) joined += std::to_string(v) + ",";
    out(key.first, joined);
  }
};

// The input, and what it should reduce to, worked out without the engine's
// key order: std::map over the non-NaN keys (zeros merged by hand), NaN last.
struct FloatInput {
  std::string text;
  std::map<double, std::vector<int64_t>> by_key;  // NaN excluded; one zero, +0.0
  std::vector<int64_t> nan_values;

  static std::string KeyText(double key) {
    char buf[64];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, key).ptr);
  }
  // "key\tcount\n" per distinct key, in the defined order.
  std::string Counts() const {
    std::string out;
    for (const auto& [key, values] : by_key)
      out += KeyText(key) + "\t" + std::to_string(values.size()) + "\n";
    return out + "nan\t" + std::to_string(nan_values.size()) + "\n";
  }
  // "key\tv1,v2,...\n" per distinct key, values ascending.
  std::string Groups() const {
    auto joined = [](std::vector<int64_t> values) {
      std::sort(values.begin(), values.end());
      std::string s;
      for (int64_t v : values) s += std::to_string(v) + ",";
      return s;
    };
    std::string out;
    for (const auto& [key, values] : by_key) out += KeyText(key) + "\t" + joined(values) + "\n";
    return out + "nan\t" + joined(nan_values) + "\n";
  }
  size_t distinct_keys() const { return by_key.size() + 1; }
};

FloatInput MakeInput(int lines) {
  const uint64_t nans[] = {0x7ff8000000000000, 0xfff8000000000000, 0x7ff0000000000001,
                           0xfff0000000000001, 0x7ff8deadbeef0001, 0x7fffffffffffffff,
                           0xffffffffffffffff};
  FloatInput in;
  for (int i = 0; i < lines; ++i) {
    double key;
    switch (i % 10) {
      case 0:
        key = std::bit_cast<double>(nans[(i / 10) % 7]);
        break;
      case 1:
        key = -0.0;
        break;
      case 2:
        key = 0.0;
        break;
      case 3:
        key = kInf;
        break;
      case 4:
        key = -kInf;
        break;
      default:
        key = ((i * 7919) % 301 - 150) * 0.5;  // 0.0 among them
    }
    const int64_t value = (i * 7919) % 1000;
    char hex[32];
    in.text +=
        std::string(hex,
                    std::to_chars(hex, hex + sizeof hex, std::bit_cast<uint64_t>(key), 16).ptr) +
        " " + std::to_string(value) + "\n";
    if (std::isnan(key)) {
      in.nan_values.push_back(value);
    } else {
      in.by_key[key == 0 ? 0.0 : key].push_back(value);
    }
  }
  return in;
}

class FloatKeyJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-float-keys-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }

  JobSettings InMemory(uint32_t partitions) const {
    JobSettings settings;
    settings.partitions = partitions;
    settings.block_bytes = 1024;
    return settings;
  }
  // Almost every block spills; runs of a few records, several merge passes.
  JobSettings Spilling(uint32_t partitions) const {
    JobSettings settings = InMemory(partitions);
    settings.store_bytes = 4096;
    settings.sort_bytes = 8192;
    settings.spill_block_bytes = 512;
    settings.merge_factor = 3;
    return settings;
  }

  using Run = ClusterRun;

  // Runs J over `text` on `ranks` ranks in this process (in_process_cluster.h
  // places the work as the driver does).
  template <class J>
  Run RunOnRanks(const std::string& text, int ranks, JobSettings settings,
                 uint64_t split_size = 4096) {
    ReducedKeys().clear();
    InProcessCluster cluster(ranks, dir_);
    Result<ClusterRun> run = cluster.Run<J>({text}, std::move(settings), split_size);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? std::move(run).value() : Run{};
  }

  std::string dir_;
};

// Each partition holds some of the expected lines, in the expected order.
void ExpectEachPartInOrder(const std::vector<std::string>& parts, const std::string& expected) {
  std::map<std::string, size_t> rank_of;
  for (const std::string& line : Lines(expected)) rank_of.emplace(line, rank_of.size());
  for (size_t p = 0; p < parts.size(); ++p) {
    size_t last = 0;
    bool first = true;
    for (const std::string& line : Lines(parts[p])) {
      auto it = rank_of.find(line);
      ASSERT_NE(it, rank_of.end()) << "partition " << p << ": unexpected line '" << line << "'";
      EXPECT_TRUE(first || it->second > last)
          << "partition " << p << ": '" << line << "' out of order";
      last = it->second;
      first = false;
    }
  }
}

// Reduce saw each key once, zeros as +0.0 and NaNs as the canonical NaN.
void ExpectCanonicalReducedKeys(size_t distinct_keys) {
  const std::vector<uint64_t>& keys = ReducedKeys();
  EXPECT_EQ(keys.size(), distinct_keys);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), uint64_t{0}), 1)
      << "one Reduce call for zero, as +0.0";
  EXPECT_EQ(std::count(keys.begin(), keys.end(), kCanonicalNaN), 1) << "one Reduce call for NaN";
  for (uint64_t bits : keys) {
    EXPECT_NE(bits, std::bit_cast<uint64_t>(-0.0));
    EXPECT_TRUE(!std::isnan(std::bit_cast<double>(bits)) || bits == kCanonicalNaN)
        << std::hex << bits;
  }
}

TEST_F(FloatKeyJobTest, OnePartitionReducesZeroOnceAndNaNOnceLastInMemoryAndSpilled) {
  const FloatInput in = MakeInput(12000);
  const Run mem = RunOnRanks<CountJob>(in.text, 1, InMemory(1));
  EXPECT_EQ(mem.all(), in.Counts());
  ExpectCanonicalReducedKeys(in.distinct_keys());
  EXPECT_EQ(mem.counters.reduce_input_groups, in.distinct_keys());
  EXPECT_EQ(mem.counters.spill_runs, 0u);

  const Run spill = RunOnRanks<CountJob>(in.text, 1, Spilling(1));
  EXPECT_EQ(spill.all(), in.Counts());
  ExpectCanonicalReducedKeys(in.distinct_keys());
  EXPECT_GT(spill.counters.spill_runs, 10u);
  EXPECT_GT(spill.counters.merge_passes, 0u);
}

TEST_F(FloatKeyJobTest, OutputIsTheSameAtOneTwoAndFourRanksInMemoryAndSpilled) {
  const FloatInput in = MakeInput(12000);
  const Run reference = RunOnRanks<CountJob>(in.text, 1, InMemory(4));
  ExpectCanonicalReducedKeys(in.distinct_keys());
  ExpectEachPartInOrder(reference.parts, in.Counts());
  std::vector<std::string> got = Lines(reference.all());
  std::vector<std::string> want = Lines(in.Counts());
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  for (int ranks : {1, 2, 4}) {
    for (bool spilled : {false, true}) {
      SCOPED_TRACE(testing::Message()
                   << ranks << " ranks, " << (spilled ? "spilled" : "in memory"));
      const Run run = RunOnRanks<CountJob>(in.text, ranks, spilled ? Spilling(4) : InMemory(4));
      EXPECT_EQ(run.parts, reference.parts);
      ExpectCanonicalReducedKeys(in.distinct_keys());
      if (spilled) {
        EXPECT_GT(run.counters.spill_runs, 0u);
      }
    }
  }
}

TEST_F(FloatKeyJobTest, RangePartitionedPartsConcatenateToTheDefinedOrder) {
  const FloatInput in = MakeInput(12000);
  for (int ranks : {1, 2, 4}) {
    for (bool spilled : {false, true}) {
      SCOPED_TRACE(testing::Message()
                   << ranks << " ranks, " << (spilled ? "spilled" : "in memory"));
      const Run run =
          RunOnRanks<RangeCountJob>(in.text, ranks, spilled ? Spilling(3) : InMemory(3));
      EXPECT_EQ(run.all(), in.Counts());
      ExpectCanonicalReducedKeys(in.distinct_keys());
      ASSERT_EQ(run.parts.size(), 3u);
      EXPECT_FALSE(run.parts[2].empty());
      EXPECT_NE(run.parts[2].find("nan\t"), std::string::npos) << "NaN sorts last: the last part";
    }
  }
}

TEST_F(FloatKeyJobTest, CombinerFoldsBothZerosAndAllNaNsIntoOneEntryEach) {
  const FloatInput in = MakeInput(12000);
  // One split: the map-side table sees every record, so it ends with one
  // entry per distinct key.
  const Run one_split = RunOnRanks<CombiningCountJob>(in.text, 1, InMemory(4), uint64_t{1} << 20);
  EXPECT_EQ(one_split.counters.combine_input_records, 12000u);
  EXPECT_EQ(one_split.counters.combine_output_records, in.distinct_keys());
  ExpectCanonicalReducedKeys(in.distinct_keys());
  const Run plain = RunOnRanks<CountJob>(in.text, 1, InMemory(4));
  EXPECT_EQ(one_split.parts, plain.parts);
  for (int ranks : {2, 4}) {
    const Run run = RunOnRanks<CombiningCountJob>(in.text, ranks, Spilling(4));
    EXPECT_EQ(run.parts, plain.parts) << ranks << " ranks";
    ExpectCanonicalReducedKeys(in.distinct_keys());
  }
}

TEST_F(FloatKeyJobTest, SecondarySortGroupsZerosAndNaNsOnTheirFloatField) {
  const FloatInput in = MakeInput(6000);
  const Run one = RunOnRanks<GroupJob>(in.text, 1, InMemory(1));
  EXPECT_EQ(one.all(), in.Groups());
  ExpectCanonicalReducedKeys(in.distinct_keys());
  const Run reference = RunOnRanks<GroupJob>(in.text, 1, InMemory(4));
  ExpectEachPartInOrder(reference.parts, in.Groups());
  for (int ranks : {2, 4}) {
    const Run run = RunOnRanks<GroupJob>(in.text, ranks, Spilling(4));
    EXPECT_EQ(run.parts, reference.parts) << ranks << " ranks";
    ExpectCanonicalReducedKeys(in.distinct_keys());
  }
}

}  // namespace
}  // namespace sluice
