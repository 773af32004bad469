// The typed engine in one process: map tasks, blocks through a transport,
// reduce. Proves invariant 1's ordering promise directly (values reach
// reduce() in input order even when splits are mapped out of order) and that
// non-string keys and Cereal user types travel through the whole pipeline.
#include <sluice/detail/typed_runner.h>

#include <unistd.h>

#include <algorithm>
#include <set>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/split_planner.h"
#include <sluice/job.h>

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
class Loopback final : public BlockTransport {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void SetReceiver(BlockReceiver* receiver) override { receiver_ = receiver; }
  void SendBlock(int, std::string frame) override {
    if (corrupt_next) {
      frame[frame.size() - 1] ^= 0x40;
      corrupt_next = false;
    }
    receiver_->OnBlock(0, std::move(frame));
  }
  void Poll() override {}
  void FinishShuffle() override {}
  bool corrupt_next = false;

 private:
  BlockReceiver* receiver_ = nullptr;
};

class TypedRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-runner-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }

  // Small blocks (many per split); everything fits in memory.
  JobSettings InMemory() const {
    JobSettings settings;
    settings.partitions = 3;
    settings.block_bytes = 1024;
    settings.scratch_dir = dir_ + "/scratch";
    return settings;
  }
  // A budget so small that almost every block spills, runs hold a few
  // records each, and the merge needs several passes.
  JobSettings Spilling() const {
    JobSettings settings = InMemory();
    settings.store_bytes = 4096;
    settings.sort_bytes = 8192;
    settings.spill_block_bytes = 512;
    settings.merge_factor = 3;
    return settings;
  }

  // Runs job J over `text`, mapping splits in the given order, and returns
  // the concatenated output of all partitions.
  template <class J>
  std::string RunJob(const std::string& text, uint64_t split_size, bool reverse_splits,
                     TypedRunner<J>* runner, const JobSettings& settings) {
    const std::string path = dir_ + "/in.txt";
    EXPECT_TRUE(WriteStringToFile(*FileSystem::Default(), path, text).ok());
    std::vector<InputFile> files = {{path, text.size(), 0}};
    std::vector<Split> splits = PlanSplits(files, split_size);
    if (reverse_splits) std::reverse(splits.begin(), splits.end());
    Loopback loop;
    EXPECT_TRUE(runner->Setup(settings, &loop, FileSystem::Default()).ok());
    for (const Split& s : splits) {
      MapTask task{&s, &files, FileSystem::Default(), nullptr};
      Status st = runner->RunMapTask(task);
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    std::string all;
    for (uint32_t p = 0; p < settings.partitions; ++p) {
      const std::string out = dir_ + "/part" + std::to_string(p);
      auto file = FileSystem::Default()->Create(out);
      EXPECT_TRUE(file.ok());
      BufferedWriter writer(std::move(file).value());
      Status st = runner->RunReduceTask(p, &writer);
      EXPECT_TRUE(st.ok()) << st.ToString();
      EXPECT_TRUE(writer.Close().ok());
      all += ReadFileToString(*FileSystem::Default(), out).value();
    }
    return all;
  }
  template <class J>
  std::string RunJob(const std::string& text, uint64_t split_size, bool reverse_splits,
                     TypedRunner<J>* runner) {
    return RunJob(text, split_size, reverse_splits, runner, InMemory());
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
  ASSERT_TRUE(runner.Setup(InMemory(), &loop, FileSystem::Default()).ok());
  MapTask task{&splits[0], &files, FileSystem::Default(), nullptr};
  Status s = runner.RunMapTask(task);
  EXPECT_EQ(s.code(), StatusCode::kUserCode);
  EXPECT_NE(s.message().find("byte 4 of '" + path + "'"), std::string::npos) << s.message();
}

TEST_F(TypedRunnerTest, CorruptBlockFailsTheReduce) {
  for (const JobSettings& settings : {InMemory(), Spilling()}) {
    TypedRunner<OrderJob> runner;
    Loopback loop;
    ASSERT_TRUE(runner.Setup(settings, &loop, FileSystem::Default()).ok());
    std::string text;
    for (int i = 0; i < 3000; ++i) text += "k" + std::to_string(i % 7) + " " + std::to_string(i) + "\n";
    const std::string path = dir_ + "/in.txt";
    ASSERT_TRUE(WriteStringToFile(*FileSystem::Default(), path, text).ok());
    std::vector<InputFile> files = {{path, text.size(), 0}};
    auto splits = PlanSplits(files, 1 << 20);
    MapTask task{&splits[0], &files, FileSystem::Default(), nullptr};
    loop.corrupt_next = true;
    Status s = runner.RunMapTask(task);
    // Spilling decodes on receipt, so the flip surfaces as a receive error;
    // in memory it surfaces when the partition is reduced.
    Status seen = s.ok() ? runner.ReceiveStatus() : s;
    for (uint32_t p = 0; p < settings.partitions && seen.ok(); ++p) {
      auto file = FileSystem::Default()->Create(dir_ + "/out");
      BufferedWriter writer(std::move(file).value());
      seen = runner.RunReduceTask(p, &writer);
      (void)writer.Close();
    }
    EXPECT_EQ(seen.code(), StatusCode::kCorruption) << seen.ToString();
  }
}

// Invariant 1 under spilling: a budget that forces hundreds of runs and
// multi-pass merges gives the same bytes as the in-memory path, for plain
// grouping, for an order-sensitive combiner, and for tuple keys with Cereal
// values; and the scratch directory is gone afterwards.
TEST_F(TypedRunnerTest, SpilledAndMergedOutputIsByteIdenticalToInMemory) {
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    text += "key" + std::to_string((i * 7919) % 211) + " " + std::to_string(i) + "\n";
  }
  {
    TypedRunner<OrderJob> mem, spill;
    std::string a = RunJob(text, 4096, false, &mem, InMemory());
    std::string b = RunJob(text, 4096, true, &spill, Spilling());
    EXPECT_EQ(a, b);
    EXPECT_EQ(mem.counters().spill_runs, 0u);
    EXPECT_GT(spill.counters().spill_runs, 100u);
    EXPECT_GT(spill.counters().merge_passes, 10u);
    EXPECT_EQ(spill.counters().reduce_input_records, 20000u);
    EXPECT_EQ(spill.counters().reduce_input_groups, 211u);
  }
  {
    TypedRunner<ConcatJob> mem, spill;
    std::string a = RunJob(text, 4096, false, &mem, InMemory());
    std::string b = RunJob(text, 4096, true, &spill, Spilling());
    EXPECT_EQ(a, b);
    EXPECT_GT(spill.counters().merge_passes, 0u);
  }
  {
    std::string lines;
    for (int i = 0; i < 5000; ++i) lines += std::string(1, static_cast<char>('a' + i % 5)) + std::string(i % 17, 'x') + "\n";
    TypedRunner<TypedJob> mem, spill;
    std::string a = RunJob(lines, 2048, false, &mem, InMemory());
    std::string b = RunJob(lines, 2048, false, &spill, Spilling());
    EXPECT_EQ(a, b);
    EXPECT_GT(spill.counters().spill_runs, 0u);
  }
  EXPECT_FALSE(FileSystem::Default()->Exists(dir_ + "/scratch"));
}

// Secondary sort: (user, time) keys grouped on the user; reduce() sees one
// group per user with the times in order, whatever order they were emitted in.
class SessionJob : public Job<SessionJob, std::pair<std::string, int64_t>, int64_t> {
 public:
  static constexpr size_t kGroupFields = 1;
  void Map(std::string_view line, Emitter& emit) {
    size_t sp = line.find(' ');
    int64_t t = std::stoll(std::string(line.substr(sp + 1)));
    emit(std::make_pair(std::string(line.substr(0, sp)), t), t);
  }
  void Reduce(const Key& key, Values& values, Output& out) {
    std::string times;
    for (int64_t t : values) times += std::to_string(t) + ",";
    out(key.first, times);
  }
};

TEST_F(TypedRunnerTest, SecondarySortGroupsOnThePrefixAndOrdersByTheRest) {
  std::string text;
  std::map<std::string, std::multiset<int64_t>> expected;
  for (int i = 0; i < 6000; ++i) {
    std::string user = "u" + std::to_string((i * 13) % 37);
    int64_t t = (i * 7919) % 100000;
    text += user + " " + std::to_string(t) + "\n";
    expected[user].insert(t);
  }
  TypedRunner<SessionJob> mem, spill;
  std::string a = RunJob(text, 4096, false, &mem, InMemory());
  std::string b = RunJob(text, 4096, true, &spill, Spilling());
  EXPECT_EQ(a, b);
  EXPECT_EQ(mem.counters().reduce_input_groups, 37u);
  for (const auto& [user, times] : expected) {
    std::string joined;
    for (int64_t t : times) joined += std::to_string(t) + ",";
    EXPECT_NE(a.find(user + "\t" + joined + "\n"), std::string::npos) << user;
  }
}

// Pipelines chain through the key-value format: one job writes typed records
// (no text), the next reads them back typed.
class CountToKv : public Job<CountToKv, std::string, uint64_t> {
 public:
  using Output = KeyValueOutput<std::string, uint64_t>;
  void Map(std::string_view line, Emitter& emit) { emit(line, 1); }
  uint64_t Combine(uint64_t a, uint64_t b) { return a + b; }
  void Reduce(std::string_view key, Values& values, Output& out) {
    uint64_t n = 0;
    for (uint64_t v : values) n += v;
    out(key, n);
  }
};

// Reads (word, count) and groups words by count.
class ByCount : public Job<ByCount, uint64_t, std::string> {
 public:
  using Input = KeyValueInput<std::string, uint64_t>;
  void Map(std::string_view word, uint64_t count, Emitter& emit) { emit(count, word); }
  void Reduce(uint64_t count, Values& words, Output& out) {
    std::string all;
    for (std::string_view w : words) all += std::string(w) + " ";
    out(count, all);
  }
};

TEST_F(TypedRunnerTest, KeyValueFilesChainJobsAndCorruptionIsCaught) {
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "w" + std::to_string(i % 10) + std::string(i % 10 < 5 ? "" : "x") + "\n";
  TypedRunner<CountToKv> first;
  (void)RunJob(text, 1 << 20, false, &first);  // binary parts, read back below
  ASSERT_EQ(first.counters().output_records, 10u);
  std::vector<InputFile> parts;
  for (uint32_t p = 0; p < 3; ++p) {
    const std::string from = dir_ + "/part" + std::to_string(p);
    const std::string to = dir_ + "/kv" + std::to_string(p);
    ASSERT_TRUE(FileSystem::Default()->Rename(from, to).ok());
    parts.push_back({to, FileSystem::Default()->Stat(to).value().size, 0});
  }
  auto run_second = [&](std::string* out) {
    TypedRunner<ByCount> second;
    Loopback loop;
    JobSettings settings = InMemory();
    EXPECT_TRUE(second.Setup(settings, &loop, FileSystem::Default()).ok());
    for (const Split& split : PlanSplits(parts, 64)) {  // splits inside the files
      MapTask task{&split, &parts, FileSystem::Default(), nullptr};
      SLUICE_RETURN_IF_ERROR(second.RunMapTask(task));
    }
    for (uint32_t p = 0; p < settings.partitions; ++p) {
      auto file = FileSystem::Default()->Create(dir_ + "/out");
      BufferedWriter writer(std::move(file).value());
      SLUICE_RETURN_IF_ERROR(second.RunReduceTask(p, &writer));
      EXPECT_TRUE(writer.Close().ok());
      *out += ReadFileToString(*FileSystem::Default(), dir_ + "/out").value();
    }
    EXPECT_EQ(second.counters().input_records, 10u);
    return Status::OK();
  };
  std::string out;
  ASSERT_TRUE(run_second(&out).ok());
  // 3000 lines over 10 words: 300 each, so one group of all ten words.
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  EXPECT_EQ(out.rfind("300\t", 0), 0u) << out;
  for (int w = 0; w < 10; ++w) {
    EXPECT_NE(out.find("w" + std::to_string(w)), std::string::npos);
  }

  // Flip one byte inside the first block of a non-empty part: the reader
  // names the file and the block's offset.
  for (const InputFile& f : parts) {
    auto reader = KvFileReader::Open(*FileSystem::Default(), f.path);
    ASSERT_TRUE(reader.ok());
    if ((*reader)->blocks().empty()) continue;
    std::string bytes = ReadFileToString(*FileSystem::Default(), f.path).value();
    bytes[(*reader)->blocks()[0].offset + kBlockHeaderBytes + 2] ^= 0x10;
    ASSERT_TRUE(WriteStringToFile(*FileSystem::Default(), f.path, bytes).ok());
    std::string ignored;
    Status s = run_second(&ignored);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_NE(s.message().find(f.path), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("offset"), std::string::npos) << s.message();
    return;
  }
  FAIL() << "every part was empty";
}

// ---- Combine that throws: the job's code failing (exit 6), never an
// internal error, on either side of the shuffle, with the message naming
// Combine and where it ran.

constexpr uint64_t kBomb = uint64_t{1} << 40;
bool g_combine_throws_bad_record = false;

// Counts lines; a line starting "bomb" counts kBomb, and Combine refuses to
// fold two bombs. Map throws on the line "maperr".
class BombJob : public Job<BombJob, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    if (line == "maperr") throw std::runtime_error("map refused the line");
    emit(line.substr(0, line.find(' ')), line.rfind("bomb", 0) == 0 ? kBomb : 1);
  }
  uint64_t Combine(uint64_t a, uint64_t b) {
    if (a >= kBomb && b >= kBomb) {
      if (g_combine_throws_bad_record) throw BadRecord("combine called it bad");
      throw std::runtime_error("two bombs met");
    }
    return a + b;
  }
  void Reduce(std::string_view key, Values& values, Output& out) {
    uint64_t n = 0;
    for (uint64_t v : values) n += v;
    out(key, n);
  }
};

// The same with integer keys: the map side's generic (unordered_map) table.
class IntBombJob : public Job<IntBombJob, uint64_t, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    emit(line.size() % 7, line.rfind("bomb", 0) == 0 ? kBomb : 1);
  }
  uint64_t Combine(uint64_t a, uint64_t b) {
    if (a >= kBomb && b >= kBomb) throw std::runtime_error("two bombs met");
    return a + b;
  }
  void Reduce(uint64_t key, Values& values, Output& out) {
    uint64_t n = 0;
    for (uint64_t v : values) n += v;
    out(key, n);
  }
};

class CombineThrowsTest : public TypedRunnerTest {
 protected:
  // Maps each text as its own file (splits of `split_size`), then reduces
  // every partition; the first failure, or OK.
  template <class J>
  Status MapAndReduce(const std::vector<std::string>& texts, uint64_t split_size,
                      const JobSettings& settings) {
    std::vector<InputFile> files;
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::string path = dir_ + "/in" + std::to_string(i) + ".txt";
      EXPECT_TRUE(WriteStringToFile(*FileSystem::Default(), path, texts[i]).ok());
      files.push_back({path, texts[i].size(), 0});
    }
    TypedRunner<J> runner;
    Loopback loop;
    SLUICE_RETURN_IF_ERROR(runner.Setup(settings, &loop, FileSystem::Default()));
    std::vector<Split> splits = PlanSplits(files, split_size);
    for (const Split& split : splits) {
      MapTask task{&split, &files, FileSystem::Default(), nullptr};
      SLUICE_RETURN_IF_ERROR(runner.RunMapTask(task));
    }
    SLUICE_RETURN_IF_ERROR(runner.ReceiveStatus());
    for (uint32_t p = 0; p < settings.partitions; ++p) {
      auto file = FileSystem::Default()->Create(dir_ + "/out");
      EXPECT_TRUE(file.ok());
      BufferedWriter writer(std::move(file).value());
      Status s = runner.RunReduceTask(p, &writer);
      (void)writer.Close();
      SLUICE_RETURN_IF_ERROR(s);
    }
    return Status::OK();
  }
  void TearDown() override {
    g_combine_throws_bad_record = false;
    TypedRunnerTest::TearDown();
  }
};

std::string Filler(int n, const std::string& prefix) {
  std::string text;
  for (int i = 0; i < n; ++i) text += prefix + std::to_string(i) + "\n";
  return text;
}

// Few keys: the table applies each emit at once, inside Map.
TEST_F(CombineThrowsTest, InsideMapNamesCombineAndTheFile) {
  Status s = MapAndReduce<BombJob>({"a\nb\nbomb 1\na\nbomb 2\nc\n"}, 1 << 20, InMemory());
  EXPECT_EQ(s.code(), StatusCode::kUserCode) << s.ToString();
  EXPECT_NE(s.message().find("combine() threw in the map phase"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(dir_ + "/in0.txt"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("two bombs met"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("map() threw"), std::string::npos) << s.message();
}

// Thousands of keys: the table queues emits behind prefetches, so the last
// bomb is folded only when the split ends and the combiner is flushed.
TEST_F(CombineThrowsTest, AtTheSplitsFlushNamesCombineAndTheSplit) {
  Status s = MapAndReduce<BombJob>({Filler(20000, "w") + "bomb 1\nbomb 2\n"}, 1 << 20, InMemory());
  EXPECT_EQ(s.code(), StatusCode::kUserCode) << s.ToString();
  EXPECT_NE(s.message().find("combine() threw in the map phase, flushing the combiner of split 0"),
            std::string::npos) << s.message();
  EXPECT_NE(s.message().find(dir_ + "/in0.txt"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("two bombs met"), std::string::npos) << s.message();
}

TEST_F(CombineThrowsTest, GenericTableForNonStringKeys) {
  Status s = MapAndReduce<IntBombJob>({"a\nbomb\nb\nbomb\n"}, 1 << 20, InMemory());
  EXPECT_EQ(s.code(), StatusCode::kUserCode) << s.ToString();
  EXPECT_NE(s.message().find("combine() threw in the map phase"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("two bombs met"), std::string::npos) << s.message();
}

// One bomb per split: the map side never folds two, the reduce side's fold
// does, both in memory and merging spilled runs.
TEST_F(CombineThrowsTest, OnTheReduceSideNamesCombineAndThePartition) {
  for (const JobSettings& settings : {InMemory(), Spilling()}) {
    const std::vector<std::string> texts = {Filler(3000, "x") + "bomb 1\n", Filler(3000, "y") + "bomb 2\n"};
    ASSERT_EQ(texts[0].size(), texts[1].size());
    // One file per split (a smaller split size would group them).
    Status s = MapAndReduce<BombJob>(texts, texts[0].size(), settings);
    EXPECT_EQ(s.code(), StatusCode::kUserCode) << s.ToString();
    EXPECT_NE(s.message().find("combine() threw in the reduce phase"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("partition"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("two bombs met"), std::string::npos) << s.message();
  }
}

// A BadRecord from Combine is not a record to skip: the job's code failed.
TEST_F(CombineThrowsTest, BadRecordFromCombineIsNotSkipped) {
  g_combine_throws_bad_record = true;
  JobSettings settings = InMemory();
  settings.max_bad_records = 100;
  Status s = MapAndReduce<BombJob>({"bomb 1\nbomb 2\n"}, 1 << 20, settings);
  EXPECT_EQ(s.code(), StatusCode::kUserCode) << s.ToString();
  EXPECT_NE(s.message().find("combine() threw"), std::string::npos) << s.message();
}

// The check that tells Combine from Map does not blame Combine for Map, even
// after Combine ran many times.
TEST_F(CombineThrowsTest, MapThrowingInAJobWithACombinerStillNamesMap) {
  Status s = MapAndReduce<BombJob>({"a\na\na\nmaperr\n"}, 1 << 20, InMemory());
  EXPECT_EQ(s.code(), StatusCode::kUserCode) << s.ToString();
  EXPECT_NE(s.message().find("map() threw on the line at byte 6"), std::string::npos) << s.message();
  // And a bomb alone is no failure.
  EXPECT_TRUE((MapAndReduce<BombJob>({"a\nbomb\na\n", "b\n"}, 1 << 20, InMemory())).ok());
}

}  // namespace
}  // namespace sluice
