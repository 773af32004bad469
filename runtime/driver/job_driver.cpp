#include "runtime/driver/job_driver.h"

#include <malloc.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cinttypes>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <spdlog/spdlog.h>

#include "io/buffered_writer.h"
#include "io/fault_points.h"
#include "io/input_lister.h"
#include "io/output_committer.h"
#include "io/output_lock.h"
#include "io/overwrite_guard.h"
#include "io/split_planner.h"
#include "runtime/driver/job_fingerprint.h"
#include "runtime/driver/job_report.h"
#include "runtime/driver/map_task_store.h"
#include "runtime/driver/plan_codec.h"
#include "runtime/driver/progress.h"
#include "cluster/rank_agreement.h"
#include "runtime/driver/task_recording_transport.h"
#include "cluster/termination_cleanup.h"
#include "shuffle/partitioner.h"
#include "shuffle/serde.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

uint64_t PeakRssBytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

std::string Mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

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
[[noreturn]] void AbortJob(Communicator& comm, OutputCommitter& committer, int exit_code,
                           bool no_peer_writes_staging) {
  if (comm.size() == 1 || no_peer_writes_staging) committer.Abort();
  comm.Abort(exit_code);
  std::abort();  // not reached
}

// Rank 0's plan, or the reason there is none.
struct PlanOutcome {
  Status status;
  JobPlan plan;
};

// 16 hex digits from the kernel's random source: names one run.
std::string NewRunToken() {
  uint64_t bits = 0;
  if (getrandom(&bits, sizeof bits, 0) != static_cast<ssize_t>(sizeof bits)) {
    bits = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
           (static_cast<uint64_t>(getpid()) << 32);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bits));
  return hex;
}

std::string HostName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "unknown-host";
  return host;
}

// Many tiny tasks cost more in per-task overhead than they map: say so.
void WarnAboutTinySplits(const JobPlan& plan, uint64_t split_size) {
  constexpr size_t kManySplits = 10000;
  if (plan.splits.size() < kManySplits || split_size >= (1u << 20)) return;
  spdlog::warn("--split-size {} cuts {} bytes of input into {} map tasks; each task has a fixed "
               "cost (scheduling, a saved task file, a part for map-only jobs), so this job will "
               "spend most of its time on overhead: use 1M or more (default 64M)",
               split_size, plan.total_bytes, plan.splits.size());
}

// A generator's input (GeneratedRows) is a row count, planned as a virtual
// file of rows * record_bytes bytes so that splitting works as for files.
Result<std::vector<InputFile>> GeneratedInput(const JobConfig& config, uint32_t record_bytes) {
  uint64_t rows = 0;
  const std::string& arg = config.inputs.empty() ? std::string() : config.inputs[0];
  auto [ptr, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), rows);
  if (config.inputs.size() != 1 || ec != std::errc() || ptr != arg.data() + arg.size() ||
      rows > UINT64_MAX / record_bytes) {
    return Status::Usage("this job generates its input: give one row count as INPUT, got '" +
                         arg + "'");
  }
  InputFile f;
  f.path = "(" + std::to_string(rows) + " generated rows)";
  f.size = rows * record_bytes;
  return std::vector<InputFile>{f};
}

// The line of _SUCCESS that records the job's fingerprint.
std::string FingerprintLine(uint64_t fingerprint) {
  return "fingerprint\t" + FingerprintHex(fingerprint) + "\n";
}

// Whether `output_dir` holds a committed result of this very fingerprint.
bool AlreadyDone(FileSystem& fs, const std::string& output_dir, uint64_t fingerprint) {
  auto success = ReadFileToString(fs, output_dir + "/_SUCCESS");
  return success.ok() && success->find(FingerprintLine(fingerprint)) != std::string::npos;
}

// Rank 0: takes the output lock first (nothing of the output, staging,
// work or scratch is looked at before), then lists and plans.
PlanOutcome MakePlan(std::string_view job_name, const JobConfig& config, const JobTraits& traits,
                     OutputCommitter& committer, OutputLock* lock) {
  PlanOutcome out;
  FileSystem& fs = *FileSystem::Default();
  out.plan.run_token = NewRunToken();
  out.status = committer.CheckNameAndMakeParent();
  if (!out.status.ok()) return out;
  {
    auto locked = OutputLock::Acquire(committer.lock_path(), committer.output_dir(),
                                      DescribeThisProcess(), out.plan.run_token);
    if (!locked.ok()) {
      out.status = locked.status();
      return out;
    }
    *lock = std::move(locked).value();
  }
  committer.SetRunToken(out.plan.run_token);
  auto files = traits.input == InputKind::kGeneratedRows ? GeneratedInput(config, traits.record_bytes)
                                                         : ListInputs(fs, config.inputs);
  if (!files.ok()) {
    out.status = files.status();
    return out;
  }
  out.plan.files = std::move(files).value();
  out.plan.splits = PlanSplits(out.plan.files, config.split_size);
  for (const InputFile& f : out.plan.files) out.plan.total_bytes += f.size;
  WarnAboutTinySplits(out.plan, config.split_size);
  const uint64_t build = config.plugin_path.empty() ? ExecutableXxh3() : config.plugin_xxh3;
  out.plan.fingerprint = JobFingerprint(job_name, build, config, out.plan.files);
  if (!config.force && AlreadyDone(fs, committer.output_dir(), out.plan.fingerprint)) {
    out.plan.already_done = true;
    return out;
  }
  const bool replace = config.overwrite || config.force;
  if (replace && fs.LinkStat(committer.output_dir()).ok()) {
    std::vector<std::string> inputs = config.inputs;
    if (traits.input == InputKind::kGeneratedRows) inputs.clear();
    for (const InputFile& f : out.plan.files) {
      if (traits.input != InputKind::kGeneratedRows) inputs.push_back(f.path);
    }
    out.status = CheckReplaceable(fs, committer.output_dir(), inputs);
    if (!out.status.ok()) return out;
  }
  out.status = committer.Prepare(replace);
  if (out.status.ok()) {
    out.status = MapTaskStore(fs, committer.work_root(), out.plan.fingerprint, 0).Prepare();
  }
  return out;
}

class Run {
 public:
  Run(const JobEntry& job, const JobConfig& config, Communicator& comm)
      : job_(job),
        config_(config),
        comm_(comm),
        committer_(*FileSystem::Default(), config.output) {}

  // True until this rank ends its share of the shuffle: before that no peer
  // can finish receiving and begin writing reduce output into staging. A
  // map-only job writes its parts during map, so there it is never true.
  bool NoPeerWritesStaging() const { return !map_only_ && !shuffle_finished_; }

  int Execute() {
    const auto start = Clock::now();
    // Fixed thresholds: glibc otherwise raises its mmap threshold as large
    // buffers are freed, after which freed blocks stay in the heap and RSS
    // never comes back down between spills.
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
    if (std::string bad = ArmFaultPointsFromEnv(comm_.rank()); !bad.empty()) {
      Fail("setup", Status::Usage(bad));
    }
    runner_.reset(job_.create());
    const JobTraits traits = runner_->traits();
    map_only_ = traits.map_only;
    // --- plan (rank 0), agreed by all ---
    PlanOutcome planned;
    if (comm_.rank() == 0) planned = MakePlan(job_.name, config_, traits, committer_, &lock_);
    // Only rank 0 planned; the others contribute OK.
    Status agreed = AgreeAcrossRanks(comm_, planned.status);
    if (!agreed.ok()) {
      if (comm_.rank() == 0) spdlog::error("{}", agreed.ToString());
      return EndCleanly(ExitCodeFor(agreed.code()));
    }
    std::string plan_bytes;
    if (comm_.rank() == 0) plan_bytes = EncodePlan(planned.plan);
    comm_.Broadcast(&plan_bytes, 0);
    auto decoded = DecodePlan(plan_bytes);
    if (!decoded.ok()) Fail("plan", decoded.status());
    plan_ = std::move(decoded).value();
    // Every rank checks that its job holds the output before it touches
    // staging, work or scratch; this also catches an output folder that is
    // not on a filesystem every rank shares.
    committer_.SetRunToken(plan_.run_token);
    Status held = AgreeAcrossRanks(
        comm_, OutputLock::CheckHeldBy(committer_.lock_path(), committer_.output_dir(), plan_.run_token));
    if (!held.ok()) {
      spdlog::error("rank {}: {}", comm_.rank(), held.ToString());
      committer_.Abort();
      return EndCleanly(ExitCodeFor(held.code()));
    }
    FileSystem& fs = *FileSystem::Default();
    store_ = std::make_unique<MapTaskStore>(fs, committer_.work_root(), plan_.fingerprint, comm_.rank());
    if (plan_.already_done) {
      if (comm_.rank() == 0) {
        spdlog::info("nothing to do: {} already holds this job's result for the same inputs, "
                     "job build and configuration (fingerprint {}); --force runs it again",
                     committer_.output_dir(), FingerprintHex(plan_.fingerprint));
      }
      RemoveLeftoversOfCommittedRun();
      return EndCleanly(0);
    }
    committer_.AdoptStaging();
    // From here on a staging directory exists (and scratch): an interrupted
    // job removes them. Saved map tasks stay for the next run.
    JobSettings settings = config_.settings;
    settings.scratch_dir = MakeScratchDir();
    InstallTerminationCleanup(committer_.staging_dir(), committer_.staging_container(),
                              settings.scratch_dir, comm_.rank());
    recording_ = std::make_unique<TaskRecordingTransport>(&comm_, store_.get());
    if (comm_.rank() == 0) {
      spdlog::info("job {}: {} input file(s), {}, {} split(s), {} {}, {} rank(s), memory {} per rank",
                   job_.name, plan_.files.size(), Mib(plan_.total_bytes), plan_.splits.size(),
                   traits.map_only ? plan_.splits.size() : config_.settings.partitions,
                   traits.map_only ? "part(s), map-only" : "partition(s)", comm_.size(),
                   Mib(config_.memory_bytes));
    }

    Check("setup", runner_->Setup(settings, recording_.get(), FileSystem::Default()));
    if (traits.range_partitioned) Check("sample", SampleRangeCuts());
    const double plan_seconds = SecondsSince(start);

    // --- map + shuffle ---
    const auto map_start = Clock::now();
    ProgressReporter progress(comm_.rank() == 0 && !config_.quiet && config_.log_level != "warn" &&
                                  config_.log_level != "error" && config_.log_level != "off",
                              ProgressIntervalFromEnv());
    std::vector<uint64_t> dispatched_bytes(plan_.splits.size() + 1, 0);  // prefix sums
    for (size_t i = 0; i < plan_.splits.size(); ++i) {
      dispatched_bytes[i + 1] = dispatched_bytes[i] + plan_.splits[i].bytes();
    }
    auto sample = [&](const char* phase) {
      ProgressSample s;
      s.phase = phase;
      const uint32_t handed = std::min<uint32_t>(comm_.SplitsHandedOut(),
                                                 static_cast<uint32_t>(plan_.splits.size()));
      s.done_bytes = dispatched_bytes[handed];
      s.total_bytes = plan_.total_bytes;
      s.own_bytes = runner_->counters().input_bytes;
      s.own_records = runner_->counters().input_records;
      s.spills = runner_->counters().spill_runs;
      return s;
    };
    comm_.StartSplits(static_cast<uint32_t>(plan_.splits.size()));
    uint32_t my_splits = 0, reused_splits = 0;
    std::vector<PartInfo> parts;
    uint64_t output_bytes = 0;
    for (int64_t s; (s = comm_.NextSplit()) >= 0;) {
      const uint32_t split = static_cast<uint32_t>(s);
      if (ReuseSavedTask(split, &parts)) {
        ++reused_splits;
      } else {
        RunAndSaveMapTask(split, &parts);
      }
      if (traits.map_only) output_bytes += parts.back().bytes;
      SLUICE_FAULT_POINT("after_map_task");
      Check("shuffle", runner_->ReceiveStatus());
      ++my_splits;
      progress.Update(sample("map"));
    }
    shuffle_finished_ = true;
    comm_.FinishShuffle();
    progress.Finish();
    Check("shuffle", runner_->ReceiveStatus());
    const double map_seconds = SecondsSince(map_start);
    spdlog::debug("map+shuffle done: {} split(s) in {:.2f}s, {} reused", my_splits, map_seconds,
                  reused_splits);
    if (comm_.rank() == 0) spdlog::info("map+shuffle: {:.2f}s", map_seconds);

    // --- reduce, writing task-private files ---
    const auto reduce_start = Clock::now();
    if (!traits.map_only) {
      uint32_t mine = 0, done = 0;
      for (uint32_t p = 0; p < config_.settings.partitions; ++p) mine += OwnerOf(p, comm_.size()) == comm_.rank();
      for (uint32_t p = 0; p < config_.settings.partitions; ++p) {
        if (OwnerOf(p, comm_.size()) != comm_.rank()) continue;
        SLUICE_FAULT_POINT("during_reduce");
        parts.push_back(WriteTask(p, "reduce", [&](BufferedWriter* out) {
          return runner_->RunReduceTask(p, out);
        }));
        output_bytes += parts.back().bytes;
        ProgressSample s = sample("reduce");
        s.parts_done = ++done;
        s.parts_total = mine;
        progress.Update(s);
      }
      progress.Finish();
    }
    RemoveScratch();
    // Parts were closed without an fsync each: one syncfs per rank makes all
    // of them durable before rank 0 publishes (100,000 tiny parts: one call,
    // not 100,000).
    if (!parts.empty()) Check("commit", fs.SyncFilesystem(committer_.staging_dir()));
    const double reduce_seconds = SecondsSince(reduce_start);
    if (comm_.rank() == 0 && !traits.map_only) spdlog::info("reduce: {:.2f}s", reduce_seconds);

    // --- reconcile counters, then commit ---
    RankStats stats;
    stats.counters = runner_->counters();
    stats.counters.output_bytes = output_bytes;
    stats.map_seconds = map_seconds;
    stats.reduce_seconds = reduce_seconds;
    stats.splits = my_splits;
    stats.reused_splits = reused_splits;
    stats.peak_rss_bytes = PeakRssBytes();
    stats.parts = std::move(parts);
    auto arr = stats.counters.ToArray();
    std::vector<uint64_t> sums(arr.begin(), arr.end());
    sums.push_back(reused_splits);
    comm_.AllReduceSum(&sums);
    const uint64_t reused_total = sums.back();
    sums.pop_back();
    const TaskCounters totals = TaskCounters::FromArray(sums);
    Status reconciled = Reconcile(totals);
    if (!reconciled.ok() && reused_total > 0) {
      reconciled = Status(reconciled.code(),
                          reconciled.message() + "; " + std::to_string(reused_total) +
                              " map task(s) were reused from saved work in '" + store_->dir() +
                              "': if that work is suspect, re-run with --force to map every split again");
    }
    std::vector<std::string> gathered = comm_.Gather(stats.Encode(), 0);
    std::map<std::string, uint64_t> user = GatherUserCounters();
    if (!reconciled.ok()) {
      // Every rank holds the same sums, so every rank reaches this branch.
      if (comm_.rank() == 0) spdlog::error("{}", reconciled.ToString());
      return EndCleanly(ExitCodeFor(reconciled.code()));
    }
    // Skipped records: each rank checked its own count; the job's limit is
    // on the sum, which every rank holds.
    std::vector<BadRecordInfo> bad_records;
    if (totals.bad_records > 0) bad_records = GatherBadRecords();
    if (totals.bad_records > config_.settings.max_bad_records) {
      if (comm_.rank() == 0) {
        spdlog::error("job failed: {} bad records in all, more than --max-bad-records {} allows "
                      "(the first: {}); output discarded",
                      totals.bad_records, config_.settings.max_bad_records,
                      BadRecordLog::Describe(bad_records.front()));
      }
      return EndCleanly(ExitCodeFor(StatusCode::kBadInput));
    }
    if (comm_.rank() == 0) {
      JobReport report;
      report.job = std::string(job_.name);
      report.config = &config_;
      report.ranks = comm_.size();
      report.input_files = plan_.files.size();
      report.input_bytes = plan_.total_bytes;
      report.splits = plan_.splits.size();
      report.plan_seconds = plan_seconds;
      report.per_rank.resize(gathered.size());
      for (size_t r = 0; r < gathered.size(); ++r) {
        if (!RankStats::Decode(gathered[r], &report.per_rank[r])) {
          Fail("commit", Status::Internal("malformed statistics from rank " + std::to_string(r)));
        }
      }
      report.totals = totals;
      report.user_counters = user;
      report.output_dir = committer_.output_dir();
      report.inputs = plan_.files;
      report.plugin_path = config_.plugin_path;
      report.plugin_xxh3 = config_.plugin_xxh3;
      report.fingerprint = plan_.fingerprint;
      const auto commit_start = Clock::now();
      // Written into staging: the report is published with the output, atomically.
      report.total_seconds = SecondsSince(start);
      Check("commit", WriteStringToFile(*FileSystem::Default(),
                                        committer_.staging_dir() + "/_report.json",
                                        RenderReportJson(report)));
      Check("commit", WriteStringToFile(*FileSystem::Default(),
                                        committer_.staging_dir() + "/_manifest.json",
                                        RenderManifestJson(report)));
      if (!bad_records.empty()) {
        Check("commit", WriteStringToFile(*FileSystem::Default(),
                                          committer_.staging_dir() + "/_bad_records",
                                          BadRecordsTsv(bad_records)));
        spdlog::warn("skipped {} bad record(s) (--max-bad-records {}); each is listed in {}/_bad_records",
                     bad_records.size(), config_.settings.max_bad_records, committer_.output_dir());
      }
      // --report's copy is written before the output is published, so that a
      // full disk or a bad path fails the job with nothing published; it is
      // renamed into place after. It equals DIR/_report.json.
      std::string report_temp;
      if (!config_.report_path.empty()) {
        report_temp = config_.report_path + ".sluice-tmp-" + plan_.run_token;
        Status written = WriteStringToFile(fs, report_temp, RenderReportJson(report));
        if (!written.ok()) (void)fs.RemoveFile(report_temp);
        Check("report", written);
      }
      Status committed = committer_.CommitJob(SuccessContents(totals, user));
      if (!committed.ok() && !report_temp.empty()) (void)fs.RemoveFile(report_temp);
      Check("commit", committed);
      if (fs.LinkStat(committer_.staging_dir()).ok()) {
        spdlog::warn("output committed, but the replaced output under '{}' was not removed; the "
                     "next run on this output removes it", committer_.staging_container());
      }
      // The output is in place; saved map tasks are no longer needed. A
      // failure here loses nothing, so it is reported, not fatal.
      if (Status removed = store_->RemoveAll(); !removed.ok()) {
        spdlog::warn("output committed, but the saved map tasks were not removed: {}",
                     removed.ToString());
      }
      report.commit_seconds = SecondsSince(commit_start);
      report.total_seconds = SecondsSince(start);
      if (!report_temp.empty()) {
        if (Status moved = fs.Rename(report_temp, config_.report_path); !moved.ok()) {
          // The output is published and whole; only the copy is missing.
          (void)fs.RemoveFile(report_temp);
          spdlog::error("output committed, but the --report copy could not be put in place: {} "
                        "(the same report is {}/_report.json)",
                        moved.ToString(), committer_.output_dir());
          comm_.Barrier();
          return EndCleanly(ExitCodeFor(moved.code()));
        }
      }
      PrintSummary(report);
    }
    comm_.Barrier();  // nobody exits before the output is in place
    return EndCleanly(0);
  }

  // The output holds this job's result, yet a run killed right after its
  // commit (before its clean-up) can have left the replaced output under
  // staging, saved map tasks, and scratch: a no-op re-run removes them.
  void RemoveLeftoversOfCommittedRun() {
    FileSystem& fs = *FileSystem::Default();
    for (const std::string& left : store_->RemoveStaleScratch(HostName(), plan_.run_token)) {
      spdlog::warn("rank {}: scratch of an earlier run not removed: {}", comm_.rank(), left);
    }
    comm_.Barrier();  // every rank is done with the scratch records
    if (comm_.rank() != 0) return;
    for (const std::string& dir : {committer_.staging_container(), committer_.work_root()}) {
      if (Status s = RemoveOwnTree(fs, dir); !s.ok()) {
        spdlog::warn("leftover of an earlier run not removed: {}", s.ToString());
      }
    }
  }

  // A job of one rank has no peer that could outlive it, so on failure it
  // removes its lock file too (after removing staging). With peers the file
  // stays until the next job takes it over (see AbortJob).
  void ReleaseLockIfAlone() {
    if (comm_.size() != 1) return;
    committer_.Abort();
    lock_.Release();
  }

  // After an exception on this rank: removes what this run made, then ends
  // the job everywhere.
  [[noreturn]] void AbortAfterException() {
    RemoveScratch();
    ReleaseLockIfAlone();
    AbortJob(comm_, committer_, ExitCodeFor(StatusCode::kInternal), NoPeerWritesStaging());
  }

 private:
  // Runs one task that writes part `part` (a reduce partition, or a
  // map-only job's split) into its task-private file, then commits it.
  template <class Body>
  PartInfo WriteTask(uint32_t part, const char* phase, Body&& body) {
    FileSystem& fs = *FileSystem::Default();
    const std::string temp = committer_.TaskTempPath(static_cast<int>(part), comm_.rank());
    auto file = fs.Create(temp);
    Check(phase, file.status());
    BufferedWriter writer(std::move(file).value());
    Check(phase, body(&writer));
    Check(phase, writer.Close(/*sync=*/false));  // made durable in one syncfs before commit
    Check("commit", committer_.CommitTask(static_cast<int>(part), comm_.rank()));
    return PartInfo{part, writer.bytes_written(), writer.checksum()};
  }

  // Resume: when an earlier run of this fingerprint saved split's map
  // task, sends its blocks (a map-only job: restores its part file) and
  // adds its counters, instead of mapping the split again.
  bool ReuseSavedTask(uint32_t split, std::vector<PartInfo>* parts) {
    if (config_.force) return false;
    SavedTaskStats saved;
    std::string why;
    if (!store_->Check(split, map_only_, &saved, &why)) {
      if (why != "not saved") spdlog::warn("rank {}: mapping split {} again: {}", comm_.rank(), split, why);
      return false;
    }
    if (map_only_) {
      Check("map", store_->RestorePart(split, committer_.CommittedPartPath(static_cast<int>(split))));
      parts->push_back(PartInfo{split, saved.part_bytes, saved.part_xxh3});
    } else {
      Check("shuffle", store_->Replay(split, [&](const BlockInfo& info, std::string frame) {
        comm_.SendBlock(OwnerOf(info.partition, comm_.size()), std::move(frame));
      }));
    }
    runner_->AddSavedCounters(saved.counters, saved.user, saved.bad_records);
    Check("map", runner_->BadRecordStatus());
    return true;
  }

  // Maps split, saving what it sends (or, map-only, its part) and what it
  // adds to the counters, so that a re-run after a failure can reuse it.
  void RunAndSaveMapTask(uint32_t split, std::vector<PartInfo>* parts) {
    Check("map", store_->BeginTask(split));
    const TaskCounters before = runner_->counters();
    const auto user_before = runner_->user_counters();
    const size_t bad_before = runner_->bad_records().size();
    MapTask task{&plan_.splits[split], &plan_.files, FileSystem::Default(), nullptr};
    SavedTaskStats saved;
    if (map_only_) {
      parts->push_back(WriteTask(split, "map", [&](BufferedWriter* out) {
        task.output = out;
        return runner_->RunMapTask(task);
      }));
      Check("map", store_->KeepPart(split, committer_.CommittedPartPath(static_cast<int>(split))));
      saved.part_bytes = parts->back().bytes;
      saved.part_xxh3 = parts->back().xxh3;
    } else {
      Check("map", runner_->RunMapTask(task));
    }
    const auto after = runner_->counters().ToArray();
    const auto was = before.ToArray();
    std::array<uint64_t, TaskCounters::kCount> delta{};
    for (size_t i = 0; i < delta.size(); ++i) delta[i] = after[i] - was[i];
    saved.counters = TaskCounters::FromArray(delta);
    // Both lists are sorted by name (UserCounters is a std::map), and names
    // are never removed.
    size_t j = 0;
    for (const auto& [name, value] : runner_->user_counters()) {
      uint64_t old = 0;
      if (j < user_before.size() && user_before[j].first == name) old = user_before[j++].second;
      if (value != old) saved.user.emplace_back(name, value - old);
    }
    const auto& bad = runner_->bad_records();
    saved.bad_records.assign(bad.begin() + static_cast<std::ptrdiff_t>(bad_before), bad.end());
    Check("map", store_->CommitTask(split, saved));
  }

  // This rank's scratch for this run: `--scratch/sluice-` and 64 random
  // bits, a name nobody can guess or plant in advance, made private (0700)
  // by the engine at its first spill (shuffle_store.h), never derived from
  // the output name. Its path is recorded in the work directory first, so
  // that a re-run on this host removes it if this run is killed; that
  // re-run removes the scratch such killed runs left now.
  std::string MakeScratchDir() {
    FileSystem& fs = *FileSystem::Default();
    const std::string host = HostName();
    for (const std::string& left : store_->RemoveStaleScratch(host, plan_.run_token)) {
      spdlog::warn("rank {}: scratch of an earlier run not removed: {}", comm_.rank(), left);
    }
    Check("setup", fs.CreateDirs(config_.scratch_root));
    Check("setup", CheckSafeParent(fs, config_.scratch_root, "--scratch folder", /*owner_checked=*/true));
    scratch_dir_ = config_.scratch_root + (config_.scratch_root.back() == '/' ? "" : "/") + "sluice-" +
                   NewRunToken();
    Check("setup", store_->RegisterScratch(host, plan_.run_token, scratch_dir_));
    return scratch_dir_;
  }

 public:
  // Removes this rank's scratch (idempotent; also on failure paths).
  void RemoveScratch() {
    if (runner_) runner_->RemoveScratch();
    if (scratch_dir_.empty()) return;
    (void)RemoveOwnTree(*FileSystem::Default(), scratch_dir_);  // never one planted by another user
    scratch_dir_.clear();
    if (store_) store_->UnregisterScratch();
  }

 private:
  // Ends this rank's part of a job that stops in step on every rank (done,
  // or failed the same way everywhere): rank 0 removes staging and releases
  // the output lock (removing the lock file) once every rank is past it.
  int EndCleanly(int exit_code) {
    if (exit_code != 0) committer_.Abort();
    comm_.Barrier();
    if (comm_.rank() == 0) lock_.Release();
    return exit_code;
  }

  // Range partitioning: samples the same splits whatever the number of
  // ranks (so the cuts, and the output, do not depend on it), spread over
  // the input; rank 0 picks the cuts and every rank installs them.
  Status SampleRangeCuts() {
    constexpr size_t kSampleSplits = 32;
    constexpr size_t kKeysPerSplit = 4096;
    const size_t splits = plan_.splits.size();
    const size_t chosen = std::min(splits, kSampleSplits);
    std::vector<std::string> mine;
    Status sampled;
    for (size_t i = 0; i < chosen && sampled.ok(); ++i) {
      if (static_cast<int>(i % comm_.size()) != comm_.rank()) continue;
      const size_t split = i * splits / chosen;
      MapTask task{&plan_.splits[split], &plan_.files, FileSystem::Default(), nullptr};
      sampled = runner_->SampleKeys(task, kKeysPerSplit, &mine);
    }
    SLUICE_RETURN_IF_ERROR(AgreeAcrossRanks(comm_, sampled));
    std::string packed;
    for (const std::string& key : mine) Encode(&packed, key);
    std::vector<std::string> gathered = comm_.Gather(packed, 0);
    std::string cuts_packed;
    Status chosen_ok;
    if (comm_.rank() == 0) {
      std::vector<std::string> all;
      for (const std::string& bytes : gathered) {
        ByteReader r{bytes.data(), bytes.data() + bytes.size()};
        std::string key;
        while (r.p != r.end && Decode(r, &key)) all.push_back(key);
      }
      const size_t samples = all.size();
      auto cuts = runner_->ChooseCuts(std::move(all), config_.settings.partitions);
      chosen_ok = cuts.status();
      if (cuts.ok()) {
        for (const std::string& cut : *cuts) Encode(&cuts_packed, cut);
        spdlog::info("range partitioning: {} sampled keys, {} cuts", samples, cuts->size());
      }
    }
    SLUICE_RETURN_IF_ERROR(AgreeAcrossRanks(comm_, chosen_ok));
    comm_.Broadcast(&cuts_packed, 0);
    std::vector<std::string> cuts;
    ByteReader r{cuts_packed.data(), cuts_packed.data() + cuts_packed.size()};
    for (std::string cut; r.p != r.end && Decode(r, &cut);) cuts.push_back(cut);
    return runner_->SetRangeCuts(cuts);
  }

  // The promises of DESIGN.md invariant 3, on global sums.
  Status Reconcile(const TaskCounters& t) const {
    auto mismatch = [](std::string what, uint64_t a, uint64_t b) {
      return Status::Corruption("counters do not reconcile: " + what + " (" + std::to_string(a) +
                                " vs " + std::to_string(b) + "); output discarded");
    };
    if (t.input_bytes != plan_.total_bytes) {
      return mismatch("input bytes read != input bytes planned (did an input change while the job ran?)",
                      t.input_bytes, plan_.total_bytes);
    }
    if (map_only_) {
      if (t.map_output_records != t.output_records) {
        return mismatch("map output records != records written", t.map_output_records,
                        t.output_records);
      }
      return Status::OK();
    }
    if (t.combine_input_records > 0) {
      if (t.combine_input_records != t.map_output_records) {
        return mismatch("map output records != combine input records", t.map_output_records,
                        t.combine_input_records);
      }
      if (t.combine_output_records != t.shuffle_records) {
        return mismatch("combine output records != shuffled records", t.combine_output_records,
                        t.shuffle_records);
      }
    } else if (t.map_output_records != t.shuffle_records) {
      return mismatch("map output records != shuffled records", t.map_output_records,
                      t.shuffle_records);
    }
    if (t.shuffle_records != t.reduce_input_records) {
      return mismatch("shuffled records != reduce input records", t.shuffle_records,
                      t.reduce_input_records);
    }
    return Status::OK();
  }

  // Every rank's skipped records at rank 0, sorted by (file, offset): the
  // same list whatever the rank count or scheduling. Empty elsewhere.
  std::vector<BadRecordInfo> GatherBadRecords() {
    std::string mine;
    for (const BadRecordInfo& r : runner_->bad_records()) {
      Encode(&mine, r.file);
      Encode(&mine, r.offset);
      Encode(&mine, r.reason);
    }
    std::vector<BadRecordInfo> all;
    for (const std::string& bytes : comm_.Gather(mine, 0)) {
      ByteReader r{bytes.data(), bytes.data() + bytes.size()};
      BadRecordInfo b;
      while (r.p != r.end && Decode(r, &b.file) && Decode(r, &b.offset) && Decode(r, &b.reason)) {
        all.push_back(b);
      }
    }
    std::sort(all.begin(), all.end(), [](const BadRecordInfo& a, const BadRecordInfo& b) {
      return std::tie(a.file, a.offset, a.reason) < std::tie(b.file, b.offset, b.reason);
    });
    return all;
  }

  // OUTPUT/_bad_records: "file<TAB>offset<TAB>reason" lines; tabs and line
  // breaks inside a field become spaces, so each record stays one line.
  static std::string BadRecordsTsv(const std::vector<BadRecordInfo>& records) {
    auto field = [](std::string s) {
      for (char& c : s) {
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
      }
      return s;
    };
    std::string out;
    for (const BadRecordInfo& r : records) {
      out += field(r.file) + "\t" + std::to_string(r.offset) + "\t" + field(r.reason) + "\n";
    }
    return out;
  }

  std::map<std::string, uint64_t> GatherUserCounters() {
    std::string mine;
    for (const auto& [name, value] : runner_->user_counters()) {
      Encode(&mine, name);
      Encode(&mine, value);
    }
    std::map<std::string, uint64_t> sums;
    for (const std::string& bytes : comm_.Gather(mine, 0)) {
      ByteReader r{bytes.data(), bytes.data() + bytes.size()};
      std::string name;
      uint64_t value = 0;
      while (r.p != r.end && Decode(r, &name) && Decode(r, &value)) sums[name] += value;
    }
    return sums;
  }

  std::string SuccessContents(const TaskCounters& totals,
                              const std::map<std::string, uint64_t>& user) const {
    std::string s = "job\t" + std::string(job_.name) + "\n" + FingerprintLine(plan_.fingerprint);
    s += "ranks\t" + std::to_string(comm_.size()) + "\n";
    s += "partitions\t" + std::to_string(config_.settings.partitions) + "\n";
    const auto values = totals.ToArray();
    for (size_t i = 0; i < TaskCounters::kCount; ++i) {
      s += std::string(TaskCounters::kNames[i]) + "\t" + std::to_string(values[i]) + "\n";
    }
    for (const auto& [name, value] : user) s += "user." + name + "\t" + std::to_string(value) + "\n";
    return s;
  }

  void PrintSummary(const JobReport& report) const {
    const TaskCounters& totals = report.totals;
    const auto t = totals.ToArray();
    const std::map<std::string, uint64_t>& user = report.user_counters;
    const double seconds = report.total_seconds;
    const double mb = static_cast<double>(plan_.total_bytes) / 1e6;
    spdlog::info("done in {:.2f}s: {:.1f} MB input, {:.1f} MB/s, output in {}", seconds, mb,
                 seconds > 0 ? mb / seconds : 0.0, committer_.output_dir());
    std::string counters;
    for (size_t i = 0; i < TaskCounters::kCount; ++i) {
      counters += fmt::format("\n  {:<24}{:>16}", TaskCounters::kNames[i], t[i]);
    }
    for (const auto& [name, value] : user) counters += fmt::format("\n  {:<24}{:>16}", name, value);
    spdlog::info("counters:{}", counters);
    if (totals.shuffle_packed_bytes > 0) {
      spdlog::info("shuffle compression: {:.2f}x ({} -> {})",
                   static_cast<double>(totals.shuffle_raw_bytes) /
                       static_cast<double>(totals.shuffle_packed_bytes),
                   Mib(totals.shuffle_raw_bytes), Mib(totals.shuffle_packed_bytes));
    }
    std::string peaks;
    for (size_t r = 0; r < report.per_rank.size(); ++r) {
      const RankStats& s = report.per_rank[r];
      peaks += fmt::format("{}rank {}: {}", r ? ", " : "", r, Mib(s.peak_rss_bytes));
    }
    spdlog::info("peak RSS per rank: {}", peaks);
    std::string phases;
    for (size_t r = 0; r < report.per_rank.size(); ++r) {
      const RankStats& s = report.per_rank[r];
      phases += fmt::format("{}rank {}: {} splits, map {:.2f}s, reduce {:.2f}s", r ? "; " : "", r,
                            s.splits, s.map_seconds, s.reduce_seconds);
    }
    spdlog::info("per rank: {}", phases);
  }

  void Check(const char* phase, const Status& s) {
    if (!s.ok()) Fail(phase, s);
  }

  [[noreturn]] void Fail(const char* phase, const Status& s) {
    spdlog::error("job failed in {} on rank {}: {}", phase, comm_.rank(), s.ToString());
    spdlog::default_logger()->flush();
    RemoveScratch();
    ReleaseLockIfAlone();
    AbortJob(comm_, committer_, ExitCodeFor(s.code()), NoPeerWritesStaging());
    std::abort();  // not reached: GCC does not trust [[noreturn]] on a virtual call
  }

  const JobEntry& job_;
  const JobConfig& config_;
  Communicator& comm_;
  OutputCommitter committer_;
  JobPlan plan_;
  std::unique_ptr<MapTaskStore> store_;
  std::unique_ptr<TaskRecordingTransport> recording_;
  std::unique_ptr<JobRunner> runner_;
  bool map_only_ = true;  // until the job's traits say otherwise
  bool shuffle_finished_ = false;
  OutputLock lock_;          // rank 0: held from the plan to the end
  std::string scratch_dir_;  // this rank's, once made
};

}  // namespace

int RunJob(const JobEntry& job, const JobConfig& config, Communicator& comm) {
  Run run(job, config, comm);
  try {
    return run.Execute();
  } catch (const std::exception& e) {
    spdlog::error("job failed on rank {}: internal error: {}", comm.rank(), e.what());
    spdlog::default_logger()->flush();
    run.AbortAfterException();
  }
}

}  // namespace sluice
