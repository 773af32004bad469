// Reduce work goes by sampled weight, not by p mod ranks: a partition that
// receives most of the bytes has a rank to itself, every rank reduces when
// there are at least as many partitions as ranks, and the output is the
// same bytes at any rank count (invariant 1).
#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "shuffle/partitioner.h"
#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr uint32_t kPartitions = 8;
constexpr uint32_t kHeavy = 3;

// One word per line, each distinct: 24,000 words of partition kHeavy and
// 500 of each other partition, so that partition kHeavy receives about
// 84% of the bytes even after the combiner.
void WriteSkewedWords(const std::string& path) {
  std::string text;
  std::vector<int> per_partition(kPartitions, 0);
  for (int i = 0; per_partition[kHeavy] < 24000 || *std::min_element(per_partition.begin(), per_partition.end()) < 500; ++i) {
    const std::string word = "k" + std::to_string(i);
    const uint32_t p = PartitionOf(word, kPartitions);
    const int want = p == kHeavy ? 24000 : 500;
    if (per_partition[p] >= want) continue;
    ++per_partition[p];
    text += word + "\n";
  }
  WriteFile(path, text);
}

TEST(ReduceAssignmentE2E, AHeavyPartitionGetsARankToItselfAndOutputIsUnchanged) {
  TempDir dir;
  WriteSkewedWords(dir / "words.txt");
  const std::string common = "run wordcount --partitions " + std::to_string(kPartitions) +
                             " --split-size 32K --input " + dir / "words.txt";
  CommandResult one = RunSluice(1, common + " --output " + dir / "out1");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const std::vector<std::string> expected = ReadParts(dir / "out1", kPartitions);

  for (int ranks : {3, 4}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    const std::string out = dir / ("out" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, common + " --output " + out);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(ReadParts(out, kPartitions) == expected);
    EXPECT_NE(r.output.find("reduce assignment: 8 partitions over " + std::to_string(ranks) + " ranks"),
              std::string::npos) << r.output;

    nlohmann::json report = ReadJson(out + "/_report.json");
    // Under the default --reduce-task-size no partition is cut: one task each.
    const nlohmann::json& parts = report["reduce_assignment"]["tasks"];
    ASSERT_EQ(parts.size(), kPartitions) << report.dump(2);
    const int heavy_rank = parts[kHeavy]["rank"].get<int>();
    std::set<int> reducing;
    for (uint32_t p = 0; p < kPartitions; ++p) {
      reducing.insert(parts[p]["rank"].get<int>());
      if (p != kHeavy) {
        EXPECT_NE(parts[p]["rank"].get<int>(), heavy_rank) << "partition " << p;
      }
    }
    EXPECT_EQ(reducing.size(), static_cast<size_t>(ranks));
    // The sample saw the skew, and the bytes that came agree.
    uint64_t sampled_total = 0;
    for (const auto& p : parts) sampled_total += p["sampled_bytes"].get<uint64_t>();
    EXPECT_GT(parts[kHeavy]["sampled_bytes"].get<uint64_t>() * 10, sampled_total * 7) << parts.dump();
    const nlohmann::json& per_rank = report["per_rank"];
    uint64_t received_total = 0;
    for (const auto& s : per_rank) received_total += s["reduce_input_bytes"].get<uint64_t>();
    EXPECT_EQ(per_rank[heavy_rank]["reduce_tasks"], 1) << per_rank.dump();
    EXPECT_GT(per_rank[heavy_rank]["reduce_input_bytes"].get<uint64_t>() * 10, received_total * 7)
        << per_rank.dump();
    for (const auto& s : per_rank) EXPECT_GT(s["reduce_input_bytes"].get<uint64_t>(), 0u) << per_rank.dump();
  }
}

// Past --reduce-task-size a partition is reduced in key-range pieces on
// several ranks and joined: the heavy partition no longer decides the
// job's end, more ranks than partitions all reduce, and every part is the
// bytes an uncut run writes (plain, compressed, csv with its one header).
TEST(ReduceAssignmentE2E, HeavyPartitionsAreCutIntoPiecesAndJoinedIntoTheSameBytes) {
  TempDir dir;
  WriteSkewedWords(dir / "words.txt");
  const std::string common = "run wordcount --split-size 32K --input " + dir / "words.txt";
  struct Case {
    std::string name, flags;
    uint32_t partitions;
  };
  const std::vector<Case> cases = {
      {"skewed", "--partitions 8", kPartitions},
      {"fewer partitions than ranks", "--partitions 2", 2},
      {"zstd parts", "--partitions 8 --output-compression zstd", kPartitions},
      {"gzip parts", "--partitions 8 --output-compression gzip", kPartitions},
      {"csv", "--partitions 8 --output-format csv", kPartitions},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string base = dir / c.name;
    const std::string uncut = base + "-uncut";
    CommandResult r = RunSluice(1, common + " " + c.flags + " --reduce-task-size 0 --output '" + uncut + "'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::string manifest;
    std::vector<std::string> cut_parts;
    for (int ranks : {1, 2, 4}) {
      SCOPED_TRACE(std::to_string(ranks) + " ranks");
      const std::string out = base + "-" + std::to_string(ranks);
      r = RunSluice(ranks, common + " " + c.flags + " --reduce-task-size 16K --output '" + out + "'");
      ASSERT_EQ(r.exit_code, 0) << r.output;
      EXPECT_NE(r.output.find("reduce tasks: partitions over --reduce-task-size cut by key"), std::string::npos)
          << r.output;
      const nlohmann::json report = ReadJson(out + "/_report.json");
      const nlohmann::json& tasks = report["reduce_assignment"]["tasks"];
      EXPECT_GT(tasks.size(), c.partitions + 2) << report.dump(2);
      // Every rank reduces, even with fewer partitions than ranks.
      std::set<int> reducing;
      for (const auto& t : tasks) reducing.insert(t["rank"].get<int>());
      EXPECT_EQ(reducing.size(), static_cast<size_t>(ranks)) << tasks.dump();
      for (const auto& s : report["per_rank"]) EXPECT_GT(s["reduce_input_bytes"].get<uint64_t>(), 0u);
      // No piece file is left, and the parts are the same files at any rank count.
      CommandResult left = RunCommand("find '" + out + "' -name '*piece*'");
      EXPECT_EQ(left.output, "");
      const std::string suffix = c.flags.find("zstd") != std::string::npos   ? ".zst"
                                 : c.flags.find("gzip") != std::string::npos ? ".gz"
                                                                             : "";
      std::vector<std::string> parts;
      for (uint32_t p = 0; p < c.partitions; ++p) {
        char name[32];
        std::snprintf(name, sizeof name, "/part-%05u", p);
        parts.push_back(ReadFile(out + name + suffix));
      }
      if (ranks == 1) {
        cut_parts = parts;
        manifest = ReadFile(out + "/_manifest.json");
      } else {
        EXPECT_TRUE(parts == cut_parts);
        EXPECT_EQ(ReadFile(out + "/_manifest.json"), manifest);
      }
      // What the parts hold is what the uncut run wrote (compressed: once
      // decompressed; a part is one member per piece).
      for (uint32_t p = 0; p < c.partitions; ++p) {
        char name[32];
        std::snprintf(name, sizeof name, "/part-%05u", p);
        const std::string tool = suffix == ".zst" ? "zstd -q -d -c" : suffix == ".gz" ? "zcat" : "cat";
        CommandResult got = RunCommand(tool + " '" + out + name + suffix + "'");
        CommandResult want = RunCommand(tool + " '" + uncut + name + suffix + "'");
        ASSERT_EQ(got.exit_code, 0) << got.output;
        EXPECT_TRUE(got.output == want.output) << "part " << p;
        if (c.name == "csv") {
          EXPECT_EQ(got.output.rfind("key,value\n", 0), 0u) << "part " << p;
          EXPECT_EQ(got.output.find("key,value", 1), std::string::npos) << "one header, at the top";
        }
      }
      if (suffix.empty()) {
        EXPECT_TRUE(parts == ReadParts(uncut, c.partitions)) << "byte for byte";
      }
    }
  }
}

// A piece that reaches the disk damaged (SLUICE_FAULT=during_reduce@R:corrupt
// flips one byte of rank R's next write, its first piece, and reports
// success) is caught when the pieces are joined, against the checksum its
// writer reported: exit 5, nothing published, and the re-run is whole.
TEST(ReduceAssignmentE2E, ADamagedPieceFailsTheJoin) {
  TempDir dir;
  WriteSkewedWords(dir / "words.txt");
  const std::string args = "run wordcount --partitions 2 --split-size 32K --reduce-task-size 8K --input " +
                           dir / "words.txt" + " --output " + dir / "out";
  CommandResult clean = RunSluice(1, args + "-clean");
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  CommandResult r = RunCommand("SLUICE_FAULT=during_reduce@1:corrupt " + MpiLauncher(2) + BinPath("sluice") + " " + args);
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_NE(r.output.find("fails its checksum"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(dir / "out"));
  r = RunSluice(2, args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadParts(dir / "out", 2), ReadParts(dir / "out-clean", 2));
}

// A disk that fills while pieces are written or joined fails the job with
// exit 4, naming the file, and publishes nothing; one with room for the
// pieces and the joined parts gives the uncut run's bytes.
TEST(ReduceAssignmentE2E, AFullDiskWhileCutPartitionsAreWrittenPublishesNothing) {
  TempDir dir;
  std::string words;
  for (int i = 0; i < 200000; ++i) words += "word" + std::to_string(1000000 + i) + "\n";
  WriteFile(dir / "words.txt", words);
  const std::string flags = " --partitions 2 --split-size 256K --input '" + (dir / "words.txt") + "'";
  ASSERT_EQ(RunSluice(1, "run wordcount --reduce-task-size 0 --output '" + (dir / "ref") + "'" + flags).exit_code, 0);
  ASSERT_EQ(RunCommand("cat '" + (dir / "ref") + "'/part-* > '" + (dir / "ref") + "/all'").exit_code, 0);
  const std::string full = dir / "full";
  ASSERT_EQ(RunCommand("mkdir '" + full + "'").exit_code, 0);
  for (const char* size : {"3m", "6m"}) {
    SCOPED_TRACE(size);
    const std::string mount = std::string("mount -t tmpfs -o size=") + size + " tmpfs '" + full + "' && ";
    if (RunCommand("unshare -m sh -c \"" + mount + "true\"").exit_code != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
    }
    CommandResult r = RunCommand("unshare -m sh -c \"" + mount + BinPath("sluice") +
                                 " run wordcount --reduce-task-size 64K --output '" + full + "/out'" + flags +
                                 "; echo exit=\\$?; test -e '" + full + "/out' && cat '" + full + "'/out/part-* | cmp - " +
                                 "'" + (dir / "ref") + "'/all && echo identical\"");
    if (std::string(size) == "3m") {
      EXPECT_NE(r.output.find("exit=4\n"), std::string::npos) << r.output;
      EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
      EXPECT_NE(r.output.find("piece"), std::string::npos) << "the message names the piece\n" << r.output;
      EXPECT_EQ(r.output.find("identical"), std::string::npos) << r.output;
    } else {
      EXPECT_NE(r.output.find("exit=0\n"), std::string::npos) << r.output;
      EXPECT_NE(r.output.find("identical"), std::string::npos) << r.output;
    }
  }
}

TEST(ReduceAssignmentE2E, MapOnlyJobsHaveNone) {
  TempDir dir;
  CommandResult r = RunSluice(2, "run teragen 1000 " + dir / "out");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json report = ReadJson(dir / "out/_report.json");
  EXPECT_FALSE(report.contains("reduce_assignment")) << report.dump(2);
  EXPECT_EQ(r.output.find("reduce assignment"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sluice::e2e
