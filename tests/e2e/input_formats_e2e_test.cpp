// CSV, JSON Lines and custom record delimiters end to end: the records a
// split run hands to Map, at 1, 2 and 4 ranks and with splits far smaller
// than the file (so that split boundaries land inside quoted fields, inside
// delimiters and inside blank-line runs), must be exactly the records that
// python3's csv / json modules (or a plain str.split) read from the same
// file: none lost, none twice, none cut. Compressed copies (gzip: one task;
// BGZF: split at blocks) must give the same.
//
// The echo jobs are tests/e2e/plugins/records_job.cpp.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kBadInput = 3;

CommandResult Sh(const std::string& command) {
  CommandResult r = RunCommand(command);
  EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.output;
  return r;
}

// The values of a map-only echo run, in file order: each part is one split,
// parts are in split order, and within a part lines are "offset\tvalue".
std::string Values(const std::string& out) {
  std::string all;
  for (const std::string& name : ListDir(out)) {
    if (name.rfind("part-", 0) != 0) continue;
    const std::string part = ReadFile(out + "/" + name);
    size_t pos = 0;
    while (pos < part.size()) {
      const size_t nl = part.find('\n', pos);
      const size_t tab = part.find('\t', pos);
      all += part.substr(tab + 1, nl - tab - 1) + "\n";
      pos = nl + 1;
    }
  }
  return all;
}

// Where two outputs first differ, for a failure message (gtest's own diff
// of large strings is quadratic).
std::string FirstDifference(const std::string& got, const std::string& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  const size_t from = i < 80 ? 0 : i - 80;
  return "first difference at byte " + std::to_string(i) + " of " + std::to_string(got.size()) + " / " +
         std::to_string(want.size()) + "\n got: ..." + got.substr(from, 160) + "\nwant: ..." +
         want.substr(from, 160);
}

// The python3 escaping the echo jobs use.
const char* kPyEscape = R"PY(
def esc(s):
    out = []
    for c in s:
        out.append({'\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '|': '\\|', '\0': '\\0'}.get(c, c))
    return ''.join(out)
)PY";

class InputFormatsE2E : public ::testing::Test {
 public:
  TempDir dir_;

  // Writes `script` (python3, after the escaping helper) and runs it.
  std::string Python(const std::string& script) {
    const std::string path = dir_ / "script.py";
    WriteFile(path, std::string(kPyEscape) + script);
    CommandResult r = Sh("python3 " + path);
    return r.output;
  }

  // Runs the echo plugin `plugin` over `input` at 1, 2 and 4 ranks; every
  // run's values must equal `expected`.
  void ExpectRecords(const std::string& plugin, const std::string& input, const std::string& flags,
                     const std::string& expected) {
    for (int ranks : {1, 2, 4}) {
      const std::string out = dir_ / ("out-" + std::to_string(ranks));
      CommandResult r = RunSluice(ranks, "run --plugin " + PluginPath("test/lib" + plugin + ".so") +
                                             " --quiet --overwrite " + flags + " --input " + input +
                                             " --output " + out);
      ASSERT_EQ(r.exit_code, 0) << ranks << " ranks\n" << r.output;
      const std::string got = Values(out);
      EXPECT_TRUE(got == expected) << input << " at " << ranks << " ranks: " << FirstDifference(got, expected);
    }
  }
};

// ---- CSV ------------------------------------------------------------------

// A CSV full of what breaks naive splitters: quoted fields with newlines
// (CRLF and LF), doubled quotes, delimiters, empty fields; lines end in CRLF
// or LF at random. Returns python's reading of it, escaped and '|'-joined.
std::string MakeCsv(InputFormatsE2E* t, const std::string& path, int rows, int seed) {
  return t->Python(R"PY(
import csv, io, random
random.seed()PY" + std::to_string(seed) + R"PY()
pieces = ['a', 'b,c', 'say ""hi""', 'line1\nline2', 'x\r\ny', '', ' sp ', '\n', ',,', 'end"']
def field():
    k = random.random()
    if k < 0.5:
        return ''.join(random.choice('abcxyz019 ') for _ in range(random.randint(0, 12)))
    s = ''.join(random.choice(pieces) for _ in range(random.randint(1, 4)))
    return s
out = io.StringIO(newline='')
w = csv.writer(out, lineterminator='\r\n', quoting=csv.QUOTE_MINIMAL)
w.writerow(['id', 'name', 'note'])
for i in range()PY" + std::to_string(rows) + R"PY():
    w.writerow([str(i), field(), field()])
data = out.getvalue()
# Half the records end in a bare LF (a file written on another system).
data = data.replace('\r\n', '\n') if False else data
open(')PY" + path + R"PY(', 'w', newline='').write(data)
for row in csv.reader(io.StringIO(data, newline=''), strict=True):
    pass
rows = list(csv.reader(io.StringIO(data, newline='')))[1:]
print(''.join('|'.join(esc(f) for f in r) + '\n' for r in rows), end='')
)PY");
}

TEST_F(InputFormatsE2E, CsvRecordsWithQuotedNewlinesAreReadOnceAcrossTinySplits) {
  const std::string csv = dir_ / "table.csv";
  const std::string expected = MakeCsv(this, csv, 3000, 11);
  ASSERT_FALSE(expected.empty());
  // ~100 KB cut into ~25 splits of 4 KB: most boundaries fall inside some
  // record, many inside a quoted field.
  ExpectRecords("rows", csv, "--split-size 4K", expected);
}

TEST_F(InputFormatsE2E, CompressedCsvGivesTheSameRecords) {
  const std::string csv = dir_ / "table.csv";
  const std::string expected = MakeCsv(this, csv, 3000, 12);
  Sh("gzip -c " + csv + " > " + (dir_ / "table.csv.gz"));
  ExpectRecords("rows", dir_ / "table.csv.gz", "--split-size 4K", expected);
  // BGZF with small blocks is split at blocks: the census then counts
  // quotes in decoded ranges.
  Sh("bgzip -c " + csv + " > " + (dir_ / "table.csv.bgz"));
  ExpectRecords("rows", dir_ / "table.csv.bgz", "--split-size 8K", expected);
}

TEST_F(InputFormatsE2E, TsvWithoutQuotingAndNoHeader) {
  const std::string tsv = dir_ / "t.tsv";
  WriteFile(tsv, "a\t\"b\tc\n\"\"\t\t\nlast\tx");
  // With --csv-quote none a quote is an ordinary byte.
  ExpectRecords("rows", tsv, "--csv-delimiter tab --csv-quote none --csv-header no",
                "a|\"b|c\n\"\"||\nlast|x\n");
}

TEST_F(InputFormatsE2E, UnbalancedQuoteAtEndOfFileIsABadRecordNamingItsByte) {
  const std::string csv = dir_ / "open.csv";
  WriteFile(csv, "id,name\n1,ok\n2,\"never closed\n3,lost\n");
  const std::string out = dir_ / "out";
  CommandResult r = RunSluice(1, "run --plugin " + PluginPath("test/librows.so") + " --input " + csv +
                                     " --output " + out);
  EXPECT_EQ(r.exit_code, kBadInput) << r.output;
  EXPECT_NE(r.output.find("open.csv"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("byte 13"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(out));
  // Allowed one bad record, the rest is published and the bad one listed.
  r = RunSluice(2, "run --plugin " + PluginPath("test/librows.so") + " --max-bad-records 1 --input " + csv +
                       " --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Values(out), "1|ok\n");
  EXPECT_EQ(ReportCounter(out, "bad_records"), 1u);
}

// ---- JSON Lines -----------------------------------------------------------

TEST_F(InputFormatsE2E, JsonLinesTypedFieldsMalformedLinesAndWrongTypes) {
  const std::string jsonl = dir_ / "events.jsonl";
  // python writes the file and prints the expected values; bad lines
  // (malformed JSON, an id that is a string) are counted, not printed.
  const std::string printed = Python(R"PY(
import json, random
random.seed(5)
lines, expected, bad = [], [], 0
for i in range(4000):
    k = random.random()
    if k < 0.03:
        lines.append('{"id": ' + str(i) + ', "user": {"name": "trunc')
        bad += 1
    elif k < 0.05:
        lines.append(json.dumps({"id": str(i), "user": {"name": "s"}}))
        bad += 1
    elif k < 0.08:
        lines.append('   ')
    else:
        rec = {"id": i, "ts": "2024-03-01T00:00:00Z"}
        if random.random() < 0.8:
            rec["user"] = {"name": random.choice(["ann", "bob|x", "tab\there", "nl\nin", "\u00e9t\u00e9", "q\"q"]), "id": i}
        lines.append(json.dumps(rec, ensure_ascii=random.random() < 0.5))
        expected.append(str(i) + '|' + (esc(rec["user"]["name"]) if "user" in rec else '-'))
open(')PY" + jsonl + R"PY(', 'w', encoding='utf-8').write('\n'.join(lines) + '\n')
print(bad)
print(''.join(e + '\n' for e in expected), end='')
)PY");
  const size_t nl = printed.find('\n');
  const uint64_t bad = std::stoull(printed.substr(0, nl));
  const std::string expected = printed.substr(nl + 1);
  ASSERT_GT(bad, 0u);
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir_ / ("json-" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, "run --plugin " + PluginPath("test/librows.so") +
                                           " --quiet --split-size 8K --max-bad-records 1000 --input " + jsonl +
                                           " --output " + out);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string got = Values(out);
    EXPECT_TRUE(got == expected) << ranks << " ranks: " << FirstDifference(got, expected);
    EXPECT_EQ(ReportCounter(out, "bad_records"), bad) << ranks << " ranks";
  }
  // Without room for bad records: exit 3 naming the file and the byte.
  CommandResult r = RunSluice(1, "run --plugin " + PluginPath("test/librows.so") + " --input " + jsonl +
                                     " --output " + (dir_ / "strict"));
  EXPECT_EQ(r.exit_code, kBadInput) << r.output;
  EXPECT_NE(r.output.find("events.jsonl"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(dir_ / "strict"));
}

// ---- record delimiters ----------------------------------------------------

// A text rich in the delimiters' bytes, and python's split of it.
std::string Delimited(InputFormatsE2E* t, const std::string& path, const std::string& split_expr) {
  return t->Python(R"PY(
import random
random.seed(3)
alphabet = ['a', 'b', '\n', '\n\n', '\n\n\n', '\0', '<END>', '<EN', 'D>', ' ', '\r\n']
data = ''.join(random.choice(alphabet) for _ in range(40000))
open(')PY" + path + R"PY(', 'w', newline='').write(data)
records = )PY" + split_expr + R"PY(
print(''.join(esc(r) + '\n' for r in records), end='')
)PY");
}

TEST_F(InputFormatsE2E, NulSeparatedRecords) {
  const std::string f = dir_ / "nul.txt";
  std::string expected = Delimited(this, f, "data.split('\\0')\nif records and records[-1] == '': records.pop()");
  ExpectRecords("records", f, "--split-size 2K --record-delimiter '\\0'", expected);
}

TEST_F(InputFormatsE2E, StringDelimiterThatCannotOverlapItself) {
  const std::string f = dir_ / "end.txt";
  std::string expected =
      Delimited(this, f, "data.split('<END>')\nif records and records[-1] == '': records.pop()");
  ExpectRecords("records", f, "--split-size 2K --record-delimiter '<END>'", expected);
}

TEST_F(InputFormatsE2E, BlankLineSeparatedParagraphs) {
  const std::string f = dir_ / "para.txt";
  // Paragraph mode: a record is a run of non-blank lines (a line blank
  // when empty or a lone '\r'); it keeps the line ends inside it and
  // drops the one (and its '\r') after its last line.
  std::string expected = Delimited(this, f, R"PY([]
cur = []
for ln in data.split('\n'):
    if ln in ('', '\r'):
        if cur: records.append('\n'.join(cur)); cur = []
    else:
        cur.append(ln)
if cur: records.append('\n'.join(cur))
records = [r[:-1] if r.endswith('\r') else r for r in records])PY");
  ExpectRecords("records", f, "--split-size 2K --record-delimiter paragraph", expected);
}

TEST_F(InputFormatsE2E, SelfOverlappingDelimiterIsRefused) {
  const std::string f = dir_ / "x.txt";
  WriteFile(f, "a||b");
  CommandResult r = RunSluice(1, "run --plugin " + PluginPath("test/librecords.so") +
                                     " --record-delimiter '||' --input " + f + " --output " + (dir_ / "o"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--record-delimiter"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sluice::e2e
