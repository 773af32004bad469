#include "runtime/driver/map_phase.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

#include "io/fault_points.h"

namespace sluice {
namespace {

// Resume: when an earlier run of this fingerprint saved split's map
// task, sends its blocks (a map-only job: restores its part file) and
// adds its counters, instead of mapping the split again.
bool ReuseSavedTask(JobRun& run, uint32_t split, std::vector<PartInfo>* parts) {
  if (run.config.force) return false;
  SavedTaskStats saved;
  std::string why;
  if (!run.store->Check(split, run.map_only, &saved, &why)) {
    if (why != "not saved") {
      spdlog::warn("rank {}: mapping split {} again: {}", run.comm.rank(), split, why);
    }
    return false;
  }
  if (!run.map_only && saved.reduce_tasks != run.reduce_tasks.Hash()) {
    // Blocks name reduce tasks: under another cut of the partitions (a run
    // that sampled where this one did not, at one rank) they would go astray.
    spdlog::info("rank {}: mapping split {} again: it was saved for other reduce tasks", run.comm.rank(), split);
    return false;
  }
  if (run.map_only) {
    const std::string part_path = run.committer.CommittedPartPath(static_cast<int>(split));
    run.Check("map", run.store->RestorePart(split, part_path));
    parts->push_back(PartInfo{split, saved.part_bytes, saved.part_xxh3});
  } else {
    run.Check("shuffle", run.store->Replay(split, [&](const BlockInfo& info, std::string frame) {
      if (info.partition >= run.reduce_owners.size()) {
        run.Fail("shuffle", Status::Corruption("saved task of split " + std::to_string(split) +
                                               " names reduce task " + std::to_string(info.partition) +
                                               " of " + std::to_string(run.reduce_owners.size())));
      }
      run.comm.SendBlock(run.reduce_owners[info.partition], std::move(frame));
    }));
  }
  run.runner->AddSavedCounters(saved.counters, saved.user, saved.bad_records);
  run.Check("map", run.runner->BadRecordStatus());
  return true;
}

// Maps split, saving what it sends (or, map-only, its part) and what it
// adds to the counters, so that a re-run after a failure can reuse it.
void RunAndSaveMapTask(JobRun& run, uint32_t split, std::vector<PartInfo>* parts) {
  {
    StepTimer saving(&run.steps.save_ns);
    run.Check("map", run.store->BeginTask(split));
  }
  const TaskCounters before = run.runner->counters();
  const auto user_before = run.runner->user_counters();
  const size_t bad_before = run.runner->bad_records().size();
  MapTask task{&run.plan.splits[split], &run.plan.files, FileSystem::Default(), nullptr};
  SavedTaskStats saved;
  if (!run.map_only) saved.reduce_tasks = run.reduce_tasks.Hash();
  if (run.map_only) {
    parts->push_back(run.WriteTask(split, "map", [&](BufferedWriter* out) {
      task.output = out;
      return run.runner->RunMapTask(task);
    }));
    const std::string part_path = run.committer.CommittedPartPath(static_cast<int>(split));
    run.Check("map", run.store->KeepPart(split, part_path));
    saved.part_bytes = parts->back().bytes;
    saved.part_xxh3 = parts->back().xxh3;
  } else {
    run.Check("map", run.runner->RunMapTask(task));
  }
  const auto after = run.runner->counters().ToArray();
  const auto was = before.ToArray();
  std::array<uint64_t, TaskCounters::kCount> delta{};
  for (size_t i = 0; i < delta.size(); ++i) delta[i] = after[i] - was[i];
  saved.counters = TaskCounters::FromArray(delta);
  // Both lists are sorted by name (UserCounters is a std::map), and names
  // are never removed.
  size_t j = 0;
  for (const auto& [name, value] : run.runner->user_counters()) {
    uint64_t old = 0;
    if (j < user_before.size() && user_before[j].first == name) old = user_before[j++].second;
    if (value != old) saved.user.emplace_back(name, value - old);
  }
  const auto& bad = run.runner->bad_records();
  saved.bad_records.assign(bad.begin() + static_cast<std::ptrdiff_t>(bad_before), bad.end());
  StepTimer saving(&run.steps.save_ns);
  run.Check("map", run.store->CommitTask(split, saved));
}

}  // namespace

PhaseProgress::PhaseProgress(const JobRun& run)
    : reporter(run.comm.rank() == 0 && !run.config.quiet && run.config.log_level != "warn" &&
                   run.config.log_level != "error" && run.config.log_level != "off",
               ProgressIntervalFromEnv()),
      run_(run),
      dispatched_bytes_(run.plan.splits.size() + 1, 0) {
  // In the order splits are handed out.
  for (size_t i = 0; i < run.plan.schedule.size(); ++i) {
    dispatched_bytes_[i + 1] = dispatched_bytes_[i] + run.plan.splits[run.plan.schedule[i]].bytes();
  }
}

ProgressSample PhaseProgress::Sample(const char* phase) const {
  ProgressSample s;
  s.phase = phase;
  const uint32_t handed = std::min<uint32_t>(run_.comm.SplitsHandedOut(),
                                             static_cast<uint32_t>(run_.plan.splits.size()));
  s.done_bytes = dispatched_bytes_[handed];
  s.total_bytes = run_.plan.total_bytes;
  s.own_bytes = run_.runner->counters().input_bytes;
  s.own_records = run_.runner->counters().input_records;
  s.spills = run_.runner->counters().spill_runs;
  return s;
}

RankWork RunMapPhase(JobRun& run, PhaseProgress& progress) {
  const auto map_start = Clock::now();
  RankWork work;
  run.comm.StartSplits(static_cast<uint32_t>(run.plan.splits.size()));
  for (int64_t s; (s = run.comm.NextSplit()) >= 0;) {
    const uint32_t split = run.plan.schedule[static_cast<size_t>(s)];
    const double task_start = SecondsSince(map_start);
    const uint64_t bytes_before = run.runner->counters().input_bytes;
    const uint64_t reuse_start = StepClockNs();
    if (ReuseSavedTask(run, split, &work.parts)) {
      run.steps.save_ns += StepClockNs() - reuse_start;
      ++work.reused_splits;
    } else {
      RunAndSaveMapTask(run, split, &work.parts);
    }
    if (run.map_only) work.output_bytes += work.parts.back().bytes;
    SLUICE_FAULT_POINT("after_map_task");
    run.Check("shuffle", run.runner->ReceiveStatus());
    ++work.splits;
    work.map_spans.push_back({task_start, SecondsSince(map_start), run.runner->counters().input_bytes - bytes_before});
    progress.reporter.Update(progress.Sample("map"));
  }
  run.shuffle_finished = true;
  {
    StepTimer waiting(&run.steps.receive_wait_ns);
    run.comm.FinishShuffle();
  }
  progress.reporter.Finish();
  run.Check("shuffle", run.runner->ReceiveStatus());
  work.map_seconds = SecondsSince(map_start);
  spdlog::debug("map+shuffle done: {} split(s) in {:.2f}s, {} reused", work.splits,
                work.map_seconds, work.reused_splits);
  if (run.comm.rank() == 0) spdlog::info("map+shuffle: {:.2f}s", work.map_seconds);
  return work;
}

}  // namespace sluice
