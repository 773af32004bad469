// The stream job on CSV (--param input=csv): each record reaches the
// mapper as one line, quoted newlines, delimiters, tabs and backslashes
// included (fields joined by tabs, escaped), checked against Python's csv
// module (tests/e2e/csv_lines_reference.py) at 1, 2 and 4 ranks, with
// splits that cut quoted fields. Malformed records are bad records, as for
// a C++ CsvInput job.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

const std::string kExamples = std::string(SLUICE_SOURCE_DIR) + "/examples/streaming";

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

std::string Reference() {
  const std::string here = __FILE__;
  return "python3 " + Quoted(here.substr(0, here.rfind('/') + 1) + "csv_lines_reference.py");
}

// Cities, some of which need quoting or escaping on the mapper's line.
const std::vector<std::string> kCities = {"Lyon", "Saint-\xC3\x89tienne", "\"Paris, 75\"", "\"New\nYork\"",
                                          "\"tab\there\"", "back\\slash", "\"say \"\"hi\"\"\"", ""};

// `records` rows of id,city,note after a header; notes hold quoted
// newlines (LF and CRLF), commas and doubled quotes; `eol` ends each record.
std::string CsvFile(int records, int seed, const std::string& eol) {
  std::string csv = "id,city,note" + eol;
  for (int i = 0; i < records; ++i) {
    const int n = i * 31 + seed;
    csv += std::to_string(n) + "," + kCities[n % kCities.size()];
    const char* notes[] = {"plain note", "\"line one\nline two, with a comma\"", "\"crlf\r\ninside \"\"quoted\"\"\"",
                           "\"\"" /* empty, quoted */, "" /* empty */};
    if (n % 97 != 0) csv += std::string(",") + notes[n % 5];  // else a short record: no note
    csv += eol;
  }
  return csv;
}

class StreamCsv : public ::testing::Test {
 protected:
  void SetUp() override {
    RunCommand("mkdir -p " + Quoted(dir_ / "in"));
    WriteFile(dir_ / "in/a.csv", CsvFile(6000, 1, "\n"));
    WriteFile(dir_ / "in/b.csv", CsvFile(5000, 2, "\r\n"));
    WriteFile(dir_ / "in/c.csv", CsvFile(4000, 3, "\n"));
    ASSERT_EQ(RunCommand("gzip " + Quoted(dir_ / "in/c.csv")).exit_code, 0);
    files_ = Quoted(dir_ / "in/a.csv") + " " + Quoted(dir_ / "in/b.csv") + " " + Quoted(dir_ / "in/c.csv.gz");
  }
  std::string Stream(const std::string& out, const std::string& params) const {
    return "run stream --param input=csv --csv-header yes --input " + Quoted(dir_ / "in") + " --output " +
           Quoted(out) + " --split-size 32K " + params;
  }
  // Every part of a map-only output, in split order, joined.
  static std::string MapOnlyOutput(const std::string& out) {
    std::string all;
    for (const std::string& part : ReadParts(out, static_cast<int>(ReportNumber(out, "/input/splits")))) all += part;
    return all;
  }

  TempDir dir_;
  std::string files_;
};

TEST_F(StreamCsv, EachRecordReachesTheMapperAsOneLineAtOneTwoAndFourRanks) {
  CommandResult want = RunCommand(Reference() + " lines " + files_);
  ASSERT_EQ(want.exit_code, 0) << want.output;
  ASSERT_EQ(std::count(want.output.begin(), want.output.end(), '\n'), 15000);
  ASSERT_NE(want.output.find("\tNew\\nYork\t"), std::string::npos) << "the reference escapes newlines";
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir_ / ("cat" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, Stream(out, "--param mapper=cat"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_GT(ReportNumber(out, "/input/splits"), 10u) << "splits must cut the files, inside quoted fields";
    EXPECT_EQ(MapOnlyOutput(out), want.output) << ranks << " ranks";
    EXPECT_EQ(ReportCounter(out, "input_records"), 15000u);
    EXPECT_EQ(ReportCounter(out, "bad_records"), 0u);
  }
}

// The example: records counted per city by a Python mapper that finds the
// column by its name in SLUICE_INPUT_COLUMNS; the counts are Python csv's.
TEST_F(StreamCsv, PythonCountsPerColumnValueAreCsvModulesAtOneTwoAndFourRanks) {
  CommandResult want = RunCommand(Reference() + " count city " + files_);
  ASSERT_EQ(want.exit_code, 0) << want.output;
  ASSERT_EQ(std::count(want.output.begin(), want.output.end(), '\n'), static_cast<long>(kCities.size()));
  std::vector<std::string> first;
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir_ / ("count" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, Stream(out, "--partitions 3 --param 'mapper=python3 " + kExamples +
                                                       "/csv_count.py city' --param 'reducer=python3 " + kExamples +
                                                       "/wc_reduce.py'"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::vector<std::string> parts = ReadParts(out, 3);
    std::vector<std::string> lines;
    for (const std::string& part : parts) {
      for (size_t at = 0, nl; (nl = part.find('\n', at)) != std::string::npos; at = nl + 1) {
        lines.push_back(part.substr(at, nl + 1 - at));
      }
    }
    std::sort(lines.begin(), lines.end());
    std::string got;
    for (const std::string& line : lines) got += line;
    EXPECT_EQ(got, want.output) << ranks << " ranks";
    if (first.empty()) first = parts;
    EXPECT_EQ(parts, first) << ranks << " ranks: the same bytes in the same parts";
  }
}

// With --csv-header no the first line is a record and the mapper gets no
// column names; with yes (the default), SLUICE_INPUT_COLUMNS holds them, escaped.
TEST_F(StreamCsv, TheHeaderIsTheMappersColumnNames) {
  WriteFile(dir_ / "h.csv", "id,\"odd\tname\",x\n1,2,3\n");
  WriteFile(dir_ / "cols.sh", "cat\nprintf 'cols=%s\\n' \"${SLUICE_INPUT_COLUMNS-unset}\"\n");
  const std::string mapper = " --param 'mapper=sh " + dir_ / "cols.sh" + "'";
  const std::string io = " --param input=csv --input " + Quoted(dir_ / "h.csv") + " --output ";
  CommandResult r = RunSluice(1, "run stream --csv-header yes" + io + Quoted(dir_ / "with") + mapper);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadFile(dir_ / "with/part-00000"), "1\t2\t3\ncols=id\todd\\tname\tx\n");
  r = RunSluice(1, "run stream --csv-header no" + io + Quoted(dir_ / "without") + mapper);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadFile(dir_ / "without/part-00000"), "id\todd\\tname\tx\n1\t2\t3\ncols=unset\n");
}

// A record that is not CSV never reaches the mapper: it is a bad record
// (named with its file and offset), within --max-bad-records, as for a C++
// CsvInput job.
TEST_F(StreamCsv, MalformedRecordsAreBadRecords) {
  WriteFile(dir_ / "in/d.csv", "id,city,note\n1,Lyon,ok\n2,\"Lyon\"bad,x\n3,Nice,ok\n");
  CommandResult r = RunSluice(2, Stream(dir_ / "skipped", "--max-bad-records 1 --param mapper=cat"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReportCounter(dir_ / "skipped", "bad_records"), 1u);
  EXPECT_NE(ReadFile(dir_ / "skipped/_bad_records").find("d.csv\t23\t"), std::string::npos)
      << ReadFile(dir_ / "skipped/_bad_records");
  const std::string all = MapOnlyOutput(dir_ / "skipped");
  EXPECT_NE(all.find("1\tLyon\tok\n3\tNice\tok\n"), std::string::npos);
  EXPECT_EQ(all.find("bad"), std::string::npos);
  r = RunSluice(2, Stream(dir_ / "failed", "--param mapper=cat"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_FALSE(Exists(dir_ / "failed"));
}

TEST_F(StreamCsv, AnUnknownInputIsAUsageError) {
  CommandResult r = RunSluice(1, "run stream --param input=xml --param mapper=cat --input " + Quoted(dir_ / "in") +
                                     " --output " + Quoted(dir_ / "out"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("parameter 'input' must be lines or csv, not 'xml'"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(dir_ / "out"));
}

}  // namespace
}  // namespace sluice::e2e
