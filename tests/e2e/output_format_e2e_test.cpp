// Output formats and compression end to end (--output-format,
// --output-compression): compressed parts decode, with the standard tools, to
// exactly the uncompressed run's bytes, at 1, 2 and 4 ranks alike, and the
// manifest lists the files on disk; CSV and JSON Lines parts read back with
// Python's own csv and json modules as the text run's records; a key text
// output cannot show (a tab in it) fails the job with exit 6 and publishes
// nothing, while csv and jsonl quote it.
#include <xxhash.h>

#include <algorithm>
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

constexpr int kPartitions = 5;

std::string PartName(int p, const std::string& ext = "") {
  char name[32];
  std::snprintf(name, sizeof name, "part-%05d", p);
  return name + ext;
}

// Words that need CSV quoting and JSON escaping (commas, quotes, a
// backslash, UTF-8), among many plain ones. Valid UTF-8 throughout: jsonl
// refuses anything else.
std::string MakeText(size_t bytes, uint64_t seed) {
  static const char* kOdd[] = {"a,b",
                               "\"quoted\"",
                               "say\"hi\",",
                               "back\\slash",
                               "caf\xc3\xa9",
                               "\xe2\x82\xac"
                               "5",
                               "x\x7fy",
                               "{json}",
                               "'single'"};
  std::mt19937_64 rng(seed);
  std::string out;
  while (out.size() < bytes) {
    const int words = 1 + static_cast<int>(rng() % 12);
    for (int j = 0; j < words; ++j) {
      if (j) out += ' ';
      if (rng() % 50 == 0) {
        out += kOdd[rng() % 9];
      } else {
        out += "w" + std::to_string(rng() % 20000);
      }
    }
    out += '\n';
  }
  return out;
}

class OutputFormatE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunCommand("mkdir -p '" + In() + "'").exit_code, 0);
    WriteFile(In() + "/a.txt", MakeText(2 << 20, 1));
    WriteFile(In() + "/b.txt", MakeText(700 << 10, 2));
    WriteFile(In() + "/c.txt", MakeText(300 << 10, 3));
  }

  std::string In() const { return dir_ / "in"; }

  CommandResult Run(int ranks, const std::string& out, const std::string& flags) const {
    return RunSluice(ranks, "run wordcount --input '" + In() + "' --output '" + out +
                                "' --split-size 256K --partitions " + std::to_string(kPartitions) +
                                " " + flags);
  }

  // Writes a Python script and runs it with `args`; its output on failure.
  CommandResult Python(const std::string& name, const std::string& script,
                       const std::string& args) const {
    WriteFile(dir_ / name, script);
    return RunCommand("python3 '" + (dir_ / name) + "' " + args);
  }

  TempDir dir_;
};

// Each codec at 1, 2 and 4 ranks: every part decodes to the uncompressed
// part, the compressed files are the same bytes whatever the rank count, and
// the manifest's size and xxh3 are those of the files on disk.
TEST_F(OutputFormatE2E, CompressedPartsDecodeToTheUncompressedBytes) {
  const std::string plain_out = dir_ / "plain";
  CommandResult plain = Run(1, plain_out, "");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  const std::vector<std::string> plain_parts = ReadParts(plain_out, kPartitions);

  struct Codec {
    std::string name, ext, decode;
  };
  for (const Codec& codec :
       {Codec{"zstd", ".zst", "zstd -q -d -c"}, Codec{"gzip", ".gz", "zcat"}}) {
    std::vector<std::string> first_files;
    for (int ranks : {1, 2, 4}) {
      SCOPED_TRACE(codec.name + " at " + std::to_string(ranks) + " rank(s)");
      const std::string out = dir_ / (codec.name + std::to_string(ranks));
      CommandResult r = Run(ranks, out, "--output-compression " + codec.name);
      ASSERT_EQ(r.exit_code, 0) << r.output;
      std::vector<std::string> names = {"_SUCCESS", "_manifest.json", "_report.html", "_report.json"};
      for (int p = 0; p < kPartitions; ++p) names.push_back(PartName(p, codec.ext));
      std::sort(names.begin(), names.end());
      EXPECT_EQ(ListDir(out), names);

      const nlohmann::json manifest = ReadJson(out + "/_manifest.json");
      ASSERT_EQ(manifest["outputs"].size(), static_cast<size_t>(kPartitions));
      EXPECT_EQ(manifest["config"]["output_compression"], codec.name);
      std::vector<std::string> files;
      for (int p = 0; p < kPartitions; ++p) {
        const std::string path = out + "/" + PartName(p, codec.ext);
        files.push_back(ReadFile(path));
        const nlohmann::json& listed = manifest["outputs"][static_cast<size_t>(p)];
        EXPECT_EQ(listed["file"], PartName(p, codec.ext));
        EXPECT_EQ(listed["bytes"], files.back().size());
        char hex[17];
        std::snprintf(
            hex, sizeof hex, "%016llx",
            static_cast<unsigned long long>(XXH3_64bits(files.back().data(), files.back().size())));
        EXPECT_EQ(listed["xxh3"], hex) << path;

        CommandResult decoded =
            RunCommand(codec.decode + " '" + path + "' > '" + (dir_ / "decoded") + "'");
        ASSERT_EQ(decoded.exit_code, 0) << decoded.output;
        EXPECT_TRUE(ReadFile(dir_ / "decoded") == plain_parts[static_cast<size_t>(p)]) << path;
      }
      if (codec.name == "gzip") {
        EXPECT_EQ(RunCommand("gzip -t '" + out + "'/part-*.gz").exit_code, 0);
        EXPECT_EQ(RunCommand("bgzip -d -c < '" + out + "/part-00000.gz' > /dev/null").exit_code, 0);
      }
      if (first_files.empty()) {
        first_files = files;
      } else {
        EXPECT_TRUE(files == first_files) << "compressed parts differ from the 1-rank run's";
      }
    }
  }
}

// Compressed parts are splittable input for the next job: a part of
// several zstd frames (4 MiB of input each) or BGZF blocks is cut into more
// splits than there are files, and gives the result the plain part gives.
TEST_F(OutputFormatE2E, CompressedPartsAreSplitWhenReadBack) {
  const std::string in = dir_ / "distinct";
  ASSERT_EQ(RunCommand("mkdir -p '" + in + "'").exit_code, 0);
  std::string words;  // 1M distinct words: about 11 MB of output in one part
  for (int i = 0; i < 1'000'000; ++i) words += "u" + std::to_string(i) + (i % 10 == 9 ? "\n" : " ");
  WriteFile(in + "/words.txt", words);
  auto count = [&](const std::string& input, const std::string& out, const std::string& flags) {
    CommandResult r = RunSluice(
        2, "run wordcount --input '" + input + "' --output '" + out + "' --partitions 1 " + flags);
    EXPECT_EQ(r.exit_code, 0) << r.output;
  };
  // Splits are planned on compressed bytes: 64K cuts even the zstd part
  // (about 110 KB per frame) at each frame.
  count(in, dir_ / "plain", "");
  count(dir_ / "plain", dir_ / "again-plain", "--split-size 64K");
  const std::vector<std::string> want = ReadParts(dir_ / "again-plain", 1);
  for (const std::string codec : {"zstd", "gzip"}) {
    const std::string out = dir_ / codec, again = dir_ / ("again-" + codec);
    count(in, out, "--output-compression " + codec);
    count(out, again, "--split-size 64K");
    EXPECT_TRUE(ReadParts(again, 1) == want) << codec;
    EXPECT_GE(ReportNumber(again, "/input/splits"), 3u)
        << codec << ": one compressed file, not split";
  }
}

// A re-run in another format is not the same result: it runs instead of
// being skipped as done.
TEST_F(OutputFormatE2E, AnotherFormatIsNotANoOpRerun) {
  const std::string out = dir_ / "out";
  ASSERT_EQ(Run(1, out, "").exit_code, 0);
  CommandResult again = Run(1, out, "--overwrite --output-compression zstd");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(Exists(out + "/part-00000.zst")) << again.output;
  EXPECT_FALSE(Exists(out + "/part-00000"));
}

// The text run's records, "key<TAB>value" lines, against the CSV parts
// through Python's csv module: a header row per part, then the same
// records in the same order.
constexpr const char* kCompareCsv = R"(import csv, sys
text_dir, csv_dir, parts = sys.argv[1], sys.argv[2], int(sys.argv[3])
for p in range(parts):
    name = "part-%05d" % p
    with open(f"{text_dir}/{name}", encoding="utf-8", newline="") as f:
        want = [line[:-1].split("\t", 1) for line in f]
    with open(f"{csv_dir}/{name}", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    if rows[0] != ["key", "value"]:
        sys.exit(f"{name}: header {rows[0]}")
    if rows[1:] != want:
        sys.exit(f"{name}: {len(rows) - 1} rows differ from {len(want)} text records")
print("ok")
)";

TEST_F(OutputFormatE2E, CsvReadsBackAsTheTextRecords) {
  const std::string text_out = dir_ / "text", csv_out = dir_ / "csv";
  ASSERT_EQ(Run(1, text_out, "").exit_code, 0);
  CommandResult r = Run(2, csv_out, "--output-format csv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadJson(csv_out + "/_manifest.json")["config"]["output_format"], "csv");
  // Quoting was needed: a word with a comma and one with a quote.
  std::string all;
  for (const std::string& part : ReadParts(csv_out, kPartitions)) all += part;
  EXPECT_NE(all.find("\"a,b\","), std::string::npos);
  EXPECT_NE(all.find("\"\"\"quoted\"\"\","), std::string::npos);
  CommandResult check =
      Python("compare_csv.py", kCompareCsv,
             "'" + text_out + "' '" + csv_out + "' " + std::to_string(kPartitions));
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

constexpr const char* kCompareJsonl = R"(import json, sys
text_dir, json_dir, parts = sys.argv[1], sys.argv[2], int(sys.argv[3])
for p in range(parts):
    name = "part-%05d" % p
    with open(f"{text_dir}/{name}", encoding="utf-8", newline="") as f:
        want = [line[:-1].split("\t", 1) for line in f]
    want = [{"key": k, "value": int(v)} for k, v in want]
    with open(f"{json_dir}/{name}", encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines[-1] != "":
        sys.exit(f"{name}: no final newline")
    got = [json.loads(line) for line in lines[:-1]]
    if got != want:
        sys.exit(f"{name}: {len(got)} objects differ from {len(want)} text records")
    if any(type(o["value"]) is not int for o in got):
        sys.exit(f"{name}: a count that is not a JSON number")
print("ok")
)";

TEST_F(OutputFormatE2E, JsonLinesReadBackAsTheTextRecords) {
  const std::string text_out = dir_ / "text", json_out = dir_ / "jsonl";
  ASSERT_EQ(Run(1, text_out, "").exit_code, 0);
  CommandResult r = Run(2, json_out, "--output-format jsonl --output-compression zstd");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (int p = 0; p < kPartitions; ++p) {
    const std::string path = json_out + "/" + PartName(p, ".zst");
    ASSERT_EQ(
        RunCommand("zstd -q -d '" + path + "' -o '" + json_out + "/" + PartName(p) + "'").exit_code,
        0);
  }
  CommandResult check =
      Python("compare_jsonl.py", kCompareJsonl,
             "'" + text_out + "' '" + json_out + "' " + std::to_string(kPartitions));
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

// grep's keys are input paths: a file whose name holds a tab gives a key
// text output cannot show. The job fails (exit 6) naming the partition and
// the key and pointing at csv and jsonl, and publishes nothing; csv and
// jsonl write the path whole.
TEST_F(OutputFormatE2E, KeyWithATabIsRefusedAsTextAndQuotedAsCsvOrJsonl) {
  const std::string in = dir_ / "tabbed";
  const std::string tabbed = in + "/with\ttab.log";
  ASSERT_EQ(RunCommand("mkdir -p '" + in + "'").exit_code, 0);
  WriteFile(tabbed, "error one\nfine\nerror two\n");
  WriteFile(in + "/plain.log", "error three\n");
  auto grep = [&](int ranks, const std::string& out, const std::string& flags) {
    return RunSluice(ranks, "run grep --param pattern=error --input '" + in + "' --output '" + out +
                                "' --partitions 3 " + flags);
  };
  for (int ranks : {1, 2}) {
    const std::string out = dir_ / ("text" + std::to_string(ranks));
    CommandResult r = grep(ranks, out, "");
    EXPECT_EQ(r.exit_code, 6) << r.output;
    EXPECT_NE(r.output.find("its key holds a tab"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("with\\ttab.log"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("of partition "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--output-format csv"), std::string::npos) << r.output;
    EXPECT_FALSE(Exists(out)) << "a refused job published its output";
    EXPECT_FALSE(Exists(dir_ / (".text" + std::to_string(ranks) + ".sluice-staging")))
        << "staging left behind";
  }

  const std::string csv_out = dir_ / "csv";
  CommandResult csv = grep(2, csv_out, "--output-format csv");
  ASSERT_EQ(csv.exit_code, 0) << csv.output;
  const std::string json_out = dir_ / "jsonl";
  CommandResult jsonl = grep(1, json_out, "--output-format jsonl");
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.output;
  constexpr const char* kRead = R"(import csv, glob, json, sys
csv_dir, json_dir, tabbed, plain = sys.argv[1:5]
rows = {}
for name in sorted(glob.glob(csv_dir + "/part-*")):
    with open(name, encoding="utf-8", newline="") as f:
        r = list(csv.reader(f))
    if r and r[0] != ["key", "value"]:
        sys.exit(f"{name}: header {r[0]}")
    rows.update((k, int(v)) for k, v in r[1:])
objs = {}
for name in sorted(glob.glob(json_dir + "/part-*")):
    with open(name, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            objs[o["key"]] = o["value"]
want = {tabbed: 2, plain: 1}
if rows != want or objs != want:
    sys.exit(f"csv {rows} / jsonl {objs} != {want}")
print("ok")
)";
  CommandResult check =
      Python("read_tabbed.py", kRead,
             "'" + csv_out + "' '" + json_out + "' '" + tabbed + "' '" + in + "/plain.log'");
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

// Settings a job's Output cannot honour are usage errors, and publish
// nothing: csv for a job that writes binary records, compression of
// key-value files, a level without a codec or outside its range.
TEST_F(OutputFormatE2E, SettingsTheOutputCannotHonourAreRefused) {
  const std::string gen = dir_ / "gen";
  CommandResult r = RunSluice(1, "run teragen 1000 '" + gen + "' --output-format csv");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--output-format csv applies only to jobs whose Output is TextOutput"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(Exists(gen));
  // teragen's binary records may be compressed like any part.
  r = RunSluice(1, "run teragen 1000 '" + gen + "' --output-compression gzip");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  CommandResult size = RunCommand("zcat '" + gen + "'/part-*.gz | wc -c");
  EXPECT_EQ(size.output, "100000\n");

  // sessionize writes key-value files for dailystats, which must seek in
  // them: refused at its first reduce task, and nothing is published.
  WriteFile(dir_ / "log.txt",
            "10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] \"GET /a HTTP/1.1\" 200 512\n");
  const std::string sessions = dir_ / "sessions";
  r = RunSluice(2, "run sessionize '" + (dir_ / "log.txt") + "' '" + sessions +
                       "' --output-compression zstd");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--output-compression zstd: this job writes Sluice key-value files"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(Exists(sessions));

  r = RunSluice(1, "run wordcount --input '" + In() + "' --output '" + (dir_ / "x") +
                       "' --output-compression-level 5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("needs --output-compression"), std::string::npos) << r.output;
  r = RunSluice(1, "run wordcount --input '" + In() + "' --output '" + (dir_ / "x") +
                       "' --output-compression gzip --output-compression-level 13");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("gzip levels are 1..12"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sluice::e2e
