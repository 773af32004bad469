// A pipeline file: named steps, each a job run, whose inputs may be earlier
// steps' outputs (`sluice pipeline run FILE`; README, "Pipelines").
//
//   [steps.sessions]
//   job = "sessionize"                  # or plugin = "lib/libmyjob.so"
//   inputs = ["logs/"]                  # paths, or "step:NAME"
//   output = "out/sessions"
//   params = { gap = 1800 }             # --param gap=1800
//   flags = { max-bad-records = 1000 }  # --max-bad-records 1000
//   expect = ["output_records >= 1"]    # --expect, before the publish
//   expect_warn = ["bad_records <= 10"] # --expect-warn
//
// TOML (toml++), read once; relative paths are relative to the file's
// folder, so a pipeline runs the same from any working directory.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "io/status.h"

namespace sluice {

struct PipelineStep {
  std::string name;
  int line = 0;        // where the file declares it, for messages
  std::string job;     // a built-in job's name, or
  std::string plugin;  // a plugin's path (resolved)
  std::vector<std::string> inputs;  // resolved paths; an earlier step's output for "step:NAME"
  std::vector<size_t> after;        // the steps (indexes in run order) whose outputs it reads
  std::string output;               // resolved path
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::string> flags;  // job flags as command-line arguments (expectations too)
};

struct Pipeline {
  std::string path;  // the file
  std::string name;  // [pipeline] name, else the file's name without .toml
  std::vector<PipelineStep> steps;  // in run order: each after the steps it reads
};

// Reads and checks FILE: kUsage naming the file, line and key for a
// syntax error, an unknown key, a missing or mistyped value, a step:NAME
// that is no step, a cycle, two steps with one output, or a flag the
// pipeline sets itself (input, output, plugin, param, overwrite, force).
Result<Pipeline> ReadPipelineFile(const std::string& path);

// The steps to force (--from STEP): STEP and every step that reads, at
// any distance, what it writes. kUsage if there is no such step.
Result<std::vector<bool>> StepsFrom(const Pipeline& pipeline, const std::string& step);

}  // namespace sluice
