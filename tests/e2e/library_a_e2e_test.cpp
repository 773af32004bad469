// The library jobs grep, topk, distinct and weblog end to end: on data from
// sluice-datagen, cut into several splits, each gives the same part bytes at
// 1 plain process, 2 and 4 MPI ranks, equal to a reference computed here
// from the generated files; grep refuses a missing or broken pattern; and
// the user counters in _SUCCESS equal the reference's.
//
// The suite is plain TEST(LibraryE2E, ...): library_b_e2e_test.cpp shares
// its name, and gtest wants one fixture class per suite.
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kUsage = 2;
constexpr int kPartitions = 3;
// A few MB of input in 256K splits: several map tasks for every rank.
// The generators write some malformed lines on purpose: the jobs reject them
// as bad records, skipped within this limit.
const std::string kFlags = " --split-size 256K --partitions 3 -q --max-bad-records 100000";

std::string Quoted(const std::string& path) { return "'" + path + "'"; }

// The lines of `text`, without their '\n'.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

// Runs sluice-datagen KIND into DIR/in (4 files); returns their paths.
std::vector<std::string> Generate(const TempDir& dir, const std::string& kind, int lines) {
  const std::string in = dir / "in";
  CommandResult r = RunCommand(BinPath("sluice-datagen") + " " + kind + " --output " + Quoted(in) +
                               " --files 4 --lines " + std::to_string(lines) + " --seed 2026");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> files;
  for (const std::string& name : ListDir(in)) files.push_back(in + "/" + name);
  EXPECT_EQ(files.size(), 4u);
  return files;
}

// A job's run at 1, 2 and 4 ranks over DIR/in: the output lines (all parts,
// in part order) and the user counters, after checking that every rank count
// wrote the same parts and counters.
struct JobResult {
  std::vector<std::string> lines;
  std::map<std::string, uint64_t> counters;  // user.NAME lines of _SUCCESS
};

JobResult RunAtOneTwoAndFourRanks(const TempDir& dir, const std::string& job,
                                  const std::string& params) {
  JobResult result;
  std::vector<std::string> first_parts;
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir / (job + "-out" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, "run " + job + " --input " + Quoted(dir / "in") +
                                           " --output " + Quoted(out) + params + kFlags);
    EXPECT_EQ(r.exit_code, 0) << job << " ranks=" << ranks << "\n" << r.output;
    if (r.exit_code != 0) return result;
    std::vector<std::string> parts = ReadParts(out, kPartitions);
    std::map<std::string, uint64_t> counters;
    for (const std::string& line : Lines(ReadFile(out + "/_SUCCESS"))) {
      const size_t tab = line.find('\t');
      if (line.rfind("user.", 0) == 0 && tab != std::string::npos) {
        counters[line.substr(5, tab - 5)] = std::stoull(line.substr(tab + 1));
      }
      if (line.rfind("bad_records\t", 0) == 0) counters["bad_records"] = std::stoull(line.substr(tab + 1));
    }
    if (ranks == 1) {
      first_parts = parts;
      result.counters = counters;
      for (const std::string& part : parts) {
        for (std::string& line : Lines(part)) result.lines.push_back(std::move(line));
      }
    } else {
      EXPECT_EQ(parts, first_parts) << job << ": " << ranks << " ranks differ from 1";
      EXPECT_EQ(counters, result.counters) << job << ": " << ranks << " ranks differ from 1";
    }
  }
  return result;
}

// Output lines "key\tcount" (the key may hold tabs) as a map; fails the test
// on a key seen twice.
std::map<std::string, uint64_t> CountsByKey(const std::vector<std::string>& lines) {
  std::map<std::string, uint64_t> counts;
  for (const std::string& line : lines) {
    const size_t tab = line.rfind('\t');
    EXPECT_NE(tab, std::string::npos) << line;
    if (tab == std::string::npos) continue;
    EXPECT_TRUE(counts.emplace(line.substr(0, tab), std::stoull(line.substr(tab + 1))).second)
        << "key twice: " << line;
  }
  return counts;
}

// ---------------------------------------------------------------- grep

TEST(LibraryE2E, GrepCountsMatchingLinesPerFileAtOneTwoAndFourRanks) {
  TempDir dir;
  std::vector<std::string> files = Generate(dir, "weblog", 6000);
  // A file without a match has no output line.
  WriteFile(dir / "in/none.log", "nothing to see\nhere\n");
  files.push_back(dir / "in/none.log");
  const std::string pattern = R"(" (404|500) [0-9-]+$|^crawler[0-9]+\.example\.net .*"HEAD )";

  // std::regex's POSIX ERE grammar: a matcher independent of glibc's.
  const std::regex regex(pattern, std::regex::extended | std::regex::nosubs);
  std::map<std::string, uint64_t> reference;
  for (const std::string& file : files) {
    uint64_t matches = 0;
    for (const std::string& line : Lines(ReadFile(file))) matches += std::regex_search(line, regex);
    if (matches > 0) reference[file] = matches;
  }
  ASSERT_EQ(reference.size(), 4u);

  JobResult r = RunAtOneTwoAndFourRanks(dir, "grep", " --param " + Quoted("pattern=" + pattern));
  EXPECT_EQ(CountsByKey(r.lines), reference);
}

TEST(LibraryE2E, GrepWithoutOrWithABrokenPatternIsAUsageError) {
  TempDir dir;
  WriteFile(dir / "in.txt", "a line\n");
  const std::string io = " --input " + Quoted(dir / "in.txt") + " --output " + Quoted(dir / "out");
  for (int ranks : {1, 2}) {
    CommandResult r = RunSluice(ranks, "run grep" + io);
    EXPECT_EQ(r.exit_code, kUsage) << r.output;
    EXPECT_NE(r.output.find("parameter 'pattern' is required"), std::string::npos) << r.output;
  }
  CommandResult r = RunSluice(1, "run grep --param 'pattern=' " + io);
  EXPECT_EQ(r.exit_code, kUsage) << r.output;
  EXPECT_NE(r.output.find("parameter 'pattern' is required"), std::string::npos) << r.output;
  r = RunSluice(1, "run grep --param 'pattern=a(b' " + io);
  EXPECT_EQ(r.exit_code, kUsage) << r.output;
  EXPECT_NE(r.output.find("parameter 'pattern': 'a(b' is not a valid regular expression"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(Exists(dir / "out"));
}

// ---------------------------------------------------------------- topk

TEST(LibraryE2E, TopKMatchesReferenceAtOneTwoAndFourRanks) {
  TempDir dir;
  const std::vector<std::string> files = Generate(dir, "scores", 15000);
  constexpr size_t kK = 4;

  // key -> (score, item) of every well-formed line
  std::map<std::string, std::vector<std::pair<long long, std::string>>> scored;
  uint64_t malformed = 0;
  for (const std::string& file : files) {
    for (const std::string& line : Lines(ReadFile(file))) {
      const size_t tab1 = line.find('\t');
      const size_t tab2 = tab1 == std::string::npos ? tab1 : line.find('\t', tab1 + 1);
      if (tab2 == std::string::npos) {
        ++malformed;
        continue;
      }
      const std::string score = line.substr(tab1 + 1, tab2 - tab1 - 1);
      char* end = nullptr;
      errno = 0;
      const long long value = std::strtoll(score.c_str(), &end, 10);
      if (score.empty() || errno != 0 || *end != '\0' || std::isspace(score[0]) ||
          score[0] == '+') {
        ++malformed;
        continue;
      }
      scored[line.substr(0, tab1)].emplace_back(value, line.substr(tab2 + 1));
    }
  }
  std::vector<std::string> reference;
  bool tie_at_the_cut = false;
  for (auto& [key, items] : scored) {
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    if (items.size() > kK && items[kK].first == items[kK - 1].first) tie_at_the_cut = true;
    for (size_t rank = 0; rank < std::min(kK, items.size()); ++rank) {
      reference.push_back(key + "\t" + std::to_string(rank + 1) + "\t" +
                          std::to_string(items[rank].first) + "\t" + items[rank].second);
    }
  }
  ASSERT_GT(malformed, 0u);
  ASSERT_TRUE(tie_at_the_cut) << "the data should test the tie rule";

  JobResult r = RunAtOneTwoAndFourRanks(dir, "topk", " --param k=" + std::to_string(kK));
  std::sort(r.lines.begin(), r.lines.end());
  std::sort(reference.begin(), reference.end());
  EXPECT_EQ(r.lines, reference);
  EXPECT_EQ(r.counters["bad_records"], malformed);
}

// ---------------------------------------------------------------- distinct

TEST(LibraryE2E, DistinctMatchesReferenceAtOneTwoAndFourRanks) {
  TempDir dir;
  const std::vector<std::string> files = Generate(dir, "pairs", 15000);
  std::map<std::string, std::set<std::string>> values;
  uint64_t malformed = 0;
  uint64_t pairs = 0;
  for (const std::string& file : files) {
    for (const std::string& line : Lines(ReadFile(file))) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos) {
        ++malformed;
      } else {
        values[line.substr(0, tab)].insert(line.substr(tab + 1));
        ++pairs;
      }
    }
  }
  std::map<std::string, uint64_t> reference;
  uint64_t distinct = 0;
  for (const auto& [key, set] : values) {
    reference[key] = set.size();
    distinct += set.size();
  }
  ASSERT_GT(malformed, 0u);
  ASSERT_GT(pairs, distinct * 3 / 2) << "the data should repeat values";

  JobResult r = RunAtOneTwoAndFourRanks(dir, "distinct", "");
  EXPECT_EQ(CountsByKey(r.lines), reference);
  EXPECT_EQ(r.counters["bad_records"], malformed);

  // Reduce reads the rest of the key (values.key()) from merged spill runs
  // the same as from memory.
  const std::string spilled = dir / "distinct-spilled";
  CommandResult run = RunSluice(1, "run distinct --input " + Quoted(dir / "in") + " --output " +
                                       Quoted(spilled) + " --memory 4M" + kFlags);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(ReadFile(spilled + "/_SUCCESS").find("spill_runs\t0\n"), std::string::npos)
      << "expected a spill";
  EXPECT_EQ(ReadParts(spilled, kPartitions), ReadParts(dir / "distinct-out1", kPartitions));
}

// ---------------------------------------------------------------- weblog

// One Common Log Format line's contribution to the report, parsed with a
// regular expression and libc's time functions (the job uses neither).
bool ParseHit(const std::string& line, std::map<std::string, uint64_t>* report,
              std::set<std::string>* clients) {
  static const std::regex kClf(
      R"(([^ ]+) [^ ]+ [^ ]+ \[([0-9]{2})/([A-Z][a-z]{2})/([0-9]{4}):([0-9]{2}):([0-9]{2}):([0-9]{2}) )"
      R"(([+-])([0-9]{2})([0-9]{2})\] "[A-Z]+ ([^ "]+)( [^"]*)?" ([0-9]{3}) ([0-9]+|-))");
  static const std::string kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  std::smatch m;
  if (!std::regex_match(line, m, kClf)) return false;
  const size_t month = kMonths.find(m[3].str());
  if (month == std::string::npos || month % 3 != 0) return false;
  struct tm t = {};
  t.tm_mday = std::stoi(m[2]);
  t.tm_mon = static_cast<int>(month / 3);
  t.tm_year = std::stoi(m[4]) - 1900;
  t.tm_hour = std::stoi(m[5]);
  t.tm_min = std::stoi(m[6]);
  t.tm_sec = std::stoi(m[7]);
  const int zone = (std::stoi(m[9]) * 60 + std::stoi(m[10])) * (m[8] == "-" ? -1 : 1);
  const time_t utc = timegm(&t) - zone * 60;
  struct tm u;
  gmtime_r(&utc, &u);
  char hour[32];
  std::snprintf(hour, sizeof hour, "%04d-%02d-%02dT%02d", u.tm_year + 1900, u.tm_mon + 1, u.tm_mday,
                u.tm_hour);

  ++(*report)["status\t" + m[13].str()];
  ++(*report)["path\t" + m[11].str()];
  ++(*report)["hour\t" + std::string(hour)];
  ++(*report)["client\t" + m[1].str()];
  (*report)["bytes\ttotal"] += m[14] == "-" ? 0 : std::stoull(m[14]);
  clients->insert(m[1]);
  return true;
}

TEST(LibraryE2E, WeblogReportAndCountersMatchReferenceAtOneTwoAndFourRanks) {
  TempDir dir;
  const std::vector<std::string> files = Generate(dir, "weblog", 6000);
  std::map<std::string, uint64_t> reference;
  std::set<std::string> clients;
  uint64_t malformed = 0;
  for (const std::string& file : files) {
    for (const std::string& line : Lines(ReadFile(file))) {
      if (!ParseHit(line, &reference, &clients)) ++malformed;
    }
  }
  ASSERT_GT(malformed, 20u);
  ASSERT_GT(clients.size(), 200u);
  ASSERT_EQ(reference.count("status\t500"), 1u);

  JobResult r = RunAtOneTwoAndFourRanks(dir, "weblog", "");
  EXPECT_EQ(CountsByKey(r.lines), reference);
  EXPECT_EQ(r.counters["bad_records"], malformed);
  EXPECT_EQ(r.counters["unique_clients"], clients.size());
}

}  // namespace
}  // namespace sluice::e2e
