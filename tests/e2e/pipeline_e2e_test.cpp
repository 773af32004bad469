// `sluice pipeline run|plan FILE` (issue 15): steps run in dependency order,
// each exactly as `sluice run` runs it; a re-run skips every step whose
// output holds its result, a change re-runs the steps it affects and those
// after them, a killed step resumes from its saved map tasks, and a bad
// file is a usage error naming its line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

// logs -> sessions -> daily, and errors (grep) beside them.
std::string WeblogPipeline(const std::string& pattern) {
  return "[pipeline]\n"
         "name = \"weblog\"\n\n"
         "[steps.sessions]\n"
         "job = \"sessionize\"\n"
         "inputs = [\"logs/\"]\n"
         "output = \"out/sessions\"\n"
         "flags = { max-bad-records = 1000, split-size = \"64K\" }\n\n"
         "[steps.daily]\n"
         "job = \"dailystats\"\n"
         "inputs = [\"step:sessions\"]\n"
         "output = \"out/daily\"\n\n"
         "[steps.errors]\n"
         "job = \"grep\"\n"
         "inputs = [\"logs/\"]\n"
         "output = \"out/errors\"\n"
         "params = { pattern = \"" + pattern + "\" }\n";
}

class PipelineE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult r = RunCommand(BinPath("sluice-datagen2") + " clf --output " + Quoted(dir_ / "logs") +
                                 " --files 3 --lines 6000 --clients 120");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    WriteFile(dir_ / "p.toml", WeblogPipeline(" 500 "));
  }
  // The pipeline, started from another folder: its paths are the file's.
  CommandResult Pipeline(int ranks, const std::string& args, const std::string& env = "") const {
    return RunCommand("cd / && " + env + MpiLauncher(ranks) + BinPath("sluice") + " pipeline " + args);
  }
  // The same three jobs run one by one with `sluice run`: what the
  // pipeline's outputs must hold.
  void RunReference() {
    const std::string logs = Quoted(dir_ / "logs");
    ASSERT_EQ(RunSluice(1, "run sessionize --quiet --max-bad-records 1000 --split-size 64K " + logs + " " +
                               Quoted(dir_ / "ref/sessions")).exit_code, 0);
    ASSERT_EQ(RunSluice(1, "run dailystats --quiet " + Quoted(dir_ / "ref/sessions") + " " +
                               Quoted(dir_ / "ref/daily")).exit_code, 0);
    ASSERT_EQ(RunSluice(1, "run grep --quiet --param 'pattern= 500 ' " + logs + " " + Quoted(dir_ / "ref/errors"))
                  .exit_code, 0);
  }
  void ExpectOutputsAreTheReferences() {
    for (const char* step : {"sessions", "daily", "errors"}) {
      EXPECT_EQ(ReadParts(dir_ / ("out/" + std::string(step)), 16), ReadParts(dir_ / ("ref/" + std::string(step)), 16))
          << step;
    }
  }
  // "skipped" or "runs" for each step, from the run's log, in run order.
  static std::vector<std::string> Actions(const std::string& log) {
    std::vector<std::string> out;
    for (const char* step : {"'sessions'", "'daily'", "'errors'"}) {
      const size_t at = log.find(std::string(step) + " (");
      if (at == std::string::npos) {
        out.push_back("absent");
        continue;
      }
      const size_t colon = log.find("): ", at);
      out.push_back(log.substr(colon + 3, log.find(':', colon + 3) - colon - 3));
    }
    return out;
  }

  TempDir dir_;
};

using Acts = std::vector<std::string>;

// How many times `text` occurs in `page`.
size_t Count(const std::string& page, const std::string& text) {
  size_t n = 0;
  for (size_t at = page.find(text); at != std::string::npos; at = page.find(text, at + 1)) ++n;
  return n;
}

TEST_F(PipelineE2E, RunsEachStepAsSluiceRunWouldThenSkipsEveryStepOnARerun) {
  RunReference();
  const std::string page = dir_ / "pipeline.html";
  CommandResult r = Pipeline(2, "run " + Quoted(dir_ / "p.toml") + " --report " + Quoted(page));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Actions(r.output), (Acts{"runs", "runs", "runs"})) << r.output;
  ExpectOutputsAreTheReferences();
  // The page: the graph (a box per step, an arrow sessions -> daily) and
  // the table, each step's counters read from its own report.
  std::string html = ReadFile(page);
  EXPECT_NE(html.find("3 step(s): 3 ran, 0 skipped"), std::string::npos) << html;
  EXPECT_EQ(Count(html, "<rect "), 3u) << html;
  EXPECT_EQ(Count(html, "<polygon "), 1u) << "one edge: daily reads sessions";
  EXPECT_NE(html.find("<td>" + std::to_string(ReportCounter(dir_ / "out/sessions", "input_records")) + "</td>"),
            std::string::npos);
  EXPECT_EQ(ListDir(dir_.path()), (std::vector<std::string>{"logs", "out", "p.toml", "pipeline.html", "ref"}))
      << "the page's temporary was left behind";
  const std::string success = ReadFile(dir_ / "out/daily/_SUCCESS");
  // Again, at another rank count: nothing to do.
  r = Pipeline(1, "run " + Quoted(dir_ / "p.toml") + " --report " + Quoted(page));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Actions(r.output), (Acts{"skipped", "skipped", "skipped"})) << r.output;
  html = ReadFile(page);
  EXPECT_NE(html.find("3 step(s): 0 ran, 3 skipped"), std::string::npos) << html;
  EXPECT_EQ(ReadFile(dir_ / "out/daily/_SUCCESS"), success);
  ExpectOutputsAreTheReferences();
}

TEST_F(PipelineE2E, AChangeRunsOnlyTheStepsItAffectsAndThoseAfterThem) {
  ASSERT_EQ(Pipeline(2, "run " + Quoted(dir_ / "p.toml")).exit_code, 0);
  // A parameter of one step: that step alone.
  WriteFile(dir_ / "p.toml", WeblogPipeline(" 404 "));
  CommandResult plan = Pipeline(1, "plan " + Quoted(dir_ / "p.toml"));
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("errors               grep             run   'params' was {\"pattern\":\" 500 \"}, "
                             "now {\"pattern\":\" 404 \"}"),
            std::string::npos)
      << plan.output;
  EXPECT_NE(plan.output.find("daily                dailystats       skip  its output holds this result"),
            std::string::npos)
      << plan.output;
  CommandResult r = Pipeline(2, "run " + Quoted(dir_ / "p.toml"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Actions(r.output), (Acts{"skipped", "skipped", "runs"})) << r.output;
  // An input file: every step that reads it, and daily, which reads sessions.
  ASSERT_EQ(RunCommand("echo 'not a log line' >> " + Quoted(dir_ / "logs/clf-00001.log")).exit_code, 0);
  plan = Pipeline(1, "plan " + Quoted(dir_ / "p.toml"));
  EXPECT_NE(plan.output.find("changed size"), std::string::npos) << plan.output;
  EXPECT_NE(plan.output.find("it reads step 'sessions', which runs"), std::string::npos) << plan.output;
  r = Pipeline(2, "run " + Quoted(dir_ / "p.toml"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Actions(r.output), (Acts{"runs", "runs", "runs"})) << r.output;
  // --from: that step and what reads it, whatever their outputs hold.
  r = Pipeline(1, "run " + Quoted(dir_ / "p.toml") + " --from daily");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Actions(r.output), (Acts{"skipped", "runs", "skipped"})) << r.output;
  r = Pipeline(1, "run " + Quoted(dir_ / "p.toml") + " --from sessions");
  EXPECT_EQ(Actions(r.output), (Acts{"runs", "runs", "skipped"})) << r.output;
}

TEST_F(PipelineE2E, AKilledStepResumesFromItsSavedMapTasks) {
  RunReference();
  CommandResult killed = Pipeline(2, "run " + Quoted(dir_ / "p.toml"), "SLUICE_FAULT=after_map_task@0:crash#3 ");
  ASSERT_NE(killed.exit_code, 0) << killed.output;
  EXPECT_FALSE(Exists(dir_ / "out/sessions"));
  EXPECT_FALSE(Exists(dir_ / "out/daily"));
  CommandResult r = Pipeline(2, "run " + Quoted(dir_ / "p.toml"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GE(ReportNumber(dir_ / "out/sessions", "/resume/map_tasks_reused"), 3u) << r.output;
  ExpectOutputsAreTheReferences();
}

TEST_F(PipelineE2E, AFailingStepEndsThePipelineWithItsExitCode) {
  std::string file = WeblogPipeline(" 500 ");
  file.replace(file.find("max-bad-records = 1000"), 22, "max-bad-records = 0");
  WriteFile(dir_ / "p.toml", file);
  // A page that cannot be written stops the pipeline before any step: a
  // folder that is not there is a usage error (exit 2), as for a job.
  CommandResult unwritable = Pipeline(2, "run " + Quoted(dir_ / "p.toml") + " --report " + Quoted(dir_ / "no/p.html"));
  EXPECT_EQ(unwritable.exit_code, 2) << unwritable.output;
  EXPECT_NE(unwritable.output.find("--report '" + dir_ / "no/p.html" + "': its folder"), std::string::npos)
      << unwritable.output;
  EXPECT_FALSE(Exists(dir_ / "out"));

  // One rank: the rank that meets the bad record is the one that writes
  // the page (under mpirun another rank may, and the abort ends rank 0
  // too: its page then says the step did not finish).
  CommandResult r = Pipeline(1, "run " + Quoted(dir_ / "p.toml") + " --report " + Quoted(dir_ / "p.html"));
  EXPECT_EQ(r.exit_code, 3) << r.output;  // bad input: the generator writes malformed lines
  EXPECT_NE(r.output.find("pipeline step 1/3 'sessions'"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(dir_ / "out/sessions"));
  EXPECT_FALSE(Exists(dir_ / "out/daily"));
  EXPECT_FALSE(Exists(dir_ / "out/errors"));
  // The page says so: the step failed with its exit code, the rest not run.
  const std::string html = ReadFile(dir_ / "p.html");
  EXPECT_NE(html.find("<td>failed (exit 3)</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("failed in map on rank 0: bad input"), std::string::npos) << html;
  EXPECT_EQ(Count(html, "<td>not run</td>"), 2u) << html;
  EXPECT_EQ(RunCommand("find " + Quoted(dir_.path()) + " -name '*sluice-tmp*'").output, "");

  r = Pipeline(2, "run " + Quoted(dir_ / "p.toml") + " --report " + Quoted(dir_ / "p.html"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  const std::string two = ReadFile(dir_ / "p.html");
  EXPECT_TRUE(two.find("<td>failed (exit 3)</td>") != std::string::npos ||
              two.find("<td>did not finish</td>") != std::string::npos)
      << two;
}

TEST_F(PipelineE2E, ABadFileIsAUsageErrorNamingItsLine) {
  const std::string step = "[steps.a]\njob = \"grep\"\ninputs = [\"logs/\"]\noutput = \"out/a\"\n";
  struct Case {
    std::string file, message;
  };
  const std::vector<Case> cases = {
      {"[steps.a]\njob = \"grep\"\n", "p.toml:1: step 'a': 'inputs' is required"},
      {step + "colour = \"red\"\n", "p.toml:5: step 'a': unknown key 'colour'"},
      {step + "flags = { output = \"x\" }\n", "flag 'output': the pipeline sets it"},
      {step + "flags = { no-such-flag = 1 }\n", "flag 'no-such-flag': no such flag"},
      {step + "plugin = \"x.so\"\n", "give exactly one of 'job' and 'plugin'"},
      {step + "[steps.b]\njob = \"grep\"\ninputs = [\"step:c\"]\noutput = \"out/b\"\n",
       "step 'b' reads 'step:c', but there is no step 'c'"},
      {"[steps.a]\njob = \"grep\"\ninputs = [\"step:b\"]\noutput = \"out/a\"\n"
       "[steps.b]\njob = \"grep\"\ninputs = [\"step:a\"]\noutput = \"out/b\"\n",
       "steps 'a', 'b' read each other's outputs in a cycle"},
      {step + "[steps.b]\njob = \"grep\"\ninputs = [\"logs/\"]\noutput = \"out/a\"\n", "write the same output"},
      {"[steps.a\njob = 1\n", "p.toml:1: "},
      {"[steps.a]\njob = \"no-such-job\"\ninputs = [\"logs/\"]\noutput = \"out/a\"\n", "no built-in job named 'no-such-job'"},
      {step + "params = { nope = 1 }\n", "nope"},
  };
  for (const Case& c : cases) {
    WriteFile(dir_ / "p.toml", c.file);
    for (const char* command : {"plan", "run"}) {
      CommandResult r = Pipeline(1, std::string(command) + " " + Quoted(dir_ / "p.toml"));
      EXPECT_EQ(r.exit_code, 2) << c.file << r.output;
      EXPECT_NE(r.output.find(c.message), std::string::npos) << c.file << r.output;
    }
    EXPECT_FALSE(Exists(dir_ / "out")) << c.file;
  }
  CommandResult r = Pipeline(1, "run " + Quoted(dir_ / "p.toml") + " --from nowhere");
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

// The example file parses and names its four steps in order (whether or
// not scripts/pipeline-weblog has made its logs yet).
TEST(PipelineExample, TheWeblogPipelineIsAValidFile) {
  CommandResult r = RunSluice(1, "pipeline plan " + Quoted(std::string(SLUICE_SOURCE_DIR) +
                                                           "/examples/pipelines/weblog.toml"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t sessions = r.output.find("1    sessions"), daily = r.output.find("2    daily"),
               not_found = r.output.find("3    not_found"), traffic = r.output.find("4    traffic");
  EXPECT_NE(sessions, std::string::npos) << r.output;
  EXPECT_NE(daily, std::string::npos) << r.output;
  EXPECT_NE(not_found, std::string::npos) << r.output;
  EXPECT_NE(traffic, std::string::npos) << r.output;
}

}  // namespace
}  // namespace sluice::e2e
