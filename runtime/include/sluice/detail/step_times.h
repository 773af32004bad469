// Where a rank's time goes, step by step, as the report's per_rank[].steps
// shows it. Always on, so each clock read wraps a chunk of input, a block,
// a table flush or a task, never a record: a few thousand reads per
// gigabyte. Steps that run record by record inside the user's map() (the
// tokenizing, the emit, the combiner's insert) are one step for that
// reason; `scripts/profile` splits them with perf.
#pragma once

#include <chrono>
#include <cstdint>

namespace sluice {

inline uint64_t StepClockNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// What the job's engine (TypedRunner, compiled into the job) measures. The
// driver adds the steps it runs itself (job_report.h's StepSeconds).
struct EngineStepTimes {
  // map
  uint64_t read_ns = 0;       // reading (and decompressing) input chunks
  uint64_t map_ns = 0;        // records to map(), emit and the combiner's inserts, less the three below
  uint64_t serialize_ns = 0;  // draining the combiner, encoding records into block buffers
  uint64_t compress_ns = 0;   // zstd of each block
  uint64_t send_ns = 0;       // handing each block to the transport (the driver takes out its saving)
  // reduce
  uint64_t decode_ns = 0;     // blocks ordered and decoded, values folded with Combine
  uint64_t merge_ns = 0;      // spilling and merge passes of a partition over its memory share
  uint64_t sort_ns = 0;       // records (or folded keys) sorted by key
  uint64_t reduce_ns = 0;     // groups to reduce(), output formatted (the driver takes out writing)
};

// Adds the time from construction to destruction to *into.
class StepTimer {
 public:
  explicit StepTimer(uint64_t* into) : into_(into), start_(StepClockNs()) {}
  StepTimer(const StepTimer&) = delete;
  StepTimer& operator=(const StepTimer&) = delete;
  ~StepTimer() { *into_ += StepClockNs() - start_; }

 private:
  uint64_t* into_;
  uint64_t start_;
};

}  // namespace sluice
