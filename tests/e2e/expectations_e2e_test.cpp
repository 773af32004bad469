// Data-quality expectations (--expect, --expect-warn; issue 15): checked
// before the publish. A failed `error` one is exit 7 with nothing
// published (an output being replaced stays as it was); a failed `warn`
// one publishes; every result is in the report and the manifest.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

class ExpectationsE2E : public ::testing::Test {
 protected:
  void SetUp() override { WriteNumberedWords(dir_ / "in", 2); }  // 7,001 distinct words (w0..w6999 and y)
  std::string WordCount(const std::string& out, const std::string& flags) const {
    return "run wordcount --input " + Quoted(dir_ / "in") + " --output " + Quoted(out) + " " + flags;
  }
  TempDir dir_;
};

TEST_F(ExpectationsE2E, ResultsAreInTheManifestAndAWarnOnePublishes) {
  CommandResult r = RunSluice(2, WordCount(dir_ / "out", "--expect 'output_records >= 1' "
                                                         "--expect 'output.min_field_2 >= 1' "
                                                         "--expect-warn 'output_records >= 1000000'"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("expectation failed (warn: the output is published): output_records >= 1000000: "
                          "7001 >= 1000000 (output_records = 7001)"),
            std::string::npos)
      << r.output;
  const nlohmann::json manifest = ReadJson(dir_ / "out/_manifest.json");
  ASSERT_EQ(manifest["expectations"].size(), 3u) << manifest.dump(2);
  EXPECT_EQ(manifest["expectations"][0]["outcome"], "passed");
  EXPECT_EQ(manifest["expectations"][1]["outcome"], "passed");
  EXPECT_EQ(manifest["expectations"][2]["outcome"], "failed");
  EXPECT_EQ(manifest["expectations"][2]["level"], "warn");
  EXPECT_EQ(ReadJson(dir_ / "out/_report.json")["expectations"], manifest["expectations"]);
}

TEST_F(ExpectationsE2E, AFailedOneIsExitSevenAndPublishesNothing) {
  for (int ranks : {1, 2}) {
    const std::string out = dir_ / ("out" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, WordCount(out, "--expect 'output_records >= 1000000'"));
    EXPECT_EQ(r.exit_code, 7) << r.output;
    EXPECT_NE(r.output.find("expectation failed: output_records >= 1000000: 7001 >= 1000000"), std::string::npos)
        << r.output;
    EXPECT_FALSE(Exists(out));
  }
  // A misspelt counter is no zero: it fails.
  CommandResult r = RunSluice(1, WordCount(dir_ / "typo", "--expect 'ouput_records >= 1'"));
  EXPECT_EQ(r.exit_code, 7) << r.output;
  EXPECT_NE(r.output.find("ouput_records: no such counter"), std::string::npos) << r.output;
  // A syntax error is a usage error, before any work.
  r = RunSluice(1, WordCount(dir_ / "syntax", "--expect 'output_records >='"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("flag --expect: expectation 'output_records >=': expected a number or a name"),
            std::string::npos)
      << r.output;
}

// previous.NAME: the output this run would replace. Without one the
// expectation is not checked; with one, a row count that grew too much
// fails, and the previous output stays published.
TEST_F(ExpectationsE2E, ARowCountIsComparedWithThePreviousRun) {
  const std::string gate = "--overwrite --expect 'output_records <= 1.01 * previous.output_records' "
                           "--expect 'output_records >= 0.99 * previous.output_records'";
  CommandResult r = RunSluice(2, WordCount(dir_ / "out", gate));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadJson(dir_ / "out/_manifest.json")["expectations"][0]["outcome"], "not checked");
  const std::string before = ReadFile(dir_ / "out/_SUCCESS");
  WriteFile(dir_ / "in/more.txt", "brand new words only here\n");  // +5 of 7,001: within 1%
  r = RunSluice(2, WordCount(dir_ / "out", gate));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadJson(dir_ / "out/_manifest.json")["expectations"][0]["outcome"], "passed");
  std::string many;
  for (int i = 0; i < 500; ++i) many += "fresh" + std::to_string(i) + "\n";
  WriteFile(dir_ / "in/many.txt", many);  // +500: past 1%
  const std::string published = ReadFile(dir_ / "out/_SUCCESS");
  r = RunSluice(2, WordCount(dir_ / "out", gate));
  EXPECT_EQ(r.exit_code, 7) << r.output;
  EXPECT_NE(r.output.find("(output_records = 7506, previous.output_records = 7006)"), std::string::npos) << r.output;
  EXPECT_EQ(ReadFile(dir_ / "out/_SUCCESS"), published) << "the previous output stays";
  EXPECT_NE(before, published);
}

// Output measures: duplicate keys in a map-only output (not sorted), which
// a reduce job's output of the same lines does not have.
TEST_F(ExpectationsE2E, DuplicateKeysInTheOutputFailTheGate) {
  WriteFile(dir_ / "pairs.txt", "b\t1\na\t2\nb\t3\n");
  const std::string io = " --input " + Quoted(dir_ / "pairs.txt") + " --expect 'output.duplicate_keys == 0' --output ";
  CommandResult r = RunSluice(2, "run stream --param mapper=cat" + io + Quoted(dir_ / "maponly"));
  EXPECT_EQ(r.exit_code, 7) << r.output;
  EXPECT_NE(r.output.find("1 == 0 (output.duplicate_keys = 1)"), std::string::npos) << r.output;
  r = RunSluice(2, "run stream --param mapper=cat --param 'reducer=python3 " +
                       std::string(SLUICE_SOURCE_DIR) + "/examples/streaming/wc_reduce.py'" + io +
                       Quoted(dir_ / "summed"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// A pipeline step's expectations (expect = [...]) gate that step: a failed
// one ends the pipeline with exit 7 before later steps.
TEST_F(ExpectationsE2E, APipelineStepsExpectationStopsThePipeline) {
  WriteFile(dir_ / "p.toml",
            "[steps.count]\njob = \"wordcount\"\ninputs = [\"in/\"]\noutput = \"out/count\"\n"
            "expect = [\"output_records >= 1\"]\nexpect_warn = [\"output_records <= 10\"]\n"
            "[steps.top]\njob = \"grep\"\ninputs = [\"step:count\"]\noutput = \"out/top\"\n"
            "params = { pattern = \"w1\" }\nexpect = [\"output_records >= 1000000\"]\n"
            "[steps.after]\njob = \"grep\"\ninputs = [\"step:top\"]\noutput = \"out/after\"\n"
            "params = { pattern = \"w\" }\n");
  CommandResult r = RunSluice(2, "pipeline run " + Quoted(dir_ / "p.toml"));
  EXPECT_EQ(r.exit_code, 7) << r.output;
  EXPECT_TRUE(Exists(dir_ / "out/count/_SUCCESS"));
  EXPECT_EQ(ReadJson(dir_ / "out/count/_manifest.json")["expectations"][1]["outcome"], "failed");
  EXPECT_FALSE(Exists(dir_ / "out/top"));
  EXPECT_FALSE(Exists(dir_ / "out/after"));
}

}  // namespace
}  // namespace sluice::e2e
