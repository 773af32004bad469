// Failures end the whole job quickly, with a clear message, a documented
// exit code, no _SUCCESS and nothing left in the staging area.
#include <csignal>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kUsage = 2;
constexpr int kBadInput = 3;
constexpr int kUserCode = 6;

TEST(FailureE2E, MissingInputIsRefusedBeforeAnyWork) {
  TempDir dir;
  for (int ranks : {1, 2}) {
    CommandResult r = RunSluice(ranks, "run wordcount --input '" + (dir / "nope") + "' --output '" +
                                           (dir / "out") + "'");
    EXPECT_EQ(r.exit_code, kBadInput) << r.output;
    EXPECT_NE(r.output.find(dir / "nope"), std::string::npos) << r.output;
    EXPECT_FALSE(Exists(dir / "out"));
    EXPECT_FALSE(Exists(dir / ".out.sluice-staging"));
  }
}

TEST(FailureE2E, GlobMatchingNothingIsRefused) {
  TempDir dir;
  CommandResult r = RunSluice(1, "run wordcount --input '" + (dir / "*.log") + "' --output '" +
                                     (dir / "out") + "'");
  EXPECT_EQ(r.exit_code, kBadInput) << r.output;
  EXPECT_NE(r.output.find("*.log"), std::string::npos) << r.output;
}

TEST(FailureE2E, BadFlagsNameTheFlag) {
  TempDir dir;
  WriteFile(dir / "in.txt", "a b\n");
  const std::string io = " --input '" + (dir / "in.txt") + "' --output '" + (dir / "out") + "'";
  struct Case {
    std::string args;
    std::string expect;
  } cases[] = {
      {"run wordcount --partitions 0" + io, "--partitions"},
      {"run wordcount --partitions banana" + io, "--partitions"},
      {"run wordcount --split-size 12Q" + io, "--split-size"},
      {"run wordcount --frobnicate 1" + io, "--frobnicate"},
      {"run wordcount --input '" + (dir / "in.txt") + "'", "--output"},
      {"run nosuchjob" + io, "nosuchjob"},
  };
  for (const Case& c : cases) {
    for (int ranks : {1, 2}) {
      CommandResult r = RunSluice(ranks, c.args);
      EXPECT_EQ(r.exit_code, kUsage) << c.args << "\n" << r.output;
      EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.args << "\n" << r.output;
    }
  }
  EXPECT_FALSE(Exists(dir / "out"));
}

TEST(FailureE2E, ExistingOutputNeedsOverwrite) {
  TempDir dir;
  WriteFile(dir / "old.txt", "old\n");
  WriteFile(dir / "in.txt", "new words\n");
  const std::string args =
      "run wordcount --partitions 2 --input '" + (dir / "in.txt") + "' --output '" + (dir / "out") + "'";
  // Yesterday's output, a Sluice output of other input.
  CommandResult r = RunSluice(1, "run wordcount --partitions 2 --input '" + (dir / "old.txt") +
                                     "' --output '" + (dir / "out") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto old_parts = ReadParts(dir / "out", 2);
  r = RunSluice(2, args);
  EXPECT_EQ(r.exit_code, kUsage) << r.output;
  EXPECT_NE(r.output.find("--overwrite"), std::string::npos) << r.output;
  EXPECT_EQ(ReadParts(dir / "out", 2), old_parts) << "a refused run must not touch the old output";

  r = RunSluice(2, args + " --overwrite");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto parts = ReadParts(dir / "out", 2);
  EXPECT_EQ(parts[0] + parts[1] == "new\t1\nwords\t1\n" || parts[0] + parts[1] == "words\t1\nnew\t1\n",
            true)
      << parts[0] << parts[1];
  EXPECT_EQ(ListDir(dir.path()), (std::vector<std::string>{"in.txt", "old.txt", "out"}))
      << "staging, work, lock or the old output left behind";
}

// --overwrite replaces only a Sluice output: a directory of anything else
// is refused, untouched, with a message that says why.
TEST(FailureE2E, OverwriteRefusesADirectorySluiceDidNotWrite) {
  TempDir dir;
  WriteFile(dir / "in.txt", "new words\n");
  ASSERT_EQ(RunCommand("mkdir '" + (dir / "out") + "' && echo old > '" + (dir / "out/old.txt") + "'")
                .exit_code,
            0);
  for (int ranks : {1, 2}) {
    CommandResult r = RunSluice(ranks, "run wordcount --overwrite --input '" + (dir / "in.txt") +
                                           "' --output '" + (dir / "out") + "'");
    EXPECT_EQ(r.exit_code, kUsage) << r.output;
    EXPECT_NE(r.output.find("is not a Sluice output"), std::string::npos) << r.output;
    EXPECT_EQ(ReadFile(dir / "out/old.txt"), "old\n");
    EXPECT_EQ(ListDir(dir.path()), (std::vector<std::string>{"in.txt", "out"}));
  }
}

// One rank's map() throws; every rank must stop within seconds, the job must
// exit with the user-code status, and nothing may be published.
TEST(FailureE2E, OneRankThrowingEndsTheWholeJob) {
  TempDir dir;
  ASSERT_EQ(RunCommand("mkdir -p '" + (dir / "in") + "'").exit_code, 0);
  // Many splits so that every rank is busy; the BOOM line sits in the last file.
  for (int f = 0; f < 8; ++f) {
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "line" + std::to_string(i % 1000) + "\n";
    if (f == 7) text += "BOOM\n";
    WriteFile(dir / ("in/f" + std::to_string(f) + ".txt"), text);
  }
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir / ("out" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, "run --plugin " + PluginPath("test/libfailing.so") +
                                           " --split-size 32K --input '" + (dir / "in") +
                                           "' --output '" + out + "'");
    EXPECT_EQ(r.exit_code, kUserCode) << "ranks=" << ranks << "\n" << r.output;
    EXPECT_NE(r.output.find("found the BOOM line"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("f7.txt"), std::string::npos) << "message must name the file\n" << r.output;
    EXPECT_LT(r.seconds, 30.0) << "failure must end the job promptly";
    EXPECT_FALSE(Exists(out)) << "no output may be published";
    EXPECT_FALSE(Exists(dir / (".out" + std::to_string(ranks) + ".sluice-staging")))
        << "temporaries must be removed";
  }
}

}  // namespace
}  // namespace sluice::e2e

namespace sluice::e2e {
namespace {

// SIGTERM (a scheduler's kill; mpirun forwards it to every rank) must leave
// neither output nor staging behind, and must not exit 0.
TEST(FailureE2E, SigtermLeavesNothingBehind) {
  TempDir dir;
  ASSERT_EQ(RunCommand("mkdir -p '" + (dir / "in") + "'").exit_code, 0);
  WriteFile(dir / "in/a.txt", "one\ntwo\nSLEEP\nthree\n");
  for (int ranks : {1, 2}) {
    const std::string out = dir / ("out" + std::to_string(ranks));
    const std::string launcher = MpiLauncher(ranks);
    // Signal once map() has stalled on SLEEP (the plugin says so on stderr,
    // just before it sleeps): the job is past setup, rank 0 (which hands out
    // splits) installed its handler before the split was handed out, and the
    // job cannot finish first. No fixed delay: it neither races on a loaded
    // machine nor waits longer than the job takes to get there.
    const std::string log = dir / ("log" + std::to_string(ranks));
    const std::string job = launcher + BinPath("sluice") + " run --plugin " +
                            PluginPath("test/libfailing.so") + " --input '" + (dir / "in") +
                            "' --output '" + out + "'";
    CommandResult r = RunCommand(
        job + " > '" + log + "' 2>&1 & pid=$!; "
        "for i in $(seq 300); do grep -q 'failing_job: sleeping on SLEEP' '" + log +
        "' && break; sleep 0.1; done; "
        "kill -TERM $pid; wait $pid; rc=$?; cat '" + log + "'; exit $rc");
    EXPECT_NE(r.output.find("failing_job: sleeping on SLEEP"), std::string::npos) << r.output;
    // 1 rank: the handler cleans up, then re-raises SIGTERM with the default
    // action, so the process dies of it and the shell reports 128 + 15.
    // 2 ranks: the status is mpirun's own: Open MPI (4.1) forwards the
    // SIGTERM to the ranks and exits 1, whatever the ranks die of.
    EXPECT_EQ(r.exit_code, ranks == 1 ? 128 + SIGTERM : 1) << r.output;
    EXPECT_LT(r.seconds, 30.0) << r.output;
    EXPECT_NE(r.output.find("interrupted by a signal"), std::string::npos) << r.output;
    EXPECT_FALSE(Exists(out)) << r.output;
    EXPECT_FALSE(Exists(dir / (".out" + std::to_string(ranks) + ".sluice-staging"))) << r.output;
  }
}

}  // namespace
}  // namespace sluice::e2e
