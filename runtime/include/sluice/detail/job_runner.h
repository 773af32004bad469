// JobRunner: the boundary between the framework (driver, MPI, commit) and a
// job's typed engine (map loop, combiner, store, merge, reduce), which is
// compiled into the job itself. Calls across it are per task, never per
// record. Because it is C++ across a plugin boundary, this header is one of
// those hashed at build time into the plugin layout hash (runtime/
// CMakeLists.txt): any change here refuses plugins built before it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/buffered_writer.h"
#include "io/file_system.h"
#include "io/split_planner.h"
#include "io/status.h"
#include <sluice/bad_record.h>
#include <sluice/counters.h>
#include <sluice/input_formats.h>
#include <sluice/detail/job_settings.h>
#include <sluice/detail/step_times.h>
#include "shuffle/transport.h"

namespace sluice {

// What the driver must know about a job before running it.
struct JobTraits {
  InputKind input = InputKind::kLines;
  uint32_t record_bytes = 0;       // FixedRecords / GeneratedRows
  bool map_only = false;           // no Reduce: one part file per split
  bool range_partitioned = false;  // sample keys, then cut partitions by range
  // A partition may be reduced in key-range pieces whose outputs, joined in
  // order, are the part (runtime/driver/reduce_tasks.h): text output, and
  // groups that are whole keys.
  bool cuttable_partitions = false;
  // kMergeable (job.h): --incremental may fold the previous output's merge
  // state into a run over the new input files only.
  bool mergeable = false;
};

// Per partition, the distinct sampled keys (encoded) in key order, each
// with its sampled bytes.
using SampledKeys = std::vector<std::pair<std::string, uint64_t>>;

struct MapTask {
  const Split* split = nullptr;
  const std::vector<InputFile>* files = nullptr;
  FileSystem* fs = nullptr;
  BufferedWriter* output = nullptr;  // map-only jobs: this split's part file
};

class JobRunner {
 public:
  virtual ~JobRunner() = default;

  virtual JobTraits traits() const = 0;
  // The traits of a run with these parameters: a job may run map-only for
  // some (job.h: RunsMapOnly).
  virtual JobTraits TraitsFor(const std::vector<std::pair<std::string, std::string>>& params) {
    (void)params;
    return traits();
  }
  // Constructs a throwaway job with `params`: kUsage naming the parameter when
  // one does not parse or the job has no such parameter.
  virtual Status CheckParams(const std::vector<std::pair<std::string, std::string>>& params) = 0;
  // "  name (type, default D): help" lines, for --help.
  virtual std::string ParamsHelp() = 0;
  // Once per rank before any task. `transport` must outlive the runner; the
  // runner receives this rank's blocks from it. `fs` holds scratch.
  virtual Status Setup(const JobSettings& settings, BlockTransport* transport, FileSystem* fs) = 0;

  // Before the map phase the ranks sample some splits: what map() emits for
  // the first input chunks of each, until max_records (or about 1 MiB) are
  // past, as key encoding then the size of the value's encoding;
  // `input_bytes`: the input those chunks hold.
  // Range partitioning: rank 0 picks the cuts from all samples; every rank
  // sets them before its first map task.
  virtual Status SampleKeys(const MapTask& task, size_t max_records, std::vector<std::string>* records,
                            uint64_t* input_bytes) = 0;
  virtual Result<std::vector<std::string>> ChooseCuts(std::vector<std::string> samples,
                                                      uint32_t partitions) = 0;
  virtual Status SetRangeCuts(const std::vector<std::string>& cuts) = 0;
  // Reduce tasks and their assignment (runtime/driver/reduce_tasks.h,
  // reduce_assignment.h): the sampled keys of each partition with the bytes
  // they would send, one sample per split, after the range cuts are set.
  // With a combiner a key counts once per split, as the combiner would send it.
  virtual Result<std::vector<SampledKeys>> WeighSampledKeys(const std::vector<std::vector<std::string>>& per_split,
                                                            uint32_t partitions) = 0;
  // Cuts partition p into piece_cuts[p].size() + 1 reduce tasks at those
  // encoded keys; tasks are numbered in partition, then key order. Every
  // rank sets the same cuts before its first map task.
  virtual Status SetReduceTasks(const std::vector<std::vector<std::string>>& piece_cuts) = 0;
  // Which rank reduces each task; every rank sets the same owners before
  // its first map task.
  virtual void SetOwners(const std::vector<int>& owners) = 0;

  // CSV input (CsvInput, or a TableInput file read as CSV): the quote bytes
  // in `range`'s data, for the quote census that tells each range whether
  // it starts inside a quoted field (csv_census.h). 0 for anything else.
  virtual Result<uint64_t> CountQuotes(const std::vector<InputFile>& files, const FileRange& range,
                                       FileSystem& fs) = 0;

  // Reads every record of the split, calls Map, and sends the resulting
  // blocks (map-only jobs: writes task.output). Polls the transport once
  // per input chunk.
  virtual Status RunMapTask(const MapTask& task) = 0;
  // First error of receiving or spilling blocks, if any.
  virtual Status ReceiveStatus() const = 0;
  // Decoded bytes of the blocks this rank received to reduce.
  virtual uint64_t ReceivedBytes() const = 0;
  // After the shuffle: merges, groups and reduces every record of one
  // reduce task (all ranks' map output for it) and writes the result to
  // `out`. `label` names it in errors ("partition 3"); `continues_part`:
  // a later piece of a cut partition, which writes no header. `state`
  // (--incremental, mergeable jobs; else null): a key-value file of each
  // key with its values folded by Combine, the task's merge state.
  virtual Status RunReduceTask(uint32_t task, BufferedWriter* out, BufferedWriter* state,
                               const std::string& label, bool continues_part) = 0;
  // A task that is a whole partition.
  Status RunReduceTask(uint32_t partition, BufferedWriter* out) {
    return RunReduceTask(partition, out, nullptr, "partition " + std::to_string(partition),
                         /*continues_part=*/false);
  }
  // Deletes this rank's spill runs; also done when the runner is destroyed.
  virtual void RemoveScratch() = 0;

  // Resume: adds what a map task saved by an earlier run had added to its
  // rank's counters (built-in and the job's own) and bad records, as if it
  // had run here.
  virtual void AddSavedCounters(const TaskCounters& counters,
                                const std::vector<std::pair<std::string, uint64_t>>& user,
                                const std::vector<BadRecordInfo>& bad) = 0;
  // Records skipped so far on this rank (bad_record.h), in the order met.
  virtual const std::vector<BadRecordInfo>& bad_records() const = 0;
  // kBadInput once this rank alone is past --max-bad-records.
  virtual Status BadRecordStatus() const = 0;

  virtual const TaskCounters& counters() const = 0;
  // Where this rank's time went so far (step_times.h).
  virtual EngineStepTimes step_times() const = 0;
  virtual std::vector<std::pair<std::string, uint64_t>> user_counters() const = 0;
};

}  // namespace sluice
