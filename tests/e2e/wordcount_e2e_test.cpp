// WordCount end to end: the same output bytes from 1 plain process, 2 and 4
// MPI ranks, equal to a reference computed here, on input built to hit the
// splitter's edge cases (CRLF, no trailing newline, empty file, a line longer
// than a split, binary bytes, nested and hidden files).
#include <xxhash.h>

#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kPartitions = 7;

// Deterministic text with a Zipf-ish vocabulary and assorted whitespace.
std::string MakeText(std::mt19937_64& rng, size_t bytes, const std::string& eol) {
  static const char* kSeps[] = {" ", " ", " ", "\t", "  ", " \v", "\f"};
  std::vector<std::string> vocab;
  for (int i = 0; i < 5000; ++i) {
    std::string w;
    for (uint64_t x = (uint64_t)i * 2654435761u + 17; w.size() < 2u + static_cast<size_t>(i % 9); x /= 26) {
      w.push_back(static_cast<char>('a' + x % 26));
      if (x < 26) x += (uint64_t)i * 7919 + 1000003;
    }
    vocab.push_back(w + std::to_string(i % 97));
  }
  std::string out;
  while (out.size() < bytes) {
    int words = static_cast<int>(rng() % 16);  // includes empty lines
    for (int j = 0; j < words; ++j) {
      double u = static_cast<double>(rng() % 1000000) / 1000000.0;
      size_t idx = static_cast<size_t>(u * u * u * static_cast<double>(vocab.size()));
      if (j) out += kSeps[rng() % 7];
      out += vocab[idx];
    }
    out += eol;
  }
  return out;
}

class WordCountE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(20261121);
    const std::string in = dir_ / "in";
    ASSERT_EQ(RunCommand("mkdir -p '" + in + "/sub'").exit_code, 0);
    auto add = [&](const std::string& name, const std::string& text) {
      WriteFile(in + "/" + name, text);
      files_.push_back(in + "/" + name);
    };
    add("a.txt", MakeText(rng, 3 << 20, "\n"));
    add("b_crlf.txt", MakeText(rng, 400 << 10, "\r\n"));
    std::string no_newline = MakeText(rng, 100 << 10, "\n");
    no_newline += "last_line_without_newline tail";
    add("c_no_trailing_newline.txt", no_newline);
    add("empty.txt", "");
    std::string long_line;
    for (int i = 0; long_line.size() < (300 << 10); ++i) long_line += "long" + std::to_string(i % 50) + " ";
    add("d_long_line.txt", "before\n" + long_line + "\nafter\n");
    std::string binary = "bin\0ary \xff\xfe\x80 caf\xc3\xa9 \x01\x02 nul\0\0 x\n";
    binary.resize(40);  // keep the embedded NULs
    add("e_binary.dat", binary + binary + "\xc3\xa9t\xc3\xa9");
    add("sub/f.txt", MakeText(rng, 200 << 10, "\n"));
    // Hidden and underscore files are skipped, as Hadoop does.
    WriteFile(in + "/.hidden.txt", "HIDDEN_WORD HIDDEN_WORD\n");
    WriteFile(in + "/_SUCCESS", "UNDERSCORE_WORD\n");
  }

  std::string Args(const std::string& out) const {
    return "run wordcount --input '" + (dir_ / "in") + "' --output '" + out +
           "' --split-size 64K --partitions " + std::to_string(kPartitions) + " --block-size 16K";
  }

  // Parses parts, checks sorting and partition placement, returns all counts.
  std::map<std::string, uint64_t> ParseAndCheck(const std::vector<std::string>& parts) {
    std::map<std::string, uint64_t> counts;
    for (int p = 0; p < kPartitions; ++p) {
      std::string prev;
      bool first = true;
      size_t pos = 0;
      const std::string& text = parts[p];
      while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        EXPECT_NE(nl, std::string::npos) << "part " << p << " does not end with a newline";
        if (nl == std::string::npos) break;
        std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        size_t tab = line.rfind('\t');
        EXPECT_NE(tab, std::string::npos);
        std::string word = line.substr(0, tab);
        uint64_t count = std::stoull(line.substr(tab + 1));
        EXPECT_EQ(XXH3_64bits(word.data(), word.size()) % kPartitions, static_cast<uint64_t>(p))
            << "word '" << word << "' in the wrong part";
        if (!first) {
          EXPECT_LT(prev, word) << "part " << p << " not strictly sorted";
        }
        first = false;
        prev = word;
        EXPECT_TRUE(counts.emplace(word, count).second) << "word twice: " << word;
      }
    }
    return counts;
  }

  TempDir dir_;
  std::vector<std::string> files_;
};

TEST_F(WordCountE2E, SameBytesForOneTwoAndFourRanksAndMatchesReference) {
  const auto reference = ReferenceWordCount(files_);
  ASSERT_GT(reference.size(), 1000u);
  ASSERT_EQ(reference.count("HIDDEN_WORD"), 0u);

  std::vector<std::vector<std::string>> outputs;
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir_ / ("out" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, Args(out));
    ASSERT_EQ(r.exit_code, 0) << "ranks=" << ranks << "\n" << r.output;
    EXPECT_TRUE(Exists(out + "/_SUCCESS"));
    EXPECT_FALSE(Exists(dir_ / (".out" + std::to_string(ranks) + ".sluice-staging")));
    outputs.push_back(ReadParts(out, kPartitions));
    EXPECT_EQ(ParseAndCheck(outputs.back()), reference) << "ranks=" << ranks;
  }
  EXPECT_EQ(outputs[0], outputs[1]) << "2 ranks differ from 1";
  EXPECT_EQ(outputs[0], outputs[2]) << "4 ranks differ from 1";

  // The manifest lists every part with its true size and checksum, and (it
  // holds no timings) is the same document whatever the rank count.
  const nlohmann::json manifest = ReadJson(dir_ / "out1/_manifest.json");
  nlohmann::json parts = nlohmann::json::array();
  for (int p = 0; p < kPartitions; ++p) {
    char name[32], xxh3[24];
    std::snprintf(name, sizeof name, "part-%05d", p);
    std::snprintf(xxh3, sizeof xxh3, "%016llx",
                  static_cast<unsigned long long>(XXH3_64bits(outputs[0][p].data(), outputs[0][p].size())));
    parts.push_back({{"file", name}, {"bytes", outputs[0][p].size()}, {"xxh3", xxh3}});
  }
  EXPECT_EQ(manifest.value("outputs", nlohmann::json()), parts) << manifest.dump(2);
  // Every input that was read, with its size (hidden and _ files are not).
  std::map<std::string, uint64_t> listed, written;
  for (const nlohmann::json& in : manifest.value("inputs", nlohmann::json::array())) {
    listed[in.value("path", "")] = in.value("size", uint64_t{0});
  }
  for (const std::string& file : files_) written[file] = ReadFile(file).size();
  EXPECT_EQ(listed, written) << manifest.dump(2);
  // Byte for byte, not only as the same JSON value: rendering is deterministic.
  const std::string text = ReadFile(dir_ / "out1/_manifest.json");
  EXPECT_EQ(text, ReadFile(dir_ / "out2/_manifest.json"));
  EXPECT_EQ(text, ReadFile(dir_ / "out4/_manifest.json"));
}

TEST_F(WordCountE2E, JobBinaryAndPluginGiveTheBuiltInBytes) {
  const std::string builtin = dir_ / "builtin";
  ASSERT_EQ(RunSluice(1, Args(builtin)).exit_code, 0);
  // The job binary, positional INPUT OUTPUT form.
  const std::string binary = dir_ / "binary";
  CommandResult r = RunCommand(BinPath("wordcount") + " --split-size 64K --partitions 7 '" +
                               (dir_ / "in") + "' '" + binary + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The plugin, under mpirun.
  const std::string plugin = dir_ / "plugin";
  r = RunSluice(2, "run --plugin " + PluginPath("libwordcount.so") + " --input '" + (dir_ / "in") +
                       "' --output '" + plugin + "' --split-size 64K --partitions 7");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadParts(builtin, kPartitions), ReadParts(binary, kPartitions));
  EXPECT_EQ(ReadParts(builtin, kPartitions), ReadParts(plugin, kPartitions));
}

TEST_F(WordCountE2E, SpillFreeSettingsDoNotChangeBytes) {
  // Block size, compression level and combiner memory are tuning knobs: they
  // must never change the answer.
  const std::string a = dir_ / "a";
  const std::string b = dir_ / "b";
  ASSERT_EQ(RunSluice(2, Args(a)).exit_code, 0);
  CommandResult r = RunSluice(2, Args(b) + " --block-size 1K --compression-level 9 "
                                           "--combine-memory 64K --max-inflight 8K");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadParts(a, kPartitions), ReadParts(b, kPartitions));
  // Blocks that stay on the node, stored uncompressed: the same bytes, and
  // the report says what was asked.
  const std::string c = dir_ / "c";
  r = RunSluice(4, Args(c) + " --compress-node-local no");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadParts(a, kPartitions), ReadParts(c, kPartitions));
  EXPECT_EQ(ReadJson(c + "/_report.json")["config"].value("compress_node_local", true), false);
  EXPECT_EQ(RunSluice(1, Args(dir_ / "d") + " --compress-node-local maybe").exit_code, 2);
}

TEST(WordCountEmptyInput, EmptyInputGivesEmptyParts) {
  TempDir dir;
  WriteFile(dir / "empty.txt", "");
  for (int ranks : {1, 2}) {
    const std::string out = dir / ("out" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, "run wordcount --input '" + (dir / "empty.txt") +
                                           "' --output '" + out + "' --partitions 3");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const std::string& part : ReadParts(out, 3)) EXPECT_EQ(part, "");
  }
}

// A map task's blocks depend on its split alone, not on the splits its rank
// ran before: the combine table drains keys in slot order, and a table left
// large by a many-word split would drain a few-word split in another order
// (same records, other compressed bytes). One process runs the big split
// first and the small ones after it; with four ranks the small ones run on
// fresh ranks. The manifest counts shuffle bytes, so it must still be the
// same document; a re-run that reuses saved tasks next to fresh ones relies
// on the same property.
TEST(WordCountManifest, ShuffleBytesDoNotDependOnEarlierSplits) {
  TempDir dir;
  const std::string in = dir / "in";
  ASSERT_EQ(RunCommand("mkdir -p '" + in + "'").exit_code, 0);
  // One split of 4000 distinct words (the table grows past its first 4096
  // slots); it is the heaviest, so it runs first.
  std::string many;
  for (int i = 0; i < 4000; ++i) {
    char word[32];
    std::snprintf(word, sizeof word, "many_word_%05d\n", i);
    many += word;
  }
  WriteFile(in + "/a_many.txt", many);
  for (int f = 0; f < 3; ++f) {  // three lighter splits of 900 distinct words
    std::string few;
    for (int i = 0; few.size() < (40 << 10); ++i) few += "few" + std::to_string((i * 7 + f) % 900) + " ";
    WriteFile(in + "/b_few" + std::to_string(f) + ".txt", few + "\n");
  }
  std::string manifest_one_rank;
  for (int ranks : {1, 4}) {
    const std::string out = dir / ("out" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, "run wordcount --input '" + in + "' --output '" + out +
                                           "' --partitions 3 --split-size 64K");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    if (ranks == 1) {
      manifest_one_rank = ReadFile(out + "/_manifest.json");
    } else {
      EXPECT_EQ(ReadFile(out + "/_manifest.json"), manifest_one_rank);
    }
  }
}

// --record-delimiter decides where WordCount's records end, so a delimiter
// byte splits words as whitespace does ("a;b" is two words with ';'). The
// map reads blocks of lines, not lines; with a delimiter it must still
// read records, not ignore the flag. The reference is this file's own
// split: the delimiter turned into a space.
TEST(WordCountRecordDelimiter, ADelimiterEndsWordsAsWhitespaceDoes) {
  TempDir dir;
  std::mt19937_64 rng(5);
  int round = 0;
  for (const std::string& delimiter : {std::string(";"), std::string(1, '\0'), std::string("<END>")}) {
    ++round;
    const std::string spelled = delimiter == ";" ? "';'" : delimiter == "<END>" ? "'<END>'" : "'\\0'";
    std::string text;
    while (text.size() < (200 << 10)) {
      const uint64_t r = rng() % 10;
      text += r < 3 ? delimiter : r < 5 ? " " : r < 6 ? "\n" : "w" + std::to_string(rng() % 500);
    }
    const std::string in = dir / "in.txt";
    WriteFile(in, text);
    std::string spaced = text;
    for (size_t at = spaced.find(delimiter); at != std::string::npos; at = spaced.find(delimiter, at)) {
      spaced.replace(at, delimiter.size(), " ");
    }
    WriteFile(dir / "spaced.txt", spaced);
    const auto reference = ReferenceWordCount({dir / "spaced.txt"});
    ASSERT_GT(reference.size(), 400u);
    for (int ranks : {1, 2, 4}) {
      const std::string out = dir / ("out" + std::to_string(ranks) + "-" + std::to_string(round));
      CommandResult r = RunSluice(ranks, "run wordcount --input '" + in + "' --output '" + out +
                                             "' --partitions 3 --split-size 16K --record-delimiter " + spelled);
      ASSERT_EQ(r.exit_code, 0) << r.output;
      std::map<std::string, uint64_t> got;
      for (const std::string& part : ReadParts(out, 3)) {
        size_t pos = 0;
        for (size_t nl = part.find('\n'); nl != std::string::npos; pos = nl + 1, nl = part.find('\n', pos)) {
          const std::string line = part.substr(pos, nl - pos);
          const size_t tab = line.rfind('\t');
          ASSERT_NE(tab, std::string::npos) << line;
          got[line.substr(0, tab)] += std::stoull(line.substr(tab + 1));
        }
      }
      EXPECT_EQ(got, reference) << "delimiter " << spelled << ", " << ranks << " ranks";
    }
  }
}

// --log-dir: each rank also logs to DIR/rank-N.log (DIR created), every
// line naming its rank; rank 0's file ends with the job's summary.
TEST(WordCountLogDir, EachRankLogsToItsOwnFile) {
  TempDir dir;
  WriteFile(dir / "in.txt", "a b b\n");
  const std::string logs = dir / "logs/nested";
  CommandResult r = RunSluice(2, "run wordcount --log-level debug --input '" + (dir / "in.txt") +
                                     "' --output '" + (dir / "out") + "' --log-dir '" + logs + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ListDir(logs), (std::vector<std::string>{"rank-0.log", "rank-1.log"}));
  for (int rank : {0, 1}) {
    const std::string log = ReadFile(logs + "/rank-" + std::to_string(rank) + ".log");
    EXPECT_NE(log.find("map+shuffle done"), std::string::npos) << "rank " << rank << ":\n" << log;
    const std::string tag = "[rank " + std::to_string(rank) + "]";
    for (size_t at = 0, end; at < log.size(); at = end + 1) {
      end = log.find('\n', at);
      if (end == std::string::npos) end = log.size();
      const std::string line = log.substr(at, end - at);
      // Lines of a multi-line message (the counter table) continue the one above.
      if (!line.empty() && line[0] == '[') {
        EXPECT_NE(line.find(tag), std::string::npos) << line;
      }
    }
  }
  EXPECT_NE(ReadFile(logs + "/rank-0.log").find("done in"), std::string::npos);
}

}  // namespace
}  // namespace sluice::e2e
