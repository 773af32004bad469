// `sluice pipeline run --report FILE`: the pipeline's page, one
// self-contained HTML file (inline SVG, nothing fetched) in the look of a
// job's _report.html: the step graph, each step coloured by what it did
// (ran, skipped, failed, did not finish, not run) with its time, and a table of the steps
// with why each ran, its counters and expectations as its own
// _report.json holds them (a skipped step's: the run that made its output).
// Written by rank 0 when the pipeline ends, however it ends.
#pragma once

#include <string>
#include <vector>

#include "io/status.h"
#include "runtime/cli/pipeline/pipeline_file.h"

namespace sluice {

struct StepOutcome {
  // kRunning: started and not known to have ended (a rank other than 0
  // failed, and the abort ended rank 0 too; or the pipeline was killed).
  enum class State { kNotRun, kRunning, kRan, kSkipped, kFailed };
  State state = State::kNotRun;
  std::string why;  // why it ran or was skipped (step_decision.h), or how it failed
  double seconds = 0;
  int exit_code = 0;
};

std::string RenderPipelineReportHtml(const Pipeline& pipeline, const std::vector<StepOutcome>& steps,
                                     double total_seconds);

// Writes the page to `path` whole or not at all (a temporary beside it,
// renamed into place).
Status WritePipelineReport(const std::string& path, const Pipeline& pipeline, const std::vector<StepOutcome>& steps,
                           double total_seconds);

}  // namespace sluice
