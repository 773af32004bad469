// The stream job (issue 16): mapper and reducer as commands. Its output is
// byte-identical to the C++ job's at 1, 2 and 4 ranks, and every way a
// command can fail fails the job with exit 6, a message naming the command,
// the task and its stderr, and nothing published.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
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
  std::string Stream(const std::string& out, const std::string& params) const {
    return "run stream --input " + Quoted(dir_ / "in") + " --output " + Quoted(out) +
           " --split-size 64K --partitions 5 " + params;
  }
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

TEST_F(StreamE2E, KeyFieldsTakeTheKeyUpToTheNthSeparator) {
  const std::string out = dir_ / "fields";
  RunCommand("mkdir -p " + Quoted(dir_ / "in2"));
  WriteFile(dir_ / "in2/a.txt", "b,2,x\na,1,y\na,1\nc\n");
  CommandResult r = RunSluice(1, "run stream --input " + Quoted(dir_ / "in2") + " --output " + Quoted(out) +
                                     " --partitions 1 --param mapper=cat --param separator=, --param key-fields=2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Keys "a,1" (twice: values "y" then "" in input order), "b,2", and "c"
  // (fewer fields: all key).
  EXPECT_EQ(ReadParts(out, 1)[0], "a,1,y\na,1,\nb,2,x\nc,\n");
  EXPECT_EQ(RunSluice(1, "run stream --input " + Quoted(dir_ / "in2") + " --output " + Quoted(dir_ / "k0") +
                             " --param mapper=cat --param key-fields=0")
                .exit_code,
            2);
}

TEST_F(StreamE2E, WithoutAReducerTheSortedPairsAreTheOutput) {
  const std::string out = dir_ / "pairs";
  // awk through an explicit shell: the first field, and the line's length.
  CommandResult r = RunSluice(2, Stream(out, "--param 'mapper=awk \"{print \\$1 \\\"\\t\\\" length(\\$0)}\"'"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string all;
  for (const std::string& part : ReadParts(out, 5)) {
    // Every part is sorted by key (bytes), values of a key in input order.
    std::string prev;
    for (size_t at = 0; at < part.size();) {
      const size_t nl = part.find('\n', at);
      ASSERT_NE(nl, std::string::npos);
      const std::string line = part.substr(at, nl - at);
      const std::string key = line.substr(0, line.find('\t'));
      EXPECT_LE(prev, key);
      prev = key;
      at = nl + 1;
    }
    all += part;
  }
  EXPECT_NE(all.find("alpha\t10\n"), std::string::npos) << "the '\\r' is not part of the line";
  EXPECT_NE(all.find("tail\t4\n"), std::string::npos) << "the last line without a newline";
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
    r = RunSluice(ranks, "run stream --param mapper=cat" + io + Quoted(out));
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
      {"reducer exits 1", "--param mapper=cat --param 'reducer=sh -c \"cat >/dev/null; echo red-fail >&2; exit 1\"'",
       {"reducer", "exit status 1", "red-fail", "partition"}},
      {"mapper hangs", "--param 'mapper=sleep 100' --param task-timeout=1",
       {"mapper 'sleep 100'", "1 s"}},
      {"a line that never ends (NULs, no newline)", "--param 'mapper=cat /dev/zero'",
       {"mapper printed a line of more than 64 MiB", "split"}},
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

// A stream job killed midway resumes from its saved map tasks (their
// mappers are not run again) and gives the bytes of a run never killed.
TEST_F(StreamE2E, AKilledStreamJobResumesWithTheSameBytes) {
  const std::string params = "--param 'mapper=python3 " + kExamples + "/wc_map.py' --param 'reducer=python3 " +
                             kExamples + "/wc_reduce.py'";
  const std::string clean = dir_ / "clean";
  ASSERT_EQ(RunSluice(2, Stream(clean, params)).exit_code, 0);
  const std::string out = dir_ / "resumed";
  CommandResult killed = RunCommand("SLUICE_FAULT=after_map_task@0:crash#3 " + MpiLauncher(2) + " " +
                                    BinPath("sluice") + " " + Stream(out, params));
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  EXPECT_FALSE(Exists(out));
  CommandResult r = RunSluice(2, Stream(out, params));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GE(ReportNumber(out, "/resume/map_tasks_reused"), 3u) << r.output;
  EXPECT_EQ(ReadParts(out, 5), ReadParts(clean, 5));
}

// A failed task's command is killed and its working directory removed
// before the job exits, on a shared /tmp too: nothing is left behind. One
// rank: under mpirun the failing rank cleans up too, but a peer that the
// abort kills mid-task leaves its command's directory (a killed rank: not
// handled yet, see issue 16's notes), so more ranks would make this racy.
TEST_F(StreamE2E, AFailedCommandLeavesNoWorkingDirectory) {
  const std::string tmp = dir_ / "tmp";
  RunCommand("mkdir -p " + Quoted(tmp));
  for (int ranks : {1}) {
    for (const std::string& params : {std::string("--param 'mapper=sh -c \"exit 3\"'"),
                                      std::string("--param mapper=cat --param 'reducer=sh -c \"exit 4\"'")}) {
      const std::string out = dir_ / "leak";
      CommandResult r = RunCommand("TMPDIR=" + Quoted(tmp) + " " + MpiLauncher(ranks) + " " + BinPath("sluice") +
                                   " " + Stream(out, params));
      EXPECT_EQ(r.exit_code, 6) << params << "\n" << r.output;
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
