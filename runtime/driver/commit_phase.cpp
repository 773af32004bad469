#include "runtime/driver/commit_phase.h"

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "io/file_system.h"
#include "runtime/driver/expectation_check.h"
#include "runtime/driver/incremental_plan.h"
#include "runtime/driver/job_fingerprint.h"
#include "runtime/driver/plan_maker.h"
#include "runtime/driver/report_html.h"
#include "shuffle/serde.h"

namespace sluice {
namespace {

uint64_t PeakRssBytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

// The engine's step times with the driver's: the driver's writing,
// checksumming and saving happen inside engine steps and are taken out of
// them.
StepSeconds StepsOf(const JobRun& run) {
  const EngineStepTimes e = run.runner->step_times();
  const JobRun::DriverSteps& d = run.steps;
  auto less = [](uint64_t a, uint64_t b) { return a > b ? a - b : 0; };
  auto sec = [](uint64_t ns) { return static_cast<double>(ns) / 1e9; };
  const uint64_t appended = run.recording ? run.recording->save_ns() : 0;
  StepSeconds s;
  s.read = sec(e.read_ns);
  s.map = sec(less(e.map_ns, d.body_io_ns[0]));
  s.serialize = sec(e.serialize_ns);
  s.compress = sec(e.compress_ns);
  s.send = sec(less(e.send_ns, appended));
  s.save = sec(appended + d.save_ns);
  s.map_write = sec(d.write_ns[0]);
  s.map_checksum = sec(d.checksum_ns[0]);
  s.receive_wait = sec(d.receive_wait_ns);
  s.decode = sec(e.decode_ns);
  s.merge = sec(e.merge_ns);
  s.sort = sec(e.sort_ns);
  s.reduce = sec(less(e.reduce_ns, d.body_io_ns[1]));
  s.write = sec(d.write_ns[1]);
  s.checksum = sec(d.checksum_ns[1]);
  s.commit = sec(d.commit_ns);
  return s;
}

// This rank's statistics, as the report lists them per rank.
RankStats StatsOf(const JobRun& run, RankWork work) {
  RankStats stats;
  stats.host = HostName();
  stats.counters = run.runner->counters();
  stats.counters.output_bytes = work.output_bytes;
  stats.map_seconds = work.map_seconds;
  stats.reduce_seconds = work.reduce_seconds;
  stats.splits = work.splits;
  stats.reused_splits = work.reused_splits;
  stats.peak_rss_bytes = PeakRssBytes();
  stats.reduce_tasks = work.reduce_tasks;
  if (!run.map_only) stats.reduce_input_bytes = run.runner->ReceivedBytes();
  stats.steps = StepsOf(run);
  stats.parts = std::move(work.parts);
  stats.state_files = std::move(work.state_files);
  stats.map_spans = std::move(work.map_spans);
  stats.reduce_spans = std::move(work.reduce_spans);
  return stats;
}

// The promises of DESIGN.md invariant 3, on global sums.
Status Reconcile(const JobRun& run, const TaskCounters& t) {
  auto mismatch = [](std::string what, uint64_t a, uint64_t b) {
    return Status::Corruption("counters do not reconcile: " + what + " (" + std::to_string(a) +
                              " vs " + std::to_string(b) + "); output discarded");
  };
  if (t.input_bytes != run.plan.total_bytes) {
    return mismatch("input bytes read != input bytes planned (did an input change while the job ran?)",
                    t.input_bytes, run.plan.total_bytes);
  }
  if (run.map_only) {
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

// Every rank's counters summed: the same on every rank, and so is whether
// they reconcile.
struct Totals {
  TaskCounters counters;
  Status reconciled;
};

Totals SumAndReconcile(JobRun& run, const RankStats& stats) {
  auto arr = stats.counters.ToArray();
  std::vector<uint64_t> sums(arr.begin(), arr.end());
  sums.push_back(stats.reused_splits);
  run.comm.AllReduceSum(&sums);
  const uint64_t reused_total = sums.back();
  sums.pop_back();
  Totals totals{TaskCounters::FromArray(sums), Status::OK()};
  totals.reconciled = Reconcile(run, totals.counters);
  if (!totals.reconciled.ok() && reused_total > 0) {
    totals.reconciled =
        Status(totals.reconciled.code(),
               totals.reconciled.message() + "; " + std::to_string(reused_total) +
                   " map task(s) were reused from saved work in '" + run.store->dir() +
                   "': if that work is suspect, re-run with --force to map every split again");
  }
  return totals;
}

bool BadRecordBefore(const BadRecordInfo& a, const BadRecordInfo& b) {
  return std::tie(a.file, a.offset, a.reason) < std::tie(b.file, b.offset, b.reason);
}

// Every rank's skipped records at rank 0, sorted by (file, offset): the
// same list whatever the rank count or scheduling. Empty elsewhere.
std::vector<BadRecordInfo> GatherBadRecords(JobRun& run) {
  std::string mine;
  for (const BadRecordInfo& r : run.runner->bad_records()) {
    Encode(&mine, r.file);
    Encode(&mine, r.offset);
    Encode(&mine, r.reason);
  }
  std::vector<BadRecordInfo> all;
  for (const std::string& bytes : run.comm.Gather(mine, 0)) {
    ByteReader r{bytes.data(), bytes.data() + bytes.size()};
    BadRecordInfo b;
    while (r.p != r.end && Decode(r, &b.file) && Decode(r, &b.offset) && Decode(r, &b.reason)) {
      all.push_back(b);
    }
  }
  std::sort(all.begin(), all.end(), BadRecordBefore);
  return all;
}

// An incremental run reads none of the files the previous run read, so the
// records those skipped are carried over from its _bad_records (the old
// output is still in place): the list is the one a full run would write.
Status CarryPreviousBadRecords(const std::string& output_dir, std::vector<BadRecordInfo>* records) {
  FileSystem& fs = *FileSystem::Default();
  const std::string path = output_dir + "/_bad_records";
  if (!fs.LinkStat(path).ok()) return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs, path));
  size_t line_no = 0;
  for (size_t at = 0; at < text.size();) {
    const size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line(text.data() + at, end - at);
    at = end + 1;
    ++line_no;
    const size_t t1 = line.find('\t'), t2 = t1 == line.npos ? line.npos : line.find('\t', t1 + 1);
    BadRecordInfo r;
    const char* digits = line.data() + t1 + 1;
    if (t2 == line.npos || std::from_chars(digits, line.data() + t2, r.offset).ptr != line.data() + t2) {
      return Status::Corruption("cannot carry the previous run's skipped records over: '" + path + "' line " +
                                std::to_string(line_no) + " is not file<TAB>offset<TAB>reason");
    }
    r.file = std::string(line.substr(0, t1));
    r.reason = std::string(line.substr(t2 + 1));
    records->push_back(std::move(r));
  }
  std::sort(records->begin(), records->end(), BadRecordBefore);
  return Status::OK();
}

// OUTPUT/_bad_records: "file<TAB>offset<TAB>reason" lines; tabs and line
// breaks inside a field become spaces, so each record stays one line.
std::string BadRecordsTsv(const std::vector<BadRecordInfo>& records) {
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

std::map<std::string, uint64_t> GatherUserCounters(JobRun& run) {
  std::string mine;
  for (const auto& [name, value] : run.runner->user_counters()) {
    Encode(&mine, name);
    Encode(&mine, value);
  }
  std::map<std::string, uint64_t> sums;
  for (const std::string& bytes : run.comm.Gather(mine, 0)) {
    ByteReader r{bytes.data(), bytes.data() + bytes.size()};
    std::string name;
    uint64_t value = 0;
    while (r.p != r.end && Decode(r, &name) && Decode(r, &value)) sums[name] += value;
  }
  return sums;
}

std::string SuccessContents(const JobRun& run, const TaskCounters& totals,
                            const std::map<std::string, uint64_t>& user) {
  std::string s =
      "job\t" + std::string(run.job.name) + "\n" + FingerprintLine(run.plan.fingerprint);
  s += "ranks\t" + std::to_string(run.comm.size()) + "\n";
  s += "partitions\t" + std::to_string(run.config.settings.partitions) + "\n";
  const auto values = totals.ToArray();
  for (size_t i = 0; i < TaskCounters::kCount; ++i) {
    s += std::string(TaskCounters::kNames[i]) + "\t" + std::to_string(values[i]) + "\n";
  }
  for (const auto& [name, value] : user) s += "user." + name + "\t" + std::to_string(value) + "\n";
  return s;
}

void PrintSummary(const JobRun& run, const JobReport& report) {
  const TaskCounters& totals = report.totals;
  const auto t = totals.ToArray();
  const std::map<std::string, uint64_t>& user = report.user_counters;
  const double seconds = report.total_seconds;
  const double mb = static_cast<double>(run.plan.total_bytes) / 1e6;
  spdlog::info("done in {:.2f}s: {:.1f} MB input, {:.1f} MB/s, output in {}", seconds, mb,
               seconds > 0 ? mb / seconds : 0.0, run.committer.output_dir());
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
    phases += fmt::format("{}rank {} ({}): {} splits, map {:.2f}s, reduce {:.2f}s", r ? "; " : "",
                          r, s.host, s.splits, s.map_seconds, s.reduce_seconds);
    if (!run.map_only) {
      phases += fmt::format(" ({} reduce task{}, {})", s.reduce_tasks, s.reduce_tasks == 1 ? "" : "s", Mib(s.reduce_input_bytes));
    }
  }
  spdlog::info("per rank: {}", phases);
}

// Rank 0: the merge state the reduce tasks wrote into staging, as the
// manifest lists it for the next incremental run: one file per task, with
// the size and xxh3 its writer took as it wrote (none of it is read back).
std::vector<JobReport::StateFile> ListMergeState(JobRun& run, const std::vector<RankStats>& per_rank) {
  std::vector<JobReport::StateFile> out(run.reduce_tasks.count());
  std::vector<bool> written(out.size(), false);
  for (const RankStats& s : per_rank) {
    for (const PartInfo& f : s.state_files) {
      if (f.partition >= out.size() || written[f.partition]) {
        run.Fail("commit", Status::Internal("merge state of reduce task " + std::to_string(f.partition) +
                                            " reported twice or out of range"));
      }
      written[f.partition] = true;
      out[f.partition] = {MergeStateFileName(f.partition), f.bytes, f.xxh3};
    }
  }
  for (uint32_t t = 0; t < out.size(); ++t) {
    if (!written[t]) run.Fail("commit", Status::Internal("no merge state for reduce task " + std::to_string(t)));
  }
  return out;
}

// Rank 0: the job's report, from every rank's statistics as gathered.
JobReport MakeReport(JobRun& run, const std::vector<std::string>& gathered,
                     const TaskCounters& totals, const std::map<std::string, uint64_t>& user) {
  JobReport report;
  report.job = std::string(run.job.name);
  report.config = &run.config;
  report.ranks = run.comm.size();
  report.input_bytes = run.plan.total_bytes;
  report.splits = run.plan.splits.size();
  report.plan_seconds = run.plan_seconds;
  report.per_rank.resize(gathered.size());
  for (size_t r = 0; r < gathered.size(); ++r) {
    if (!RankStats::Decode(gathered[r], &report.per_rank[r])) {
      run.Fail("commit", Status::Internal("malformed statistics from rank " + std::to_string(r)));
    }
  }
  if (!run.map_only) {
    for (uint32_t t = 0; t < run.reduce_tasks.count(); ++t) {
      report.task_partitions.push_back(run.reduce_tasks.PartitionOf(t));
    }
    report.task_weights = run.task_weights;
    report.reduce_owners = run.reduce_owners;
  }
  report.totals = totals;
  report.user_counters = user;
  report.output_dir = run.committer.output_dir();
  // The job's inputs, not the previous output's merge state an incremental
  // run read back (the manifest lists that under "incremental").
  std::vector<bool> read(run.plan.files.size(), false);
  for (const Split& split : run.plan.splits) {
    for (const FileRange& range : split.ranges) read[range.file_index] = true;
  }
  report.input_files = 0;
  for (size_t i = 0; i < run.plan.files.size(); ++i) {
    const InputFile& f = run.plan.files[i];
    if (f.input_index == kMergeStateInput) continue;
    report.inputs.push_back(f);
    report.input_files += read[i];
  }
  if (run.config.incremental) {
    JobReport::Incremental& inc = report.incremental;
    inc.on = true;
    inc.incremental = run.plan.incremental;
    inc.why = run.plan.run_kind;
    inc.previous_fingerprint = run.plan.previous_fingerprint;
    inc.files_read = report.input_files;
    inc.files_reused = report.inputs.size() - report.input_files;
    inc.state = ListMergeState(run, report.per_rank);
  }
  report.plugin_path = run.config.plugin_path;
  report.plugin_xxh3 = run.config.plugin_xxh3;
  report.fingerprint = run.plan.fingerprint;
  // From sluice submit; the OMPI_ names are the ones mpirun forwards to
  // other hosts.
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? v : std::getenv((std::string("OMPI_") + name).c_str());
  };
  if (const char* a = env("SLUICE_ATTEMPT")) report.attempt = std::max(1, std::atoi(a));
  if (const char* e = env("SLUICE_EARLIER_ATTEMPTS")) report.earlier_attempts_json = e;
  return report;
}

// Rank 0: the report, the manifest and the skipped records, written into
// staging so that they are published with the output, atomically.
void WriteIntoStaging(JobRun& run, const JobReport& report,
                      const std::vector<BadRecordInfo>& bad_records) {
  const std::string& staging = run.committer.staging_dir();
  run.Check("commit", WriteStringToFile(*FileSystem::Default(), staging + "/_report.json",
                                        RenderReportJson(report)));
  run.Check("commit", WriteStringToFile(*FileSystem::Default(), staging + "/_manifest.json",
                                        RenderManifestJson(report)));
  run.Check("commit", WriteStringToFile(*FileSystem::Default(), staging + "/_report.html",
                                        RenderReportHtml(report)));
  if (!bad_records.empty()) {
    run.Check("commit", WriteStringToFile(*FileSystem::Default(), staging + "/_bad_records",
                                          BadRecordsTsv(bad_records)));
    spdlog::warn("skipped {} bad record(s) (--max-bad-records {}); each is listed in {}/_bad_records",
                 bad_records.size(), run.config.settings.max_bad_records,
                 run.committer.output_dir());
  }
}

// --report's copy is written before the output is published, so that a
// full disk or a bad path fails the job with nothing published; it is
// renamed into place after (PutReportCopyInPlace). It equals
// DIR/_report.json. Returns the temporary's path, empty without --report.
std::string WriteReportCopy(JobRun& run, const JobReport& report) {
  if (run.config.report_path.empty()) return "";
  FileSystem& fs = *FileSystem::Default();
  std::string report_temp = run.config.report_path + ".sluice-tmp-" + run.plan.run_token;
  Status written = WriteStringToFile(fs, report_temp, RenderReportJson(report));
  if (!written.ok()) (void)fs.RemoveFile(report_temp);
  run.Check("report", written);
  return report_temp;
}

// Rank 0: publishes the output with its _SUCCESS, then removes what only a
// failed run would still need.
void PublishOutput(JobRun& run, const std::string& success_contents,
                   const std::string& report_temp) {
  FileSystem& fs = *FileSystem::Default();
  Status committed = run.committer.CommitJob(success_contents);
  if (!committed.ok() && !report_temp.empty()) (void)fs.RemoveFile(report_temp);
  run.Check("commit", committed);
  if (fs.LinkStat(run.committer.staging_dir()).ok()) {
    spdlog::warn("output committed, but the replaced output under '{}' was not removed; the "
                 "next run on this output removes it", run.committer.staging_container());
  }
  // The output is in place; saved map tasks are no longer needed. A
  // failure here loses nothing, so it is reported, not fatal.
  if (Status removed = run.store->RemoveAll(); !removed.ok()) {
    spdlog::warn("output committed, but the saved map tasks were not removed: {}",
                 removed.ToString());
  }
}

// Rank 0, after publishing: renames the --report copy into place. Returns
// the exit code that ends the job when it could not be.
std::optional<int> PutReportCopyInPlace(JobRun& run, const std::string& report_temp) {
  if (report_temp.empty()) return std::nullopt;
  FileSystem& fs = *FileSystem::Default();
  Status moved = fs.Rename(report_temp, run.config.report_path);
  if (moved.ok()) return std::nullopt;
  // The output is published and whole; only the copy is missing.
  (void)fs.RemoveFile(report_temp);
  spdlog::error("output committed, but the --report copy could not be put in place: {} "
                "(the same report is {}/_report.json)",
                moved.ToString(), run.committer.output_dir());
  run.comm.Barrier();
  return run.EndCleanly(ExitCodeFor(moved.code()));
}

// Rank 0: the run's expectations, into the report. Returns the exit code
// when an `error` one failed: nothing is published (staging goes), and the
// saved map tasks stay, so a re-run after the data is fixed resumes.
std::optional<int> CheckExpectationsBeforePublish(JobRun& run, const TaskCounters& totals,
                                                  const std::map<std::string, uint64_t>& user, JobReport* report) {
  if (run.config.expectations.empty()) return std::nullopt;
  ExpectationInputs in;
  in.config = &run.config;
  in.output_dir = run.committer.output_dir();
  in.staging_dir = run.committer.staging_dir();
  in.map_only = run.map_only;
  in.totals = &totals;
  in.user = &user;
  report->expectations = CheckExpectations(in);
  bool failed = false;
  for (const ExpectationResult& r : report->expectations) {
    const std::string& text = r.expectation.text;
    if (r.outcome == "passed") {
      spdlog::info("expectation holds: {}: {}", text, r.detail);
    } else if (r.outcome == "not checked") {
      spdlog::warn("expectation {}: {}", text, r.detail);
    } else if (r.expectation.warn) {
      spdlog::warn("expectation failed (warn: the output is published): {}: {}", text, r.detail);
    } else {
      spdlog::error("expectation failed: {}: {}", text, r.detail);
      failed = true;
    }
  }
  if (!failed) return std::nullopt;
  spdlog::error("job failed: an expectation does not hold (exit {}); nothing published, {} unchanged",
                kExitExpectationFailed, run.committer.output_dir());
  run.comm.Barrier();
  return run.EndCleanly(kExitExpectationFailed);
}

// Rank 0, after the publish, with --lineage: the COMPLETE event. The
// output is published and whole; an event that cannot be written (a full
// disk) ends the job with its exit code, as a --report copy that cannot be
// put in place does: lineage a pipeline relies on is missing.
std::optional<int> EmitCompleteLineage(JobRun& run, const JobReport& report) {
  Status s = run.EmitLineage("COMPLETE", [&](LineageEvent* e) {
    e->output_stats = true;
    e->output_records = report.totals.output_records;
    e->output_bytes = report.totals.output_bytes;
    for (const RankStats& r : report.per_rank) {
      for (const PartInfo& p : r.parts) {
        e->parts.push_back({OutputCommitter::PartName(static_cast<int>(p.partition)) +
                                std::string(OutputCompressionExtension(run.config.settings.output_compression)),
                            p.bytes, p.xxh3});
      }
    }
    std::sort(e->parts.begin(), e->parts.end(),
              [](const LineagePart& a, const LineagePart& b) { return a.file < b.file; });
  });
  if (s.ok()) return std::nullopt;
  spdlog::error("output committed, but its lineage COMPLETE event could not be written: {}", s.ToString());
  run.comm.Barrier();
  return run.EndCleanly(ExitCodeFor(s.code()));
}

// Rank 0's share of the commit: report, publish, summary. Returns the exit
// code when the job ends otherwise than with the barrier every rank is in.
std::optional<int> CommitAtRankZero(JobRun& run, const std::vector<std::string>& gathered,
                                    const TaskCounters& totals,
                                    const std::map<std::string, uint64_t>& user,
                                    const std::vector<BadRecordInfo>& bad_records) {
  JobReport report = MakeReport(run, gathered, totals, user);
  const auto commit_start = Clock::now();
  if (std::optional<int> failed = CheckExpectationsBeforePublish(run, totals, user, &report)) return failed;
  report.total_seconds = SecondsSince(run.start);
  WriteIntoStaging(run, report, bad_records);
  const std::string report_temp = WriteReportCopy(run, report);
  PublishOutput(run, SuccessContents(run, totals, user), report_temp);
  report.commit_seconds = SecondsSince(commit_start);
  report.total_seconds = SecondsSince(run.start);
  if (std::optional<int> failed = PutReportCopyInPlace(run, report_temp)) return failed;
  PrintSummary(run, report);
  if (std::optional<int> failed = EmitCompleteLineage(run, report)) return failed;
  return std::nullopt;
}

}  // namespace

int CommitPhase(JobRun& run, RankWork work) {
  const RankStats stats = StatsOf(run, std::move(work));
  const Totals totals = SumAndReconcile(run, stats);
  std::vector<std::string> gathered = run.comm.Gather(stats.Encode(), 0);
  std::map<std::string, uint64_t> user = GatherUserCounters(run);
  if (!totals.reconciled.ok()) {
    // Every rank holds the same sums, so every rank reaches this branch.
    if (run.comm.rank() == 0) spdlog::error("{}", totals.reconciled.ToString());
    return run.EndCleanly(ExitCodeFor(totals.reconciled.code()));
  }
  // Skipped records: each rank checked its own count; the job's limit is
  // on the sum, which every rank holds.
  std::vector<BadRecordInfo> bad_records;
  if (totals.counters.bad_records > 0) bad_records = GatherBadRecords(run);
  if (totals.counters.bad_records > run.config.settings.max_bad_records) {
    if (run.comm.rank() == 0) {
      spdlog::error("job failed: {} bad records in all, more than --max-bad-records {} allows "
                    "(the first: {}); output discarded",
                    totals.counters.bad_records, run.config.settings.max_bad_records,
                    BadRecordLog::Describe(bad_records.front()));
    }
    return run.EndCleanly(ExitCodeFor(StatusCode::kBadInput));
  }
  if (run.comm.rank() == 0 && run.plan.incremental) {
    if (Status carried = CarryPreviousBadRecords(run.committer.output_dir(), &bad_records); !carried.ok()) {
      run.Fail("commit", carried);
    }
  }
  if (run.comm.rank() == 0) {
    std::optional<int> ended = CommitAtRankZero(run, gathered, totals.counters, user, bad_records);
    if (ended) return *ended;
  }
  run.comm.Barrier();  // nobody exits before the output is in place
  return run.EndCleanly(0);
}

}  // namespace sluice
