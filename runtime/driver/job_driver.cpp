#include "runtime/driver/job_driver.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "cluster/rank_agreement.h"
#include "cluster/termination_cleanup.h"
#include "io/fault_points.h"
#include "io/file_system.h"
#include "runtime/driver/commit_phase.h"
#include "runtime/driver/job_fingerprint.h"
#include "runtime/driver/job_run.h"
#include "runtime/driver/map_phase.h"
#include "runtime/driver/plan_maker.h"
#include "runtime/driver/quote_census.h"
#include "runtime/driver/reduce_phase.h"
#include "runtime/driver/reduce_sampling.h"

namespace sluice {
namespace {

// One rank's run of a job, phase by phase. Every rank runs the same phases
// in the same order, so that each makes the same collective calls (the
// agreements, broadcasts, gathers and barriers inside them) in step; a
// phase that ends the job early does so on every rank alike, or through
// JobRun::Fail on the rank that failed.
class JobDriver {
 public:
  JobDriver(const JobEntry& job, const JobConfig& config, Communicator& comm)
      : run_(job, config, comm) {}

  int Execute() {
    run_.start = Clock::now();
    PrepareRank();
    if (std::optional<int> ended = AgreeOnPlan()) return *ended;
    if (std::optional<int> ended = StartLineage()) return *ended;
    if (std::optional<int> ended = JoinOutput()) return *ended;
    if (run_.plan.already_done) return EndAlreadyDone();
    const JobSettings settings = SetUpScratch();
    SetUpRunner(settings);
    PhaseProgress progress(run_);
    RankWork work = RunMapPhase(run_, progress);
    ReducePhase(progress, &work);
    return CommitPhase(run_, std::move(work));
  }

  // After an exception on this rank: removes what this run made, then ends
  // the job everywhere.
  [[noreturn]] void AbortAfterException() { run_.AbortAfterException(); }

 private:
  // Before anything of the job: the allocator, fault points (tests), and
  // the job's runner and traits.
  void PrepareRank() {
    // Fixed thresholds: glibc otherwise raises its mmap threshold as large
    // buffers are freed, after which freed blocks stay in the heap and RSS
    // never comes back down between spills.
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
    if (std::string bad = ArmFaultPointsFromEnv(run_.comm.rank()); !bad.empty()) {
      run_.Fail("setup", Status::Usage(bad));
    }
    run_.comm.BeginJob();  // the previous pipeline step, if any, has ended on every rank
    run_.runner.reset(run_.job.create());
    traits_ = run_.runner->TraitsFor(run_.config.settings.params);
    run_.map_only = traits_.map_only;
    run_.input = traits_.input;
  }

  // Plan (rank 0), agreed by all, then broadcast. Returns the exit code
  // when rank 0 could not plan (every rank returns it).
  std::optional<int> AgreeOnPlan() {
    Communicator& comm = run_.comm;
    PlanOutcome planned;
    if (comm.rank() == 0) {
      planned = MakePlan(run_.job.name, run_.config, traits_, run_.committer, &run_.lock);
    }
    // Only rank 0 planned; the others contribute OK.
    Status agreed = AgreeAcrossRanks(comm, planned.status);
    if (!agreed.ok()) {
      if (comm.rank() == 0) spdlog::error("{}", agreed.ToString());
      return run_.EndCleanly(ExitCodeFor(agreed.code()));
    }
    std::string plan_bytes;
    if (comm.rank() == 0) plan_bytes = EncodePlan(planned.plan);
    comm.Broadcast(&plan_bytes, 0);
    auto decoded = DecodePlan(plan_bytes);
    if (!decoded.ok()) run_.Fail("plan", decoded.status());
    run_.plan = std::move(decoded).value();
    run_.plan.schedule = MapOrder(run_.plan.splits, run_.plan.files);
    return std::nullopt;
  }

  // --lineage: the START event, written by rank 0 before any work; if it
  // cannot be, the job ends on every rank (nothing done, nothing lost).
  std::optional<int> StartLineage() {
    if (run_.config.lineage_path.empty()) return std::nullopt;
    Status started = AgreeAcrossRanks(run_.comm, run_.EmitLineage("START"));
    if (started.ok()) return std::nullopt;
    if (run_.comm.rank() == 0) spdlog::error("lineage: {}", started.ToString());
    run_.lineage_run_id.clear();  // no START written: no FAIL either
    return run_.EndCleanly(ExitCodeFor(started.code()));
  }

  // Every rank checks that its job holds the output before it touches
  // staging, work or scratch; this also catches an output folder that is
  // not on a filesystem every rank shares. Then opens this rank's saved map
  // tasks. Returns the exit code when some rank's check failed.
  std::optional<int> JoinOutput() {
    OutputCommitter& committer = run_.committer;
    committer.SetRunToken(run_.plan.run_token);
    Status held = AgreeAcrossRanks(
        run_.comm,
        OutputLock::CheckHeldBy(committer.lock_path(), committer.output_dir(),
                                run_.plan.run_token));
    if (!held.ok()) {
      spdlog::error("rank {}: {}", run_.comm.rank(), held.ToString());
      committer.Abort();
      return run_.EndCleanly(ExitCodeFor(held.code()));
    }
    run_.store = std::make_unique<MapTaskStore>(*FileSystem::Default(), committer.work_root(),
                                                MapTaskKey(run_.plan), run_.comm.rank());
    return std::nullopt;
  }

  // The output already holds this job's result (same fingerprint): nothing
  // runs, and leftovers of the run that made it go.
  int EndAlreadyDone() {
    if (run_.comm.rank() == 0) {
      spdlog::info("nothing to do: {} already holds this job's result for the same inputs, "
                   "job build and configuration (fingerprint {}); --force runs it again",
                   run_.committer.output_dir(), FingerprintHex(run_.plan.fingerprint));
    }
    RemoveLeftoversOfCommittedRun();
    if (Status s = run_.EmitLineage("COMPLETE"); !s.ok()) {
      spdlog::error("lineage: the COMPLETE event could not be written: {}", s.ToString());
      return run_.EndCleanly(ExitCodeFor(s.code()));
    }
    return run_.EndCleanly(0);
  }

  // The output holds this job's result, yet a run killed right after its
  // commit (before its clean-up) can have left the replaced output under
  // staging, saved map tasks, and scratch: a no-op re-run removes them.
  void RemoveLeftoversOfCommittedRun() {
    FileSystem& fs = *FileSystem::Default();
    const std::string& token = run_.plan.run_token;
    for (const std::string& left : run_.store->RemoveStaleScratch(HostName(), token)) {
      spdlog::warn("rank {}: scratch of an earlier run not removed: {}", run_.comm.rank(), left);
    }
    run_.comm.Barrier();  // every rank is done with the scratch records
    if (run_.comm.rank() != 0) return;
    const OutputCommitter& committer = run_.committer;
    for (const std::string& dir : {committer.staging_container(), committer.work_root()}) {
      if (Status s = RemoveOwnTree(fs, dir); !s.ok()) {
        spdlog::warn("leftover of an earlier run not removed: {}", s.ToString());
      }
    }
  }

  // Takes over staging and makes this rank's scratch. Returns the job's
  // settings with the scratch folder filled in.
  JobSettings SetUpScratch() {
    run_.committer.AdoptStaging();
    // From here on a staging directory exists (and scratch): an interrupted
    // job removes them. Saved map tasks stay for the next run.
    JobSettings settings = run_.config.settings;
    settings.scratch_dir = MakeScratchDir();
    InstallTerminationCleanup(run_.committer.staging_dir(), run_.committer.staging_container(),
                              settings.scratch_dir, run_.comm.rank());
    return settings;
  }

  // This rank's scratch for this run: `--scratch/sluice-` and 64 random
  // bits, a name nobody can guess or plant in advance, made private (0700)
  // by the engine at its first spill (shuffle/shuffle_store.h), never derived from
  // the output name. Its path is recorded in the work directory first, so
  // that a re-run on this host removes it if this run is killed; that
  // re-run removes the scratch such killed runs left now.
  std::string MakeScratchDir() {
    FileSystem& fs = *FileSystem::Default();
    const JobConfig& config = run_.config;
    const std::string host = HostName();
    for (const std::string& left : run_.store->RemoveStaleScratch(host, run_.plan.run_token)) {
      spdlog::warn("rank {}: scratch of an earlier run not removed: {}", run_.comm.rank(), left);
    }
    run_.Check("setup", fs.CreateDirs(config.scratch_root));
    run_.Check("setup", CheckSafeParent(fs, config.scratch_root, "--scratch folder",
                                        /*owner_checked=*/true));
    run_.scratch_dir = config.scratch_root + (config.scratch_root.back() == '/' ? "" : "/") +
                       "sluice-" + NewRunToken();
    run_.Check("setup", run_.store->RegisterScratch(host, run_.plan.run_token, run_.scratch_dir));
    return run_.scratch_dir;
  }

  // Hands the runner its settings, the transport that saves map tasks, the
  // partition owners and (range partitioning) the cuts. Ends the plan's share of the time.
  void SetUpRunner(const JobSettings& settings) {
    run_.recording = std::make_unique<TaskRecordingTransport>(&run_.comm, run_.store.get());
    if (run_.comm.rank() == 0) LogJobStart();
    run_.Check("setup", run_.runner->Setup(settings, run_.recording.get(), FileSystem::Default()));
    RunQuoteCensus(run_);  // before anything reads a CSV range, sampling included
    if (!traits_.map_only) run_.Check("sample", SampleForReduce(run_, traits_));
    run_.plan_seconds = SecondsSince(run_.start);
  }

  void LogJobStart() const {
    const JobPlan& plan = run_.plan;
    const JobConfig& config = run_.config;
    size_t state_files = 0;
    for (const InputFile& f : plan.files) state_files += f.input_index == kMergeStateInput ? 1 : 0;
    spdlog::info("job {}: {} input file(s){}, {}, {} split(s), {} {}, {} rank(s), memory {} per rank",
                 run_.job.name, plan.files.size() - state_files,
                 state_files > 0 ? " and " + std::to_string(state_files) + " merge state file(s)" : std::string(), Mib(plan.total_bytes), plan.splits.size(),
                 traits_.map_only ? plan.splits.size() : config.settings.partitions,
                 traits_.map_only ? "part(s), map-only" : "partition(s)", run_.comm.size(),
                 Mib(config.memory_bytes));
  }

  // Reduce, writing task-private files; then this rank's scratch goes and
  // its parts (reduce or map-only) are made durable.
  void ReducePhase(PhaseProgress& progress, RankWork* work) {
    const auto reduce_start = Clock::now();
    if (!traits_.map_only) RunReduceTasks(run_, progress, work);
    run_.RemoveScratch();
    // Parts were closed without an fsync each: one syncfs per rank makes all
    // of them durable before rank 0 publishes (100,000 tiny parts: one call,
    // not 100,000).
    if (!work->parts.empty()) {
      StepTimer syncing(&run_.steps.commit_ns);
      run_.Check("commit", FileSystem::Default()->SyncFilesystem(run_.committer.staging_dir()));
    }
    work->reduce_seconds = SecondsSince(reduce_start);
    if (run_.comm.rank() == 0 && !traits_.map_only) {
      spdlog::info("reduce: {:.2f}s", work->reduce_seconds);
    }
  }

  JobRun run_;
  JobTraits traits_;  // the job's, once its runner is made
};

}  // namespace

int RunJob(const JobEntry& job, const JobConfig& config, Communicator& comm) {
  JobDriver driver(job, config, comm);
  try {
    return driver.Execute();
  } catch (const std::exception& e) {
    spdlog::error("job failed on rank {}: internal error: {}", comm.rank(), e.what());
    spdlog::default_logger()->flush();
    driver.AbortAfterException();
  }
}

}  // namespace sluice
