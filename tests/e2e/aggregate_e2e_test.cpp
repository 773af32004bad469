// The aggregate job end to end (jobs/aggregate.cpp): GROUP BY over CSV and
// JSON Lines, plain, gzip and zstd, cut into many splits, gives the same
// part bytes at 1 plain process, 2 and 4 MPI ranks, equal to a reference
// computed independently by Python (tests/e2e/aggregate_reference.py: its
// own RFC 4180 and JSON reading, decimal arithmetic), which also checks the
// header in every part, the row order within a part, and the bad-record
// and filtered-row counters. The data holds quoted commas, doubled quotes,
// newlines and CRLF inside fields, CRLF line ends, a BOM, short rows, blank
// lines, malformed CSV records and JSON lines, nested and null JSON
// members, numbers with exponents and 20 digits, and bad numbers.
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kUsage = 2;
constexpr int kBadInput = 3;
constexpr int kUserCode = 6;
constexpr int kPartitions = 3;
// Small splits: the plain files (0.3 and 0.7 MB) become many map tasks,
// cut inside quoted multi-line fields too.
const std::string kFlags = " --split-size 32K --partitions 3 -q";

std::string Quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// The reference script, beside this file.
std::string Script() {
  const std::string here = __FILE__;
  return here.substr(0, here.rfind('/') + 1) + "aggregate_reference.py";
}

struct Query {
  std::string input;  // a folder under the test's data
  std::string group_by;
  std::string aggregates;
  std::string where;
  std::string format = "auto";
  std::string avg_digits = "6";

  std::string Params() const {
    return " --param " + Quoted("group-by=" + group_by) + " --param " + Quoted("aggregates=" + aggregates) +
           " --param " + Quoted("where=" + where) + " --param format=" + format +
           " --param avg-digits=" + avg_digits;
  }
};

class AggregateE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult r = RunCommand("python3 " + Quoted(Script()) + " gen " + Quoted(dir_.path()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  std::string Run(int ranks, const Query& q, const std::string& out, const std::string& extra,
                  CommandResult* result) {
    *result = RunSluice(ranks, "run aggregate --input " + Quoted(dir_ / q.input) + " --output " +
                                   Quoted(out) + q.Params() + kFlags + extra);
    return out;
  }

  // Runs q at 1, 2 and 4 ranks: every run must succeed and write the same
  // parts; then the 1-rank output must equal the reference. Returns that
  // output's folder.
  std::string ExpectMatchesReference(const Query& q, const std::string& name) {
    std::vector<std::string> first;
    for (int ranks : {1, 2, 4}) {
      const std::string out = dir_ / (name + "-" + std::to_string(ranks));
      CommandResult r;
      Run(ranks, q, out, " --max-bad-records 100000", &r);
      EXPECT_EQ(r.exit_code, 0) << name << " at " << ranks << " ranks\n" << r.output;
      if (r.exit_code != 0) return "";
      std::vector<std::string> parts = ReadParts(out, kPartitions);
      if (ranks == 1) {
        first = parts;
        EXPECT_GT(ReportNumber(out, "/input/splits"), ReportNumber(out, "/input/files"))
            << name << ": the input was not cut into splits";
      } else {
        EXPECT_EQ(parts, first) << name << ": " << ranks << " ranks differ from 1";
      }
    }
    const std::string out = dir_ / (name + "-1");
    CommandResult check =
        RunCommand("python3 " + Quoted(Script()) + " check " + Quoted(dir_ / q.input) + " " + Quoted(out) +
                   " " + Quoted(q.group_by) + " " + Quoted(q.aggregates) + " " + Quoted(q.where) + " " +
                   q.format + " " + q.avg_digits);
    EXPECT_EQ(check.exit_code, 0) << name << ": differs from the reference\n" << check.output;
    std::cout << "[ " << name << " ] " << check.output;
    return out;
  }

  TempDir dir_;
};

TEST_F(AggregateE2E, CsvPlainGzipAndZstdMatchTheReferenceAtOneTwoAndFourRanks) {
  ExpectMatchesReference({"csv", "country,day",
                          "count,sum:amount,avg:amount,min:amount,max:amount,count:amount,distinct:user", ""},
                         "csv");
}

TEST_F(AggregateE2E, JsonLinesWithNestedMembersMatchTheReference) {
  Query q{"jsonl", "country,user.tier", "count,sum:amount,avg:amount,min:amount,max:amount,distinct:user.id",
          ""};
  q.avg_digits = "2";
  ExpectMatchesReference(q, "jsonl");
}

TEST_F(AggregateE2E, WhereComparesNumbersExactlyAndTextBytewise) {
  ExpectMatchesReference({"csv", "country", "count,sum:amount,min:amount", "amount>=10"}, "csv-numeric");
  ExpectMatchesReference({"csv", "day", "count,max:amount", "amount<-0.5"}, "csv-negative");
  ExpectMatchesReference({"jsonl", "day", "count,sum:amount", "country!=US"}, "jsonl-text");
  ExpectMatchesReference({"jsonl", "country", "count,distinct:user.id", "user.tier=gold"}, "jsonl-nested");
}

TEST_F(AggregateE2E, OneJobReadsCsvAndJsonLinesTogether) {
  // a.csv has a column named "user.tier"; b.jsonl has member tier of user.
  ExpectMatchesReference({"mixed", "day,user.tier", "count,sum:amount,avg:amount", ""}, "mixed");
}

TEST_F(AggregateE2E, WithoutGroupByOneRowAndAHeaderInEveryPart) {
  const std::string out =
      ExpectMatchesReference({"csv", "", "count,sum:amount,avg:amount,distinct:country", ""}, "global");
  ASSERT_FALSE(out.empty());
  int rows = 0;
  for (const std::string& part : ReadParts(out, kPartitions)) {
    ASSERT_EQ(part.rfind("count,sum(amount),avg(amount),distinct(country)\n", 0), 0u) << part;
    rows += part.find('\n') + 1 < part.size() ? 1 : 0;
  }
  EXPECT_EQ(rows, 1);
}

TEST_F(AggregateE2E, FormatParamOverridesTheFileName) {
  ExpectMatchesReference({"json_named_csv", "country", "count,sum:amount", "", "jsonl"}, "as-jsonl");
  ExpectMatchesReference({"csv_named_jsonl", "country", "count,sum:amount", "", "csv"}, "as-csv");
  // By its name, data.csv is CSV: its first JSON line is no CSV header.
  CommandResult r;
  const std::string out = Run(1, {"json_named_csv", "country", "count", ""}, dir_ / "by-name", "", &r);
  EXPECT_EQ(r.exit_code, kBadInput) << r.output;
  EXPECT_NE(r.output.find("the CSV header of"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(out + "/_SUCCESS"));
}

// Bad numbers are bad records: fatal by default, counted and listed with
// --max-bad-records, and the limit is exact.
TEST_F(AggregateE2E, BadNumbersAreBadRecordsUpToTheLimit) {
  CommandResult r;
  std::string out = Run(2, {"mixed/a.csv", "day", "count,sum:amount", ""}, dir_ / "strict", "", &r);
  EXPECT_EQ(r.exit_code, kBadInput) << r.output;
  EXPECT_NE(r.output.find("sum(amount): '"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(out + "/_SUCCESS"));

  const Query q{"csv", "day", "count,sum:amount", ""};
  out = Run(1, q, dir_ / "counted", " --max-bad-records 100000", &r);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const uint64_t bad = ReportCounter(out, "bad_records");
  ASSERT_GT(bad, 5u);
  const std::string listed = ReadFile(out + "/_bad_records");
  for (const char* reason :
       {"sum(amount): ' 12' is not a number", "sum(amount): '1,5' is not a number",
        "sum(amount): '1e-30' has more than 18 digits after the decimal point",
        "sum(amount): '1e40' has more than 38 significant digits", "text after a closing quote"}) {
    EXPECT_NE(listed.find(reason), std::string::npos) << reason << " not in\n" << listed;
  }

  out = Run(4, q, dir_ / "at-limit", " --max-bad-records " + std::to_string(bad), &r);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  out = Run(4, q, dir_ / "past-limit", " --max-bad-records " + std::to_string(bad - 1), &r);
  EXPECT_EQ(r.exit_code, kBadInput) << r.output;
  EXPECT_FALSE(Exists(out + "/_SUCCESS"));
}

TEST_F(AggregateE2E, MistakesFailWithTheRightExitCode) {
  struct Case {
    Query q;
    int exit_code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"csv", "country", "count,median:amount", ""}, kUsage, "parameter 'aggregates'"},
      {{"csv", "country", "sum", ""}, kUsage, "'sum' needs a field"},
      {{"csv", "country", "count", "amount"}, kUsage, "parameter 'where'"},
      {{"csv", "country", "count", "", "xml"}, kUsage, "parameter 'format'"},
      {{"csv", "country,country", "count", ""}, kUsage, "named twice"},
      {{"csv", "country", "sum:nosuch", ""}, kUserCode, "CSV column 'nosuch' is not in the file's header"},
  };
  int i = 0;
  for (const Case& c : cases) {
    CommandResult r;
    const std::string out = Run(1, c.q, dir_ / ("mistake" + std::to_string(i++)), "", &r);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << "expected '" << c.message << "' in\n"
                                                           << r.output;
    EXPECT_FALSE(Exists(out + "/_SUCCESS"));
  }
}

}  // namespace
}  // namespace sluice::e2e
