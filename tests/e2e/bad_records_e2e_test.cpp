// Records a job cannot parse (Map throws sluice::BadRecord): by default the
// first one fails the job naming its file and offset; --max-bad-records N
// skips up to N in the whole job, lists each in OUTPUT/_bad_records, and
// fails past N with nothing published. The list survives a resume.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

std::string Quoted(const std::string& path) { return "'" + path + "'"; }

std::string Hit(int i) {
  char line[160];
  std::snprintf(line, sizeof line,
                "10.0.%d.%d - - [22/Nov/2026:%02d:%02d:07 +0000] \"GET /p%d HTTP/1.1\" %d %d\n",
                i % 7, i % 11, i % 24, i % 60, i % 13, i % 5 == 0 ? 404 : 200, 100 + i % 900);
  return line;
}

struct Logs {
  std::vector<std::string> bad_entries;  // "file\toffset\treason", as _bad_records lists them
};

// Four log files in DIR/logs; every 997th line of files 1 and 3 is junk.
// The same hits without the junk go to DIR/clean-logs: the reference.
Logs WriteLogs(const TempDir& dir) {
  Logs logs;
  RunCommand("mkdir -p " + Quoted(dir / "logs") + " " + Quoted(dir / "clean-logs"));
  for (int f = 0; f < 4; ++f) {
    const std::string name = "/access-" + std::to_string(f) + ".log";
    std::string text, clean;
    for (int i = 0; i < 6000; ++i) {
      if (f % 2 == 1 && i % 997 == 5) {
        logs.bad_entries.push_back(dir / "logs" + name + "\t" + std::to_string(text.size()) +
                                   "\tnot a Common Log Format line");
        text += "garbage\twith tab and no brackets " + std::to_string(i) + "\n";
      }
      text += Hit(i * 4 + f);
      clean += Hit(i * 4 + f);
    }
    WriteFile(dir / "logs" + name, text);
    WriteFile(dir / "clean-logs" + name, clean);
  }
  return logs;
}

CommandResult Weblog(int ranks, const std::string& in, const std::string& out,
                     const std::string& extra = "") {
  return RunSluice(ranks, "run weblog --quiet --split-size 64K --partitions 3 " + extra + " " +
                              Quoted(in) + " " + Quoted(out));
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

TEST(BadRecordsE2E, FirstBadRecordFailsTheJobByDefaultNamingFileAndOffset) {
  TempDir dir;
  const Logs logs = WriteLogs(dir);
  for (int ranks : {1, 2}) {
    const std::string out = dir / ("out" + std::to_string(ranks));
    CommandResult r = Weblog(ranks, dir / "logs", out);
    EXPECT_EQ(r.exit_code, 3) << r.output;
    EXPECT_NE(r.output.find("bad record at byte "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("access-1.log"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("raise it to skip such records"), std::string::npos) << r.output;
    EXPECT_FALSE(Exists(out));
    std::printf("ranks %d, default: exit %d: %s", ranks, r.exit_code,
                r.output.substr(r.output.find("[error]")).c_str());
  }
}

TEST(BadRecordsE2E, SkippedWithinTheLimitListedAndOutputAsWithoutThem) {
  TempDir dir;
  const Logs logs = WriteLogs(dir);
  const size_t n = logs.bad_entries.size();
  ASSERT_GE(n, 8u);
  ASSERT_EQ(Weblog(1, dir / "clean-logs", dir / "reference").exit_code, 0);
  const auto reference = ReadParts(dir / "reference", 3);
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir / ("out" + std::to_string(ranks));
    CommandResult r = Weblog(ranks, dir / "logs", out, "--max-bad-records " + std::to_string(n));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(ReadParts(out, 3), reference) << "ranks=" << ranks;
    EXPECT_EQ(ReadFile(out + "/_bad_records"), Joined(logs.bad_entries)) << "ranks=" << ranks;
    EXPECT_NE(ReadFile(out + "/_SUCCESS").find("bad_records\t" + std::to_string(n) + "\n"),
              std::string::npos);
  }
  // One fewer allowed than there are: the job fails, at any rank count,
  // whether one rank alone or only the sum goes past the limit.
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir / ("tight" + std::to_string(ranks));
    CommandResult r = Weblog(ranks, dir / "logs", out, "--max-bad-records " + std::to_string(n - 1));
    EXPECT_EQ(r.exit_code, 3) << r.output;
    EXPECT_NE(r.output.find("bad record"), std::string::npos) << r.output;
    EXPECT_FALSE(Exists(out)) << "ranks=" << ranks;
  }
}

TEST(BadRecordsE2E, ResumedRunListsTheSameBadRecords) {
  TempDir dir;
  const Logs logs = WriteLogs(dir);
  const std::string limit = "--max-bad-records 1000";
  // About 26 splits: even on a loaded machine each rank maps more than two,
  // so the victim gets to its second.
  CommandResult killed = RunCommand("SLUICE_FAULT=after_map_task@0:crash#2 " + MpiLauncher(2) +
                                    BinPath("sluice") + " run weblog --quiet --split-size 64K --partitions 3 " +
                                    limit + " " + Quoted(dir / "logs") + " " + Quoted(dir / "out"));
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  CommandResult resumed = Weblog(2, dir / "logs", dir / "out", limit);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_GE(ReportNumber(dir / "out", "/resume/map_tasks_reused"), 2u);  // at least the victim's two
  EXPECT_EQ(ReadFile(dir / "out/_bad_records"), Joined(logs.bad_entries));
}

}  // namespace
}  // namespace sluice::e2e
