#include "runtime/cli/pipeline/pipeline_main.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "cluster/communicator.h"
#include "cluster/rank_agreement.h"
#include "io/file_system.h"
#include "runtime/cli/job_flag_parser.h"
#include "runtime/cli/job_launch.h"
#include "runtime/cli/job_registry.h"
#include "runtime/cli/logging.h"
#include "runtime/cli/pipeline/pipeline_file.h"
#include "runtime/cli/pipeline/pipeline_report.h"
#include "runtime/cli/pipeline/step_decision.h"
#include "runtime/driver/job_driver.h"
#include "runtime/driver/lineage.h"

namespace sluice {
namespace {

constexpr const char* kUsage = R"(usage: sluice pipeline run FILE [--from STEP] [--lineage FILE] [--report FILE.html]
                           [--quiet] [--log-level LEVEL]
       sluice pipeline plan FILE [--from STEP]

run    runs the steps of FILE in dependency order, each as `sluice run` would
       (under mpirun: every step on every rank). A step whose output already
       holds the result for its inputs, job build and configuration is
       skipped; a step killed before it finished resumes from its saved map
       tasks; a step after one that ran sees its new input and runs.
plan   prints what run would do, step by step, and why.
--from STEP  runs STEP and every step after it that reads what it writes,
       whatever their outputs hold.
--lineage FILE  appends OpenLineage run events to FILE: the pipeline's run,
       and each step's run with the pipeline's as its parent.
--report FILE.html  writes the pipeline's page: the step graph with what
       each step did, and each step's time, reasons, counters and
       expectations (one self-contained file; rewritten after each step).
)";

struct Options {
  std::string command;  // run | plan
  std::string file;
  std::string from;
  std::string lineage;
  std::string report;
  bool quiet = false;
  std::string log_level = "info";
};

Status ParseOptions(const std::vector<std::string>& args, Options* o) {
  if (args.empty()) return Status::Usage("give a command: run or plan");
  o->command = args[0];
  if (o->command != "run" && o->command != "plan") return Status::Usage("unknown command '" + o->command + "'");
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* into) {
      if (i + 1 >= args.size()) return Status::Usage("flag " + a + " needs a value");
      *into = args[++i];
      return Status::OK();
    };
    if (a == "--from") {
      SLUICE_RETURN_IF_ERROR(value(&o->from));
    } else if (a == "--lineage") {
      SLUICE_RETURN_IF_ERROR(value(&o->lineage));
    } else if (a == "--report") {
      SLUICE_RETURN_IF_ERROR(value(&o->report));
    } else if (a == "--log-level") {
      SLUICE_RETURN_IF_ERROR(value(&o->log_level));
    } else if (a == "--quiet" || a == "-q") {
      o->quiet = true;
    } else if (!a.empty() && a[0] == '-') {
      return Status::Usage("unknown flag '" + a + "'");
    } else if (o->file.empty()) {
      o->file = a;
    } else {
      return Status::Usage("one pipeline file at a time (got '" + o->file + "' and '" + a + "')");
    }
  }
  if (o->file.empty()) return Status::Usage("give the pipeline file");
  return Status::OK();
}

// A step as `sluice run` arguments: its inputs, output, parameters and
// flags; --overwrite, because the pipeline owns its steps' outputs (only a
// Sluice output is ever replaced: overwrite_guard.h).
std::vector<std::string> StepArgs(const PipelineStep& step, bool force) {
  std::vector<std::string> args;
  for (const std::string& in : step.inputs) args.insert(args.end(), {"--input", in});
  args.insert(args.end(), {"--output", step.output, "--overwrite"});
  if (!step.plugin.empty()) args.insert(args.end(), {"--plugin", step.plugin});
  for (const auto& [name, value] : step.params) args.insert(args.end(), {"--param", name + "=" + value});
  args.insert(args.end(), step.flags.begin(), step.flags.end());
  if (force) args.push_back("--force");
  return args;
}

// A step's job and config, ready to run on every rank (or to decide on).
struct PreparedStep {
  const JobEntry* job = nullptr;
  LoadedPlugin plugin;
  JobConfig config;
};

Status PrepareStep(Communicator& comm, const PipelineStep& step, bool force, PreparedStep* out) {
  std::vector<std::string> positional;
  bool help = false;
  SLUICE_RETURN_IF_ERROR(ParseJobFlags(StepArgs(step, force), &out->config, &positional, &help));
  if (!out->config.lineage_path.empty()) {
    return Status::Usage("flag 'lineage': give it to `sluice pipeline run` (--lineage FILE), not to a step");
  }
  if (!positional.empty()) return Status::Usage("unexpected argument '" + positional[0] + "'");
  SLUICE_RETURN_IF_ERROR(ApplyClusterBudget(comm, &out->config));
  if (!step.plugin.empty()) {
    SLUICE_RETURN_IF_ERROR(LoadPluginOnEveryRank(comm, &out->config, &out->plugin));
    out->job = &out->plugin.entry;
  } else {
    out->job = FindBuiltinJob(step.job);
    if (out->job == nullptr) return Status::Usage("no built-in job named '" + step.job + "' (see `sluice jobs`)");
  }
  return CheckJobAndConfig(*out->job, out->config);
}

// "step 'NAME' (FILE:LINE): ", before a message about the step.
std::string StepAt(const Pipeline& pipeline, const PipelineStep& step) {
  return "step '" + step.name + "' (" + pipeline.path + ":" + std::to_string(step.line) + "): ";
}

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int PipelineMain(int argc, char** argv, const std::vector<std::string>& args) {
  Options options;
  Status parsed = ParseOptions(args, &options);
  if (!args.empty() && (args.back() == "--help" || args.back() == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::unique_ptr<Communicator> comm = ConnectCluster(&argc, &argv);
  const bool speaker = comm->rank() == 0;
  auto fail = [&](const std::string& prefix, const Status& s) {
    if (speaker) std::fprintf(stderr, "sluice pipeline: %s%s\n", prefix.c_str(), s.ToString().c_str());
    return ExitCodeFor(s.code());
  };
  if (!parsed.ok()) {
    if (speaker) std::fprintf(stderr, "sluice pipeline: %s\n%s", parsed.ToString().c_str(), kUsage);
    return ExitCodeFor(parsed.code());
  }
  Status logging = AgreeAcrossRanks(*comm, SetupLogging(comm->rank(), options.log_level, options.quiet, ""));
  if (!logging.ok()) return fail("", logging);
  // Every rank reads the file: all take the same branch on what it holds.
  Result<Pipeline> read = ReadPipelineFile(options.file);
  Status agreed = AgreeAcrossRanks(*comm, read.status());
  if (!agreed.ok()) return fail("", agreed);
  const Pipeline& pipeline = *read;
  std::vector<bool> forced(pipeline.steps.size(), false);
  if (!options.from.empty()) {
    auto from = StepsFrom(pipeline, options.from);
    if (!from.ok()) return fail("", from.status());
    forced = *from;
  }
  const size_t n = pipeline.steps.size();

  if (options.command == "plan") {
    // What run would do: a step runs when forced, when a step it reads
    // runs (its input will be new), or when its output lacks the result.
    std::vector<StepDecision> decisions(n);
    for (size_t i = 0; i < n; ++i) {
      const PipelineStep& step = pipeline.steps[i];
      PreparedStep prepared;
      Status ready = PrepareStep(*comm, step, forced[i], &prepared);
      if (!ready.ok()) return fail(StepAt(pipeline, step), ready);
      if (forced[i]) {
        decisions[i] = {true, "--from " + options.from};
        continue;
      }
      for (size_t d : step.after) {
        if (decisions[d].run) decisions[i] = {true, "it reads step '" + pipeline.steps[d].name + "', which runs"};
      }
      if (decisions[i].why.empty() && speaker) decisions[i] = DecideStep(*prepared.job, prepared.config);
    }
    if (speaker) {
      std::printf("%-4s %-20s %-16s %-5s %s\n", "#", "STEP", "JOB", "DOES", "WHY");
      for (size_t i = 0; i < n; ++i) {
        const PipelineStep& s = pipeline.steps[i];
        std::printf("%-4zu %-20s %-16s %-5s %s\n", i + 1, s.name.c_str(), (s.job.empty() ? s.plugin : s.job).c_str(),
                    decisions[i].run ? "run" : "skip", decisions[i].why.c_str());
      }
    }
    return 0;
  }

  // The pipeline's own run, for lineage: rank 0 writes its events, and
  // each step names it as its parent.
  LineageEvent lineage;
  lineage.run_id = NewLineageRunId();
  lineage.job_name = pipeline.name;
  auto emit = [&](const char* type, const std::string& error) -> Status {
    if (options.lineage.empty() || !speaker) return Status::OK();
    lineage.type = type;
    lineage.error = error;
    return AppendLineageLine(options.lineage, LineageEventJson(lineage));
  };
  if (!options.lineage.empty()) {
    Status started = AgreeAcrossRanks(*comm, emit("START", ""));
    if (!started.ok()) return fail("lineage: ", started);
  }
  // The page (--report), rank 0's: written before the first step (so that
  // a path that cannot be written stops the pipeline before any work),
  // after each step, and at the end however it ends.
  const auto pipeline_start = std::chrono::steady_clock::now();
  std::vector<StepOutcome> done(n);
  auto write_report = [&]() -> Status {
    if (options.report.empty() || !speaker) return Status::OK();
    return WritePipelineReport(options.report, pipeline, done, Since(pipeline_start));
  };
  if (!options.report.empty()) {
    // A folder that is not there is a mistake in the command (exit 2), as
    // for a job's --report; anything else the first write says.
    const std::string folder = options.report.find('/') == std::string::npos
                                   ? "." : options.report.substr(0, options.report.rfind('/') + 1);
    auto info = FileSystem::Default()->Stat(folder);
    if (!info.ok() || info->type != FileType::kDirectory) {
      return fail("", Status::Usage("--report '" + options.report + "': its folder '" + folder + "' does not exist"));
    }
    Status first = AgreeAcrossRanks(*comm, write_report());
    if (!first.ok()) return fail("--report: ", first);
  }
  auto step_failed = [&](const std::string& what, int code) {
    Status s = emit("FAIL", what);
    if (!s.ok() && speaker) spdlog::error("lineage: the pipeline's FAIL event could not be written: {}", s.ToString());
    if (Status r = write_report(); !r.ok()) spdlog::error("--report: the pipeline's page could not be written: {}", r.ToString());
    return code;
  };

  // A step that fails on this rank ends the process from inside the job
  // (the abort reaches every rank): the page and the pipeline's FAIL event
  // are written on the way out, as for a failure the job returns.
  size_t current = 0;
  auto step_start = std::chrono::steady_clock::now();
  SetJobAbortHook([&](int code, const std::string& why) {
    done[current] = {StepOutcome::State::kFailed, why, Since(step_start), code};
    (void)step_failed("step '" + pipeline.steps[current].name + "' failed (exit " + std::to_string(code) + ")", code);
  });
  struct ClearHook {
    ~ClearHook() { SetJobAbortHook(nullptr); }
  } clear_hook;
  for (size_t i = 0; i < n; ++i) {
    current = i;
    const PipelineStep& step = pipeline.steps[i];
    PreparedStep prepared;
    Status ready = PrepareStep(*comm, step, forced[i], &prepared);
    if (!ready.ok()) {
      const int code = fail(StepAt(pipeline, step), ready);
      done[i] = {StepOutcome::State::kFailed, ready.ToString(), 0, code};
      return step_failed("step '" + step.name + "': " + ready.ToString(), code);
    }
    if (!options.lineage.empty()) {
      prepared.config.lineage_path = options.lineage;
      prepared.config.lineage_job_name = pipeline.name + "." + step.name;
      prepared.config.lineage_parent = {lineage.run_id, pipeline.name};
    }
    if (speaker) {
      const StepDecision d = forced[i] ? StepDecision{true, "--from " + options.from}
                                       : DecideStep(*prepared.job, prepared.config);
      done[i].state = d.run ? StepOutcome::State::kRunning : StepOutcome::State::kSkipped;
      done[i].why = d.why;
      if (d.run) {
        if (Status r = write_report(); !r.ok()) {
          spdlog::error("--report: the pipeline's page could not be written: {}", r.ToString());
        }
      }
      spdlog::info("pipeline step {}/{} '{}' ({}): {}: {}", i + 1, n, step.name,
                   std::string(prepared.job->name), d.run ? "runs" : "skipped", d.why);
    }
    const auto start = step_start = std::chrono::steady_clock::now();
    // Some endings are known to rank 0 alone (a failed expectation, a
    // --report copy that could not be put in place): every rank takes the
    // worst, so that none goes on to the next step.
    const int code = comm->AllReduceMax(RunJob(*prepared.job, prepared.config, *comm));
    done[i].seconds = Since(start);
    done[i].exit_code = code;
    if (done[i].state == StepOutcome::State::kRunning) done[i].state = StepOutcome::State::kRan;
    if (code != 0) {
      done[i].state = StepOutcome::State::kFailed;
      if (speaker) {
        spdlog::error("pipeline {}: step '{}' failed (exit {}); {} later step(s) not run", pipeline.path,
                      step.name, code, n - i - 1);
      }
      return step_failed("step '" + step.name + "' failed (exit " + std::to_string(code) + ")", code);
    }
    if (Status r = write_report(); !r.ok()) {
      spdlog::error("--report: the pipeline's page could not be written: {}", r.ToString());
    }
  }
  if (speaker) {
    std::string table;
    for (size_t i = 0; i < n; ++i) {
      char line[256];
      std::snprintf(line, sizeof line, "\n  %-20s %-8s %8.2f s  %s", pipeline.steps[i].name.c_str(),
                    done[i].state == StepOutcome::State::kRan ? "ran" : "skipped", done[i].seconds, pipeline.steps[i].output.c_str());
      table += line;
    }
    spdlog::info("pipeline {}: {} step(s) done{}", pipeline.path, n, table);
  }
  // Every step committed; a page that cannot be written is still a failure
  // to report what was asked for (exit 4), as a job's --report copy is.
  if (Status r = AgreeAcrossRanks(*comm, write_report()); !r.ok()) {
    (void)emit("FAIL", "--report: " + r.ToString());
    return fail("--report: ", r);
  }
  if (Status s = emit("COMPLETE", ""); !s.ok()) {
    spdlog::error("lineage: the pipeline's COMPLETE event could not be written: {}", s.ToString());
    return ExitCodeFor(s.code());
  }
  return 0;
}

}  // namespace sluice
