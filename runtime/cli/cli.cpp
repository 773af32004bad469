#include "runtime/cli/cli.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include <sluice/detail/job_runner.h>
#include <sluice/version.h>

#include "cluster/communicator.h"
#include "cluster/rank_agreement.h"
#include "io/file_system.h"
#include "runtime/cli/job_flag_help.h"
#include "runtime/cli/job_flag_parser.h"
#include "runtime/cli/job_launch.h"
#include "runtime/cli/job_registry.h"
#include "runtime/cli/logging.h"
#include "runtime/cli/pipeline/pipeline_main.h"
#include "runtime/cli/plugin_loader.h"
#include "runtime/cli/submit.h"
#include "runtime/driver/job_config.h"
#include "runtime/driver/job_driver.h"

namespace sluice {
namespace {

constexpr const char* kSluiceUsage = R"(usage: sluice COMMAND [ARGS]

Commands:
  jobs                        list the built-in jobs
  run JOB [flags]             run a built-in job
  run --plugin PATH [flags]   run a job plugin (a .so built with sluice_add_job)
  run JOB --help              flags of a job, and its parameters
  pipeline run FILE           run the steps of a pipeline file (TOML), skipping
                              those whose output is up to date
  pipeline plan FILE          print what `pipeline run` would do, and why
  submit [--retries N] -- CMD run CMD (mpirun/srun ... sluice run ...) and re-run
                              it, resuming, after a lost host or crashed rank
  --version                   print the version

Run as one plain process, or under mpirun for many ranks, with the same
flags and the same output:
  sluice run wordcount --input data/ --output out/
  mpirun -np 8 sluice run wordcount --input data/ --output out/

Exit codes: 0 ok, 2 usage, 3 bad input, 4 I/O error, 5 data corruption,
6 the job's code failed, 7 an --expect failed (nothing published),
70 internal error, 75 a rank or host was lost (from `sluice submit`:
retryable).
)";


// The two command lines differ only in how the job is named: `sluice run
// JOB` or `sluice run --plugin PATH`, or the job binary's own job.
enum class Caller { kSluiceRun, kJobBinary };

std::string UsageLine(Caller caller, const JobEntry* job, const std::string& plugin_path) {
  if (caller == Caller::kJobBinary) return "usage: " + std::string(job->name) + " [flags] INPUT... OUTPUT\n";
  const std::string named =
      job != nullptr ? std::string(job->name) : "--plugin " + (plugin_path.empty() ? "PATH" : plugin_path);
  return "usage: sluice run " + named + " --input PATH... --output DIR [flags]\n";
}

// Exactly one job: a built-in one (by name, or the binary's own) or a plugin.
Status CheckJobChoice(Caller caller, const JobEntry* job, const std::string& plugin_path) {
  if (plugin_path.empty()) {
    return job != nullptr ? Status::OK()
                          : Status::Usage("no job given (sluice run JOB, or sluice run --plugin PATH)");
  }
  if (caller == Caller::kJobBinary) return Status::Usage("flag --plugin: only `sluice run` loads plugins");
  if (job != nullptr) return Status::Usage("flag --plugin: give a job name or --plugin PATH, not both");
  return Status::OK();
}

// Everything after the job is chosen is common to `sluice run` and job
// binaries: flags, cluster, logging, the run itself. `job` is null for
// `sluice run --plugin PATH`.
int RunWithArgs(int argc, char** argv, const std::vector<std::string>& args, const JobEntry* job,
                Caller caller) {
  JobConfig config;
  std::vector<std::string> positional;
  bool help = false;
  Status parsed = ParseJobFlags(args, &config, &positional, &help);
  if (parsed.ok()) parsed = CheckJobChoice(caller, job, config.plugin_path);
  const std::string plugin_path = config.plugin_path;
  const std::string usage_line = UsageLine(caller, job, plugin_path);
  // Connect before reporting anything, so that under mpirun one rank speaks.
  std::unique_ptr<Communicator> comm = ConnectCluster(&argc, &argv);
  // The default budget shares the node among the job's ranks on it.
  if (parsed.ok()) parsed = ApplyClusterBudget(*comm, &config);
  const bool speaker = comm->rank() == 0;
  Status logging =
      SetupLogging(comm->rank(), config.log_level, config.quiet, parsed.ok() ? config.log_dir : "");

  auto usage_error = [&](const Status& s) {
    if (speaker) std::fprintf(stderr, "sluice: %s\n%s", s.ToString().c_str(), usage_line.c_str());
    return ExitCodeFor(s.code());
  };
  if (!parsed.ok()) return usage_error(parsed);
  // Each rank opens its own log file, so only some may fail: all must
  // leave here together (a rank that returned alone would leave the others
  // waiting in the next collective), with the first failing rank's message.
  logging = AgreeAcrossRanks(*comm, logging);
  if (!logging.ok()) return usage_error(logging);

  LoadedPlugin plugin;
  if (!plugin_path.empty()) {
    Status loaded = LoadPluginOnEveryRank(*comm, &config, &plugin);
    if (!loaded.ok()) return usage_error(loaded);
    job = &plugin.entry;
  }
  std::unique_ptr<JobRunner> runner(job->create());
  if (help) {
    if (speaker) {
      std::string params = runner->ParamsHelp();
      std::printf("%s\n%s: %s\n\n%s\nJob parameters:\n%s", usage_line.c_str(),
                  std::string(job->name).c_str(), std::string(job->description).c_str(),
                  JobFlagsHelp().c_str(), params.empty() ? "  (none)\n" : params.c_str());
    }
    return 0;
  }
  runner.reset();
  // Positional form: INPUT... OUTPUT (when --output is not given).
  if (!positional.empty()) {
    if (config.output.empty()) {
      config.output = positional.back();
      positional.pop_back();
    }
    config.inputs.insert(config.inputs.end(), positional.begin(), positional.end());
  }
  Status valid = CheckJobAndConfig(*job, config);
  if (!valid.ok()) return usage_error(valid);
  return RunJob(*job, config, *comm);
}

}  // namespace

int SluiceMain(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kSluiceUsage, stderr);
    return 2;
  }
  const std::string& cmd = args[0];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::printf("%s\n%s", kSluiceUsage, JobFlagsHelp().c_str());
    return 0;
  }
  if (cmd == "--version") {
    std::printf("sluice %s\n", kSluiceVersion);
    return 0;
  }
  if (cmd == "jobs") {
    for (const JobEntry& e : BuiltinJobs()) {
      std::printf("%-16s %s\n", std::string(e.name).c_str(), std::string(e.description).c_str());
    }
    return 0;
  }
  if (cmd == "submit") return SubmitMain(std::vector<std::string>(args.begin() + 1, args.end()));
  if (cmd == "pipeline") return PipelineMain(argc, argv, std::vector<std::string>(args.begin() + 1, args.end()));
  if (cmd != "run") {
    std::fprintf(stderr, "sluice: unknown command '%s'\n\n%s", cmd.c_str(), kSluiceUsage);
    return 2;
  }
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
    const bool asked = args.size() >= 2;
    std::fprintf(asked ? stdout : stderr,
                 "usage: sluice run JOB [flags] | sluice run --plugin PATH [flags]\n\n%s",
                 JobFlagsHelp().c_str());
    return asked ? 0 : 2;
  }
  // Undocumented: the README's flag table, for scripts/update-readme-flags.
  if (args[1] == "--help-markdown") {
    std::fputs(JobFlagsMarkdown().c_str(), stdout);
    return 0;
  }
  // `run JOB [flags]`, or `run --plugin PATH [flags]` with the job in the flags.
  const JobEntry* job = nullptr;
  const bool named = args[1].rfind('-', 0) != 0;
  if (named) {
    job = FindBuiltinJob(args[1]);
    if (job == nullptr) {
      std::fprintf(stderr, "sluice: no built-in job named '%s' (see `sluice jobs`)\n", args[1].c_str());
      return 2;
    }
  }
  std::vector<std::string> rest(args.begin() + (named ? 2 : 1), args.end());
  return RunWithArgs(argc, argv, rest, job, Caller::kSluiceRun);
}

int JobBinaryMain(int argc, char** argv) {
  const auto& jobs = BuiltinJobs();
  if (jobs.size() != 1) {
    std::fprintf(stderr, "sluice: a job binary must contain exactly one job (found %zu)\n", jobs.size());
    return 70;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(UsageLine(Caller::kJobBinary, &jobs[0], "").c_str(), stderr);
    return 2;
  }
  return RunWithArgs(argc, argv, args, &jobs[0], Caller::kJobBinary);
}

}  // namespace sluice
