// The job API: what a Sluice job is written against.
//
// A job is a class deriving from Job<Self, Key, Value> with:
//
//   void Map(std::string_view line, Emitter& emit);
//       Called once per input line (without its '\n' or a trailing '\r').
//       emit(key, value) sends a record to the reduce side. For string keys
//       emit takes a std::string_view: nothing is copied per record.
//
//   Value Combine(const Value& a, const Value& b);          (optional)
//       Merges two values of one key before the shuffle. Must be
//       associative; Sluice applies it within each input split only, so the
//       result never depends on how many ranks run the job.
//
//   void Reduce(KeyView key, Values& values, Output& out);      (optional)
//       Called once per distinct key, keys in sorted order within each
//       partition, values in input order (split, then emission order).
//       KeyView is std::string_view for string keys, Key otherwise;
//       iterating `values` (once: they may stream from disk) yields
//       ValueView the same way. out(k, v) writes the text line "k\tv\n"
//       to the partition's part file. A job without Reduce is map-only:
//       emit() writes to the output directly, one part file per split.
//
// Optional declarations in the job class:
//   using Input = sluice::FixedRecords<100>;   what map() reads (input_formats.h)
//   using Output = sluice::RecordOutput;       what reduce() writes
//   static constexpr bool kRangePartitioned = true;
//       part files in global key order, cut at sampled keys
//   static constexpr size_t kGroupFields = 1;
//       secondary sort for pair/tuple keys: group on the first field(s),
//       values ordered by the rest of the key (values.key() shows it)
//
// Memory: a rank stays within --memory however large the input; past it,
// shuffle data is sorted and spilled to --scratch and merged back for
// reduce, with the same output bytes as in memory.
//
// Keys and values may be strings, integers, floating point, pairs and tuples
// of those, or any type with a Cereal serialize() member (keys also need
// operator<, and operator== when the job has a combiner).
//
// The job object is created once per rank; Map and Reduce run on one thread.
// An exception thrown by Map or Reduce fails the whole job with a message
// naming the rank and the record. The exception: Map throws
// sluice::BadRecord("why") for a record it cannot parse, before emitting
// anything for it; such records are skipped up to --max-bad-records, counted
// (bad_records) and listed in OUTPUT/_bad_records (bad_record.h). Counters: counter("name").Add(n); look the
// Counter& up once and keep it, the lookup is by name.
//
// End the file with SLUICE_JOB(Class, "name", "one-line description"): the
// same source then builds into the `sluice` command, into a job binary and
// into a plugin (see plugin_api.h).
#pragma once

#include <string>
#include <string_view>

#include <sluice/bad_record.h>
#include <sluice/counters.h>
#include <sluice/input_formats.h>
#include <sluice/params.h>
#include <sluice/kv_output.h>
#include <sluice/detail/map_emitter.h>
#include <sluice/record_output.h>
#include <sluice/text_output.h>
#include <sluice/value_range.h>
#include "shuffle/serde.h"

namespace sluice {

template <class Self, class K, class V>
class Job {
 public:
  using Key = K;
  using Value = V;
  using KeyView = ViewOfT<K>;
  using ValueView = ViewOfT<V>;
  using Emitter = MapEmitter<Self>;
  using Values = ValueRange<K, V>;
  // What map() reads and reduce() writes; a job may redeclare either
  // (input_formats.h; RecordOutput, KeyValueOutput<K, V>).
  using Input = LineInput;
  using Output = TextOutput;

  Job() : params_(JobParams::Pending()) {}

  Counter& counter(std::string_view name) { return user_counters_.Get(name); }
  const UserCounters& user_counters() const { return user_counters_; }

  // A parameter from `--param name=value` (job_params.h); call it in the
  // constructor or a member initializer. T: bool, integers, floating point,
  // std::string.
  template <class T>
  T param(std::string_view name, T default_value, std::string_view help) {
    return params_ ? params_->Get<T>(name, std::move(default_value), help) : default_value;
  }

  // In Map: which input the current record came from, as the index of the
  // --input (or positional INPUT) that listed its file, and the file's path.
  // A reduce-side join maps each input its own way by this.
  uint32_t input_index() const { return input_index_; }
  std::string_view input_path() const { return input_path_; }
  // In Map: the byte offset in input_path() where the current record starts
  // (line or fixed record; a key-value record's block). Like Hadoop's
  // TextInputFormat key: a position known without reading the file from
  // its start, as a line number would need.
  uint64_t record_offset() const { return record_offset_; }

 private:
  template <class>
  friend class TypedRunner;
  void SetCurrentInput(uint32_t index, std::string_view path) {
    input_index_ = index;
    input_path_ = path;
  }

  JobParams* params_;  // valid only while the job is being constructed
  UserCounters user_counters_;
  uint64_t record_offset_ = 0;
  uint32_t input_index_ = 0;
  std::string_view input_path_;
};

}  // namespace sluice

#include <sluice/registration.h>  // SLUICE_JOB
