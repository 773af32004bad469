// `sluice pipeline run FILE` and `sluice pipeline plan FILE`: the steps of
// a pipeline file (pipeline_file.h) run one after another, in dependency
// order, each on every rank as `sluice run` would run it.
#pragma once

#include <string>
#include <vector>

namespace sluice {

// `args`: what follows `sluice pipeline`. Returns the exit code: 0, 2 for
// a usage error (the file, a step, a flag), or the first failing step's.
int PipelineMain(int argc, char** argv, const std::vector<std::string>& args);

}  // namespace sluice
