// The typed engine in one process: map tasks, blocks through a transport,
// reduce. Proves invariant 1's ordering promise directly (values reach
// reduce() in input order even when splits are mapped out of order) and that
// non-string keys and Cereal user types travel through the whole pipeline.
#include "runtime/typed_runner.h"

#include <unistd.h>

#include <algorithm>
#include <set>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/split_planner.h"
#include "runtime/job.h"

namespace sluice {
namespace {

// Emits (first word, line number within the file) for every line, no combiner.
class OrderJob : public Job<OrderJob, std::string, int64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    size_t sp = line.find(' ');
    emit(line.substr(0, sp), std::stoll(std::string(line.substr(sp + 1))));
  }
  void Reduce(std::string_view key, Values& values, Output& out) {
    std::string joined;
    for (int64_t v : values) joined += std::to_string(v) + ",";
    out(key, joined);
  }
};

// An order-sensitive (associative, not commutative) combiner: folding on the
// map side and again on the reduce side must keep input order.
class ConcatJob : public Job<ConcatJob, std::string, std::string> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    size_t sp = line.find(' ');
    emit(line.substr(0, sp), std::string(line.substr(sp + 1)) + ",");
  }
  std::string Combine(const std::string& a, const std::string& b) { return a + b; }
  void Reduce(std::string_view key, Values& values, Output& out) {
    std::string joined;
    for (std::string_view v : values) joined += v;
    out(key, joined);
  }
};

struct Stats {
  int64_t count = 0;
  double sum = 0;
  std::string longest;
  template <class A>
  void serialize(A& ar) {
    ar(count, sum, longest);
  }
};

// Tuple keys, a Cereal value type, a combiner and a user counter.
class TypedJob : public Job<TypedJob, std::tuple<int32_t, std::string>, Stats> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    lines_.Add();
    auto key = std::make_tuple(static_cast<int32_t>(line.size() % 3), std::string(line.substr(0, 1)));
    emit(key, Stats{1, static_cast<double>(line.size()), std::string(line)});
  }
  Stats Combine(const Stats& a, const Stats& b) {
    return {a.count + b.count, a.sum + b.sum, b.longest.size() > a.longest.size() ? b.longest : a.longest};
  }
  void Reduce(const Key& key, Values& values, Output& out) {
    Stats total;
    for (const Stats& s : values) total = Combine(total, s);
    out(key, std::make_tuple(total.count, total.sum, total.longest));
  }

 private:
  Counter& lines_ = counter("typed_lines");
};

// Delivers every block back to this process, like a one-rank cluster.
class Loopback final : public BlockTransport, public BlockReceiver {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void SetReceiver(BlockReceiver*) override {}
  void SendBlock(int, std::string frame) override { OnBlock(0, std::move(frame)); }
  void Poll() override {}
  void FinishShuffle() override {}
  void OnBlock(int, std::string frame) override {
    auto info = BlockDecoder::PeekHeader(frame, "test");
    ASSERT_TRUE(info.ok());
    frames[info->partition].push_back(std::move(frame));
  }
  std::map<uint32_t, std::vector<std::string>> frames;
};

class TypedRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-runner-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }

  // Runs job J over `text`, mapping splits in the given order, and returns
  // the concatenated output of all partitions.
  template <class J>
  std::string RunJob(const std::string& text, uint64_t split_size, bool reverse_splits,
                     TypedRunner<J>* runner) {
    const std::string path = dir_ + "/in.txt";
    EXPECT_TRUE(WriteStringToFile(*FileSystem::Default(), path, text).ok());
    std::vector<InputFile> files = {{path, text.size(), 0}};
    std::vector<Split> splits = PlanSplits(files, split_size);
    if (reverse_splits) std::reverse(splits.begin(), splits.end());
    Loopback loop;
    JobSettings settings;
    settings.partitions = 3;
    settings.block_bytes = 1024;  // many blocks per split
    EXPECT_TRUE(runner->Setup(settings, &loop).ok());
    for (const Split& s : splits) {
      MapTask task{&s, &files, FileSystem::Default()};
      Status st = runner->RunMapTask(task);
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    std::string all;
    for (uint32_t p = 0; p < settings.partitions; ++p) {
      const std::string out = dir_ + "/part" + std::to_string(p);
      auto file = FileSystem::Default()->Create(out);
      EXPECT_TRUE(file.ok());
      BufferedWriter writer(std::move(file).value());
      Status st = runner->RunReduceTask(p, &loop.frames[p], &writer);
      EXPECT_TRUE(st.ok()) << st.ToString();
      EXPECT_TRUE(writer.Close().ok());
      all += ReadFileToString(*FileSystem::Default(), out).value();
    }
    return all;
  }

  std::string dir_;
};

TEST_F(TypedRunnerTest, ValuesReachReduceInInputOrderWhateverTheMapOrder) {
  std::string text;
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 20000; ++i) {
    std::string key = "k" + std::to_string((i * 7919) % 13);
    text += key + " " + std::to_string(i) + "\n";
    expected[key] += std::to_string(i) + ",";
  }
  TypedRunner<OrderJob> forward, backward;
  std::string a = RunJob(text, 4096, /*reverse_splits=*/false, &forward);
  std::string b = RunJob(text, 4096, /*reverse_splits=*/true, &backward);
  EXPECT_EQ(a, b);
  for (const auto& [key, values] : expected) {
    EXPECT_NE(a.find(key + "\t" + values + "\n"), std::string::npos) << key;
  }
  const TaskCounters& c = forward.counters();
  EXPECT_EQ(c.input_records, 20000u);
  EXPECT_EQ(c.map_output_records, 20000u);
  EXPECT_EQ(c.shuffle_records, 20000u);
  EXPECT_EQ(c.reduce_input_records, 20000u);
  EXPECT_EQ(c.reduce_input_groups, 13u);
  EXPECT_EQ(c.input_bytes, text.size());
}

TEST_F(TypedRunnerTest, OrderSensitiveCombinerKeepsInputOrderOnBothSides) {
  std::string text;
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 20000; ++i) {
    std::string key = "key" + std::to_string((i * 31) % 17);
    text += key + " " + std::to_string(i) + "\n";
    expected[key] += std::to_string(i) + ",";
  }
  TypedRunner<ConcatJob> forward, backward;
  std::string a = RunJob(text, 4096, /*reverse_splits=*/false, &forward);
  std::string b = RunJob(text, 4096, /*reverse_splits=*/true, &backward);
  EXPECT_EQ(a, b);
  std::string want;
  for (const auto& [key, values] : expected) want += key + "\t" + values + "\n";
  // Keys are sorted within each of the 3 partitions; compare as sets of lines.
  auto lines = [](const std::string& t) {
    std::multiset<std::string> out;
    for (size_t p = 0, nl; (nl = t.find('\n', p)) != std::string::npos; p = nl + 1) out.insert(t.substr(p, nl - p));
    return out;
  };
  EXPECT_EQ(lines(a), lines(want));
  EXPECT_EQ(forward.counters().reduce_input_groups, 17u);
  EXPECT_EQ(forward.counters().reduce_input_records, forward.counters().shuffle_records);
}

TEST_F(TypedRunnerTest, TupleKeysAndCerealValuesWithACombiner) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += std::string(1, static_cast<char>('a' + i % 5)) + std::string(i % 17, 'x') + "\n";
  TypedRunner<TypedJob> runner;
  std::string out = RunJob(text, 2048, false, &runner);
  // Independent reference.
  std::map<std::pair<int, char>, std::tuple<int64_t, double, std::string>> ref;
  for (int i = 0; i < 5000; ++i) {
    std::string line = std::string(1, static_cast<char>('a' + i % 5)) + std::string(i % 17, 'x');
    auto& [count, sum, longest] = ref[{static_cast<int>(line.size() % 3), line[0]}];
    ++count;
    sum += static_cast<double>(line.size());
    if (line.size() > longest.size()) longest = line;
  }
  size_t lines = std::count(out.begin(), out.end(), '\n');
  EXPECT_EQ(lines, ref.size());
  for (const auto& [key, v] : ref) {
    std::string expect = std::to_string(key.first) + "\t" + std::string(1, key.second) + "\t" +
                         std::to_string(std::get<0>(v)) + "\t";
    EXPECT_NE(out.find(expect), std::string::npos) << expect;
  }
  const TaskCounters& c = runner.counters();
  EXPECT_EQ(c.combine_input_records, 5000u);
  EXPECT_EQ(c.combine_output_records, c.shuffle_records);
  EXPECT_LT(c.shuffle_records, 5000u);
  auto user = runner.user_counters();
  ASSERT_EQ(user.size(), 1u);
  EXPECT_EQ(user[0].first, "typed_lines");
  EXPECT_EQ(user[0].second, 5000u);
}

TEST_F(TypedRunnerTest, MapExceptionNamesFileAndOffset) {
  TypedRunner<OrderJob> runner;
  const std::string path = dir_ + "/bad.txt";
  ASSERT_TRUE(WriteStringToFile(*FileSystem::Default(), path, "a 1\nb notanumber\n").ok());
  std::vector<InputFile> files = {{path, 17, 0}};
  auto splits = PlanSplits(files, 1 << 20);
  Loopback loop;
  ASSERT_TRUE(runner.Setup(JobSettings{}, &loop).ok());
  MapTask task{&splits[0], &files, FileSystem::Default()};
  Status s = runner.RunMapTask(task);
  EXPECT_EQ(s.code(), StatusCode::kUserCode);
  EXPECT_NE(s.message().find("byte 4 of '" + path + "'"), std::string::npos) << s.message();
}

TEST_F(TypedRunnerTest, CorruptBlockFailsTheReduce) {
  TypedRunner<OrderJob> runner;
  Loopback loop;
  ASSERT_TRUE(runner.Setup(JobSettings{}, &loop).ok());
  const std::string path = dir_ + "/in.txt";
  ASSERT_TRUE(WriteStringToFile(*FileSystem::Default(), path, "a 1\nb 2\nc 3\n").ok());
  std::vector<InputFile> files = {{path, 12, 0}};
  auto splits = PlanSplits(files, 1 << 20);
  MapTask task{&splits[0], &files, FileSystem::Default()};
  ASSERT_TRUE(runner.RunMapTask(task).ok());
  for (auto& [p, frames] : loop.frames) {
    if (frames.empty()) continue;
    frames[0][frames[0].size() - 1] ^= 0x40;
    auto file = FileSystem::Default()->Create(dir_ + "/out");
    BufferedWriter writer(std::move(file).value());
    Status s = runner.RunReduceTask(p, &frames, &writer);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    (void)writer.Close();
    return;
  }
  FAIL() << "no blocks produced";
}

}  // namespace
}  // namespace sluice
