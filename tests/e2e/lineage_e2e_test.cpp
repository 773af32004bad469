// Lineage events (--lineage FILE; issue 15): a job's run is a START and
// then a COMPLETE or FAIL, with its input files and its output (row count,
// bytes, each part's xxh3) as datasets; a pipeline's steps name its run as
// their parent. Every event is checked against what the OpenLineage schema
// requires (tests/e2e/openlineage_check.py).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

std::vector<nlohmann::json> Events(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream lines(ReadFile(path));
  for (std::string line; std::getline(lines, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The schema check's verdict: the event types, or the problems.
CommandResult SchemaCheck(const std::string& path) {
  const std::string here = __FILE__;
  return RunCommand("python3 " + Quoted(here.substr(0, here.rfind('/') + 1) + "openlineage_check.py") + " " +
                    Quoted(path));
}

class LineageE2E : public ::testing::Test {
 protected:
  void SetUp() override { WriteNumberedWords(dir_ / "in", 2); }
  std::string WordCount(const std::string& out, const std::string& flags) const {
    return "run wordcount --input " + Quoted(dir_ / "in") + " --output " + Quoted(out) + " --lineage " +
           Quoted(dir_ / "lineage.jsonl") + " " + flags;
  }
  TempDir dir_;
};

TEST_F(LineageE2E, ARunIsAStartThenACompleteWithItsDatasets) {
  CommandResult r = RunSluice(2, WordCount(dir_ / "out", ""));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  CommandResult check = SchemaCheck(dir_ / "lineage.jsonl");
  ASSERT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "START COMPLETE\n");
  const std::vector<nlohmann::json> events = Events(dir_ / "lineage.jsonl");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["run"]["runId"], events[1]["run"]["runId"]);
  EXPECT_EQ(events[1]["job"]["name"], "wordcount:" + dir_ / "out");
  ASSERT_EQ(events[0]["inputs"].size(), 2u);
  EXPECT_EQ(events[0]["inputs"][0]["name"], dir_ / "in/f0.txt");
  const nlohmann::json manifest = ReadJson(dir_ / "out/_manifest.json");
  const nlohmann::json& out = events[1]["outputs"][0];
  EXPECT_EQ(out["name"], dir_ / "out");
  EXPECT_EQ(out["outputFacets"]["outputStatistics"]["rowCount"], manifest["counters"]["output_records"]);
  const nlohmann::json& parts = out["facets"]["sluice_parts"]["parts"];
  ASSERT_EQ(parts.size(), manifest["outputs"].size());
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i]["file"], manifest["outputs"][i]["file"]);
    EXPECT_EQ(parts[i]["xxh3"], manifest["outputs"][i]["xxh3"]);
  }
  // Nothing to do: a run all the same, START and COMPLETE.
  r = RunSluice(1, WordCount(dir_ / "out", ""));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  check = SchemaCheck(dir_ / "lineage.jsonl");
  EXPECT_EQ(check.output, "START COMPLETE START COMPLETE\n") << check.output;
}

TEST_F(LineageE2E, AFailedRunEndsWithAFailNamingWhy) {
  for (int ranks : {1, 2}) {
    RunCommand("rm -f " + Quoted(dir_ / "lineage.jsonl"));
    CommandResult r = RunSluice(ranks, WordCount(dir_ / "out", "--expect 'output_records >= 1000000'"));
    ASSERT_EQ(r.exit_code, 7) << r.output;
    CommandResult check = SchemaCheck(dir_ / "lineage.jsonl");
    ASSERT_EQ(check.exit_code, 0) << check.output;
    EXPECT_EQ(check.output, "START FAIL\n") << ranks << " ranks";
    const std::vector<nlohmann::json> events = Events(dir_ / "lineage.jsonl");
    EXPECT_EQ(events[1]["run"]["facets"]["errorMessage"]["message"], "exit code 7 (see the log)");
  }
  // A lineage file that cannot be written: the job does nothing.
  CommandResult r = RunSluice(1, "run wordcount --input " + Quoted(dir_ / "in") + " --output " +
                                     Quoted(dir_ / "never") + " --lineage " + Quoted(dir_ / "no/such/dir/l.jsonl"));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("lineage"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(dir_ / "never"));
}

// A full disk under the lineage file (a 4 KiB tmpfs in a mount namespace
// of the test's own): the START fits, the COMPLETE (64 parts) does not. The output is
// published, the job exits 4 (not 0), and the file holds whole events only.
TEST_F(LineageE2E, AFullDiskIsANonZeroExitAndNoTornLine) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  RunCommand("mkdir -p " + Quoted(dir_ / "full"));
  const std::string script =
      "mount -t tmpfs -o size=4k tmpfs " + dir_ / "full" + " && " + BinPath("sluice") +
      " run wordcount --quiet --partitions 64 --input " + dir_ / "in" + " --output " + dir_ / "out" +
      " --lineage " + dir_ / "full/l.jsonl" + "; rc=$?; cp " + dir_ / "full/l.jsonl" + " " + dir_ / "kept.jsonl" +
      "; exit $rc";
  CommandResult r = RunCommand("unshare -m sh -c " + Quoted(script));
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("lineage COMPLETE event could not be written"), std::string::npos) << r.output;
  EXPECT_TRUE(Exists(dir_ / "out/_SUCCESS")) << "the output is whole and published";
  CommandResult check = SchemaCheck(dir_ / "kept.jsonl");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "START\n");
}

TEST_F(LineageE2E, APipelinesStepsNameItsRunAsTheirParent) {
  WriteFile(dir_ / "p.toml",
            "[pipeline]\nname = \"words\"\n"
            "[steps.count]\njob = \"wordcount\"\ninputs = [\"in/\"]\noutput = \"out/count\"\n"
            "[steps.pick]\njob = \"grep\"\ninputs = [\"step:count\"]\noutput = \"out/pick\"\n"
            "params = { pattern = \"w1\" }\n");
  CommandResult r = RunSluice(2, "pipeline run " + Quoted(dir_ / "p.toml") + " --lineage " +
                                     Quoted(dir_ / "lineage.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  CommandResult check = SchemaCheck(dir_ / "lineage.jsonl");
  ASSERT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "START START COMPLETE START COMPLETE COMPLETE\n");
  const std::vector<nlohmann::json> e = Events(dir_ / "lineage.jsonl");
  ASSERT_EQ(e.size(), 6u);
  EXPECT_EQ(e[0]["job"]["name"], "words");
  EXPECT_EQ(e[5]["run"]["runId"], e[0]["run"]["runId"]);
  EXPECT_EQ(e[1]["job"]["name"], "words.count");
  EXPECT_EQ(e[3]["job"]["name"], "words.pick");
  for (int i : {1, 2, 3, 4}) {
    EXPECT_EQ(e[i]["run"]["facets"]["parent"]["run"]["runId"], e[0]["run"]["runId"]) << i;
    EXPECT_EQ(e[i]["run"]["facets"]["parent"]["job"]["name"], "words") << i;
  }
  // The second step read what the first wrote: its input datasets are the
  // first one's part files.
  EXPECT_EQ(e[3]["inputs"][0]["name"], dir_ / "out/count/part-00000");
}

}  // namespace
}  // namespace sluice::e2e
