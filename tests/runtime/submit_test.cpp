// How `sluice submit` reads an attempt's end: which failures are retried,
// and which rank or host the launcher says was lost.
#include "runtime/cli/submit.h"

#include <sys/wait.h>

#include <csignal>

#include <gtest/gtest.h>

namespace sluice {
namespace {

int Exited(int code) { return code << 8; }  // a wait status, as waitpid gives it
int Killed(int sig) { return sig; }

TEST(Submit, RetriesOnlyWhatLooksLikeALostRank) {
  ASSERT_TRUE(WIFEXITED(Exited(3)) && WEXITSTATUS(Exited(3)) == 3);
  ASSERT_TRUE(WIFSIGNALED(Killed(SIGKILL)));
  EXPECT_EQ(ClassifyAttempt(Exited(0), false), AttemptVerdict::kSucceeded);
  for (int own : {2, 3, 4, 5, 6, 70, 126, 127}) {
    EXPECT_EQ(ClassifyAttempt(Exited(own), false), AttemptVerdict::kJobFailed) << own;
  }
  // mpirun's own codes for a lost process or daemon, and a killed launcher.
  for (int launcher : {1, 9, 137, 205, 255}) {
    EXPECT_EQ(ClassifyAttempt(Exited(launcher), false), AttemptVerdict::kLostRank) << launcher;
  }
  EXPECT_EQ(ClassifyAttempt(Killed(SIGKILL), false), AttemptVerdict::kLostRank);
  EXPECT_EQ(ClassifyAttempt(Killed(SIGSEGV), false), AttemptVerdict::kLostRank);
  // Told to stop (Ctrl-C, scancel): never retried, whatever the code.
  EXPECT_EQ(ClassifyAttempt(Exited(9), true), AttemptVerdict::kInterrupted);
  EXPECT_EQ(ClassifyAttempt(Killed(SIGTERM), true), AttemptVerdict::kInterrupted);
}

TEST(Submit, NamesTheLostRankAndHostFromLauncherLines) {
  EXPECT_EQ(LossFromLauncherLine("mpirun noticed that process rank 3 with PID 0 on node sim-h2 exited on "
                                 "signal 9 (Killed)."),
            "rank 3 on host sim-h2, signal 9 (Killed)");
  EXPECT_EQ(LossFromLauncherLine("  Remote daemon: [[52787,0],2] on node 10.213.0.3"),
            "host 10.213.0.3 (its daemon stopped answering)");
  EXPECT_EQ(LossFromLauncherLine("srun: error: node2: task 5: Killed"), "rank 5 on host node2, Killed");
  EXPECT_EQ(LossFromLauncherLine("srun: error: Node failure on node3"), "host node3 (node failure)");
  EXPECT_EQ(LossFromLauncherLine("[rank 0] [info] map: 10 splits"), "");
  EXPECT_EQ(LossFromLauncherLine(""), "");
}

}  // namespace
}  // namespace sluice
