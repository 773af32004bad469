// `sluice submit`: runs a job's launch command (mpirun ..., srun ...) and
// re-runs it after a lost host or crashed rank, resuming each time.
#pragma once

#include <string>
#include <vector>

namespace sluice {

// Exit code of a job that lost a rank or a host (killed, crashed, cut off):
// retryable, unlike every other failure. EX_TEMPFAIL in <sysexits.h>.
inline constexpr int kExitLostRank = 75;

// What one attempt's end means for the next.
enum class AttemptVerdict {
  kSucceeded,   // exit 0
  kJobFailed,   // one of Sluice's own exit codes (the job's verdict), or
                // 126/127 (the command cannot run): final
  kLostRank,    // anything else (a signal, the launcher's own code): retry
  kInterrupted, // the submitter itself was told to stop: never retried
};

// Classifies an attempt from its wait status (waitpid) and whether the
// submitter was signalled meanwhile.
AttemptVerdict ClassifyAttempt(int wait_status, bool interrupted);

// From a launcher's standard error, which rank or host was lost, in a few
// words ("rank 3 on host h2, signal 9 (Killed)"); empty when no line says.
// Knows Open MPI's mpirun and Slurm's srun messages.
std::string LossFromLauncherLine(const std::string& line);

// `sluice submit [--retries N] [--retry-delay SECONDS] -- COMMAND...`;
// `args` excludes "submit".
int SubmitMain(const std::vector<std::string>& args);

}  // namespace sluice
