// The job API: what a Sluice job is written against.
//
// A job is a class deriving from Job<Self, Key, Value> with:
//
//   void Map(std::string_view line, Emitter& emit);
//       Called once per input line (without its '\n' or a trailing '\r').
//       emit(key, value) sends a record to the reduce side. For string keys
//       emit takes a std::string_view: nothing is copied per record. Another
//       Input (below) changes what Map takes; see input_formats.h.
//
//   Value Combine(const Value& a, const Value& b);          (optional)
//       Merges two values of one key before the shuffle. Must be
//       associative; Sluice applies it within each input split only, so the
//       result never depends on how many ranks run the job. Parameters by
//       value or by const&; never by non-const reference.
//
//   void CombineInto(Value& into, const Value& from);       (optional)
//       Combine in place: leaves into == Combine(into, from). With it, the
//       engine's combiner tables merge without copying the value per
//       record; worth it for values larger than a few words. Needs Combine.
//
//   void Reduce(KeyView key, Values& values, Output& out);
//       Called once per distinct key, keys in sorted order within each
//       partition, values in input order (split, then emission order).
//       Iterating `values` (once: they may stream from disk) yields
//       ValueView. out(k, v) writes the text line "k\tv\n" to the
//       partition's part file.
//
//   or, instead of Reduce:
//   static constexpr bool kMapOnly = true;
//       A map-only job: emit() writes to the output directly, one part file
//       per split. Map-only is never inferred from a missing Reduce.
//
// Keys and values in user code, one rule for all of them (ViewOfT in
// shuffle/serde.h): KeyView is std::string_view when Key is std::string,
// and Key itself for every other type (integers, floating point, pairs,
// tuples, your own structs); ValueView likewise for Value, and the same
// rule gives the arguments of Map for KeyValueInput<K, V>. Take a KeyView
// parameter as `KeyView key` or `const KeyView& key`; both work for every
// key type. A string view points into a block the engine owns and is valid
// until the next value (or, for the key, the end of the Reduce call); copy
// it to keep it. So a string-keyed Reduce takes std::string_view, not
// const std::string&, and a tuple-keyed one takes const Key& (or Key).
//
// Mistakes in these signatures are compile errors that name the expected
// signature (detail/job_traits.h): a member named Map, Combine, CombineInto or Reduce
// that the engine cannot call as above, a job with neither Reduce nor
// kMapOnly, and a kMapOnly job that has a Reduce or a Combine.
//
// Optional hooks around each task, for a job that keeps state per task (the
// stream job runs one command per task):
//   void BeginMapTask();                  before a map task's first Map
//   void EndMapTask(Emitter& emit);       after its last; may emit
//   void BeginReduceTask(Output& out);    before a reduce task's first key
//   void EndReduceTask(Output& out);      after its last key; may write
// A map task is one split (or the start of one, when the engine samples a
// split's keys on a job object of its own); a reduce task is one partition
// or one key-range piece of it. Map tasks replayed from a saved run
// (resume) run no hooks: their output is already saved. An exception a hook throws fails the job
// like one from Map or Reduce (exit 6), naming the hook and the task.
//
// Optional members for a job whose shape depends on its parameters (the
// stream job):
//   bool RunsMapOnly() const;
//       true: this run skips the reduce phase, as kMapOnly does: emit()
//       writes through Output's operator()(key, value), one part per split.
//   std::string_view PartitionBytes(std::string_view key, std::string* scratch);
//       (string keys) the bytes whose hash picks the key's partition, when
//       that is not the whole key: a join partitions on the join field and
//       sorts on the rest. A function of the key alone; not with a Combine,
//       kGroupFields or kRangePartitioned.
// and a job whose Input a parameter picks is compiled once per Input and
// registered as sluice::JobVariants (registration.h).
//
// Optional declarations in the job class:
//   using Input = sluice::FixedRecords<100>;   what map() reads (input_formats.h)
//   using Output = sluice::RecordOutput;       what reduce() writes
//   static constexpr bool kRangePartitioned = true;
//       part files in global key order, cut at sampled keys
//   static constexpr size_t kGroupFields = 1;
//       secondary sort for pair/tuple keys: group on the first field(s),
//       values ordered by the rest of the key:
//       for (const auto& [full_key, value] : values.with_keys()) ...
//   static constexpr bool kMergeable = true;
//       the job's result can be updated instead of recomputed (a run with
//       --incremental maps only new input files and folds the previous
//       output's merge state in). The job promises that Combine is
//       associative and commutative (counts, sums, min/max, sets; a float
//       sum is not exactly) and that Reduce's output for a key depends only
//       on the fold of its values: the engine folds them with Combine and
//       Reduce sees that one value. Needs Combine and Reduce; not with
//       kRangePartitioned (cuts from sampled keys would differ).
//   static constexpr sluice::Param<uint64_t> kLimit{"limit", 10, "help"};
//   static constexpr auto kParams = sluice::ParamTable(kLimit);
//       --param limit=N, read anywhere as param(kLimit) (params.h)
//
// Memory: a rank stays within --memory however large the input; past it,
// shuffle data is sorted and spilled to --scratch and merged back for
// reduce, with the same output bytes as in memory.
//
// Keys and values may be strings, integers, floating point, pairs and tuples
// of those, or any type with a Cereal serialize() member (keys also need
// operator<, and operator== when the job has a combiner).
//
// Floating-point keys (float, double, and such fields of pair/tuple keys)
// have one total order: -inf < ... < -0.0 == +0.0 < ... < +inf < NaN. -0.0
// and +0.0 are one key and reach Reduce as +0.0; every NaN (any sign or
// payload) is one key and reaches Reduce as the quiet positive NaN. Values
// are never altered (shuffle/float_keys.h).
//
// The job object is created once per rank; Map and Reduce run on one thread.
// An exception thrown by Map or Reduce fails the whole job with a message
// naming the rank and the record. The exception: Map throws
// sluice::BadRecord("why") for a record it cannot parse, before emitting
// anything for it; such records are skipped up to --max-bad-records, counted
// (bad_records) and listed in OUTPUT/_bad_records (bad_record.h).
// Counters: counter("name").Add(n); look the Counter& up once and keep it,
// the lookup is by name.
//
// End the file with SLUICE_JOB(Class, "name", "one-line description"): the
// same source then builds into the `sluice` command, into a job binary and
// into a plugin (see plugin_api.h).
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

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

  // The value of a parameter the job declares in its kParams table
  // (params.h), given by `--param name=value` or its default: T, or
  // const std::string& for a string. Readable anywhere in the job, the
  // constructor and member initializers included. A job object made
  // outside the engine (a unit test) reads the defaults.
  template <class T>
  std::conditional_t<std::is_same_v<T, std::string>, const std::string&, T> param(const Param<T>& p) const {
    if (params_ == nullptr) {
      static const JobParams defaults(DeclaredParams<Self>(), {});
      return defaults.Get(p);
    }
    return params_->Get(p);
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

  // A bad record found after the Map call that read it returned (the stream
  // job hears of them on its mapper's stderr): counted and listed exactly
  // as a thrown BadRecord at (file, offset), against --max-bad-records.
  // Outside the engine (a job object in a unit test) it throws BadRecord.
  void report_bad_record(std::string_view file, uint64_t offset, std::string_view reason) {
    if (bad_log_ == nullptr) throw BadRecord(std::string(reason));
    ++*bad_count_;
    bad_log_->Add(std::string(file), offset, std::string(reason).c_str());
  }

 private:
  template <class>
  friend class TypedRunner;
  void SetCurrentInput(uint32_t index, std::string_view path) {
    input_index_ = index;
    input_path_ = path;
  }
  void SetBadRecordLog(BadRecordLog* log, uint64_t* count) {
    bad_log_ = log;
    bad_count_ = count;
  }

  const JobParams* params_;  // the engine's, outliving the job object
  UserCounters user_counters_;
  uint64_t record_offset_ = 0;
  uint32_t input_index_ = 0;
  std::string_view input_path_;
  BadRecordLog* bad_log_ = nullptr;  // the engine's, set before any task
  uint64_t* bad_count_ = nullptr;
};

}  // namespace sluice

#include <sluice/registration.h>  // SLUICE_JOB
