// The stream job (issue 16): mapper and reducer as commands. Its output is
// byte-identical to the C++ job's at 1, 2 and 4 ranks, and every way a
// command can fail fails the job with exit 6, a message naming the command,
// the task and its stderr, and nothing published.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

const std::string kExamples = std::string(SLUICE_SOURCE_DIR) + "/examples/streaming";

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

class StreamE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteNumberedWords(dir_ / "in", 3);
    // CRLF lines and a last line without a newline: words as the C++ job sees them.
    WriteFile(dir_ / "in/crlf.txt", "alpha beta\r\nbeta  gamma\r\n\r\ntail");
  }
 public:
  const TempDir& dir() const { return dir_; }
  // `sluice run stream` on this fixture's input with `params`, into `out`.
  std::string Stream(const std::string& out, const std::string& params) const {
    return "run stream --input " + Quoted(dir_ / "in") + " --output " + Quoted(out) +
           " --split-size 64K --partitions 5 " + params;
  }

 protected:
  TempDir dir_;
};

TEST_F(StreamE2E, PythonWordCountIsTheCppJobsBytesAtOneTwoAndFourRanks) {
  const std::string cpp = dir_ / "cpp";
  CommandResult r = RunSluice(1, "run wordcount --input " + Quoted(dir_ / "in") + " --output " +
                                     Quoted(cpp) + " --split-size 64K --partitions 5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> want = ReadParts(cpp, 5);
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir_ / ("py" + std::to_string(ranks));
    r = RunSluice(ranks, Stream(out, "--param 'mapper=python3 " + kExamples + "/wc_map.py' "
                                     "--param 'reducer=python3 " + kExamples + "/wc_reduce.py'"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(ReadParts(out, 5), want) << ranks << " ranks";
    EXPECT_EQ(ReportCounter(out, "output_records"), ReportCounter(cpp, "output_records"));
  }
}

TEST(StreamLogFilter, AwkCountsPerFileAreTheGrepJobsBytesAtOneTwoAndFourRanks) {
  TempDir dir;
  CommandResult r = RunCommand(BinPath("sluice-datagen") + " weblog --output " + Quoted(dir / "in") +
                               " --files 4 --lines 5000 --seed 7");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string io = " --input " + Quoted(dir / "in") + " --split-size 64K --partitions 3 --output ";
  r = RunSluice(1, "run grep --param 'pattern= 404 '" + io + Quoted(dir / "grep"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> want = ReadParts(dir / "grep", 3);
  ASSERT_NE(want[0] + want[1] + want[2], "") << "some file should have a 404";
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir / ("awk" + std::to_string(ranks));
    r = RunSluice(ranks, "run stream" + io + Quoted(out) +
                             " --param 'mapper=awk -v \"pattern= 404 \" -f " + kExamples +
                             "/count_matches.awk' --param 'reducer=python3 " + kExamples + "/wc_reduce.py'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(ReadParts(out, 3), want) << ranks << " ranks";
  }
}

// The join example: a Python mapper tags users and events, key-fields=2
// sorts a user before their events, partition-fields=1 sends a user's
// records to one reducer; the parts are `sluice run join`'s byte for byte,
// bad records (lines without a tab, reported on the mapper's stderr)
// counted alike.
TEST(StreamJoin, PythonJoinIsTheCppJoinsBytesAtOneTwoAndFourRanks) {
  TempDir dir;
  std::string users, events;
  for (int u = 0; u < 3000; ++u) {
    users += "u" + std::to_string(u * 7 % 3001) + "\tname" + std::to_string(u) + "\tC" + std::to_string(u % 17) + "\n";
    if (u % 500 == 0) users += "u" + std::to_string(u * 7 % 3001) + "\tduplicate\tXX\n";
    if (u % 700 == 0) users += "line-without-a-tab\n";
  }
  for (int e = 0; e < 40000; ++e) {
    events += "u" + std::to_string(e * 13 % 3500) + "\t" + std::to_string(1700000000 + e) + "\tact" +
              std::to_string(e % 5) + "\n";  // ids past 3000: no such user
    if (e % 9000 == 0) events += "no-tab\n";
  }
  WriteFile(dir / "users.txt", users);
  WriteFile(dir / "events.txt", events);
  const std::string io = " --input " + Quoted(dir / "users.txt") + " --input " + Quoted(dir / "events.txt") +
                         " --split-size 64K --partitions 4 --max-bad-records 100 --output ";
  CommandResult r = RunSluice(1, "run join" + io + Quoted(dir / "cpp"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> want = ReadParts(dir / "cpp", 4);
  ASSERT_GT(ReportCounter(dir / "cpp", "output_records"), 30000u);
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir / ("py" + std::to_string(ranks));
    r = RunSluice(ranks, "run stream" + io + Quoted(out) + " --param 'mapper=python3 " + kExamples +
                             "/join_map.py' --param 'reducer=python3 " + kExamples +
                             "/join_reduce.py' --param key-fields=2 --param partition-fields=1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(ReadParts(out, 4), want) << ranks << " ranks";
    EXPECT_EQ(ReportCounter(out, "bad_records"), ReportCounter(dir / "cpp", "bad_records"));
    const nlohmann::json py = ReadJson(out + "/_report.json"), cpp = ReadJson(dir / "cpp/_report.json");
    EXPECT_EQ(py["user_counters"].value("join.events_without_user", uint64_t{0}),
              cpp["user_counters"].value("events_without_user", uint64_t{1}));
    EXPECT_EQ(py["user_counters"].value("join.duplicate_users", uint64_t{0}),
              cpp["user_counters"].value("duplicate_users", uint64_t{1}));
  }
}

// A combiner command folds each map task's output before the shuffle: the
// same bytes as without it, fewer records shuffled.
TEST_F(StreamE2E, ACombinerShufflesFewerRecordsForTheSameBytes) {
  const std::string py = "--param 'mapper=python3 " + kExamples + "/wc_map.py' --param 'reducer=python3 " +
                         kExamples + "/wc_reduce.py'";
  ASSERT_EQ(RunSluice(2, Stream(dir_ / "plain", py)).exit_code, 0);
  CommandResult r =
      RunSluice(2, Stream(dir_ / "combined", py + " --param 'combiner=python3 " + kExamples + "/wc_reduce.py'"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadParts(dir_ / "combined", 5), ReadParts(dir_ / "plain", 5));
  // Each split's "y"s become one record (half of what the mapper prints).
  EXPECT_LT(ReportCounter(dir_ / "combined", "reduce_input_records") * 3,
            ReportCounter(dir_ / "plain", "reduce_input_records") * 2);
}

// "reporter:bad_record:REASON" on a mapper's stderr skips a record as a
// C++ job's BadRecord does: counted, listed with the mapper's file, and
// past --max-bad-records the job fails with exit 3.
TEST_F(StreamE2E, AMapperReportsBadRecordsOnStderr) {
  // awk rejects the lines that hold "gamma": one, line 2 of crlf.txt.
  const std::string mapper =
      "--param 'mapper=awk \"/gamma/ { print \\\"reporter:bad_record:gamma in line \\\" NR > \\\"/dev/stderr\\\"; "
      "next } { print }\"' --param reducer=cat --param malformed=key ";
  CommandResult r = RunSluice(2, Stream(dir_ / "bad", mapper + "--max-bad-records 1"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string listed = ReadFile(dir_ / "bad/_bad_records");
  EXPECT_NE(listed.find("crlf.txt\t0\tmapper: gamma in line 2"), std::string::npos) << listed;
  EXPECT_EQ(ReportCounter(dir_ / "bad", "bad_records"), 1u) << listed;
  r = RunSluice(2, Stream(dir_ / "over", mapper + "--max-bad-records 0"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("mapper: gamma in line 2"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(dir_ / "over"));
}

// A rank killed outright (SIGKILL: no cleanup of its own runs) takes its
// command with it, and what the command started: nothing of the job's
// keeps running on the machine.
TEST_F(StreamE2E, CommandsDieWithAKilledRank) {
  const std::string pids = dir_ / "pids";
  const std::string mapper = "--param 'mapper=sh -c \"sleep 600 & echo \\$\\$ \\$! >> " + pids +
                             "; wait\"' --param reducer=cat --param task-timeout=120";
  const std::string out = dir_ / "killed";
  const std::string rc = dir_ / "rc";
  RunCommand("mkdir -p " + Quoted(dir_ / "tmp"));
  RunCommand("(TMPDIR=" + Quoted(dir_ / "tmp") + " " + MpiLauncher(2) + " " + BinPath("sluice") + " " + Stream(out, mapper) + " > " +
             Quoted(dir_ / "log") + " 2>&1; echo $? > " + Quoted(rc) + ") </dev/null >/dev/null 2>&1 &");
  std::vector<std::pair<pid_t, pid_t>> started;  // (sh, its background sleep)
  for (int tries = 0; tries < 600 && started.empty(); ++tries) {
    std::istringstream in(Exists(pids) ? ReadFile(pids) : "");
    for (pid_t sh, sleeper; in >> sh >> sleeper;) started.emplace_back(sh, sleeper);
    if (started.empty()) usleep(100000);
  }
  ASSERT_FALSE(started.empty()) << "no mapper started";
  // The rank: the mapper's parent is its guard (sluice-command-guard), the
  // guard's parent the rank (`sluice`).
  auto parent = [](pid_t pid, std::string* comm) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string field, state;
    pid_t ppid = 0;
    stat >> field >> *comm >> state >> ppid;
    return ppid;
  };
  pid_t rank = started[0].first;
  std::string comm;
  std::vector<std::string> chain;
  for (pid_t up = parent(rank, &comm); up > 1; up = parent(up, &comm)) {
    std::string up_comm;
    parent(up, &up_comm);
    chain.push_back(up_comm);
    rank = up;
    if (up_comm == "(sluice)" && chain.size() >= 2) break;
  }
  ASSERT_EQ(chain.size(), 2u) << "expected mapper <- guard <- rank";
  EXPECT_EQ(chain[0], "(sluice-command-)") << "comm is cut at 15 characters";
  ASSERT_GT(rank, 1);
  ASSERT_EQ(kill(rank, SIGKILL), 0);
  for (int tries = 0; tries < 600 && !Exists(rc); ++tries) usleep(100000);
  ASSERT_TRUE(Exists(rc)) << "mpirun did not end after a rank was killed";
  EXPECT_NE(ReadFile(rc), "0\n");
  EXPECT_FALSE(Exists(out));
  // The killed rank's command directories are gone too (its guards removed them).
  for (int tries = 0; tries < 100 && !ListDir(dir_ / "tmp").empty(); ++tries) usleep(50000);
  EXPECT_EQ(ListDir(dir_ / "tmp"), std::vector<std::string>{});
  std::istringstream in(ReadFile(pids));
  for (pid_t pid; in >> pid;) {
    std::string state = "?";
    for (int tries = 0; tries < 100; ++tries) {
      std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
      std::string field, comm;
      if (!(stat >> field >> comm >> state)) state = "gone";
      if (state == "gone" || state == "Z") break;
      usleep(50000);
    }
    EXPECT_TRUE(state == "gone" || state == "Z") << "pid " << pid << " outlived the killed job: " << state;
  }
}

TEST_F(StreamE2E, KeyFieldsTakeTheKeyUpToTheNthSeparator) {
  const std::string out = dir_ / "fields";
  RunCommand("mkdir -p " + Quoted(dir_ / "in2"));
  WriteFile(dir_ / "in2/a.txt", "b,2,x\na,1,y\na,1\nc\n");
  const std::string run = "run stream --input " + Quoted(dir_ / "in2") +
                          " --partitions 1 --param mapper=cat --param reducer=cat --param separator=, "
                          "--param key-fields=2 ";
  // malformed=key, Hadoop's rule: keys "a,1" (twice: values "y" then "" in
  // input order), "b,2", and "a,1" and "c" (fewer fields: all key).
  CommandResult r = RunSluice(1, run + "--param malformed=key --output " + Quoted(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadParts(out, 1)[0], "a,1,y\na,1,\nb,2,x\nc,\n");
  // By default a line with fewer fields fails the job, naming it.
  r = RunSluice(1, run + "--output " + Quoted(dir_ / "strict"));
  EXPECT_EQ(r.exit_code, 6) << r.output;
  EXPECT_NE(r.output.find("line 3 of its output has fewer than 2 separator(s): 'a,1'"), std::string::npos)
      << r.output;
  EXPECT_FALSE(Exists(dir_ / "strict"));
  // malformed=skip: bad records, listed, within --max-bad-records.
  r = RunSluice(1, run + "--param malformed=skip --max-bad-records 2 --output " + Quoted(dir_ / "skip"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadParts(dir_ / "skip", 1)[0], "a,1,y\nb,2,x\n");
  EXPECT_EQ(ReportCounter(dir_ / "skip", "bad_records"), 2u);
  const std::string listed = ReadFile(dir_ / "skip/_bad_records");
  EXPECT_NE(listed.find("'a,1'"), std::string::npos) << listed;
  EXPECT_NE(listed.find("'c'"), std::string::npos) << listed;
  r = RunSluice(1, run + "--param malformed=skip --max-bad-records 1 --output " + Quoted(dir_ / "over"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_FALSE(Exists(dir_ / "over"));
  EXPECT_EQ(RunSluice(1, "run stream --input " + Quoted(dir_ / "in2") + " --output " + Quoted(dir_ / "k0") +
                             " --param mapper=cat --param key-fields=0")
                .exit_code,
            2);
}

// No reducer: a map-only job. No shuffle; each split's part is what its
// mappers printed, lines with no tab included, the same at any rank count.
TEST_F(StreamE2E, WithoutAReducerTheMappersLinesAreTheOutputOnePartPerSplit) {
  // awk: the first field and the line's length, no tab when the line is empty.
  const std::string mapper = "--param 'mapper=awk \"NF {print \\$1 \\\"\\t\\\" length(\\$0)} !NF {print length(\\$0)}\"'";
  std::vector<std::string> first;
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir_ / ("maponly" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, Stream(out, mapper));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("map-only"), std::string::npos) << r.output;
    const uint64_t splits = ReportNumber(out, "/input/splits");
    ASSERT_GT(splits, 1u);
    const std::vector<std::string> parts = ReadParts(out, static_cast<int>(splits));
    EXPECT_EQ(ReportCounter(out, "reduce_input_records"), 0u);
    if (first.empty()) {
      first = parts;
      std::string all;
      for (const std::string& part : parts) all += part;
      EXPECT_NE(all.find("alpha\t10\n"), std::string::npos) << "the '\\r' is not part of the line";
      EXPECT_NE(all.find("tail\t4\n"), std::string::npos) << "the last line without a newline";
      EXPECT_NE(all.find("\n0\n"), std::string::npos) << "a line without a tab is output as printed";
    } else {
      EXPECT_EQ(parts, first) << ranks << " ranks";
    }
  }
}

TEST_F(StreamE2E, ACatMapperGivesTheCppIdentityJobsBytesAtOneTwoAndFourRanks) {
  // "word\t1" lines, as a tokenizing step would leave them, plus lines
  // without a tab and with two.
  std::string pairs;
  for (int i = 0; i < 30000; ++i) pairs += "w" + std::to_string(i * 7 % 5003) + "\t" + std::to_string(i % 3) + "\n";
  pairs += "no-tab-here\nx\ty\tz\n";
  RunCommand("mkdir -p " + Quoted(dir_ / "pairs"));
  WriteFile(dir_ / "pairs/p.txt", pairs);
  const std::string io = " --input " + Quoted(dir_ / "pairs") + " --split-size 64K --partitions 4 --output ";
  CommandResult r = RunSluice(1, "run --plugin " + PluginPath("test/libpairs.so") + io + Quoted(dir_ / "cpp"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> want = ReadParts(dir_ / "cpp", 4);
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir_ / ("cat" + std::to_string(ranks));
    r = RunSluice(ranks, "run stream --param mapper=cat --param reducer=cat --param malformed=key" + io + Quoted(out));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(ReadParts(out, 4), want) << ranks << " ranks";
  }
}

TEST_F(StreamE2E, CountersComeFromStderrAndOtherStderrIsTagged) {
  const std::string out = dir_ / "counted";
  const std::string mapper =
      "sh -c \"echo reporter:counter:lines,seen,2 >&2; echo hello-from-mapper >&2; cat\"";
  CommandResult r = RunSluice(1, Stream(out, "--param " + Quoted("mapper=" + mapper)));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json report = ReadJson(out + "/_report.json");
  const uint64_t tasks = ReportNumber(out, "/input/splits");  // one mapper each
  EXPECT_EQ(report["user_counters"].value("lines.seen", uint64_t{0}), 2 * tasks) << report.dump(2);
  EXPECT_NE(r.output.find("[mapper] hello-from-mapper"), std::string::npos) << r.output;
}

struct Failure {
  const char* name;
  std::string params;
  std::vector<std::string> says;
};

TEST_F(StreamE2E, EveryCommandFailureIsExitSixNamingItAndPublishesNothing) {
  const std::vector<Failure> failures = {
      {"mapper exits 3", "--param 'mapper=sh -c \"echo bad input here >&2; exit 3\"'",
       {"mapper 'sh -c", "exit status 3", "bad input here", "split"}},
      {"mapper killed by a signal", "--param 'mapper=sh -c \"kill -SEGV \\$\\$\"'",
       {"mapper", "signal 11"}},
      {"mapper exits 0 without reading all its input", "--param 'mapper=head -c 10'",
       {"mapper 'head -c 10'", "exit status 0 with", "bytes of its input unread"}},
      {"mapper not found", "--param mapper=no-such-command-xyz",
       {"mapper 'no-such-command-xyz'", "no-such-command-xyz"}},
      {"reducer exits 1", "--param mapper=cat --param malformed=key --param 'reducer=sh -c \"cat >/dev/null; echo red-fail >&2; exit 1\"'",
       {"reducer", "exit status 1", "red-fail", "partition"}},
      {"mapper hangs", "--param 'mapper=sleep 100' --param task-timeout=1",
       {"mapper 'sleep 100'", "1 s"}},
      {"a line that never ends (NULs, no newline)", "--param 'mapper=cat /dev/zero'",
       {"mapper printed a line of more than 64 MiB", "split"}},
      {"mapper prints a line without a separator",
       "--param 'mapper=sh -c \"cat >/dev/null; echo no-separator-here\"' --param reducer=cat",
       {"mapper of '", "line 1 of its output has fewer than 1 separator(s): 'no-separator-here'"}},
      {"combiner exits 5",
       "--param mapper=cat --param reducer=cat --param malformed=key "
       "--param 'combiner=sh -c \"cat >/dev/null; echo comb-fail >&2; exit 5\"'",
       {"combiner 'sh -c", "exit status 5", "comb-fail"}},
      {"huge stderr then exit 2",
       "--param 'mapper=sh -c \"yes error-line | head -c 5000000 >&2; exit 2\"'",
       {"exit status 2", "error-line", "more stderr not shown"}},
  };
  for (const Failure& f : failures) {
    const std::string out = dir_ / "failed";
    CommandResult r = RunSluice(2, Stream(out, f.params));
    EXPECT_EQ(r.exit_code, 6) << f.name << "\n" << r.output.substr(0, 4000);
    for (const std::string& s : f.says) {
      EXPECT_NE(r.output.find(s), std::string::npos) << f.name << ": no '" << s << "' in\n"
                                                     << r.output.substr(0, 4000);
    }
    EXPECT_FALSE(Exists(out)) << f.name << ": something was published";
    RunCommand("rm -rf " + Quoted(out));
  }
}

// A stream job killed after 3 map tasks publishes nothing; the re-run
// reuses them (their mappers are not run again) and gives the bytes of a
// run never killed: `parts` part files, or the splits' parts when map-only.
void ExpectAKilledRunResumesWithTheSameBytes(const StreamE2E& t, const std::string& params, int parts) {
  const std::string clean = t.dir() / "clean";
  ASSERT_EQ(RunSluice(2, t.Stream(clean, params)).exit_code, 0);
  if (parts == 0) parts = static_cast<int>(ReportNumber(clean, "/input/splits"));
  const std::string out = t.dir() / "resumed";
  CommandResult killed = RunCommand("SLUICE_FAULT=after_map_task@0:crash#3 " + MpiLauncher(2) + " " +
                                    BinPath("sluice") + " " + t.Stream(out, params));
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  EXPECT_FALSE(Exists(out));
  CommandResult r = RunSluice(2, t.Stream(out, params));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GE(ReportNumber(out, "/resume/map_tasks_reused"), 3u) << r.output;
  EXPECT_EQ(ReadParts(out, parts), ReadParts(clean, parts));
}

TEST_F(StreamE2E, AKilledStreamJobResumesWithTheSameBytes) {
  ExpectAKilledRunResumesWithTheSameBytes(*this, "--param 'mapper=python3 " + kExamples +
                                                     "/wc_map.py' --param 'reducer=python3 " + kExamples +
                                                     "/wc_reduce.py'", 5);
}

// Map-only resumes too, from the saved parts of the splits.
TEST_F(StreamE2E, AKilledMapOnlyStreamJobResumesWithTheSameBytes) {
  ExpectAKilledRunResumesWithTheSameBytes(*this, "--param 'mapper=python3 " + kExamples + "/wc_map.py'", 0);
}

// A failed task's command is killed and its working directory removed
// before the job exits, on a shared /tmp too: nothing is left behind. At 2
// ranks the peer that the abort kills mid-task has its directory removed
// by its command's guard, a moment after mpirun returns.
TEST_F(StreamE2E, AFailedCommandLeavesNoWorkingDirectory) {
  const std::string tmp = dir_ / "tmp";
  RunCommand("mkdir -p " + Quoted(tmp));
  for (int ranks : {1, 2}) {
    for (const std::string& params : {std::string("--param 'mapper=sh -c \"exit 3\"'"),
                                      std::string("--param mapper=cat --param 'reducer=sh -c \"exit 4\"'")}) {
      const std::string out = dir_ / "leak";
      CommandResult r = RunCommand("TMPDIR=" + Quoted(tmp) + " " + MpiLauncher(ranks) + " " + BinPath("sluice") +
                                   " " + Stream(out, params));
      EXPECT_EQ(r.exit_code, 6) << params << "\n" << r.output;
      for (int tries = 0; tries < 100 && !ListDir(tmp).empty(); ++tries) usleep(50000);
      EXPECT_EQ(ListDir(tmp), std::vector<std::string>{}) << ranks << " rank(s), " << params;
      RunCommand("rm -rf " + Quoted(out) + " " + Quoted(tmp) + "/*");
    }
  }
}

TEST_F(StreamE2E, BadParametersAreUsageErrors) {
  for (const std::string& params : {std::string(""), std::string("--param 'mapper=echo \"open'"),
                                   std::string("--param mapper=cat --param separator=")}) {
    CommandResult r = RunSluice(1, Stream(dir_ / "bad", params));
    EXPECT_EQ(r.exit_code, 2) << params << "\n" << r.output;
    EXPECT_FALSE(Exists(dir_ / "bad"));
  }
}

}  // namespace
}  // namespace sluice::e2e
