// The engine on 1, 2 and 4 ranks in one process (in_process_cluster.h):
// word count and secondary sort give the same part files at every rank
// count, spilled or not, whichever rank's blocks arrive first, and those
// files say what a plain std::map over the input says.
#include "tests/runtime/in_process_cluster.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/job.h>
#include <sluice/text_scan.h>

namespace sluice {
namespace {

class WordCount : public Job<WordCount, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    ForEachWord(line, [&](std::string_view word) { emit(word, 1); });
  }
  void Reduce(std::string_view word, Values& counts, Output& out) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    out(word, total);
  }
};

class CombiningWordCount : public Job<CombiningWordCount, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    ForEachWord(line, [&](std::string_view word) { emit(word, 1); });
  }
  uint64_t Combine(uint64_t a, uint64_t b) { return a + b; }
  void Reduce(std::string_view word, Values& counts, Output& out) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    out(word, total);
  }
};

class RangeWordCount : public Job<RangeWordCount, std::string, uint64_t> {
 public:
  static constexpr bool kRangePartitioned = true;
  void Map(std::string_view line, Emitter& emit) {
    ForEachWord(line, [&](std::string_view word) { emit(word, 1); });
  }
  void Reduce(std::string_view word, Values& counts, Output& out) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    out(word, total);
  }
};

// Lines "user time": Reduce writes "user\tt1,t2,..." with the times
// ascending, sorted by the engine on the second key field.
class Sessions : public Job<Sessions, std::pair<std::string, int64_t>, int64_t> {
 public:
  static constexpr size_t kGroupFields = 1;
  void Map(std::string_view line, Emitter& emit) {
    const size_t sp = line.find(' ');
    const int64_t t = std::stoll(std::string(line.substr(sp + 1)));
    emit(std::make_pair(std::string(line.substr(0, sp)), t), t);
  }
  void Reduce(const Key& key, Values& times, Output& out) {
    std::string joined;
    for (int64_t t : times) joined += std::to_string(t) + ",";
    out(key.first, joined);
  }
};

// No secondary sort: Reduce writes the values in the order the engine
// promises (input order: split, then emission), so any reordering of
// blocks between ranks shows.
class InputOrder : public Job<InputOrder, std::string, int64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    const size_t sp = line.find(' ');
    emit(line.substr(0, sp), std::stoll(std::string(line.substr(sp + 1))));
  }
  void Reduce(std::string_view key, Values& values, Output& out) {
    std::string joined;
    for (int64_t v : values) joined += std::to_string(v) + ",";
    out(key, joined);
  }
};

class ThrowingMap : public Job<ThrowingMap, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    if (line == "boom") throw std::runtime_error("map refused 'boom'");
    emit(line, 1);
  }
  void Reduce(std::string_view key, Values& counts, Output& out) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    out(key, total);
  }
};

// Deterministic text: words of skewed frequency, some long, some sharing
// prefixes, several per line.
std::string MakeText(int lines) {
  const std::vector<std::string> vocab = {"a",       "ab",      "abc",    "the",     "of",
                                          "sluice",  "mpi",     "reduce", "zebra",   "Zebra",
                                          "\xc3\xa9t\xc3\xa9", "x1",    "x10",    "x2",
                                          std::string(300, 'q')};
  std::string text;
  uint64_t state = 12345;
  for (int i = 0; i < lines; ++i) {
    const int words = 1 + i % 7;
    for (int w = 0; w < words; ++w) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const uint64_t pick = (state >> 33) % (vocab.size() * 3);
      // Skew: the first words are picked more often; rare words appear.
      text += pick < vocab.size() * 2 ? vocab[pick % 5] : vocab[pick % vocab.size()];
      if (pick % 11 == 0) text += std::to_string(i % 97);  // many distinct words
      text += w + 1 < words ? " " : "";
    }
    text += "\n";
  }
  return text;
}

// "word\tcount\n" per distinct word, byte order, counted without the engine.
std::string ReferenceCounts(const std::string& text) {
  std::map<std::string, uint64_t> counts;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find_first_of(" \n", at);
    if (end > at) ++counts[text.substr(at, end - at)];
    at = end + 1;
  }
  std::string out;
  for (const auto& [word, n] : counts) out += word + "\t" + std::to_string(n) + "\n";
  return out;
}

std::string MakeEvents(int lines) {
  std::string text;
  for (int i = 0; i < lines; ++i) {
    const int64_t t = (i * 7919) % 100003;
    text += "user" + std::to_string((i * 31) % 53) + " " + std::to_string(t) + "\n";
  }
  return text;
}

// "user\tt1,t2,...\n", times ascending (ties kept), users in byte order.
std::string ReferenceSessions(const std::string& text) {
  std::map<std::string, std::vector<int64_t>> by_user;
  for (size_t at = 0; at < text.size();) {
    const size_t nl = text.find('\n', at);
    const std::string line = text.substr(at, nl - at);
    const size_t sp = line.find(' ');
    by_user[line.substr(0, sp)].push_back(std::stoll(line.substr(sp + 1)));
    at = nl + 1;
  }
  std::string out;
  for (auto& [user, times] : by_user) {
    std::sort(times.begin(), times.end());
    out += user + "\t";
    for (int64_t t : times) out += std::to_string(t) + ",";
    out += "\n";
  }
  return out;
}

// "key v" lines; ReferenceInputOrder lists each key's values in line order.
std::string MakeKeyedValues(int lines) {
  std::string text;
  for (int i = 0; i < lines; ++i) text += "k" + std::to_string(i % 13) + " " + std::to_string(i) + "\n";
  return text;
}

std::string ReferenceInputOrder(const std::string& text) {
  std::map<std::string, std::string> joined;
  for (size_t at = 0; at < text.size();) {
    const size_t nl = text.find('\n', at);
    const std::string line = text.substr(at, nl - at);
    const size_t sp = line.find(' ');
    joined[line.substr(0, sp)] += line.substr(sp + 1) + ",";
    at = nl + 1;
  }
  std::string out;
  for (const auto& [key, values] : joined) out += key + "\t" + values + "\n";
  return out;
}

std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines = Lines(text);
  std::sort(lines.begin(), lines.end());
  return lines;
}

class InProcessClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-in-process-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }

  static JobSettings InMemory(uint32_t partitions) {
    JobSettings s;
    s.partitions = partitions;
    s.block_bytes = 2048;
    return s;
  }
  // Most blocks spill, in runs of a few records, merged in several passes.
  static JobSettings Spilling(uint32_t partitions) {
    JobSettings s = InMemory(partitions);
    s.store_bytes = 4096;
    s.sort_bytes = 8192;
    s.spill_block_bytes = 512;
    s.merge_factor = 3;
    return s;
  }

  template <class J>
  ClusterRun RunJob(const std::string& text, int ranks, JobSettings settings,
                    InProcessCluster::Arrival arrival = InProcessCluster::Arrival::kAsSent) {
    InProcessCluster cluster(ranks, dir_, arrival);
    Result<ClusterRun> run = cluster.Run<J>({text}, std::move(settings), 8192);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? std::move(run).value() : ClusterRun{};
  }

  std::string dir_;
};

struct Variant {
  int ranks;
  bool spilled;
  InProcessCluster::Arrival arrival;
};

std::vector<Variant> AllVariants() {
  std::vector<Variant> v;
  for (int ranks : {1, 2, 4}) {
    for (bool spilled : {false, true}) {
      v.push_back({ranks, spilled, InProcessCluster::Arrival::kAsSent});
      if (ranks > 1) v.push_back({ranks, spilled, InProcessCluster::Arrival::kHighestSourceFirst});
    }
  }
  return v;
}

testing::Message Describe(const Variant& v) {
  return testing::Message() << v.ranks << " ranks, " << (v.spilled ? "spilled" : "in memory")
                            << (v.arrival == InProcessCluster::Arrival::kAsSent
                                    ? ""
                                    : ", highest source first");
}

// Each part is in byte order and together they hold exactly `reference`.
void ExpectHashPartsMatch(const ClusterRun& run, const std::string& reference) {
  for (size_t p = 0; p < run.parts.size(); ++p) {
    const std::vector<std::string> lines = Lines(run.parts[p]);
    EXPECT_TRUE(std::is_sorted(lines.begin(), lines.end())) << "partition " << p;
  }
  EXPECT_EQ(SortedLines(run.all()), SortedLines(reference));
}

TEST_F(InProcessClusterTest, WordCountIsTheSameAtOneTwoAndFourRanksAndMatchesAStdMap) {
  const std::string text = MakeText(6000);
  const std::string reference = ReferenceCounts(text);
  const ClusterRun base = RunJob<WordCount>(text, 1, InMemory(5));
  ASSERT_EQ(base.parts.size(), 5u);
  ExpectHashPartsMatch(base, reference);
  EXPECT_EQ(base.cross_rank_blocks(), 0u);
  EXPECT_EQ(base.counters.reduce_input_groups, Lines(reference).size());
  for (const Variant& v : AllVariants()) {
    SCOPED_TRACE(Describe(v));
    const ClusterRun run =
        RunJob<WordCount>(text, v.ranks, v.spilled ? Spilling(5) : InMemory(5), v.arrival);
    EXPECT_EQ(run.parts, base.parts);
    EXPECT_EQ(run.counters.reduce_input_groups, base.counters.reduce_input_groups);
    if (v.ranks > 1) {
      EXPECT_GT(run.cross_rank_blocks(), 0u) << "blocks must cross ranks";
    }
    if (v.spilled) {
      EXPECT_GT(run.counters.spill_runs, 0u);
    }
  }
}

TEST_F(InProcessClusterTest, CombiningWordCountEqualsPlainWordCountAtEveryRankCount) {
  const std::string text = MakeText(6000);
  const ClusterRun plain = RunJob<WordCount>(text, 1, InMemory(4));
  ExpectHashPartsMatch(plain, ReferenceCounts(text));
  for (const Variant& v : AllVariants()) {
    SCOPED_TRACE(Describe(v));
    const ClusterRun run = RunJob<CombiningWordCount>(text, v.ranks,
                                                      v.spilled ? Spilling(4) : InMemory(4), v.arrival);
    EXPECT_EQ(run.parts, plain.parts);
    EXPECT_GT(run.counters.combine_input_records, run.counters.combine_output_records);
  }
}

TEST_F(InProcessClusterTest, RangePartitionedWordCountConcatenatesToTheReference) {
  const std::string text = MakeText(6000);
  const std::string reference = ReferenceCounts(text);
  std::vector<std::string> base_parts;
  for (const Variant& v : AllVariants()) {
    SCOPED_TRACE(Describe(v));
    const ClusterRun run =
        RunJob<RangeWordCount>(text, v.ranks, v.spilled ? Spilling(3) : InMemory(3), v.arrival);
    EXPECT_EQ(run.all(), reference);
    ASSERT_EQ(run.parts.size(), 3u);
    // The cuts come from the same samples whatever the rank count.
    if (base_parts.empty()) base_parts = run.parts;
    EXPECT_EQ(run.parts, base_parts);
  }
  EXPECT_FALSE(base_parts[0].empty());
  EXPECT_FALSE(base_parts[2].empty());
}

TEST_F(InProcessClusterTest, SecondarySortIsTheSameAtOneTwoAndFourRanksAndMatchesAStdMap) {
  const std::string text = MakeEvents(5000);
  const std::string reference = ReferenceSessions(text);
  const ClusterRun one_part = RunJob<Sessions>(text, 1, InMemory(1));
  EXPECT_EQ(one_part.all(), reference);
  const ClusterRun base = RunJob<Sessions>(text, 1, InMemory(4));
  ExpectHashPartsMatch(base, reference);
  for (const Variant& v : AllVariants()) {
    SCOPED_TRACE(Describe(v));
    const ClusterRun run =
        RunJob<Sessions>(text, v.ranks, v.spilled ? Spilling(4) : InMemory(4), v.arrival);
    EXPECT_EQ(run.parts, base.parts);
  }
}

TEST_F(InProcessClusterTest, ValuesKeepInputOrderWhicheverRankTheirBlocksCameFrom) {
  const std::string text = MakeKeyedValues(8000);
  const std::string reference = ReferenceInputOrder(text);
  for (const Variant& v : AllVariants()) {
    SCOPED_TRACE(Describe(v));
    const ClusterRun run =
        RunJob<InputOrder>(text, v.ranks, v.spilled ? Spilling(3) : InMemory(3), v.arrival);
    ExpectHashPartsMatch(run, reference);
  }
}

TEST_F(InProcessClusterTest, SeveralInputFilesAreAllRead) {
  const std::string a = MakeText(700), b = MakeText(1500), c = "solo\n";
  for (int ranks : {1, 2, 4}) {
    InProcessCluster cluster(ranks, dir_);
    Result<ClusterRun> run = cluster.Run<WordCount>({a, b, c}, InMemory(3), 4096);
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    EXPECT_EQ(SortedLines(run->all()), SortedLines(ReferenceCounts(a + b + c))) << ranks;
  }
}

TEST_F(InProcessClusterTest, AFailingMapTaskIsReturnedNamingTheTaskAndRank) {
  std::string text = MakeText(3000);
  text += "boom\n";  // in the last split, which maps on the last rank
  InProcessCluster cluster(2, dir_);
  Result<ClusterRun> run = cluster.Run<ThrowingMap>({text}, InMemory(2), 4096);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("map task"), std::string::npos) << run.status().ToString();
  EXPECT_NE(run.status().message().find("map refused 'boom'"), std::string::npos)
      << run.status().ToString();
}

// The transport alone: a block waits in its destination's inbox until that
// rank polls or finishes the shuffle, and arrives with its source.
class RecordingReceiver : public BlockReceiver {
 public:
  void OnBlock(int source, std::string frame) override { got.emplace_back(source, frame); }
  std::vector<std::pair<int, std::string>> got;
};

TEST_F(InProcessClusterTest, TransportDeliversOnlyWhenTheDestinationPolls) {
  InProcessCluster cluster(3, dir_);
  RecordingReceiver r0, r1, r2;
  cluster.transport(0)->SetReceiver(&r0);
  cluster.transport(1)->SetReceiver(&r1);
  cluster.transport(2)->SetReceiver(&r2);
  EXPECT_EQ(cluster.transport(2)->rank(), 2);
  EXPECT_EQ(cluster.transport(2)->size(), 3);
  cluster.transport(0)->SendBlock(1, "a");
  cluster.transport(2)->SendBlock(1, "b");
  cluster.transport(0)->SendBlock(1, "c");
  cluster.transport(1)->SendBlock(1, "self");
  EXPECT_TRUE(r1.got.empty()) << "delivered during SendBlock";
  cluster.transport(0)->Poll();  // not the destination
  EXPECT_TRUE(r1.got.empty());
  cluster.transport(1)->Poll();
  const std::vector<std::pair<int, std::string>> want = {{0, "a"}, {2, "b"}, {0, "c"}, {1, "self"}};
  EXPECT_EQ(r1.got, want);
  cluster.transport(2)->SendBlock(0, "d");
  cluster.transport(0)->FinishShuffle();
  EXPECT_EQ(r0.got, (std::vector<std::pair<int, std::string>>{{2, "d"}}));
  EXPECT_TRUE(r2.got.empty());
}

TEST_F(InProcessClusterTest, HighestSourceFirstKeepsEachSourcesOrder) {
  InProcessCluster cluster(3, dir_, InProcessCluster::Arrival::kHighestSourceFirst);
  RecordingReceiver r0;
  cluster.transport(0)->SetReceiver(&r0);
  cluster.transport(0)->SendBlock(0, "a0");
  cluster.transport(1)->SendBlock(0, "a1");
  cluster.transport(2)->SendBlock(0, "a2");
  cluster.transport(1)->SendBlock(0, "b1");
  cluster.transport(0)->SendBlock(0, "b0");
  cluster.transport(0)->Poll();
  const std::vector<std::pair<int, std::string>> want = {
      {2, "a2"}, {1, "a1"}, {1, "b1"}, {0, "a0"}, {0, "b0"}};
  EXPECT_EQ(r0.got, want);
}

}  // namespace
}  // namespace sluice
