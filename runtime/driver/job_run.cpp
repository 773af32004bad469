#include "runtime/driver/job_run.h"

#include <cstdio>
#include <cstdlib>

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "runtime/driver/job_driver.h"

namespace sluice {

std::string HostName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "unknown-host";
  return host;
}
namespace {

// Ends the job from the rank that failed. Alone, it removes the staging
// directory itself. With peers it normally aborts at once and leaves the
// removal to them: MPI_Abort makes mpirun SIGTERM every other rank, whose
// handler (termination_cleanup.h) removes staging. Removing it here first
// would make a peer that is writing part files fail on the vanished
// directory and race this rank's exit code with a misleading one of its own.
// `no_peer_writes_staging` says that cannot happen (this rank has not ended
// its map tasks, so no peer can have begun reducing); then this rank removes
// staging itself, which also covers several ranks failing at once (bad input
// every rank reads), when each is in MPI_Abort and none runs the handler.
// The output lock is never released here: the kernel drops it when this
// process is gone, and removing the lock file first would let the next job
// in while peers of this one may still be running.
JobAbortHook& AbortHook() {
  static JobAbortHook hook;
  return hook;
}

[[noreturn]] void AbortJob(Communicator& comm, OutputCommitter& committer, int exit_code,
                           bool no_peer_writes_staging, const std::string& why) {
  if (comm.size() == 1 || no_peer_writes_staging) committer.Abort();
  if (AbortHook()) AbortHook()(exit_code, why);
  comm.Abort(exit_code);
  std::abort();  // not reached
}

}  // namespace

void SetJobAbortHook(JobAbortHook hook) { AbortHook() = std::move(hook); }

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string Mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

JobRun::JobRun(const JobEntry& job, const JobConfig& config, Communicator& comm)
    : job(job), config(config), comm(comm), committer(*FileSystem::Default(), config.output) {
  committer.SetPartSuffix(std::string(OutputCompressionExtension(config.settings.output_compression)));
}

Status JobRun::EmitLineage(const char* type, const std::function<void(LineageEvent*)>& finish) {
  if (config.lineage_path.empty() || comm.rank() != 0) return Status::OK();
  LineageEvent e;
  e.type = type;
  if (lineage_run_id.empty()) lineage_run_id = NewLineageRunId();
  e.run_id = lineage_run_id;
  e.job_name = !config.lineage_job_name.empty() ? config.lineage_job_name
                                                  : std::string(job.name) + ":" + committer.output_dir();
  e.parent = config.lineage_parent;
  for (const InputFile& f : plan.files) {
    if (f.input_index != kMergeStateInput) e.inputs.push_back(f);  // not the merge state read back
  }
  e.output_dir = committer.output_dir();
  if (finish) finish(&e);
  if (std::string(type) != "START") lineage_run_id.clear();
  return AppendLineageLine(config.lineage_path, LineageEventJson(e));
}

void JobRun::EmitLineageFailure(const std::string& error) {
  if (lineage_run_id.empty()) return;
  Status s = EmitLineage("FAIL", [&](LineageEvent* e) { e->error = error; });
  if (!s.ok()) spdlog::error("lineage: the FAIL event could not be written: {}", s.ToString());
}

void JobRun::Check(const char* phase, const Status& s) {
  if (!s.ok()) Fail(phase, s);
}

void JobRun::Fail(const char* phase, const Status& s) {
  spdlog::error("job failed in {} on rank {}: {}", phase, comm.rank(), s.ToString());
  spdlog::default_logger()->flush();
  EmitLineageFailure("failed in " + std::string(phase) + ": " + s.ToString());
  AbandonMapTask();
  RemoveScratch();
  ReleaseLockIfAlone();
  AbortJob(comm, committer, ExitCodeFor(s.code()), NoPeerWritesStaging(),
           "failed in " + std::string(phase) + " on rank " + std::to_string(comm.rank()) + ": " + s.ToString());
  std::abort();  // not reached: GCC does not trust [[noreturn]] on a virtual call
}

void JobRun::AbortAfterException() {
  EmitLineageFailure("internal error (see the log)");
  AbandonMapTask();
  RemoveScratch();
  ReleaseLockIfAlone();
  AbortJob(comm, committer, ExitCodeFor(StatusCode::kInternal), NoPeerWritesStaging(),
           "internal error on rank " + std::to_string(comm.rank()) + " (see the log)");
}

// The map task this rank was saving, if any, goes: completed tasks stay
// for the re-run. Failing to remove it is said, not fatal: the job is
// failing already, and the next run's Prepare removes every partial task.
void JobRun::AbandonMapTask() {
  if (store == nullptr) return;
  const Status s = store->AbandonOpenTask();
  if (!s.ok()) {
    spdlog::warn("rank {}: could not remove its unfinished map task file: {}", comm.rank(), s.ToString());
  }
}

int JobRun::EndCleanly(int exit_code) {
  if (exit_code != 0) {
    EmitLineageFailure("exit code " + std::to_string(exit_code) + " (see the log)");
    committer.Abort();
  }
  comm.Barrier();
  if (comm.rank() == 0) lock.Release();
  return exit_code;
}

void JobRun::RemoveScratch() {
  if (runner) runner->RemoveScratch();
  if (scratch_dir.empty()) return;
  (void)RemoveOwnTree(*FileSystem::Default(), scratch_dir);  // never one planted by another user
  scratch_dir.clear();
  if (store) store->UnregisterScratch();
}

void JobRun::ReleaseLockIfAlone() {
  if (comm.size() != 1) return;
  committer.Abort();
  lock.Release();
}

}  // namespace sluice
