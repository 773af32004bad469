// `sluice submit`: a job that loses a rank is run again without a person,
// resuming, until it succeeds or its retries run out (exit 75); a job that
// fails for a reason of its own (bad input) is never retried. The crash is
// real: a rank SIGKILLs itself (SLUICE_FAULT ... :crash) under a real
// mpirun. The victim dies in reduce, which every rank reaches on every
// attempt: map splits are handed out on demand, so a resumed attempt may
// give rank 1 no map task at all (a map-side fault would then never fire).
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

void WriteCorpus(const std::string& dir) { WriteNumberedWords(dir, 4); }

// `sluice submit` around a 2-rank WordCount. The launch command is a shell
// that arms `fault_on_first` only when SLUICE_ATTEMPT (set by submit) is
// 1, or on every attempt when `every_attempt`.
CommandResult Submit(const std::string& in, const std::string& out, const std::string& fault,
                     bool every_attempt, int retries) {
  const std::string arm = fault.empty() ? ""
                          : every_attempt
                              ? "export SLUICE_FAULT=" + fault + "; "
                              : "if [ \"\\$SLUICE_ATTEMPT\" = 1 ]; then export SLUICE_FAULT=" + fault + "; fi; ";
  const std::string job = MpiLauncher(2) + BinPath("sluice") +
                          " run wordcount --split-size 32K --partitions 4 --input " + Quoted(in) +
                          " --output " + Quoted(out);
  return RunCommand(BinPath("sluice") + " submit --retries " + std::to_string(retries) +
                    " --retry-delay 0 -- sh -c \"" + arm + job + "\"");
}

TEST(SubmitE2E, LostRankIsRunAgainResumingAndMatchesAnUndisturbedRun) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteCorpus(dir / "in"));
  CommandResult clean = RunSluice(1, "run wordcount --partitions 4 --input " + Quoted(dir / "in") +
                                         " --output " + Quoted(dir / "clean"));
  ASSERT_EQ(clean.exit_code, 0) << clean.output;

  // Rank 1 dies by SIGKILL in reduce, on attempt 1 only.
  CommandResult r = Submit(dir / "in", dir / "out", "during_reduce@1:crash", false, 2);
  std::printf("%s\n", r.output.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("sluice submit: attempt 1 of 3 lost rank 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sluice submit: attempt 2 succeeded"), std::string::npos) << r.output;
  EXPECT_TRUE(ReadParts(dir / "out", 4) == ReadParts(dir / "clean", 4));
  EXPECT_GT(ReportNumber(dir / "out", "/resume/map_tasks_reused"), 0u);
  nlohmann::json report = ReadJson(dir / "out/_report.json");
  EXPECT_EQ(report["attempts"]["this"], 2) << report["attempts"].dump();
  ASSERT_EQ(report["attempts"]["earlier"].size(), 1u) << report["attempts"].dump();
  EXPECT_NE(report["attempts"]["earlier"][0]["lost"].get<std::string>().find("rank 1"), std::string::npos)
      << report["attempts"].dump();
}

TEST(SubmitE2E, RetriesRunOutWithExit75AndNoOutput) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteCorpus(dir / "in"));
  CommandResult r = Submit(dir / "in", dir / "out", "during_reduce@1:crash", true, 1);
  EXPECT_EQ(r.exit_code, 75) << r.output;
  EXPECT_NE(r.output.find("attempt 1 of 2 lost rank 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("attempt 2 of 2 lost rank 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("no retries left, exit 75"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(dir / "out"));
}

TEST(SubmitE2E, BadInputIsNotRetried) {
  TempDir dir;
  CommandResult r = Submit(dir / "missing", dir / "out", "", false, 3);
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_EQ(r.output.find("sluice submit: attempt"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(dir / "out"));
}

TEST(SubmitE2E, ALauncherThatCannotStartIsNotRetried) {
  CommandResult r = RunCommand(BinPath("sluice") + " submit --retries 3 -- /nonexistent/mpirun -np 2 x");
  EXPECT_EQ(r.exit_code, 127) << r.output;
  EXPECT_NE(r.output.find("cannot run '/nonexistent/mpirun'"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("sluice submit: attempt"), std::string::npos) << r.output;
}

TEST(SubmitE2E, RefusesABadRetryCount) {
  CommandResult r = RunCommand(BinPath("sluice") + " submit --retries -1 -- true");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("flag --retries"), std::string::npos) << r.output;
  r = RunCommand(BinPath("sluice") + " submit --retries 1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no command given"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sluice::e2e
