// The library jobs join, invertedindex and the weblog pipeline (sessionize ->
// dailystats) end to end, on data from sluice-datagen2: the same output bytes
// at 1, 2 and 4 ranks, equal to a reference computed here from the generated
// files with no Sluice code.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kPartitions = 4;
// Small splits: several map tasks per input, so every rank maps some.
// The log generator writes some malformed lines on purpose: sessionize
// rejects them as bad records, skipped within this limit.
const std::string kSettings = " --split-size 256K --partitions 4 --max-bad-records 100000";

std::string Quoted(const std::string& path) { return "'" + path + "'"; }

void Generate(const std::string& kind, const std::string& dir, const std::string& flags) {
  CommandResult r = RunCommand(BinPath("sluice-datagen2") + " " + kind + " --output " +
                               Quoted(dir) + " " + flags);
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

// A directory's files as paths, sorted: the order Sluice reads them in.
std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> paths;
  for (const std::string& name : ListDir(dir)) paths.push_back(dir + "/" + name);
  return paths;
}

// Lines without their '\n' (a last line without one included).
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

// `line` cut at its first tab: (before, after).
std::pair<std::string, std::string> CutAtTab(const std::string& line) {
  const size_t tab = line.find('\t');
  if (tab == std::string::npos) return {line, ""};
  return {line.substr(0, tab), line.substr(tab + 1)};
}

// A user counter from OUT/_SUCCESS (`user.NAME\tvalue` lines); 0 if absent.
// A counter from _SUCCESS: "user.NAME" for a job's own, "NAME" for built-in ones.
uint64_t SuccessCounter(const std::string& out, const std::string& key_wanted) {
  for (const std::string& line : Lines(ReadFile(out + "/_SUCCESS"))) {
    auto [key, value] = CutAtTab(line);
    if (key == key_wanted) return std::stoull(value);
  }
  return 0;
}
uint64_t UserCounter(const std::string& out, const std::string& name) {
  return SuccessCounter(out, "user." + name);
}

// Runs `sluice run JOB INPUTS OUT` at 1, 2 and 4 ranks into DIR/NAME-{1,2,4};
// all must succeed with byte-identical parts. Returns the parts of one run.
std::vector<std::string> RunAtOneTwoAndFourRanks(const TempDir& dir, const std::string& job,
                                                 const std::string& inputs,
                                                 const std::string& name) {
  std::vector<std::string> first;
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir / (name + "-" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, "run " + job + kSettings + " " + inputs + " " + Quoted(out));
    EXPECT_EQ(r.exit_code, 0) << job << " at " << ranks << " ranks\n" << r.output;
    if (r.exit_code != 0) return {};
    std::vector<std::string> parts = ReadParts(out, kPartitions);
    if (ranks == 1) {
      first = parts;
    } else {
      EXPECT_EQ(parts, first) << job << ": " << ranks << " ranks differ from 1";
    }
  }
  return first;
}

// Each part's lines, checked to be sorted by their first field with each
// first field in one part only; all lines, grouped by first field, in order.
std::map<std::string, std::vector<std::string>> GroupByFirstField(
    const std::vector<std::string>& parts) {
  std::map<std::string, std::vector<std::string>> groups;
  std::map<std::string, size_t> part_of;
  for (size_t p = 0; p < parts.size(); ++p) {
    std::string previous;
    for (const std::string& line : Lines(parts[p])) {
      const std::string key = CutAtTab(line).first;
      EXPECT_LE(previous, key) << "part " << p << " not sorted";
      EXPECT_EQ(part_of.emplace(key, p).first->second, p) << key << " in two parts";
      groups[key].push_back(line);
      previous = key;
    }
  }
  return groups;
}

// "" when equal, else the first key whose entries differ: a readable failure
// where printing two maps of thousands of entries would not be.
template <class M>
std::string FirstDifference(const M& got, const M& want) {
  for (auto g = got.begin(), w = want.begin(); g != got.end() || w != want.end(); ++g, ++w) {
    if (g == got.end()) return "missing " + w->first;
    if (w == want.end()) return "unexpected " + g->first;
    if (*g != *w) {
      return "got " + ::testing::PrintToString(*g) + "\nwant " + ::testing::PrintToString(*w);
    }
  }
  return "";
}

// ---------------------------------------------------------------- join

TEST(LibraryE2E, JoinMatchesReferenceAtOneTwoAndFourRanks) {
  TempDir dir;
  Generate("users", dir / "users", "--files 2 --lines 4000 --seed 7");
  Generate("events", dir / "events", "--files 3 --lines 30000 --users 8000 --seed 8");

  std::map<std::string, std::string> users;  // id -> "name\tcountry"
  for (const std::string& file : FilesIn(dir / "users")) {
    for (const std::string& line : Lines(ReadFile(file))) users.insert(CutAtTab(line));
  }
  ASSERT_EQ(users.size(), 8000u);
  std::map<std::string, std::vector<std::string>> expected;  // id -> joined lines, input order
  uint64_t without_user = 0;
  for (const std::string& file : FilesIn(dir / "events")) {
    for (const std::string& line : Lines(ReadFile(file))) {
      auto [id, event] = CutAtTab(line);
      auto user = users.find(id);
      if (user == users.end()) {
        ++without_user;
      } else {
        expected[id].push_back(id + "\t" + user->second + "\t" + event);
      }
    }
  }
  ASSERT_GT(without_user, 1000u);
  ASSERT_LT(expected.size(), users.size()) << "want users without events too";

  const std::vector<std::string> parts = RunAtOneTwoAndFourRanks(
      dir, "join", Quoted(dir / "users") + " " + Quoted(dir / "events"), "joined");
  ASSERT_EQ(parts.size(), static_cast<size_t>(kPartitions));
  EXPECT_EQ(FirstDifference(GroupByFirstField(parts), expected), "");
  EXPECT_EQ(UserCounter(dir / "joined-2", "events_without_user"), without_user);
  EXPECT_EQ(UserCounter(dir / "joined-2", "duplicate_users"), 0u);
  EXPECT_EQ(SuccessCounter(dir / "joined-2", "bad_records"), 0u);
}

// ---------------------------------------------------------------- inverted index

TEST(LibraryE2E, InvertedIndexMatchesReferenceAtOneTwoAndFourRanks) {
  TempDir dir;
  Generate("docs", dir / "docs", "--files 5 --lines 7000 --seed 9");

  // word -> "doc:offset doc:offset ...": files in name order and offsets
  // rising, so appending keeps the postings sorted.
  std::map<std::string, std::string> expected;
  std::map<std::string, std::pair<std::string, size_t>> last;  // word -> its last posting
  for (const std::string& file : FilesIn(dir / "docs")) {
    const std::string doc = file.substr(file.rfind('/') + 1);
    const std::string text = ReadFile(file);
    size_t line_start = 0;
    std::string word;
    for (size_t i = 0; i <= text.size(); ++i) {
      const char c = i < text.size() ? text[i] : '\n';
      if (std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80) {
        word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        continue;
      }
      if (!word.empty() && last[word] != std::make_pair(doc, line_start)) {
        last[word] = {doc, line_start};
        std::string& postings = expected[word];
        postings += (postings.empty() ? "" : " ") + doc + ":" + std::to_string(line_start);
      }
      word.clear();
      if (c == '\n') line_start = i + 1;
    }
  }
  ASSERT_GT(expected.size(), 2000u);

  const std::vector<std::string> parts =
      RunAtOneTwoAndFourRanks(dir, "invertedindex", Quoted(dir / "docs"), "index");
  ASSERT_EQ(parts.size(), static_cast<size_t>(kPartitions));
  std::map<std::string, std::string> got;
  for (const auto& [word, lines] : GroupByFirstField(parts)) {
    ASSERT_EQ(lines.size(), 1u) << word;
    got[word] = CutAtTab(lines[0]).second;
  }
  // Covers a word repeated in a line (listed once) and offsets that sort as
  // numbers, not text (doc:9 before doc:10).
  EXPECT_EQ(FirstDifference(got, expected), "");
}

// ---------------------------------------------------------------- weblog pipeline

struct Hit {
  std::string client;
  int64_t time;
  uint64_t bytes;
};

// Parses a Common Log Format line; false for a malformed one.
bool ParseHit(const std::string& line, Hit* hit) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char host[256], month[4];
  int day, year, hour, minute, second, consumed = 0;
  if (std::sscanf(line.c_str(), "%255s %*s %*s [%2d/%3s/%4d:%2d:%2d:%2d +0000]%n", host, &day,
                  month, &year, &hour, &minute, &second, &consumed) != 7 ||
      consumed == 0 || line[0] == ' ') {
    return false;
  }
  const auto m = std::find_if(std::begin(kMonths), std::end(kMonths),
                              [&](const char* name) { return std::string(name) == month; });
  if (m == std::end(kMonths) || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    return false;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = static_cast<int>(m - std::begin(kMonths));
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::string bytes = line.substr(line.rfind(' ') + 1);
  if (bytes.empty() || (bytes != "-" && bytes.find_first_not_of("0123456789") != std::string::npos))
    return false;
  *hit = {host, timegm(&tm), bytes == "-" ? 0 : std::stoull(bytes)};
  return true;
}

std::string DayOf(int64_t epoch) {
  const time_t t = epoch;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char day[16];
  std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
  return day;
}

struct DayTotals {
  uint64_t sessions = 0, hits = 0, bytes = 0;
  int64_t duration = 0;
  std::set<std::string> clients;
};

// The daily table for the logs in `dir`, sessions cut at pauses > gap.
std::map<std::string, std::string> ReferenceDailyTable(const std::string& dir, int64_t gap,
                                                       uint64_t* malformed) {
  std::map<std::string, std::vector<std::pair<int64_t, uint64_t>>> by_client;
  *malformed = 0;
  for (const std::string& file : FilesIn(dir)) {
    for (const std::string& line : Lines(ReadFile(file))) {
      Hit hit;
      if (ParseHit(line, &hit)) {
        by_client[hit.client].emplace_back(hit.time, hit.bytes);
      } else {
        ++*malformed;
      }
    }
  }
  std::map<std::string, DayTotals> days;
  for (auto& [client, hits] : by_client) {
    std::stable_sort(hits.begin(), hits.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t begin = 0, end; begin < hits.size(); begin = end) {
      DayTotals& day = days[DayOf(hits[begin].first)];
      for (end = begin + 1; end < hits.size() && hits[end].first - hits[end - 1].first <= gap;)
        ++end;
      ++day.sessions;
      day.hits += end - begin;
      for (size_t i = begin; i < end; ++i) day.bytes += hits[i].second;
      day.duration += hits[end - 1].first - hits[begin].first;
      day.clients.insert(client);
    }
  }
  std::map<std::string, std::string> table;
  for (const auto& [day, t] : days) {
    table[day] = std::to_string(t.sessions) + "\t" + std::to_string(t.hits) + "\t" +
                 std::to_string(t.bytes) + "\t" +
                 std::to_string(t.duration / static_cast<int64_t>(t.sessions)) + "\t" +
                 std::to_string(t.clients.size());
  }
  return table;
}

// dailystats' text parts as day -> the rest of the line.
std::map<std::string, std::string> ParseDailyTable(const std::vector<std::string>& parts) {
  std::map<std::string, std::string> table;
  for (const auto& [day, lines] : GroupByFirstField(parts)) {
    EXPECT_EQ(lines.size(), 1u) << day;
    table[day] = CutAtTab(lines[0]).second;
  }
  return table;
}

TEST(LibraryE2E, PipelineSessionizeThenDailyStatsMatchesReference) {
  TempDir dir;
  Generate("clf", dir / "logs", "--files 4 --lines 6000 --clients 300 --seed 10");
  uint64_t malformed = 0;
  const auto expected = ReferenceDailyTable(dir / "logs", 1800, &malformed);
  ASSERT_EQ(expected.size(), 3u);
  ASSERT_GT(malformed, 10u);

  // Binary key-value parts: the same bytes at every rank count too.
  const auto sessions =
      RunAtOneTwoAndFourRanks(dir, "sessionize", Quoted(dir / "logs"), "sessions");
  ASSERT_EQ(sessions.size(), static_cast<size_t>(kPartitions));
  EXPECT_EQ(SuccessCounter(dir / "sessions-4", "bad_records"), malformed);
  // Each skipped line is listed with its file and offset, the same list at
  // every rank count, and each offset starts a line that does not parse.
  const std::string listed = ReadFile(dir / "sessions-4/_bad_records");
  EXPECT_EQ(listed, ReadFile(dir / "sessions-1/_bad_records"));
  EXPECT_EQ(Lines(listed).size(), malformed);
  for (const std::string& entry : Lines(listed)) {
    const auto [file, rest] = CutAtTab(entry);
    const auto [offset, reason] = CutAtTab(rest);
    const std::string text = ReadFile(file);
    const size_t at = std::stoull(offset);
    ASSERT_LT(at, text.size()) << entry;
    EXPECT_TRUE(at == 0 || text[at - 1] == '\n') << entry;
    EXPECT_EQ(reason, "not a Common Log Format line") << entry;
  }

  const auto daily =
      RunAtOneTwoAndFourRanks(dir, "dailystats", Quoted(dir / "sessions-2"), "daily");
  EXPECT_EQ(FirstDifference(ParseDailyTable(daily), expected), "");
}

TEST(LibraryE2E, PipelineGapParameterCutsSessionsShorter) {
  TempDir dir;
  Generate("clf", dir / "logs", "--files 2 --lines 3000 --clients 200 --seed 11");
  uint64_t malformed = 0;
  const auto expected = ReferenceDailyTable(dir / "logs", 300, &malformed);
  uint64_t unused = 0;
  ASSERT_NE(expected, ReferenceDailyTable(dir / "logs", 1800, &unused));

  for (int ranks : {1, 2}) {
    const std::string sessions = dir / ("sessions-" + std::to_string(ranks));
    const std::string daily = dir / ("daily-" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, "run sessionize --param gap_seconds=300" + kSettings + " " +
                                           Quoted(dir / "logs") + " " + Quoted(sessions));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = RunSluice(ranks,
                  "run dailystats" + kSettings + " " + Quoted(sessions) + " " + Quoted(daily));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(FirstDifference(ParseDailyTable(ReadParts(daily, kPartitions)), expected), "")
        << "ranks=" << ranks;
  }
}

TEST(LibraryE2E, PipelineDailyStatsRefusesTextInput) {
  TempDir dir;
  Generate("clf", dir / "logs", "--files 1 --lines 100 --seed 12");
  CommandResult r =
      RunSluice(1, "run dailystats " + Quoted(dir / "logs") + " " + Quoted(dir / "out"));
  EXPECT_EQ(r.exit_code, 3) << r.output;  // bad input
  EXPECT_NE(r.output.find("not a Sluice key-value file"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sluice::e2e
