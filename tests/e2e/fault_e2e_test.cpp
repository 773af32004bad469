// Every fault point x action (crash = SIGKILL, throw, ioerror = the next
// file operation fails with EIO) x victim (rank 0, a non-zero rank), 2 ranks
// under mpirun, replacing yesterday's output (--overwrite): the job must exit
// non-zero within 10 s with the victim's exit code; the output directory
// must hold yesterday's output untouched or nothing, never a mix (past the
// one-step exchange of the commit, today's whole output); and a
// clean re-run must resume from the saved map tasks and give the bytes of a
// run that never failed (nothing lost, nothing stale).
//
// Each combination is its own test (FaultE2E/FaultTable.../<point>_<action>_
// victim<rank>), so a failure names the case. Each prints its row of the
// fault table; collect the table from a log with
// `grep -h '^|' LOG | awk '!seen[$0]++'` (one header, then the rows in the
// order the cases ran).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

int ExitCodeOf(const std::string& action) {
  if (action == "crash") return 137;  // SIGKILL
  if (action == "throw") return 70;   // internal error
  return 4;                           // I/O error
}

int ReusedTasks(const std::string& out) {
  return static_cast<int>(ReportNumber(out, "/resume/map_tasks_reused"));
}

void WriteInput(const std::string& dir, const std::string& word_prefix) {
  ASSERT_EQ(RunCommand("mkdir -p '" + dir + "'").exit_code, 0);
  for (int f = 0; f < 6; ++f) {
    std::string text;
    for (int i = 0; i < 30000; ++i) text += word_prefix + std::to_string((i * 7 + f) % 5000) + " x\n";
    WriteFile(dir + "/f" + std::to_string(f) + ".txt", text);
  }
}

// Says which build of the binaries a fixture came from: the test binary
// (its inputs and flags) and `sluice` (the built-in jobs that produced it).
std::string BinariesKey() {
  std::string identity;
  for (const std::string& path : {std::string("/proc/self/exe"), BinPath("sluice")}) {
    struct stat st{};
    if (stat(path.c_str(), &st) != 0) {
      identity += "missing;";
      continue;
    }
    identity += std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
                std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ";";
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016zx", std::hash<std::string>{}(identity));
  return hex;
}

// Runs `build` on an empty folder at most once per build of the binaries,
// then `use` on the built folder. gtest_discover_tests runs every case in a
// process of its own (ctest -j2 runs two at once), so a SetUpTestSuite alone
// would repeat the fixture's job runs in each. The fixture lives in the build
// tree, next to ctest's working folder for these tests, not in /tmp: nobody
// else can plant a name there, and removing the build removes it. An
// exclusive flock covers building, removing a stale build's fixture and
// `use` (which should copy what it needs and return): nobody reads a folder
// while it is replaced. The folder is built under a temporary name and
// renamed, so one that exists is complete; a build that fails or dies leaves
// no fixture (the next case builds again and fails the same way). The one
// left after a run is reused by the next run of the same binaries.
void WithSharedFixture(const std::string& name, const std::function<void(const std::string&)>& build,
                       const std::function<void(const std::string&)>& use) {
  const std::string root = std::string(SLUICE_BIN_DIR) + "/../tests/e2e/shared_fixtures";
  ASSERT_TRUE(mkdir(root.c_str(), 0700) == 0 || errno == EEXIST) << root << ": " << std::strerror(errno);
  // One lock per fixture: a case of one suite never waits for the other's build.
  const std::string lock_path = root + "/" + name + ".lock";
  const int lock = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  ASSERT_GE(lock, 0) << lock_path << ": " << std::strerror(errno);
  // Closing the descriptor releases the lock, also when the process dies.
  struct CloseAtExit {
    int fd;
    ~CloseAtExit() { close(fd); }
  } close_at_exit{lock};
  ASSERT_EQ(flock(lock, LOCK_EX), 0) << std::strerror(errno);
  const std::string fixture = root + "/" + name + "-" + BinariesKey();
  if (!Exists(fixture)) {
    for (const std::string& stale : ListDir(root)) {
      if (stale.starts_with(name + "-")) {
        ASSERT_EQ(RunCommand("rm -rf '" + root + "/" + stale + "'").exit_code, 0);
      }
    }
    std::string building = root + "/" + name + "-building-XXXXXX";
    ASSERT_NE(mkdtemp(building.data()), nullptr) << building << ": " << std::strerror(errno);
    build(building);
    if (::testing::Test::HasFailure()) {
      RunCommand("rm -rf '" + building + "'");
      return;
    }
    ASSERT_EQ(rename(building.c_str(), fixture.c_str()), 0) << fixture << ": " << std::strerror(errno);
  }
  use(fixture);
}

CommandResult RunWordCount(const std::string& in, const std::string& out, const std::string& fault) {
  const std::string env = fault.empty() ? "" : "SLUICE_FAULT=" + fault + " ";
  return RunCommand(env + MpiLauncher(2) + BinPath("sluice") +
                    " run wordcount --quiet --overwrite --split-size 64K --partitions 4 --input '" + in +
                    "' --output '" + out + "'");
}

struct FaultCase {
  std::string point;
  std::string action;
  int victim;

  std::string Spec() const { return point + "@" + std::to_string(victim) + ":" + action; }
};

std::ostream& operator<<(std::ostream& os, const FaultCase& c) { return os << c.Spec(); }

std::vector<FaultCase> FaultTableCases() {
  std::vector<FaultCase> cases;
  for (const char* point : {"after_map_task", "mid_shuffle_send", "during_reduce", "after_task_commit",
                            "before_job_commit", "between_commit_renames"}) {
    const bool commit_point =
        std::string(point) == "before_job_commit" || std::string(point) == "between_commit_renames";
    for (const char* action : {"crash", "throw", "ioerror"}) {
      for (int victim : {0, 1}) {
        // Only rank 0 commits the job: a fault at a commit point on another
        // rank never fires, so that case would test nothing.
        if (victim != 0 && commit_point) continue;
        cases.push_back(FaultCase{point, action, victim});
      }
    }
  }
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<FaultCase>& info) {
  return info.param.point + "_" + info.param.action + "_victim" + std::to_string(info.param.victim);
}

class FaultTable : public ::testing::TestWithParam<FaultCase> {
 public:
  // Once per process: ctest runs each case in its own, so there each case's
  // log starts with the header (collecting drops the repeats).
  static void SetUpTestSuite() {
    std::printf(
        "\n| fault point | action | victim | exit | seconds | output after failure | re-run |\n"
        "|---|---|---|---|---|---|---|\n");
  }

 protected:
  // Today's input and yesterday's output (copied into this case's folder),
  // the parts of a clean run of today's input, and yesterday's parts.
  void SetUp() override {
    auto build = [](const std::string& fixture) {
      ASSERT_NO_FATAL_FAILURE(WriteInput(fixture + "/in", "w"));
      ASSERT_NO_FATAL_FAILURE(WriteInput(fixture + "/in-yesterday", "v"));
      CommandResult clean = RunWordCount(fixture + "/in", fixture + "/clean", "");
      ASSERT_EQ(clean.exit_code, 0) << clean.output;
      CommandResult yesterday = RunWordCount(fixture + "/in-yesterday", fixture + "/yesterday", "");
      ASSERT_EQ(yesterday.exit_code, 0) << yesterday.output;
    };
    auto use = [&](const std::string& fixture) {
      ASSERT_EQ(RunCommand("cp -a '" + fixture + "/in' '" + fixture + "/yesterday' '" + dir_.path() + "'").exit_code,
                0);
      reference_ = ReadParts(fixture + "/clean", 4);
      old_parts_ = ReadParts(fixture + "/yesterday", 4);
    };
    ASSERT_NO_FATAL_FAILURE(WithSharedFixture("fault_table", build, use));
    ASSERT_FALSE(HasFailure()) << "the shared fixture could not be built or read";
    ASSERT_TRUE(old_parts_ != reference_);  // (EXPECT_NE would print both outputs whole)
  }

  TempDir dir_;
  std::vector<std::string> reference_;
  std::vector<std::string> old_parts_;
};

TEST_P(FaultTable, FailsCleanlyAndReRunsIdentically) {
  const FaultCase& c = GetParam();
  const std::string fault = c.Spec();
  const std::string out = dir_ / "out";
  // A fault after a map task, or in a map task's sending, on rank 1 fires
  // only if rank 1 maps a split.
  // Splits go to whichever rank asks first, and on a loaded machine (ctest
  // -j2: four ranks on two cores) rank 0 can map all of them before rank 1
  // asks once: the job then succeeds, rightly, and the case tests nothing.
  // Such a run (exit 0, the report giving the victim no split) is run
  // again, from yesterday's output, up to five times in all.
  CommandResult r;
  for (int attempt = 1;; ++attempt) {
    ASSERT_EQ(RunCommand("rm -rf '" + out + "' && cp -a '" + (dir_ / "yesterday") + "' '" + out + "'").exit_code, 0);
    r = RunWordCount(dir_ / "in", out, fault);
    const bool victim_mapped_nothing =
        r.exit_code == 0 && (c.point == "after_map_task" || c.point == "mid_shuffle_send") &&
        ReportNumber(out, "/per_rank/" + std::to_string(c.victim) + "/splits") == 0;
    if (!victim_mapped_nothing || attempt == 5) break;
    std::printf("(%s: rank %d mapped no split, so the fault never fired; running again)\n", fault.c_str(),
                c.victim);
  }
  // What a reader of the output directory sees now.
  std::string state;
  bool clean_state = false;
  if (!Exists(out)) {
    state = "none";
    clean_state = true;
  } else if (Exists(out + "/_SUCCESS") && ReadParts(out, 4) == old_parts_) {
    state = "yesterday's, intact";
    clean_state = true;
  } else if (c.point == "between_commit_renames" && Exists(out + "/_SUCCESS") && ReadParts(out, 4) == reference_) {
    // The exchange is one step: past it, the new output is whole and
    // in place; only the removal of the old one was cut short.
    state = "today's, complete";
    clean_state = true;
  } else {
    state = "MIXED OR PARTIAL";
  }
  if (Exists(dir_ / ".out.sluice-staging")) state += " (staging left; next run removes it)";
  EXPECT_TRUE(clean_state) << fault << ": " << state << "\n" << r.output;
  // The victim's cause decides the exit code, never a peer's follow-on failure.
  EXPECT_EQ(r.exit_code, ExitCodeOf(c.action)) << fault << "\n" << r.output;
  EXPECT_LT(r.seconds, 10.0) << fault;
  // The re-run (no fault) must match the clean run byte for byte.
  CommandResult again = RunWordCount(dir_ / "in", out, "");
  const bool identical = again.exit_code == 0 && ReadParts(out, 4) == reference_;
  EXPECT_TRUE(identical) << fault << "\n" << again.output;
  std::printf("| %s | %s | %d | %d | %.1f | %s | %s, %d map task(s) reused |\n", c.point.c_str(), c.action.c_str(),
              c.victim, r.exit_code, r.seconds, state.c_str(), identical ? "byte-identical" : "DIFFERENT",
              identical ? ReusedTasks(out) : -1);
}

INSTANTIATE_TEST_SUITE_P(FaultE2E, FaultTable, ::testing::ValuesIn(FaultTableCases()), CaseName);

// during_spill: a run half-written on scratch. TeraSort with a 4M budget
// spills on both ranks. Besides the usual promises, scratch must be clean
// after the re-run. Right after the failure it usually is already (the
// victim removes its own when it throws, SIGTERM handlers the peers'), but
// that is best effort: a SIGKILLed rank runs nothing, and mpirun follows its
// SIGTERM with SIGKILL after a grace period that a loaded machine can miss.
// The row shows which happened; the next run of the job removes leftovers.
// Each action x victim is its own test (FaultE2E/SpillFault.../<action>_
// victim<rank>), sharing one TeraGen input and clean run the same way.
CommandResult RunTeraSort(const std::string& in, const std::string& out, const std::string& scratch,
                          const std::string& fault) {
  const std::string env = fault.empty() ? "" : "SLUICE_FAULT=" + fault + " ";
  return RunCommand(env + MpiLauncher(2) + BinPath("sluice") +
                    " run terasort --quiet --memory 4M --split-size 1M --partitions 4 --scratch '" + scratch + "' '" +
                    in + "' '" + out + "'");
}

std::string ScratchEntries(const std::string& scratch) { return RunCommand("ls -A '" + scratch + "' | wc -l").output; }

std::vector<FaultCase> SpillCases() {
  std::vector<FaultCase> cases;
  for (const char* action : {"crash", "throw", "ioerror"}) {
    for (int victim : {0, 1}) cases.push_back(FaultCase{"during_spill", action, victim});
  }
  return cases;
}

std::string SpillCaseName(const ::testing::TestParamInfo<FaultCase>& info) {
  return info.param.action + "_victim" + std::to_string(info.param.victim);
}

class SpillFault : public ::testing::TestWithParam<FaultCase> {
 protected:
  // TeraGen's input (copied into this case's folder) and a clean run's parts.
  void SetUp() override {
    auto build = [](const std::string& fixture) {
      const std::string scratch = fixture + "/scratch";
      ASSERT_EQ(RunCommand("mkdir -p '" + scratch + "'").exit_code, 0);
      CommandResult gen =
          RunCommand(BinPath("sluice") + " run teragen 100000 '" + fixture + "/in' --quiet --split-size 1M");
      ASSERT_EQ(gen.exit_code, 0) << gen.output;
      CommandResult clean = RunTeraSort(fixture + "/in", fixture + "/clean", scratch, "");
      ASSERT_EQ(clean.exit_code, 0) << clean.output;
      ASSERT_EQ(ScratchEntries(scratch), "0\n") << "scratch left after a clean run";
    };
    auto use = [&](const std::string& fixture) {
      ASSERT_EQ(RunCommand("cp -a '" + fixture + "/in' '" + dir_.path() + "'").exit_code, 0);
      reference_ = ReadParts(fixture + "/clean", 4);
    };
    ASSERT_NO_FATAL_FAILURE(WithSharedFixture("spill", build, use));
    ASSERT_FALSE(HasFailure()) << "the shared fixture could not be built or read";
    ASSERT_EQ(RunCommand("mkdir -p '" + (dir_ / "scratch") + "'").exit_code, 0);
  }

  TempDir dir_;
  std::vector<std::string> reference_;
};

TEST_P(SpillFault, FailsCleanlyAndLeavesNoScratch) {
  const FaultCase& c = GetParam();
  const std::string fault = c.Spec();
  const std::string in = dir_ / "in";
  const std::string out = dir_ / "out";
  const std::string scratch = dir_ / "scratch";
  CommandResult r = RunTeraSort(in, out, scratch, fault);
  EXPECT_EQ(r.exit_code, ExitCodeOf(c.action)) << fault << "\n" << r.output;
  EXPECT_LT(r.seconds, 10.0) << fault;
  EXPECT_FALSE(Exists(out)) << fault;
  const bool scratch_left = ScratchEntries(scratch) != "0\n";
  CommandResult again = RunTeraSort(in, out, scratch, "");
  EXPECT_EQ(again.exit_code, 0) << fault << "\n" << again.output;
  EXPECT_EQ(ReadParts(out, 4), reference_) << fault;
  EXPECT_EQ(ScratchEntries(scratch), "0\n") << fault << ": scratch left after the re-run";
  std::printf("| during_spill | %s | %d | %d | %.1f | %s | byte-identical |\n", c.action.c_str(), c.victim, r.exit_code,
              r.seconds, scratch_left ? "none published; scratch left, next run cleaned it" : "none; scratch clean");
}

INSTANTIATE_TEST_SUITE_P(FaultE2E, SpillFault, ::testing::ValuesIn(SpillCases()), SpillCaseName);

}  // namespace
}  // namespace sluice::e2e
