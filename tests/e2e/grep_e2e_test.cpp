// The grep job (jobs/grep.cpp, RE2 over blocks of lines) end to end: its
// count per file equals GNU grep's (`LC_ALL=C grep -a -c -E`, -i, -v), the
// independent reference, over generated text in many small files and one
// big file cut into many splits, at 1 plain process, 2 and 4 MPI ranks, with
// byte-identical parts at every rank count; ^ and $ hold per line; a '\r'
// before '\n' is not part of a line; compressed files count as decoded;
// patterns that make a backtracking matcher run for exponential time finish
// (no timing: a hang fails on CTest's TIMEOUT); a pattern RE2 refuses is a
// usage error naming it.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kUsage = 2;
constexpr int kPartitions = 2;
// Small splits: the big file is read by many map tasks on every rank.
const std::string kFlags = " --split-size 128K --partitions 2 -q";

std::string Quoted(const std::string& text) { return "'" + text + "'"; }

// splitmix64: deterministic text on every machine.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

// About `bytes` of C-like text: words in both cases, digits, punctuation,
// tabs, empty lines, now and then a NUL byte or a Latin-1 byte inside a
// line; the last line has no '\n' when `unterminated`.
std::string MakeText(uint64_t seed, size_t bytes, bool unterminated) {
  static const char* const kWords[] = {
      "static", "int",  "char", "void", "return", "the",     "The",    "THE", "foo",
      "bar",    "Foo",  "BAR",  "x",    "xx",     "my_func", "get_id", "(",   ")",
      "{",      "}",    ";",    "404",  "2026",   "7",       "a",      "aa",  "Static",
      "error:", "warn", "WARN", "#",    "->",     "i++",     "//",     "z9",  "end"};
  constexpr size_t kCount = sizeof kWords / sizeof kWords[0];
  Random random(seed);
  std::string text;
  while (text.size() < bytes) {
    const uint64_t kind = random.Below(64);
    if (kind == 0) {
      text += '\n';  // an empty line
      continue;
    }
    const uint64_t words = 1 + random.Below(12);
    for (uint64_t w = 0; w < words; ++w) {
      if (w > 0) text += random.Below(16) == 0 ? '\t' : ' ';
      text += kWords[random.Below(kCount)];
    }
    if (kind == 1) text += std::string("a\0b", 3);  // NUL inside a line
    if (kind == 2) text += "caf\xe9";               // Latin-1, not UTF-8
    text += '\n';
  }
  if (unterminated) text += "static last(line) x";
  return text;
}

// `LC_ALL=C grep -a -c FLAGS -e PATTERN` on each file: the counts that are
// not 0, by the path given.
std::map<std::string, uint64_t> GrepCounts(const std::string& flags, const std::string& pattern,
                                           const std::vector<std::string>& files,
                                           const std::string& decode = "") {
  std::map<std::string, uint64_t> counts;
  for (const std::string& file : files) {
    const std::string grep = "LC_ALL=C grep -a -c " + flags + " -e " + Quoted(pattern);
    const std::string command = decode.empty() ? grep + " < " + Quoted(file)
                                               : decode + " " + Quoted(file) + " | " + grep;
    CommandResult r = RunCommand(command);
    // grep exits 1 when no line matches, and prints 0.
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << command << "\n" << r.output;
    const uint64_t count = std::stoull(r.output);
    if (count > 0) counts[file] = count;
  }
  return counts;
}

// Output lines "path\tcount" as a map; fails the test on a path seen twice.
std::map<std::string, uint64_t> CountsByPath(const std::string& text) {
  std::map<std::string, uint64_t> counts;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    const size_t tab = line.rfind('\t');
    EXPECT_NE(tab, std::string::npos) << line;
    if (tab == std::string::npos) continue;
    EXPECT_TRUE(counts.emplace(line.substr(0, tab), std::stoull(line.substr(tab + 1))).second)
        << "path twice: " << line;
  }
  return counts;
}

// `sluice run grep` over INPUT at 1, 2 and 4 ranks with PARAMS; checks that
// each rank count wrote the same part bytes; the counts by path.
std::map<std::string, uint64_t> SluiceGrep(const TempDir& dir, const std::string& input,
                                           const std::string& params) {
  std::string first;
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir / ("out-" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, "run grep --input " + Quoted(input) + " --output " +
                                           Quoted(out) + " --overwrite" + params + kFlags);
    EXPECT_EQ(r.exit_code, 0) << params << " ranks=" << ranks << "\n" << r.output;
    if (r.exit_code != 0) return {};
    std::string all;
    for (const std::string& part : ReadParts(out, kPartitions)) all += part;
    if (ranks == 1) {
      first = all;
    } else {
      EXPECT_EQ(all, first) << params << ": " << ranks << " ranks differ from 1";
    }
  }
  return CountsByPath(first);
}

std::string PatternParam(const std::string& pattern) {
  return " --param " + Quoted("pattern=" + pattern);
}

// 40 small files (some ending without '\n') and one of about 2.5 MB.
std::vector<std::string> WriteCorpus(const TempDir& dir) {
  const std::string in = dir / "in";
  RunCommand("mkdir -p " + Quoted(in));
  std::vector<std::string> files;
  for (int i = 0; i < 40; ++i) {
    const std::string path = in + "/small-" + std::to_string(100 + i) + ".txt";
    WriteFile(path, MakeText(1000 + i, 500 + 200 * i, i % 3 == 0));
    files.push_back(path);
  }
  files.push_back(in + "/big.txt");
  WriteFile(files.back(), MakeText(7, 2500 << 10, true));
  return files;
}

TEST(GrepE2E, CountsEqualGrepPerFileAtOneTwoAndFourRanks) {
  TempDir dir;
  const std::vector<std::string> files = WriteCorpus(dir);
  for (const std::string pattern : {
           R"(static [a-z_]+ \()",          // literal then a class
           R"(^(foo|bar) .*[0-9]+$)",       // anchors at each line
           R"(^$)",                         // empty lines only
           R"(\bint\b.*;)",                 // word boundaries
           R"([[:upper:]]{3,}|error:)",     // class, count, alternation
           R"(a.b|caf.$)",                  // '.' over NUL and a Latin-1 byte
           R"(x{,1}z9 end$)",               // GNU's x{,n}; every match holds "z9 end"
           R"([a-z_]+ -> [a-z])",           // every match holds " -> ": searched for first
           R"(the [a-z]+)",                 // the literal search ignores case: "The", "THE" rejected after
           R"(i\+\+ // [^ ]+)",              // a literal that starts and ends with no letter
       }) {
    SCOPED_TRACE(pattern);
    const std::map<std::string, uint64_t> expected = GrepCounts("-E", pattern, files);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(SluiceGrep(dir, dir / "in", PatternParam(pattern)), expected);
  }
}

TEST(GrepE2E, IgnoreCaseAndInvertEqualGrepIAndV) {
  TempDir dir;
  const std::vector<std::string> files = WriteCorpus(dir);
  for (const std::string pattern : {R"(static [a-z_]+)", R"(^the|warn$)", R"([0-9] error:)"}) {
    SCOPED_TRACE(pattern);
    EXPECT_EQ(SluiceGrep(dir, dir / "in", PatternParam(pattern) + " --param ignore-case=true"),
              GrepCounts("-E -i", pattern, files));
  }
  const std::string pattern = R"(static|^$)";
  EXPECT_EQ(SluiceGrep(dir, dir / "in", PatternParam(pattern) + " --param invert=true"),
            GrepCounts("-E -v", pattern, files));
  EXPECT_EQ(SluiceGrep(dir, dir / "in",
                       PatternParam(pattern) + " --param invert=true --param ignore-case=yes"),
            GrepCounts("-E -v -i", pattern, files));
}

TEST(GrepE2E, CaretAndDollarMatchAtEachLinesStartAndEnd) {
  TempDir dir;
  const std::string file = dir / "in.txt";
  // The last line has no '\n': $ matches at the file's end too.
  WriteFile(file, "foo bar\nxfoo\nbarx\nfoo\n\nbar foo\nfoobar\nbar");
  const std::map<std::string, uint64_t> expected = {
      {"^foo", 3}, {"bar$", 3}, {"^foo$", 1}, {"^$", 1}, {"o$|^b", 5}, {"^", 8}, {"x$", 1}};
  for (const auto& [pattern, count] : expected) {
    SCOPED_TRACE(pattern);
    EXPECT_EQ(GrepCounts("-E", pattern, {file}), (std::map<std::string, uint64_t>{{file, count}}));
    EXPECT_EQ(SluiceGrep(dir, file, PatternParam(pattern)),
              (std::map<std::string, uint64_t>{{file, count}}));
  }
}

TEST(GrepE2E, ACarriageReturnBeforeTheNewlineIsNotPartOfTheLine) {
  TempDir dir;
  // As LineInput reads lines: one '\r' before '\n', or ending the file, is
  // dropped; a '\r' elsewhere stays. GNU grep on the same text without
  // those '\r' is the reference.
  const std::string crlf = "x\r\nax\r\nx \r\nx\r\r\nb\rx\nxy\r\n\r\nend x\r";
  const std::string lf = "x\nax\nx \nx\r\nb\rx\nxy\n\nend x";
  const std::string file = dir / "crlf.txt";
  const std::string twin = dir / "lf.txt";
  WriteFile(file, crlf);
  WriteFile(twin, lf);
  for (const std::string pattern : {"x$", "^x$", "x.$", "[[:space:]]$", "^$", "[[:cntrl:]]"}) {
    SCOPED_TRACE(pattern);
    const std::map<std::string, uint64_t> reference = GrepCounts("-E", pattern, {twin});
    std::map<std::string, uint64_t> expected;
    if (!reference.empty()) expected[file] = reference.at(twin);
    EXPECT_EQ(SluiceGrep(dir, file, PatternParam(pattern)), expected);
  }
  // `x$` matches 4 lines; grep sees the '\r' and finds 1.
  EXPECT_EQ(GrepCounts("-E", "x$", {twin}), (std::map<std::string, uint64_t>{{twin, 4}}));
  EXPECT_EQ(GrepCounts("-E", "x$", {file}), (std::map<std::string, uint64_t>{{file, 1}}));
}

// With --record-delimiter grep reads records, not blocks of lines that
// ignore the flag: each record is searched as lines of its own, so ';'
// ends a line as '\n' does. GNU grep on the text with ';' made '\n' is the
// reference.
TEST(GrepE2E, ARecordDelimiterEndsLinesAsANewlineDoes) {
  TempDir dir;
  std::string text;
  for (int i = 0; text.size() < (100 << 10); ++i) {
    text += (i % 7 == 0 ? "error " : "ok ") + std::to_string(i % 13) + (i % 3 == 0 ? "x" : "");
    text += i % 5 == 0 ? "\n" : ";";
  }
  const std::string file = dir / "records.txt";
  const std::string twin = dir / "lines.txt";
  WriteFile(file, text);
  std::string lines = text;
  std::replace(lines.begin(), lines.end(), ';', '\n');
  WriteFile(twin, lines);
  for (const std::string pattern : {"error", "x$", "^ok 1"}) {
    SCOPED_TRACE(pattern);
    const std::map<std::string, uint64_t> reference = GrepCounts("-E", pattern, {twin});
    ASSERT_EQ(reference.size(), 1u);
    EXPECT_EQ(SluiceGrep(dir, file, PatternParam(pattern) + " --record-delimiter ';'"),
              (std::map<std::string, uint64_t>{{file, reference.at(twin)}}));
  }
}

TEST(GrepE2E, CompressedFilesCountAsDecoded) {
  TempDir dir;
  const std::string in = dir / "in";
  RunCommand("mkdir -p " + Quoted(in));
  // Over 4 MB decoded: more than one block of lines from one split.
  WriteFile(in + "/big.txt", MakeText(11, 5 << 20, true));
  WriteFile(in + "/small.txt", MakeText(12, 10000, false));
  WriteFile(in + "/plain.txt", MakeText(13, 10000, true));
  CommandResult r = RunCommand("gzip " + Quoted(in + "/big.txt") + " && zstd -q --rm " +
                               Quoted(in + "/small.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string pattern = R"(static [a-z_]+ \(|^the .*[0-9]$)";
  std::map<std::string, uint64_t> expected =
      GrepCounts("-E", pattern, {in + "/big.txt.gz"}, "zcat");
  for (const auto& [path, count] : GrepCounts("-E", pattern, {in + "/small.txt.zst"}, "zstdcat")) {
    expected[path] = count;
  }
  for (const auto& [path, count] : GrepCounts("-E", pattern, {in + "/plain.txt"})) {
    expected[path] = count;
  }
  ASSERT_EQ(expected.size(), 3u);
  EXPECT_EQ(SluiceGrep(dir, in, PatternParam(pattern)), expected);
}

// A backtracking matcher (Perl, PCRE, std::regex) takes time exponential in
// the run of 'a's on these; RE2 takes linear time. No timing here: were it
// exponential the test would hang, and CTest's TIMEOUT fails it.
TEST(GrepE2E, CatastrophicBacktrackingPatternsFinish) {
  TempDir dir;
  const std::string file = dir / "a.txt";
  const std::string as(100000, 'a');
  std::string abs;
  Random random(5);
  for (int i = 0; i < 100000; ++i) abs += "ab"[random.Below(2)];
  abs[abs.size() - 21] = 'a';
  abs.back() = 'b';
  WriteFile(file, as + "!\naab\n" + as + "\n" + abs + "\n" + std::string(100000, 'b') + "\n");
  const std::map<std::string, uint64_t> expected = {
      {"(a+)+$", 1},           // nested quantifiers: the all-'a' line; the '!' line fails
      {"(a|aa)+b", 2},         // overlapping alternatives: "aab", the a/b line
      {"(a*)*(b|c)$", 3},      // "aab", the a/b line, the 'b' line
      {"[ab]*a[ab]{20}$", 2},  // 2^21 DFA states: the all-'a' line, the a/b line
  };
  for (const auto& [pattern, count] : expected) {
    SCOPED_TRACE(pattern);
    EXPECT_EQ(SluiceGrep(dir, file, PatternParam(pattern)),
              (std::map<std::string, uint64_t>{{file, count}}));
  }
}

TEST(GrepE2E, APatternRe2RefusesIsAUsageErrorNamingIt) {
  TempDir dir;
  WriteFile(dir / "in.txt", "aa\n");
  const std::string io = " --input " + Quoted(dir / "in.txt") + " --output " + Quoted(dir / "out");
  struct Case {
    std::string pattern;
    std::string why;
  };
  for (const Case& c : std::vector<Case>{
           {R"((a)\1)", R"(invalid escape sequence: \1 (backreferences are not supported)"},
           {"a(b", "missing ): a(b"},
           {"a)b", "unexpected ): a)b"},
           {"[a", "missing ]: [a"},
           {R"(\<a)", R"(GNU's \< is not supported; use \b (word boundary))"},
           {"[[=a=]]", "an equivalence class [= =] is not supported"},
           {"a{1001}", "invalid repetition size: {1001}"},
       }) {
    for (int ranks : {1, 2}) {
      SCOPED_TRACE(c.pattern + " ranks=" + std::to_string(ranks));
      CommandResult r = RunSluice(ranks, "run grep" + io + PatternParam(c.pattern));
      EXPECT_EQ(r.exit_code, kUsage) << r.output;
      const std::string message = "parameter 'pattern': '" + c.pattern +
                                  "' is not a valid regular expression: " + c.why;
      EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
      EXPECT_FALSE(Exists(dir / "out"));
    }
  }
}

}  // namespace
}  // namespace sluice::e2e
