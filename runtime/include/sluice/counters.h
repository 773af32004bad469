// Counters: the numbers that prove a job neither lost nor invented records.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace sluice {

// Built-in counters of one rank. The driver sums them over ranks and checks
// that they reconcile (see JobDriver): a mismatch fails the job.
struct TaskCounters {
  uint64_t input_bytes = 0;             // bytes of the lines handed to map()
  uint64_t input_records = 0;           // lines handed to map()
  uint64_t map_output_records = 0;      // emit() calls
  uint64_t combine_input_records = 0;   // records that went into the combiner
  uint64_t combine_output_records = 0;  // records the combiner let out
  uint64_t shuffle_records = 0;         // records put into blocks
  uint64_t shuffle_blocks = 0;
  uint64_t shuffle_raw_bytes = 0;       // serialized bytes before zstd
  uint64_t shuffle_packed_bytes = 0;    // bytes after zstd, with frame headers
  uint64_t reduce_input_records = 0;    // records decoded on the reduce side
  uint64_t reduce_input_groups = 0;     // distinct keys = reduce() calls
  uint64_t output_records = 0;
  uint64_t output_bytes = 0;
  uint64_t spill_runs = 0;              // sorted runs written to scratch
  uint64_t spill_records = 0;           // records written to runs (merges included)
  uint64_t spill_bytes = 0;             // bytes written to scratch
  uint64_t merge_passes = 0;            // intermediate merges (runs > --merge-factor)
  uint64_t bad_records = 0;             // input records map() rejected (skipped)
  // --incremental: records of the previous output's merge state folded
  // into this run (emitted without map(); counted in map_output_records).
  uint64_t state_records = 0;

  static constexpr size_t kCount = 19;
  static constexpr std::array<std::string_view, kCount> kNames = {
      "input_bytes",           "input_records",          "map_output_records",
      "combine_input_records", "combine_output_records", "shuffle_records",
      "shuffle_blocks",        "shuffle_raw_bytes",      "shuffle_packed_bytes",
      "reduce_input_records",  "reduce_input_groups",    "output_records",
      "output_bytes",          "spill_runs",             "spill_records",
      "spill_bytes",           "merge_passes",           "bad_records",
      "state_records"};
  // The fields in kNames order: the one list that ToArray / FromArray (and
  // so the wire format and the report) follow.
  static constexpr std::array<uint64_t TaskCounters::*, kCount> kFields = {
      &TaskCounters::input_bytes,           &TaskCounters::input_records,
      &TaskCounters::map_output_records,    &TaskCounters::combine_input_records,
      &TaskCounters::combine_output_records, &TaskCounters::shuffle_records,
      &TaskCounters::shuffle_blocks,        &TaskCounters::shuffle_raw_bytes,
      &TaskCounters::shuffle_packed_bytes,  &TaskCounters::reduce_input_records,
      &TaskCounters::reduce_input_groups,   &TaskCounters::output_records,
      &TaskCounters::output_bytes,          &TaskCounters::spill_runs,
      &TaskCounters::spill_records,         &TaskCounters::spill_bytes,
      &TaskCounters::merge_passes,          &TaskCounters::bad_records,
      &TaskCounters::state_records};

  std::array<uint64_t, kCount> ToArray() const {
    std::array<uint64_t, kCount> out{};
    for (size_t i = 0; i < kCount; ++i) out[i] = this->*kFields[i];
    return out;
  }
  template <class Values>  // any indexable sequence of kCount numbers
  static TaskCounters FromArray(const Values& values) {
    TaskCounters t;
    for (size_t i = 0; i < kCount; ++i) t.*kFields[i] = values[i];
    return t;
  }
};

class Counter {
 public:
  void Add(uint64_t n = 1) { value_ += n; }
  uint64_t value() const { return value_; }

 private:
  uint64_t value_ = 0;
};

// A job's own counters by name. References returned by Get stay valid for
// the life of the job: look one up once, then Add() in the hot loop.
class UserCounters {
 public:
  Counter& Get(std::string_view name) {
    auto it = counters_.find(name);
    if (it == counters_.end()) it = counters_.emplace(std::string(name), Counter()).first;
    return it->second;
  }
  const std::map<std::string, Counter, std::less<>>& all() const { return counters_; }

 private:
  std::map<std::string, Counter, std::less<>> counters_;
};

}  // namespace sluice
