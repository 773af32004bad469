// Issue 10, process hygiene beyond plugin loading
// (plugin_security_e2e_test.cpp) and shared directories (shared_machine_e2e_test.cpp):
// - fault points inside a plugin's own engine code fire (SLUICE_FAULT arms
//   the host, and the host links the plugin's copy to itself at load);
// - a rank that cannot open its --log-dir file fails the whole job at once,
//   every rank with exit 2, instead of leaving the others waiting;
// - no binary we build searches the current directory for libraries.
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

std::string Sh(const std::string& s) { return "'" + s + "'"; }

// Many distinct words: with --memory 4M the shuffle store spills (the
// typed engine, compiled into libwordcount.so, writes the runs).
void WriteSpillingInput(const std::string& dir) {
  ASSERT_EQ(RunCommand("mkdir -p " + Sh(dir)).exit_code, 0);
  for (int f = 0; f < 4; ++f) {
    std::string text;
    for (int i = 0; i < 120000; ++i) {
      text += "w" + std::to_string(f) + "x" + std::to_string(i * 7919 % 1000003) + " v" +
              std::to_string(i) + "\n";
    }
    WriteFile(dir + "/f" + std::to_string(f) + ".txt", text);
  }
}

// during_spill is reached only in the engine's code (shuffle/shuffle_store.h),
// which a plugin carries itself: before the host linked the plugin's fault
// points to its own, SLUICE_FAULT armed the host's copy and the job ran on.
TEST(PluginFaultE2E, FaultPointsInsideAPluginFire) {
  TempDir dir;
  WriteSpillingInput(dir / "in");
  auto job = [&](const std::string& fault, const std::string& out) {
    std::string env = fault.empty() ? "" : "SLUICE_FAULT=" + fault + " ";
    return RunCommand(env + "timeout 120 " + BinPath("sluice") + " run --plugin " +
                      Sh(PluginPath("libwordcount.so")) + " --quiet --memory 4M --split-size 1M" +
                      " --scratch " + Sh(dir / "scratch") + " --input " + Sh(dir / "in") +
                      " --output " + Sh(out));
  };
  // The layout spills at all: without a fault, spill_runs > 0.
  CommandResult clean = job("", dir / "clean");
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  ASSERT_GT(ReportCounter(dir / "clean", "spill_runs"), 0u) << "the job did not spill";

  struct Case {
    const char* action;
    int exit_code;
  };
  for (const Case c : {Case{"throw", 70}, Case{"ioerror", 4}, Case{"crash", 137}}) {
    const std::string fault = std::string("during_spill@0:") + c.action;
    CommandResult r = job(fault, dir / "out");
    EXPECT_EQ(r.exit_code, c.exit_code) << fault << "\n" << r.output;
    EXPECT_FALSE(Exists(dir / "out/_SUCCESS")) << fault;
    ASSERT_EQ(RunCommand("rm -rf " + Sh(dir / "out")).exit_code, 0);
  }
  // Armed for another rank only: this 1-rank job is untouched.
  CommandResult other = job("during_spill@1:throw", dir / "other");
  EXPECT_EQ(other.exit_code, 0) << other.output;
}

// Only rank 1 cannot open its log file (DIR/rank-1.log is a folder): both
// ranks must exit 2 together, quickly, with one message naming the file.
// Before, rank 1 returned at once and rank 0 waited forever in the next
// collective; `timeout 60` turns such a hang into exit 124.
TEST(LogDirE2E, OneRanksUnwritableLogFileFailsEveryRankAtOnce) {
  TempDir dir;
  WriteFile(dir / "in.txt", "a b a\n");
  ASSERT_EQ(RunCommand("mkdir -p " + Sh(dir / "logs/rank-1.log")).exit_code, 0);
  CommandResult r = RunCommand("timeout 60 env " + MpiLauncher(2) + BinPath("sluice") +
                               " run wordcount --input " + Sh(dir / "in.txt") + " --output " +
                               Sh(dir / "out") + " --log-dir " + Sh(dir / "logs") + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_LT(r.seconds, 30.0) << r.output;
  EXPECT_NE(r.output.find("rank-1.log"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--log-dir"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(dir / "out"));
}

// A library planted in the working directory under the name of one that
// `sluice` links (garbage bytes: loading it would fail the start) is never
// looked at: no RUNPATH entry is empty, "." or relative
// (tests/runpath_test.sh checks every ELF we build).
TEST(RunpathE2E, LibrariesInTheWorkingDirectoryAreNotLoaded) {
  TempDir dir;
  CommandResult needed = RunCommand("readelf -d " + Sh(BinPath("sluice")) +
                                    " | sed -n 's/.*Shared library: \\[\\(.*\\)\\]/\\1/p'");
  ASSERT_EQ(needed.exit_code, 0) << needed.output;
  ASSERT_NE(needed.output.find("libzstd.so"), std::string::npos) << needed.output;
  std::vector<std::string> planted;
  for (size_t at = 0; at < needed.output.size();) {
    size_t nl = needed.output.find('\n', at);
    if (nl == std::string::npos) nl = needed.output.size();
    const std::string lib = needed.output.substr(at, nl - at);
    at = nl + 1;
    if (lib.empty() || lib.rfind("libc.so", 0) == 0) continue;
    WriteFile(dir / lib, "not a library: loading this fails the process\n");
    planted.push_back(lib);
  }
  ASSERT_FALSE(planted.empty());
  for (const std::string bin : {"sluice", "wordcount"}) {
    CommandResult r = RunCommand("cd " + Sh(dir.path()) + " && " + Sh(BinPath(bin)) + " --help");
    EXPECT_EQ(r.exit_code, 0) << bin << " with " << planted.size() << " planted libraries:\n"
                              << r.output;
    EXPECT_EQ(r.output.find("error while loading shared libraries"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace sluice::e2e
