// OpenLineage run events (--lineage FILE): one JSON object per line,
// appended by rank 0. A job's run: START once its plan is agreed, then
// COMPLETE after the publish (or when there was nothing to do) or FAIL when
// rank 0 ends it with an error. A run whose rank 0 was killed outright
// (by a signal, or by MPI_Abort after another rank failed) leaves a START
// with no end. A pipeline emits its own run around its steps', and each
// step's events name it in the parent facet.
//
// Datasets are files: namespace "file", name the absolute path. Inputs
// carry their size and mtime; the output carries its row count and bytes
// (outputStatistics) and each part file's bytes and xxh3 (sluice_parts).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/input_lister.h"
#include "io/status.h"

namespace sluice {

// Who a run belongs to, when it is a pipeline's step (empty: none).
struct LineageParent {
  std::string run_id;
  std::string job_name;
};

struct LineagePart {
  std::string file;
  uint64_t bytes = 0;
  uint64_t xxh3 = 0;
};

struct LineageEvent {
  std::string type;    // START, COMPLETE, FAIL
  std::string run_id;  // a UUID, NewLineageRunId
  std::string job_name;
  LineageParent parent;
  std::vector<InputFile> inputs;
  std::string output_dir;  // empty: none (a pipeline's own run)
  bool output_stats = false;  // COMPLETE: the counts and parts below are known
  uint64_t output_records = 0;
  uint64_t output_bytes = 0;
  std::vector<LineagePart> parts;
  std::string error;  // FAIL: what failed
};

// A random UUID (version 4), as OpenLineage wants a runId.
std::string NewLineageRunId();

// The event as one line of JSON, '\n' included.
std::string LineageEventJson(const LineageEvent& event);

// Appends one line to `path` (created 0644 if missing) with a single
// write, so that lines of runs writing the same file do not interleave.
Status AppendLineageLine(const std::string& path, const std::string& line);

}  // namespace sluice
