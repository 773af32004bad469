// Reading pipeline files (runtime/cli/pipeline/pipeline_file.h): the run
// order, step references, paths, params and flags as `sluice run` args.
#include "runtime/cli/pipeline/pipeline_file.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace sluice {
namespace {

class PipelineFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-pipeline-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)system(("rm -rf '" + dir_ + "'").c_str()); }
  Result<Pipeline> Read(const std::string& text) {
    std::ofstream(dir_ + "/p.toml") << text;
    return ReadPipelineFile(dir_ + "/p.toml");
  }
  std::string dir_;
};

std::vector<std::string> Names(const Pipeline& p) {
  std::vector<std::string> names;
  for (const PipelineStep& s : p.steps) names.push_back(s.name);
  return names;
}

TEST_F(PipelineFile, StepsRunAfterWhatTheyReadElseInTheFilesOrder) {
  auto p = Read(
      "[steps.report]\njob = \"grep\"\ninputs = [\"step:clean\", \"step:extra\"]\noutput = \"out/report\"\n"
      "[steps.zeta]\njob = \"grep\"\ninputs = [\"raw\"]\noutput = \"out/zeta\"\n"
      "[steps.clean]\njob = \"grep\"\ninputs = [\"raw\"]\noutput = \"out/clean\"\n"
      "[steps.extra]\njob = \"grep\"\ninputs = [\"step:clean\"]\noutput = \"/abs/extra\"\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(Names(*p), (std::vector<std::string>{"zeta", "clean", "extra", "report"}));
  const PipelineStep& report = p->steps[3];
  EXPECT_EQ(report.inputs, (std::vector<std::string>{dir_ + "/out/clean", "/abs/extra"}));
  EXPECT_EQ(report.after, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(p->steps[0].inputs, std::vector<std::string>{dir_ + "/raw"});
  EXPECT_EQ(report.line, 1);
}

TEST_F(PipelineFile, ParamsAndFlagsBecomeCommandLineText) {
  auto p = Read(
      "[steps.a]\njob = \"grep\"\ninputs = [\"../in/\"]\noutput = \"o\"\n"
      "params = { pattern = \"x y\", limit = 10, exact = true, ratio = 0.25 }\n"
      "flags = { split-size = \"64K\", max-bad-records = 5, quiet = true, csv-header = \"no\" }\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const PipelineStep& a = p->steps[0];
  EXPECT_EQ(a.inputs, std::vector<std::string>{dir_.substr(0, dir_.rfind('/')) + "/in/"}) << "a folder stays one";
  // toml++ keeps a table's keys sorted.
  EXPECT_EQ(a.params, (std::vector<std::pair<std::string, std::string>>{
                          {"exact", "true"}, {"limit", "10"}, {"pattern", "x y"}, {"ratio", "0.25"}}));
  EXPECT_EQ(a.flags, (std::vector<std::string>{"--csv-header", "no", "--max-bad-records", "5", "--quiet",
                                               "--split-size", "64K"}));
}

TEST_F(PipelineFile, FromAStepForcesItAndEverythingDownstream) {
  auto p = Read(
      "[steps.a]\njob = \"grep\"\ninputs = [\"raw\"]\noutput = \"a\"\n"
      "[steps.b]\njob = \"grep\"\ninputs = [\"step:a\"]\noutput = \"b\"\n"
      "[steps.c]\njob = \"grep\"\ninputs = [\"raw\"]\noutput = \"c\"\n"
      "[steps.d]\njob = \"grep\"\ninputs = [\"step:c\", \"step:b\"]\noutput = \"d\"\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto from_b = StepsFrom(*p, "b");
  ASSERT_TRUE(from_b.ok());
  EXPECT_EQ(*from_b, (std::vector<bool>{false, true, false, true}));
  EXPECT_EQ(StepsFrom(*p, "c").value(), (std::vector<bool>{false, false, true, true}));
  EXPECT_FALSE(StepsFrom(*p, "nope").ok());
}

TEST_F(PipelineFile, AStepReadingItselfIsRefused) {
  auto p = Read("[steps.a]\njob = \"grep\"\ninputs = [\"step:a\"]\noutput = \"a\"\n");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("step 'a' reads its own output"), std::string::npos) << p.status().ToString();
}

}  // namespace
}  // namespace sluice
