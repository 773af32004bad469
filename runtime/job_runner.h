// JobRunner: the boundary between the framework (driver, MPI, commit) and a
// job's typed engine (map loop, combiner, reduce), which is compiled into
// the job itself. Calls across it are per task, never per record. Because
// it is C++ across a plugin boundary, any change here bumps kSluiceAbiVersion.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/buffered_writer.h"
#include "io/file_system.h"
#include "io/split_planner.h"
#include "io/status.h"
#include "runtime/counters.h"
#include "runtime/job_settings.h"
#include "shuffle/transport.h"

namespace sluice {

struct MapTask {
  const Split* split = nullptr;
  const std::vector<InputFile>* files = nullptr;
  FileSystem* fs = nullptr;
};

class JobRunner {
 public:
  virtual ~JobRunner() = default;

  // Once per rank before any task. `transport` must outlive the runner.
  virtual Status Setup(const JobSettings& settings, BlockTransport* transport) = 0;
  // Reads every line of the split, calls Map, and sends the resulting blocks.
  // Polls the transport once per input chunk.
  virtual Status RunMapTask(const MapTask& task) = 0;
  // Verifies, decodes, orders and reduces the blocks of one partition (all of
  // them: every rank's map output for it) and writes the result to `out`.
  // Consumes *frames.
  virtual Status RunReduceTask(uint32_t partition, std::vector<std::string>* frames,
                               BufferedWriter* out) = 0;

  virtual const TaskCounters& counters() const = 0;
  virtual std::vector<std::pair<std::string, uint64_t>> user_counters() const = 0;
};

}  // namespace sluice
