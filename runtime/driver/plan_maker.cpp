#include "runtime/driver/plan_maker.h"

#include <sys/random.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>
#include <xxhash.h>

#include "io/file_system.h"
#include "io/input_lister.h"
#include "io/input_probe.h"
#include "io/overwrite_guard.h"
#include "io/split_planner.h"
#include "runtime/driver/incremental_plan.h"
#include "runtime/driver/job_fingerprint.h"
#include "runtime/driver/map_task_store.h"
#include "shuffle/serde.h"

namespace sluice {
namespace {

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

// --report is written at the very end (rank 0): a folder that is not there
// would fail the job after all its work, so it is refused before any.
Status CheckReportFolder(FileSystem& fs, const std::string& report_path) {
  if (report_path.empty()) return Status::OK();
  const size_t slash = report_path.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : report_path.substr(0, slash);
  auto info = fs.Stat(folder);
  if (!info.ok() || info->type != FileType::kDirectory) {
    return Status::Usage("flag --report: folder '" + folder + "' of '" + report_path +
                         "' does not exist or is not a folder (create it first)");
  }
  return Status::OK();
}

// The splits over the files `read` marks (all of them but in an
// incremental run), their ranges indexing the whole list.
void PlanSplitsOfRead(uint64_t split_size, const std::vector<bool>& read, JobPlan* plan) {
  std::vector<InputFile> inputs;
  std::vector<uint32_t> index_of;
  for (size_t i = 0; i < plan->files.size(); ++i) {
    if (!read[i]) continue;
    plan->total_bytes += plan->files[i].size;
    if (plan->files[i].input_index == kMergeStateInput) continue;
    inputs.push_back(plan->files[i]);
    index_of.push_back(static_cast<uint32_t>(i));
  }
  plan->splits = PlanSplits(inputs, split_size);
  for (Split& split : plan->splits) {
    for (FileRange& range : split.ranges) range.file_index = index_of[range.file_index];
  }
  // The merge state (--incremental): one split per state file, never packed
  // with another or with input, so that reading it back is spread over the
  // ranks like any map work and a sampled split is input or state, not
  // both (reduce_sampling.cpp weighs the two apart).
  for (size_t i = 0; i < plan->files.size(); ++i) {
    if (!read[i] || plan->files[i].input_index != kMergeStateInput) continue;
    for (Split& split : PlanSplits({plan->files[i]}, UINT64_MAX)) {
      for (FileRange& range : split.ranges) range.file_index = static_cast<uint32_t>(i);
      split.index = static_cast<uint32_t>(plan->splits.size());
      plan->splits.push_back(std::move(split));
    }
  }
}

}  // namespace

uint64_t MapTaskKey(const JobPlan& plan) {
  if (!plan.incremental) return plan.fingerprint;
  // Other splits than a full run's, over other files: saved tasks of the
  // one must never be replayed as the other's.
  std::string bytes = "sluice-incremental-tasks-v1";
  Encode(&bytes, plan.fingerprint);
  Encode(&bytes, plan.previous_fingerprint);
  return XXH3_64bits(bytes.data(), bytes.size());
}

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

std::string FingerprintLine(uint64_t fingerprint) {
  return "fingerprint\t" + FingerprintHex(fingerprint) + "\n";
}

bool HoldsResultOf(FileSystem& fs, const std::string& output_dir, uint64_t fingerprint) {
  auto success = ReadFileToString(fs, output_dir + "/_SUCCESS");
  return success.ok() && success->find(FingerprintLine(fingerprint)) != std::string::npos;
}

uint64_t BuildXxh3(const JobConfig& config) {
  return config.plugin_path.empty() ? ExecutableXxh3() : config.plugin_xxh3;
}

Result<std::vector<InputFile>> ListPlanInputs(FileSystem& fs, const JobConfig& config, const JobTraits& traits) {
  auto files = traits.input == InputKind::kGeneratedRows ? GeneratedInput(config, traits.record_bytes)
                                                         : ListInputs(fs, config.inputs);
  if (!files.ok()) return files.status();
  if (ReadsText(traits.input)) {
    SLUICE_RETURN_IF_ERROR(ProbeInputs(fs, config.split_size, &*files));
  } else if (traits.input == InputKind::kFixedRecords) {
    SLUICE_RETURN_IF_ERROR(RefuseCompressedBinaryInputs(fs, *files, "fixed-size records"));
  } else if (traits.input == InputKind::kKeyValue) {
    SLUICE_RETURN_IF_ERROR(RefuseCompressedBinaryInputs(fs, *files, "Sluice key-value files"));
  }
  return files;
}

PlanOutcome MakePlan(std::string_view job_name, const JobConfig& config, const JobTraits& traits,
                     OutputCommitter& committer, OutputLock* lock) {
  PlanOutcome out;
  FileSystem& fs = *FileSystem::Default();
  out.plan.run_token = NewRunToken();
  out.status = committer.CheckNameAndMakeParent();
  if (out.status.ok()) out.status = CheckReportFolder(fs, config.report_path);
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
  auto files = ListPlanInputs(fs, config, traits);
  if (!files.ok()) {
    out.status = files.status();
    return out;
  }
  out.plan.files = std::move(files).value();
  out.plan.fingerprint = JobFingerprint(job_name, BuildXxh3(config), config, out.plan.files);
  // An incremental run checks the bytes of what the previous run read
  // first (a same-size write with its mtime set back is caught by ctime).
  if (!config.force && !config.incremental && HoldsResultOf(fs, committer.output_dir(), out.plan.fingerprint)) {
    out.plan.already_done = true;
    return out;
  }
  std::vector<bool> read(out.plan.files.size(), true);
  if (config.incremental) {
    auto decided = DecideIncremental(fs, committer.output_dir(), job_name, config, std::move(out.plan.files),
                                     [&](const std::vector<InputFile>& some) {
                                       return JobFingerprint(job_name, BuildXxh3(config), config, some);
                                     });
    if (!decided.ok()) {
      out.status = decided.status();
      return out;
    }
    if (decided->incremental && decided->files_new == 0 &&
        HoldsResultOf(fs, committer.output_dir(), out.plan.fingerprint)) {
      out.plan.already_done = true;
      return out;
    }
    out.plan.files = std::move(decided->files);
    read = std::move(decided->read);
    out.plan.incremental = decided->incremental;
    out.plan.previous_fingerprint = decided->previous_fingerprint;
    out.plan.run_kind = std::move(decided->why);
    spdlog::info("{}", out.plan.run_kind);
  }
  PlanSplitsOfRead(config.split_size, read, &out.plan);
  WarnAboutTinySplits(out.plan, config.split_size);
  // An incremental run replaces the output it builds on, as --overwrite would.
  const bool replace = config.overwrite || config.force || config.incremental;
  if (replace && fs.LinkStat(committer.output_dir()).ok()) {
    std::vector<std::string> inputs = config.inputs;
    if (traits.input == InputKind::kGeneratedRows) inputs.clear();
    for (const InputFile& f : out.plan.files) {
      // The merge state is read from the output it replaces, by design: the
      // old output stays whole until the new one is swapped in.
      if (traits.input != InputKind::kGeneratedRows && f.input_index != kMergeStateInput) {
        inputs.push_back(f.path);
      }
    }
    out.status = CheckReplaceable(fs, committer.output_dir(), inputs);
    if (!out.status.ok()) return out;
  }
  out.status = committer.Prepare(replace);
  if (out.status.ok() && config.incremental) {
    out.status = fs.CreateDirs(committer.staging_dir() + "/" + std::string(kMergeStateDir));
  }
  if (out.status.ok()) {
    out.status = MapTaskStore(fs, committer.work_root(), MapTaskKey(out.plan), 0).Prepare();
  }
  return out;
}

}  // namespace sluice
