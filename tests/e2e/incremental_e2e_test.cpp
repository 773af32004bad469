// --incremental (runtime/driver/incremental_plan.h): a mergeable job run
// again over its inputs plus a new day maps only the new day, folds the
// previous run's merge state in, and writes the bytes a full run over every
// day writes. Anything that could make the previous result wrong (a file
// changed, gone, rewritten with its size and mtime put back; the merge
// state damaged; another configuration) is a full run, and the log says why.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kPartitions = 4;
constexpr int kLinesPerDay = 6000;

std::string Quoted(const std::string& path) { return "'" + path + "'"; }

// LOGS/day=2024-03-DD/access.log: Common Log Format hits of one day. Hosts
// and paths repeat across days, so the merge state and the new day share
// keys (the fold is what is tested); some are new each day.
std::string DayDir(const std::string& logs, int day) {
  char name[32];
  std::snprintf(name, sizeof name, "/day=2024-03-%02d", day);
  return logs + name;
}

void WriteDay(const std::string& logs, int day) {
  ASSERT_EQ(RunCommand("mkdir -p " + Quoted(DayDir(logs, day))).exit_code, 0);
  static const char* kStatus[] = {"200", "200", "200", "304", "404", "500"};
  std::string text;
  for (int i = 0; i < kLinesPerDay; ++i) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "10.0.%d.%d - - [%02d/Mar/2024:%02d:%02d:%02d +0000] \"GET /p%d?d=%d HTTP/1.1\" %s %d\n",
                  (i * 7 + day) % 40, i % 50, day, (i / 250) % 24, i % 60, (i * 11) % 60, (i * 31 + day) % 900,
                  i % 3 == 0 ? day : 0, kStatus[(i + day) % 6], 100 + (i * 37) % 5000);
    // One malformed line a day: weblog skips it (--max-bad-records), and
    // the incremental output lists every day's in _bad_records.
    text += i == 1000 + day ? std::string("not a log line\n") : std::string(line);
  }
  WriteFile(DayDir(logs, day) + "/access.log", text);
}

void WriteDays(const std::string& logs, int first, int last) {
  for (int day = first; day <= last; ++day) ASSERT_NO_FATAL_FAILURE(WriteDay(logs, day));
}

CommandResult RunJob(int ranks, const std::string& job, const std::string& in, const std::string& out,
                  const std::string& extra = "", const std::string& env = "") {
  return RunCommand(env + MpiLauncher(ranks) + BinPath("sluice") + " run " + job +
                    " --max-bad-records 100 --split-size 64K --partitions " +
                    std::to_string(kPartitions) + " " + extra + " --input " + Quoted(in) + " --output " +
                    Quoted(out));
}

CommandResult Incremental(int ranks, const std::string& job, const std::string& in, const std::string& out,
                          const std::string& env = "") {
  return RunJob(ranks, job, in, out, "--incremental", env);
}

bool Says(const CommandResult& r, const std::string& text) { return r.output.find(text) != std::string::npos; }

class IncrementalE2E : public ::testing::TestWithParam<int> {};

// The promise: adding one day to an incremental output maps that
// day alone and gives the bytes of a full run over all four days.
TEST_P(IncrementalE2E, AddingADayMapsOnlyThatDayAndMatchesAFullRun) {
  const int ranks = GetParam();
  TempDir dir;
  const std::string logs = dir / "logs";
  ASSERT_NO_FATAL_FAILURE(WriteDays(logs, 1, 3));
  const std::vector<std::string> jobs = {"wordcount", "weblog"};
  for (const std::string& job : jobs) {
    SCOPED_TRACE(job);
    const std::string out = dir / (job + "-out");
    CommandResult first = Incremental(ranks, job, logs, out);
    ASSERT_EQ(first.exit_code, 0) << first.output;
    EXPECT_TRUE(Says(first, "a full run: no output yet")) << first.output;
    EXPECT_EQ(ReportCounter(out, "input_records"), 3u * kLinesPerDay);
    EXPECT_EQ(ReportCounter(out, "state_records"), 0u);
    EXPECT_EQ(ListDir(out + "/_state").size(), static_cast<size_t>(kPartitions));
  }
  ASSERT_NO_FATAL_FAILURE(WriteDay(logs, 4));
  for (const std::string& job : jobs) {
    SCOPED_TRACE(job);
    const std::string out = dir / (job + "-out");
    CommandResult second = Incremental(ranks, job, logs, out);
    ASSERT_EQ(second.exit_code, 0) << second.output;
    EXPECT_TRUE(Says(second, "incremental: 1 new input file(s)")) << second.output;
    EXPECT_EQ(ReportCounter(out, "input_records"), static_cast<uint64_t>(kLinesPerDay)) << "only day 4 is mapped";
    EXPECT_GT(ReportCounter(out, "state_records"), 0u);
    EXPECT_EQ(ReportNumber(out, "/incremental/files_reused"), 3u);
    EXPECT_EQ(ReportNumber(out, "/incremental/files_read"), 1u);
    // The merge state is read back one file per map task, spread over the
    // ranks like the new day (never one task holding all of it).
    EXPECT_GE(ReportNumber(out, "/input/splits"), static_cast<uint64_t>(kPartitions) + 1);

    const std::string full = dir / (job + "-full");
    CommandResult reference = RunJob(1, job, logs, full);
    ASSERT_EQ(reference.exit_code, 0) << reference.output;
    EXPECT_EQ(ReadParts(out, kPartitions), ReadParts(full, kPartitions));
    EXPECT_EQ(ReadFile(out + "/_bad_records"), ReadFile(full + "/_bad_records"));
  }
  EXPECT_EQ(ReportCounter(dir / "weblog-out", "bad_records"), 1u) << "day 4's own";
  const std::string skipped = ReadFile(dir / "weblog-out/_bad_records");
  EXPECT_EQ(std::count(skipped.begin(), skipped.end(), '\n'), 4) << "every day's, the 3 read before carried over";
  // Against an independent reference too: every word of the four days.
  std::vector<std::string> days;
  for (int day = 1; day <= 4; ++day) days.push_back(DayDir(logs, day) + "/access.log");
  std::string expected;
  for (const auto& [word, n] : ReferenceWordCount(days)) expected += word + "\t" + std::to_string(n) + "\n";
  std::string got;
  for (const std::string& part : ReadParts(dir / "wordcount-out", kPartitions)) got += part;
  std::vector<std::string> lines;
  for (size_t at = 0; at < got.size();) {
    const size_t end = got.find('\n', at);
    lines.push_back(got.substr(at, end - at + 1));
    at = end + 1;
  }
  std::sort(lines.begin(), lines.end());
  std::string sorted;
  for (const std::string& l : lines) sorted += l;
  EXPECT_EQ(sorted, expected);
}

INSTANTIATE_TEST_SUITE_P(Ranks, IncrementalE2E, ::testing::Values(1, 2, 4));

// An incremental output built on by a run whose inputs changed under it
// would be silently wrong: each such change is a full run, named in the log.
class IncrementalChanges : public ::testing::Test {
 protected:
  void SetUp() override {
    logs_ = dir_ / "logs";
    out_ = dir_ / "out";
    ASSERT_NO_FATAL_FAILURE(WriteDays(logs_, 1, 3));
    CommandResult first = Incremental(2, "wordcount", logs_, out_);
    ASSERT_EQ(first.exit_code, 0) << first.output;
  }

  // Runs again incrementally; the output must match a full run's.
  CommandResult Again() {
    CommandResult r = Incremental(2, "wordcount", logs_, out_);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const std::string full = dir_ / "full";
    RunCommand("rm -rf " + Quoted(full));
    CommandResult reference = RunJob(1, "wordcount", logs_, full);
    EXPECT_EQ(reference.exit_code, 0) << reference.output;
    EXPECT_EQ(ReadParts(out_, kPartitions), ReadParts(full, kPartitions));
    return r;
  }

  TempDir dir_;
  std::string logs_, out_;
};

TEST_F(IncrementalChanges, NothingNewIsANoOp) {
  const std::string report = ReadFile(out_ + "/_report.json");
  CommandResult r = Incremental(2, "wordcount", logs_, out_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Says(r, "nothing to do")) << r.output;
  EXPECT_EQ(ReadFile(out_ + "/_report.json"), report);
}

TEST_F(IncrementalChanges, AnAppendedFileIsAFullRun) {
  ASSERT_EQ(RunCommand("echo 'late line' >> " + Quoted(DayDir(logs_, 2) + "/access.log")).exit_code, 0);
  CommandResult r = Again();
  EXPECT_TRUE(Says(r, "a full run: input '" + DayDir(logs_, 2) + "/access.log' changed size")) << r.output;
  EXPECT_EQ(ReportCounter(out_, "state_records"), 0u);
}

TEST_F(IncrementalChanges, ARemovedFileIsAFullRun) {
  ASSERT_EQ(RunCommand("rm -r " + Quoted(DayDir(logs_, 1))).exit_code, 0);
  CommandResult r = Again();
  EXPECT_TRUE(Says(r, "a full run: input '" + DayDir(logs_, 1) + "/access.log', read by the previous run, is gone"))
      << r.output;
}

// Same size, mtime set back with touch -d, other bytes: only the ctime (set
// by the kernel on the write) and then the xxh3 of the bytes can tell.
TEST_F(IncrementalChanges, ARewriteWithSizeAndMtimePutBackIsAFullRun) {
  const std::string file = DayDir(logs_, 3) + "/access.log";
  ASSERT_EQ(RunCommand("m=$(stat -c %y " + Quoted(file) + ") && sed -i 's/GET/PUT/' " + Quoted(file) +
                       " && touch -d \"$m\" " + Quoted(file))
                .exit_code,
            0);
  CommandResult r = Again();
  EXPECT_TRUE(Says(r, "a full run: input '" + file + "' changed: same size, other bytes")) << r.output;
}

// A touch, or a copy that keeps the bytes, changes nothing the job reads.
TEST_F(IncrementalChanges, ATouchedFileKeepsTheRunIncremental) {
  ASSERT_EQ(RunCommand("touch " + Quoted(DayDir(logs_, 1) + "/access.log")).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WriteDay(logs_, 4));
  CommandResult r = Again();
  EXPECT_TRUE(Says(r, "incremental: 1 new input file(s)")) << r.output;
}

TEST_F(IncrementalChanges, MissingOrDamagedMergeStateIsAFullRun) {
  ASSERT_NO_FATAL_FAILURE(WriteDay(logs_, 4));
  ASSERT_EQ(RunCommand("rm " + Quoted(out_ + "/_state/task-00001")).exit_code, 0);
  CommandResult r = Again();
  EXPECT_TRUE(Says(r, "a full run: merge state file '" + out_ + "/_state/task-00001' is missing or changed"))
      << r.output;

  // Same size, other bytes (a bad disk, a stray write): the xxh3 the
  // manifest holds for it tells.
  ASSERT_NO_FATAL_FAILURE(WriteDay(logs_, 5));
  const std::string state = out_ + "/_state/task-00002";
  ASSERT_EQ(RunCommand("printf 'XXXX' | dd of=" + Quoted(state) + " bs=1 seek=40 conv=notrunc status=none").exit_code,
            0);
  CommandResult damaged = Again();
  EXPECT_TRUE(Says(damaged, "a full run: merge state file '" + state + "' is damaged")) << damaged.output;

  CommandResult forced = RunJob(2, "wordcount", logs_, out_, "--incremental --force");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_TRUE(Says(forced, "a full run: --force")) << forced.output;
}

TEST_F(IncrementalChanges, AnotherConfigurationIsAFullRun) {
  CommandResult r = RunCommand(MpiLauncher(2) + BinPath("sluice") + " run wordcount --incremental --split-size 128K " +
                               "--partitions " + std::to_string(kPartitions) + " --input " + Quoted(logs_) +
                               " --output " + Quoted(out_));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Says(r, "a full run: its configuration changed: 'split_size' was 65536, now 131072")) << r.output;
}

TEST_F(IncrementalChanges, AKilledIncrementalRunResumes) {
  ASSERT_NO_FATAL_FAILURE(WriteDay(logs_, 4));
  ASSERT_NO_FATAL_FAILURE(WriteDay(logs_, 5));
  CommandResult killed = Incremental(2, "wordcount", logs_, out_, "SLUICE_FAULT=after_map_task@0:crash#2 ");
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  CommandResult r = Again();
  EXPECT_TRUE(Says(r, "incremental: 2 new input file(s)")) << r.output;
  EXPECT_GE(ReportNumber(out_, "/resume/map_tasks_reused"), 2u);
}

// Another user's symlink where a state file was: not followed, a full run.
TEST_F(IncrementalChanges, ASymlinkWhereAStateFileWasIsAFullRun) {
  ASSERT_NO_FATAL_FAILURE(WriteDay(logs_, 4));
  const std::string state = out_ + "/_state/task-00001";
  ASSERT_EQ(RunCommand("cp " + Quoted(state) + " " + Quoted(dir_ / "copy") + " && rm " + Quoted(state) + " && ln -s " +
                       Quoted(dir_ / "copy") + " " + Quoted(state))
                .exit_code,
            0);
  CommandResult r = Again();
  EXPECT_TRUE(Says(r, "a full run: merge state file '" + state + "' is missing or changed")) << r.output;
}

// Two incremental runs at once on one output: the output lock lets one in;
// the other is refused (exit 2) or, if it came after, finds nothing to do.
TEST_F(IncrementalChanges, TwoRunsAtOnceOnOneOutput) {
  ASSERT_NO_FATAL_FAILURE(WriteDay(logs_, 4));
  const std::string run = MpiLauncher(2) + BinPath("sluice") +
                          " run wordcount --max-bad-records 100 --split-size 64K --partitions " +
                          std::to_string(kPartitions) + " --incremental --input " + Quoted(logs_) + " --output " +
                          Quoted(out_);
  CommandResult both = RunCommand("(" + run + " > " + Quoted(dir_ / "a.log") + " 2>&1; echo a=$?) & (" + run + " > " +
                                  Quoted(dir_ / "b.log") + " 2>&1; echo b=$?); wait");
  const bool a_ok = Says(both, "a=0"), b_ok = Says(both, "b=0");
  EXPECT_TRUE(a_ok || b_ok) << both.output;
  for (const char* who : {"a", "b"}) {
    if (Says(both, std::string(who) + "=0")) continue;
    EXPECT_TRUE(Says(both, std::string(who) + "=2")) << both.output;
    EXPECT_NE(ReadFile(dir_ / (std::string(who) + ".log")).find("another Sluice job"), std::string::npos);
  }
  const std::string full = dir_ / "full";
  ASSERT_EQ(RunJob(1, "wordcount", logs_, full).exit_code, 0);
  EXPECT_EQ(ReadParts(out_, kPartitions), ReadParts(full, kPartitions));
}

// A disk that fills while the merge state is written: exit 4, and the
// output being built on is as it was (in a private mount namespace, a
// 300 KiB tmpfs holds a copy of it).
TEST_F(IncrementalChanges, AFullDiskLeavesThePreviousOutputAsItWas) {
  ASSERT_NO_FATAL_FAILURE(WriteDay(logs_, 4));
  const std::string small = dir_ / "small";
  ASSERT_EQ(RunCommand("mkdir -p " + Quoted(small)).exit_code, 0);
  CommandResult r = RunCommand(
      "unshare --mount sh -c 'mount -t tmpfs -o size=300k tmpfs " + small + " && cp -r " + out_ + " " + small +
      "/out && cp " + small + "/out/_manifest.json " + small + "/before && " + BinPath("sluice") +
      " run wordcount --max-bad-records 100 --split-size 64K --partitions " + std::to_string(kPartitions) +
      " --incremental --input " + logs_ + " --output " + small + "/out; echo rc=$?; cmp " + small +
      "/out/_manifest.json " + small + "/before && echo unchanged; ls -a " + small + "' 2>&1");
  if (Says(r, "mount: ") && !Says(r, "rc=")) GTEST_SKIP() << "cannot mount a tmpfs here: " << r.output;
  EXPECT_TRUE(Says(r, "rc=4")) << r.output;
  EXPECT_TRUE(Says(r, "No space left on device")) << r.output;
  EXPECT_TRUE(Says(r, "unchanged")) << r.output;
  EXPECT_FALSE(Says(r, ".out.sluice-staging")) << "staging left behind\n" << r.output;
}

// Inputs that are not plain text: a gzipped CSV with a newline inside a
// quoted field, and a plain CSV day after it (aggregate, exact decimals).
TEST(IncrementalInputs, GzippedCsvWithQuotedNewlinesThenAPlainDay) {
  TempDir dir;
  const std::string logs = dir / "events";
  ASSERT_EQ(RunCommand("mkdir -p " + Quoted(logs + "/day=1") + " " + Quoted(logs + "/day=2") +
                       " && printf 'country,amount,note\\nde,1.5,\"a\\nb\"\\nfr,2,x\\n' | gzip > " +
                       Quoted(logs + "/day=1/e.csv.gz") + " && printf 'country,amount,note\\nde,3.25,\"c,\\nd\"\\nus,4,y\\n' > " +
                       Quoted(dir / "e2.csv"))
                .exit_code,
            0);
  const std::string params = "--param group-by=country --param aggregates=count,sum:amount,avg:amount ";
  auto run = [&](const std::string& out, const std::string& extra) {
    return RunCommand(MpiLauncher(2) + BinPath("sluice") + " run aggregate " + params + extra + " --input " +
                      Quoted(logs) + " --output " + Quoted(out));
  };
  ASSERT_EQ(run(dir / "out", "--incremental").exit_code, 0);
  ASSERT_EQ(RunCommand("mv " + Quoted(dir / "e2.csv") + " " + Quoted(logs + "/day=2/e.csv")).exit_code, 0);
  CommandResult second = run(dir / "out", "--incremental");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_TRUE(Says(second, "incremental: 1 new input file(s)")) << second.output;
  ASSERT_EQ(run(dir / "full", "").exit_code, 0);
  EXPECT_EQ(ReadParts(dir / "out", 16), ReadParts(dir / "full", 16));
  std::string all;
  for (const std::string& part : ReadParts(dir / "out", 16)) all += part;
  EXPECT_NE(all.find("de,2,4.75,2.375"), std::string::npos) << all;
}

// An old file is read again (hashed) only when its stamps cannot vouch for
// its bytes: when they moved, or when it changed less than 2 s before the
// previous run wrote its manifest (a coarse clock could hide a second
// write in the same tick). Otherwise it is not read at all.
TEST(IncrementalClock, AnOldFileIsReadAgainOnlyWhenItsStampsCannotVouchForIt) {
  TempDir dir;
  const std::string logs = dir / "logs", out = dir / "out";
  ASSERT_NO_FATAL_FAILURE(WriteDays(logs, 1, 2));
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  ASSERT_EQ(Incremental(1, "wordcount", logs, out).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WriteDay(logs, 3));
  CommandResult second = Incremental(1, "wordcount", logs, out);
  EXPECT_TRUE(Says(second, "2 unchanged file(s) of the previous run not mapped again; its merge state"))
      << second.output;
  // Day 3 changed in the same clock tick as the manifest that records it
  // was written (as on a fast run; set here, so that a slow sanitizer
  // build's run cannot stretch the gap past 2 s).
  const std::string day3 = DayDir(logs, 3) + "/access.log";
  ASSERT_EQ(RunCommand("touch -d \"$(stat -c %z " + Quoted(day3) + ")\" " + Quoted(out + "/_manifest.json")).exit_code,
            0);
  ASSERT_NO_FATAL_FAILURE(WriteDay(logs, 4));
  CommandResult third = Incremental(1, "wordcount", logs, out);
  EXPECT_TRUE(Says(third, "3 unchanged file(s) of the previous run not mapped again (1 of them read to check "
                          "their bytes)"))
      << third.output;
}

TEST(IncrementalRefusals, APlainOutputIsRebuiltAndANonMergeableJobRefused) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteDays(dir / "logs", 1, 2));
  ASSERT_EQ(RunJob(1, "wordcount", dir / "logs", dir / "out").exit_code, 0);
  CommandResult r = Incremental(1, "wordcount", dir / "logs", dir / "out");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Says(r, "a full run: the output was not written by an --incremental run")) << r.output;

  CommandResult refused = Incremental(1, "distinct", dir / "logs", dir / "distinct");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(Says(refused, "flag --incremental: job 'distinct'")) << refused.output;
  EXPECT_FALSE(Exists(dir / "distinct"));
}

}  // namespace
}  // namespace sluice::e2e
