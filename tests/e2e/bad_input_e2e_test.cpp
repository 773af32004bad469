// Bad input: what a user sees when the input is not tidy text. Each case runs
// the real `sluice run` (a plain process, and under mpirun with 2 ranks where
// the rank count could change the answer) and checks the behaviour the
// project defined for it against a reference computed here, never by Sluice.
//
// Every case also adds rows to a table that is printed when the test binary
// ends: the exit code and the first [error] line exactly as the user sees
// them (less the timestamp), and what is left in the output location. The
// project's reports quote that table, so a row states what happened, not
// what should have happened.
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kBadInput = 3;
constexpr int kPartitions = 5;
// Exit status of `timeout` when the command ran out of time: a hang.
constexpr int kTimedOut = 124;

// ---- The table --------------------------------------------------------------

struct Row {
  std::string name;
  std::string sees;
  std::string state;
};

std::vector<Row>& Rows() {
  static std::vector<Row> rows;
  return rows;
}

void AddRow(std::string name, std::string sees, std::string state) {
  Rows().push_back({std::move(name), std::move(sees), std::move(state)});
}

// A cell fit for a Markdown table and a terminal: '|' escaped, control and
// non-ASCII bytes (binary words, NULs) as \xNN.
std::string Cell(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// Prints the table once, after the last test, so that a full run of
// --gtest_filter='BadInput*' shows every case together.
class TablePrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    if (Rows().empty()) return;
    std::cout << "\n| case | what the user sees (exit code, first error line or result) | output state |\n"
              << "|---|---|---|\n";
    for (const Row& r : Rows()) {
      std::cout << "| " << Cell(r.name) << " | " << Cell(r.sees) << " | " << Cell(r.state) << " |\n";
    }
    std::cout << std::flush;
  }
};

[[maybe_unused]] ::testing::Environment* const kTablePrinter =
    ::testing::AddGlobalTestEnvironment(new TablePrinter);

// ---- Running and observing jobs --------------------------------------------

// `sluice ARGS` with a time limit, so that a hang (a symlink walked forever,
// a rank waiting for a dead peer) fails its case instead of the whole suite.
// `env` lets the launcher's leading VAR=value assignment follow `timeout`.
CommandResult Sluice(int ranks, const std::string& args, int limit_seconds = 120) {
  return RunCommand("timeout -k 10 " + std::to_string(limit_seconds) + " env " + MpiLauncher(ranks) +
                    BinPath("sluice") + " " + args);
}

std::string Quote(const std::string& path) { return "'" + path + "'"; }

std::string RanksName(int ranks) { return ranks == 1 ? "1 rank" : std::to_string(ranks) + " ranks"; }

// A log line without its "[HH:MM:SS.mmm] " timestamp, so that the table is
// stable from run to run.
std::string WithoutTimestamp(std::string line) {
  if (line.size() > 15 && line[0] == '[' && line[3] == ':' && line.compare(13, 2, "] ") == 0) {
    line.erase(0, 15);
  }
  return line;
}

// The first line of a run's output that logs an error.
std::string FirstErrorLine(const std::string& output) {
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("[error]") != std::string::npos) return WithoutTimestamp(line);
  }
  return "(no [error] line)";
}

// The last non-empty line of a run's output.
std::string LastLine(const std::string& output) {
  std::istringstream in(output);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return WithoutTimestamp(last);
}

// Joins per-run summaries into one cell.
std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : "; ") + item;
  return out;
}

std::string FailureSeen(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + ": `" + FirstErrorLine(r.output) + "`";
}

// What a user finds beside --output PARENT/NAME after the run.
std::string OutputState(const std::string& parent, const std::string& name) {
  const std::string out = parent + "/" + name;
  std::string state;
  if (!Exists(out)) {
    state = "no " + name + "/";
  } else {
    int parts = 0, nonempty = 0;
    for (const std::string& f : ListDir(out)) {
      if (f.rfind("part-", 0) != 0) continue;
      ++parts;
      nonempty += !ReadFile(out + "/" + f).empty();
    }
    state = name + "/: " + std::to_string(parts) + " part files (" + std::to_string(nonempty) +
            " non-empty)" + (Exists(out + "/_SUCCESS") ? " + _SUCCESS" : ", NO _SUCCESS");
  }
  state += Exists(parent + "/." + name + ".sluice-staging") ? "; staging LEFT BEHIND" : "; no staging";
  if (Exists(parent + "/." + name + ".sluice-work")) {
    state += "; ." + name + ".sluice-work kept";
  }
  return state;
}

bool NothingPublished(const std::string& parent, const std::string& name) {
  return !Exists(parent + "/" + name) && !Exists(parent + "/." + name + ".sluice-staging");
}

// The number of splits the plan made: "splits" of the report's "input"
// object (per-rank entries have their own "splits").
uint64_t PlannedSplits(const std::string& out) { return ReportNumber(out, "/input/splits"); }

// The largest peak RSS of any rank of OUT's job.
uint64_t PeakRss(const std::string& out) {
  uint64_t peak = 0;
  for (const nlohmann::json& rank : ReadJson(out + "/_report.json").value("per_rank", nlohmann::json::array())) {
    peak = std::max(peak, rank.value("peak_rss_bytes", uint64_t{0}));
  }
  return peak;
}

std::string Mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

std::string Secs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

// ---- The reference ----------------------------------------------------------

// jobs/wordcount.cpp's separators; every other byte (NUL, 0x80-0xff, DEL) is
// part of a word.
bool IsSeparator(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

using Counts = std::map<std::string, uint64_t>;

void AddWords(const std::string& text, Counts* counts) {
  std::string word;
  for (char c : text) {
    if (!IsSeparator(c)) {
      word.push_back(c);
    } else if (!word.empty()) {
      ++(*counts)[word];
      word.clear();
    }
  }
  if (!word.empty()) ++(*counts)[word];
}

// The exact part files WordCount must write: "word\tcount\n", word in part
// xxh3_64(word) mod P, sorted by bytes (std::string's order compares bytes
// as unsigned char, as memcmp does).
std::vector<std::string> ExpectedParts(const Counts& counts, int partitions = kPartitions) {
  std::vector<std::string> parts(partitions);
  for (const auto& [word, n] : counts) {
    parts[XXH3_64bits(word.data(), word.size()) % partitions] += word + "\t" + std::to_string(n) + "\n";
  }
  return parts;
}

void MakeDir(const std::string& path) {
  ASSERT_EQ(RunCommand("mkdir -p " + Quote(path)).exit_code, 0) << path;
}

std::string WordCountArgs(const std::string& input, const std::string& output,
                          const std::string& extra = "") {
  return "run wordcount --input " + Quote(input) + " --output " + Quote(output) + " --partitions " +
         std::to_string(kPartitions) + " " + extra;
}

// ---- 1. Binary data and NUL bytes -------------------------------------------

// Records are bytes: a NUL or an invalid UTF-8 sequence is data like any
// other byte, so a word may hold them, and only the six separators split.
TEST(BadInputE2E, BinaryDataAndNulBytesAreData) {
  TempDir dir;
  MakeDir(dir / "in");
  std::mt19937_64 rng(20260101);
  std::vector<std::string> vocab = {
      std::string("\0", 1),
      std::string("a\0b", 3),
      std::string("\0\0\0", 3),
      "\xff\xfe",
      "caf\xc3\xa9",
      "\xc3\x28",  // invalid UTF-8
      "\x85nel",
      "nb\xa0sp",
      "\x7f\x01\x02",
  };
  while (vocab.size() < 400) {
    std::string w;
    const size_t len = 1 + rng() % 8;
    while (w.size() < len) {
      const char c = static_cast<char>(rng() % 256);
      if (!IsSeparator(c)) w.push_back(c);
    }
    vocab.push_back(w);
  }
  static const char kSeparators[] = {' ', '\t', '\n', '\r', '\v', '\f'};
  std::vector<std::string> files;
  Counts reference;
  for (size_t bytes : {size_t{200} << 10, size_t{50} << 10, size_t{3} << 10}) {
    std::string text;
    while (text.size() < bytes) {
      text += vocab[rng() % vocab.size()];
      for (uint64_t s = 1 + rng() % 2; s > 0; --s) text.push_back(kSeparators[rng() % 6]);
    }
    text += vocab[rng() % vocab.size()];  // no trailing separator
    files.push_back(dir / ("in/f" + std::to_string(files.size()) + ".bin"));
    WriteFile(files.back(), text);
    AddWords(ReadFile(files.back()), &reference);
  }
  const std::vector<std::string> expected = ExpectedParts(reference);

  std::vector<std::vector<std::string>> outputs;
  std::vector<std::string> sees;
  for (int ranks : {1, 2}) {
    const std::string out = "out" + std::to_string(ranks);
    // 16K splits cut the files at arbitrary bytes, NULs included.
    CommandResult r = Sluice(ranks, WordCountArgs(dir / "in", dir / out, "--split-size 16K"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    if (r.exit_code != 0) {
      sees.push_back(RanksName(ranks) + ": " + FailureSeen(r));
      continue;
    }
    outputs.push_back(ReadParts(dir / out, kPartitions));
    EXPECT_EQ(outputs.back(), expected) << "ranks=" << ranks;
    sees.push_back(RanksName(ranks) + ": exit 0, " +
                   (outputs.back() == expected ? "= reference" : "DIFFERS from reference"));
  }
  const bool identical = outputs.size() == 2 && outputs[0] == outputs[1];
  EXPECT_TRUE(identical) << "1 and 2 ranks must write the same bytes";
  sees.push_back(std::to_string(reference.size()) + " distinct words");
  sees.push_back(std::string("1 vs 2 ranks ") + (identical ? "byte-identical" : "DIFFER"));
  AddRow("1. binary data and NUL bytes (3 files, 253 KiB, all 256 byte values, 16K splits)", Join(sees),
         OutputState(dir.path(), "out1"));
}

// ---- 2. CRLF ----------------------------------------------------------------

// One trailing '\r' is stripped from each line before Map, so a CRLF file
// gives the bytes of the same text with LF.
TEST(BadInputE2E, CrlfGivesTheSameBytesAsLf) {
  TempDir dir;
  MakeDir(dir / "lf");
  MakeDir(dir / "crlf");
  std::mt19937_64 rng(42);
  std::string lf;
  while (lf.size() < (100 << 10)) {
    for (uint64_t w = rng() % 12; w > 0; --w) lf += "w" + std::to_string(rng() % 300) + (w > 1 ? " " : "");
    lf += "\n";
  }
  lf += "unterminated last line";
  std::string crlf;
  for (char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  WriteFile(dir / "lf/t.txt", lf);
  WriteFile(dir / "crlf/t.txt", crlf + "\r");  // a CR at end of file ends the last line too
  Counts reference;
  AddWords(lf, &reference);
  const std::vector<std::string> expected = ExpectedParts(reference);

  // 4K splits put some boundaries between a '\r' and its '\n'.
  CommandResult r = Sluice(1, WordCountArgs(dir / "lf", dir / "out_lf", "--split-size 4K"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> lf_parts = ReadParts(dir / "out_lf", kPartitions);
  EXPECT_EQ(lf_parts, expected);
  std::vector<std::string> sees = {std::string("LF: exit 0, ") +
                                   (lf_parts == expected ? "= reference" : "DIFFERS from reference")};
  for (int ranks : {1, 2}) {
    const std::string out = "out_crlf" + std::to_string(ranks);
    r = Sluice(ranks, WordCountArgs(dir / "crlf", dir / out, "--split-size 4K"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    if (r.exit_code != 0) {
      sees.push_back("CRLF " + RanksName(ranks) + ": " + FailureSeen(r));
      continue;
    }
    const std::vector<std::string> parts = ReadParts(dir / out, kPartitions);
    EXPECT_EQ(parts, lf_parts) << "CRLF must give the LF bytes, ranks=" << ranks;
    sees.push_back("CRLF " + RanksName(ranks) + ": exit 0, " +
                   (parts == lf_parts ? "same bytes as LF" : "DIFFERS from LF"));
  }

  // WordCount treats '\r' as a separator, so it cannot tell whether the '\r'
  // was stripped. Distinct keeps the rest of the line as the value: it sees
  // "v" for "k\tv\r\n" only if exactly one '\r' is stripped, and "v\r" for
  // "k\tv\r\r\n".
  MakeDir(dir / "mixed");
  WriteFile(dir / "mixed/m.txt", "k\tv\nk\tv\r\nk\tv\r\r\nj\tw\r\nm\tx\nm\tx\r");
  r = Sluice(1, "run distinct --partitions 1 --input " + Quote(dir / "mixed") + " --output " +
                    Quote(dir / "out_distinct"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string distinct = r.exit_code == 0 ? ReadParts(dir / "out_distinct", 1)[0] : "";
  EXPECT_EQ(distinct, "j\t1\nk\t2\nm\t1\n") << "k: {v, v\\r}; m: {x} (CR at EOF stripped too)";
  sees.push_back("distinct over mixed endings: exit " + std::to_string(r.exit_code) + ", " +
                 (distinct == "j\t1\nk\t2\nm\t1\n" ? "exactly one CR stripped per line" : "got " + distinct));
  AddRow("2. CRLF (100 KiB, 4K splits; CR at EOF; mixed LF/CRLF/CRCRLF via distinct)", Join(sees),
         OutputState(dir.path(), "out_crlf2"));
}

// ---- 3. A 100 MB single line -------------------------------------------------

// A line is one record however long: the reader grows its buffer rather than
// cut it, and the range that owns the line's start reads all of it.
TEST(BadInputE2E, HundredMegabyteLineIsOneRecord) {
  TempDir dir;
  MakeDir(dir / "in");
#if defined(__SANITIZE_ADDRESS__)
  // Instrumented, the 100 MiB line took 135 s of CI's sanitizer pass; a
  // 32 MiB line in 4M splits takes the same paths (a buffer grown many times
  // over, one range reading the whole line, seven of its eight reading nothing).
  // The Release pass runs the 100 MiB.
  constexpr size_t kLineBytes = size_t{32} << 20;
  const std::string kManySplits = "--split-size 4M";
#else
  constexpr size_t kLineBytes = size_t{100} << 20;
  const std::string kManySplits = "--split-size 16M";
#endif
  std::vector<std::string> vocab;
  for (int i = 0; i < 1000; ++i) vocab.push_back("w" + std::to_string(i));
  std::vector<uint64_t> n(vocab.size());
  {
    std::string line;
    line.reserve(kLineBytes + 16);
    uint64_t x = 88172645463325252ull;  // xorshift64: cheap and deterministic
    while (line.size() < kLineBytes) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      const size_t w = x % vocab.size();
      ++n[w];
      if (!line.empty()) line.push_back(' ');
      line += vocab[w];
    }
    WriteFile(dir / "in/line.txt", line);
  }
  Counts reference;
  for (size_t i = 0; i < vocab.size(); ++i) {
    if (n[i] > 0) reference[vocab[i]] = n[i];
  }
  const std::vector<std::string> expected = ExpectedParts(reference);

  for (bool trailing_newline : {false, true}) {
    if (trailing_newline) {
      std::ofstream(dir / "in/line.txt", std::ios::app | std::ios::binary) << '\n';
    }
    for (int ranks : {1, 2}) {
      const std::string out = std::string(trailing_newline ? "out_nl" : "out") + std::to_string(ranks);
      // 2 ranks also with smaller splits: 7 (8 under ASan) ranges of one
      // line over two ranks, all but one of which must yield nothing.
      const std::string split = ranks == 1 ? "" : kManySplits;
      CommandResult r = Sluice(ranks, WordCountArgs(dir / "in", dir / out, split));
      EXPECT_EQ(r.exit_code, 0) << r.output;
      std::string sees = "exit " + std::to_string(r.exit_code);
      if (r.exit_code == 0) {
        const std::vector<std::string> parts = ReadParts(dir / out, kPartitions);
        EXPECT_EQ(parts, expected) << "ranks=" << ranks << " newline=" << trailing_newline;
        const uint64_t records = ReportCounter(dir / out, "input_records");
        EXPECT_EQ(records, 1u) << "the line must be read as one record";
        sees += std::string(parts == expected ? ", counts = reference" : ", counts DIFFER") + ", " +
                std::to_string(records) + " input record(s), " + std::to_string(PlannedSplits(dir / out)) +
                " split(s), peak RSS " + Mib(PeakRss(dir / out)) + " (max over ranks), " + Secs(r.seconds);
      } else {
        sees = FailureSeen(r);
      }
      AddRow("3. one " + std::to_string(kLineBytes >> 20) + " MiB line, " + (trailing_newline ? "with" : "no") +
                 " trailing newline (" + RanksName(ranks) +
                 (split.empty() ? ", default 64M splits" : ", " + split) + ")",
             sees, OutputState(dir.path(), out));
    }
  }
}

// ---- 4. Zero-byte files -------------------------------------------------------

// A zero-byte file is valid input with no records: it contributes nothing,
// and input made only of such files is an empty result, not an error.
TEST(BadInputE2E, ZeroByteFilesContributeNothing) {
  TempDir dir;
  MakeDir(dir / "mixed/sub");
  MakeDir(dir / "empty/sub");
  WriteFile(dir / "mixed/a_empty.txt", "");
  WriteFile(dir / "mixed/b.txt", "one two two\nthree\n");
  WriteFile(dir / "mixed/c_empty.txt", "");
  WriteFile(dir / "mixed/sub/d_empty.txt", "");
  WriteFile(dir / "mixed/sub/e.txt", "two three four");
  for (const char* f : {"a.txt", "b.txt", "sub/c.txt"}) WriteFile(dir / (std::string("empty/") + f), "");
  Counts reference;
  AddWords(ReadFile(dir / "mixed/b.txt") + "\n" + ReadFile(dir / "mixed/sub/e.txt"), &reference);
  const std::vector<std::string> expected = ExpectedParts(reference);
  const std::vector<std::string> no_words(kPartitions);

  for (const std::string input : {"mixed", "empty"}) {
    const std::vector<std::string>& want = input == "mixed" ? expected : no_words;
    std::vector<std::string> sees;
    for (int ranks : {1, 2}) {
      const std::string out = "out_" + input + std::to_string(ranks);
      CommandResult r = Sluice(ranks, WordCountArgs(dir / input, dir / out));
      EXPECT_EQ(r.exit_code, 0) << r.output;
      if (r.exit_code != 0) {
        sees.push_back(RanksName(ranks) + ": " + FailureSeen(r));
        continue;
      }
      const std::vector<std::string> parts = ReadParts(dir / out, kPartitions);
      EXPECT_EQ(parts, want) << input << " ranks=" << ranks;
      EXPECT_TRUE(Exists(dir / (out + "/_SUCCESS")));
      sees.push_back(RanksName(ranks) + ": exit 0, " +
                     (parts != want      ? "DIFFERS from reference"
                      : input == "mixed" ? "= reference"
                                         : "all parts empty"));
    }
    AddRow(input == "mixed" ? "4. zero-byte files mixed with 2 non-empty ones (3 empty, nested)"
                            : "4. only zero-byte files (3, nested)",
           Join(sees), OutputState(dir.path(), "out_" + input + "2"));
  }
}

// ---- 5. 10,000 tiny files ------------------------------------------------------

// Small files are grouped into splits, so 10,000 of them make a few map
// tasks, not 10,000, and the job costs about what 110 KB of input costs.
// The time limit guards against per-file overhead: before commit bd0bf12
// each file's LineReader zero-filled a 4 MiB buffer, and this case took
// 132-147 s. Once the 1-rank run exceeds the limit, the 2-rank run is
// skipped so that the suite stays within a minute.
TEST(BadInputE2E, TenThousandTinyFilesMakeFewSplits) {
  constexpr int kLimitSeconds = 30;
  TempDir dir;
  MakeDir(dir / "in");
  Counts reference;
  for (int i = 0; i < 10000; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "in/f%05d.txt", i);
    const std::string text = "w" + std::to_string(i % 100) + " t" + std::to_string(i % 7) + "\n";
    WriteFile(dir / name, text);
    AddWords(text, &reference);
  }
  const std::vector<std::string> expected = ExpectedParts(reference);
  std::vector<std::vector<std::string>> outputs;
  for (int ranks : {1, 2}) {
    const std::string out = "out" + std::to_string(ranks);
    CommandResult r = Sluice(ranks, WordCountArgs(dir / "in", dir / out), kLimitSeconds);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::string sees = "exit " + std::to_string(r.exit_code);
    if (r.exit_code == 0) {
      outputs.push_back(ReadParts(dir / out, kPartitions));
      EXPECT_EQ(outputs.back(), expected) << "ranks=" << ranks;
      const uint64_t splits = PlannedSplits(dir / out);
      EXPECT_GE(splits, 1u);
      EXPECT_LE(splits, 10u) << "tiny files must be grouped into few splits";
      sees += std::string(outputs.back() == expected ? ", counts = reference" : ", counts DIFFER") + ", " +
              std::to_string(splits) + " split(s), " + Secs(r.seconds) + " wall";
    } else if (r.exit_code == kTimedOut) {
      sees += ": still running after " + std::to_string(kLimitSeconds) +
              " s, stopped by the test (SIGTERM); last line `" + LastLine(r.output) + "`";
    } else {
      sees = FailureSeen(r);
    }
    AddRow("5. 10,000 tiny files (8-10 B each, one directory; " + RanksName(ranks) + ")", sees,
           OutputState(dir.path(), out));
    if (r.exit_code == kTimedOut) {
      ADD_FAILURE() << "10,000 tiny files (110 KB) took over " << kLimitSeconds
                    << " s; skipping the 2-rank run";
      break;
    }
  }
  EXPECT_TRUE(outputs.size() == 2 && outputs[0] == outputs[1]) << "1 and 2 ranks must write the same bytes";
}

// ---- 6. An unreadable file ----------------------------------------------------

// A file the user cannot read is bad input, found while listing: the job is
// refused before any work (no output directory, no staging) and the message
// names the file. Root ignores permissions, so as root the job runs as
// nobody; input and output then live where nobody may read and write.
TEST(BadInputE2E, UnreadableFileIsRefusedBeforeAnyWork) {
  TempDir dir;
  const std::string as_user = geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  MakeDir(dir / "in");
  MakeDir(dir / "w");
  ASSERT_EQ(chmod((dir / "w").c_str(), 01777), 0);
  WriteFile(dir / "in/readable.txt", "some words\n");
  WriteFile(dir / "in/secret.txt", "hidden words\n");
  ASSERT_EQ(chmod((dir / "in/secret.txt").c_str(), 0), 0);
  // The run must fail for the input, not because the build directory is out
  // of nobody's reach (it must be readable and searchable by others).
  CommandResult probe =
      RunCommand(as_user + "sh -c " +
                 Quote(BinPath("sluice") + " jobs >/dev/null && test -r " + (dir / "in/readable.txt") +
                       " && ! test -r " + (dir / "in/secret.txt")));
  ASSERT_EQ(probe.exit_code, 0) << "as uid 65534: sluice must run (chmod o+rx the build tree) and only "
                                   "secret.txt be unreadable\n"
                                << probe.output;

  CommandResult r = RunCommand("timeout -k 10 60 " + as_user + BinPath("sluice") + " " +
                               WordCountArgs(dir / "in", dir / "w/out"));
  EXPECT_EQ(r.exit_code, kBadInput) << r.output;
  EXPECT_NE(FirstErrorLine(r.output).find(dir / "in/secret.txt"), std::string::npos)
      << "the message must name the file\n"
      << r.output;
  EXPECT_EQ(r.output.find("map+shuffle"), std::string::npos) << "refused before any work\n" << r.output;
  EXPECT_FALSE(Exists(dir / "w/out"));
  EXPECT_FALSE(Exists(dir / "w/.out.sluice-staging"));
  EXPECT_FALSE(Exists(dir / "w/.out.sluice-work"));
  AddRow(std::string("6. unreadable file (mode 000, run as ") + (as_user.empty() ? "self" : "nobody") +
             ", 1 rank)",
         FailureSeen(r), OutputState(dir / "w", "out"));
}

// ---- 7. A directory symlink loop ----------------------------------------------

// Walking a directory that links back to an ancestor must neither hang nor
// count a file twice: the loop is refused before any work with exit 3,
// naming the looping path (input_lister.h), as a typo'd link usually is.
TEST(BadInputE2E, DirectorySymlinkLoopNeitherHangsNorDoubleCounts) {
  TempDir dir;
  for (const std::string target : {"..", "../.."}) {
    const std::string root = dir / (target == ".." ? "up1" : "up2");
    MakeDir(root + "/in/a");
    WriteFile(root + "/in/x.txt", "real words here\n");
    WriteFile(root + "/in/a/y.txt", "more real words\n");
    ASSERT_EQ(symlink(target.c_str(), (root + "/in/a/loop").c_str()), 0);
    Counts reference;
    AddWords(ReadFile(root + "/in/x.txt") + ReadFile(root + "/in/a/y.txt"), &reference);

    const std::string out = target == ".." ? "out1" : "out2";
    CommandResult r = Sluice(1, WordCountArgs(root + "/in", dir / out), 60);
    EXPECT_NE(r.exit_code, kTimedOut) << "walking the loop hung\n" << r.output;
    EXPECT_LT(r.exit_code, 128) << "crashed\n" << r.output;
    EXPECT_EQ(r.exit_code, kBadInput) << r.output;
    EXPECT_NE(FirstErrorLine(r.output).find(root + "/in/a/loop"), std::string::npos)
        << "the message must name the looping path\n"
        << r.output;
    EXPECT_TRUE(NothingPublished(dir.path(), out));
    EXPECT_FALSE(Exists(dir / ("." + out + ".sluice-work")));
    const std::string sees = FailureSeen(r);
    AddRow("7. directory symlink loop in/a/loop -> " + target + " (1 rank)", sees + ", " + Secs(r.seconds),
           OutputState(dir.path(), out));
  }
}

// A file reached twice under other names (a symlink to a sibling directory,
// a hard link) is one input: read once, never counted twice.
TEST(BadInputE2E, FileReachedTwiceThroughSymlinkOrHardLinkCountsOnce) {
  TempDir dir;
  MakeDir(dir / "in/a");
  MakeDir(dir / "in/b");
  WriteFile(dir / "in/a/y.txt", "one two two\n");
  ASSERT_EQ(symlink("../a", (dir / "in/b/link").c_str()), 0);
  ASSERT_EQ(link((dir / "in/a/y.txt").c_str(), (dir / "in/hard.txt").c_str()), 0);
  Counts reference;
  AddWords(ReadFile(dir / "in/a/y.txt"), &reference);
  for (int ranks : {1, 2}) {
    const std::string out = "out" + std::to_string(ranks);
    CommandResult r = Sluice(ranks, WordCountArgs(dir / "in", dir / out), 60);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(ReadParts(dir / out, kPartitions), ExpectedParts(reference))
        << "a file reached under three names must count once";
    AddRow("7b. one file under three names (symlinked dir, hard link; " + RanksName(ranks) + ")",
           "exit 0, counted once = reference", OutputState(dir.path(), out));
  }
}

// ---- 8. A glob matching nothing -------------------------------------------------

// A glob that matches nothing is almost always a typo: refused before any
// work, naming the pattern, with nothing written.
TEST(BadInputE2E, GlobMatchingNothingIsRefused) {
  TempDir dir;
  MakeDir(dir / "in");
  WriteFile(dir / "in/a.txt", "not a log\n");
  const std::string pattern = dir / "in/*.log";
  for (int ranks : {1, 2}) {
    const std::string out = "out" + std::to_string(ranks);
    CommandResult r = Sluice(ranks, WordCountArgs(pattern, dir / out));
    EXPECT_EQ(r.exit_code, kBadInput) << r.output;
    EXPECT_NE(FirstErrorLine(r.output).find(pattern), std::string::npos)
        << "the message must name the pattern\n"
        << r.output;
    EXPECT_EQ(r.output.find("map+shuffle"), std::string::npos) << "refused before any work\n" << r.output;
    EXPECT_TRUE(NothingPublished(dir.path(), out));
    EXPECT_FALSE(Exists(dir / ("." + out + ".sluice-work")));
    AddRow("8. glob matching nothing (" + RanksName(ranks) + ")", FailureSeen(r),
           OutputState(dir.path(), out));
  }
}

// ---- 9. An input that vanishes mid-job -------------------------------------------

// The vanishing_input test job deletes (or truncates) one of its inputs on
// its first Map call; with 16K splits the victim, last in list order, is
// read by a later map task, after the plan recorded its size.
class BadInputVanishingE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeDir(dir_ / "in");
    std::string first;
    for (int i = 0; first.size() < (200 << 10); ++i)
      first += "alpha beta gamma " + std::to_string(i % 50) + "\n";
    WriteFile(dir_ / "in/a_first.txt", first);
    for (int i = 0; victim_text_.size() < (64 << 10); ++i) {
      victim_text_ += "victim words " + std::to_string(i % 50) + "\n";
    }
  }

  std::string Victim() const { return dir_ / "in/z_victim.txt"; }

  CommandResult Run(int ranks, const std::string& out, const std::string& extra_params) {
    WriteFile(Victim(), victim_text_);
    return Sluice(ranks, "run --plugin " + PluginPath("test/libvanishing_input.so") +
                             " --split-size 16K --param victim=" + Quote(Victim()) + " " + extra_params +
                             " --input " + Quote(dir_ / "in") + " --output " + Quote(dir_ / out));
  }

  TempDir dir_;
  std::string victim_text_;
};

// Defined: exit 3 (bad input), a message naming the vanished file, nothing
// published and no staging left.
TEST_F(BadInputVanishingE2E, DeletedFileFailsNamingIt) {
  for (int ranks : {1, 2}) {
    const std::string out = "out" + std::to_string(ranks);
    CommandResult r = Run(ranks, out, "");
    ASSERT_FALSE(Exists(Victim())) << "the test job did not delete the victim\n" << r.output;
    EXPECT_EQ(r.exit_code, kBadInput) << r.output;
    EXPECT_NE(FirstErrorLine(r.output).find(Victim()), std::string::npos)
        << "the message must name the vanished file\n"
        << r.output;
    EXPECT_TRUE(NothingPublished(dir_.path(), out)) << r.output;
    AddRow("9a. input deleted mid-job (" + RanksName(ranks) + ")", FailureSeen(r),
           OutputState(dir_.path(), out));
  }
}

// Defined: exit 3 (bad input), a message naming the file that changed and
// both sizes, nothing published.
TEST_F(BadInputVanishingE2E, TruncatedFileFailsNamingIt) {
  const uint64_t half = victim_text_.size() / 2;
  for (int ranks : {1, 2}) {
    const std::string out = "out" + std::to_string(ranks);
    CommandResult r = Run(ranks, out, "--param truncate_to=" + std::to_string(half));
    struct stat st;
    ASSERT_EQ(stat(Victim().c_str(), &st), 0);
    ASSERT_EQ(static_cast<uint64_t>(st.st_size), half) << "the test job did not truncate the victim";
    EXPECT_EQ(r.exit_code, kBadInput) << r.output;
    EXPECT_NE(FirstErrorLine(r.output).find(Victim()), std::string::npos)
        << "the message must name the truncated file\n"
        << r.output;
    EXPECT_TRUE(NothingPublished(dir_.path(), out)) << r.output;
    AddRow("9b. input truncated to half mid-job (" + RanksName(ranks) + ")", FailureSeen(r),
           OutputState(dir_.path(), out));
  }
}

}  // namespace
}  // namespace sluice::e2e
