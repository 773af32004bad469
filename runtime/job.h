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
//   void Reduce(KeyView key, Values& values, Output& out);
//       Called once per distinct key, keys in sorted order within each
//       partition, values in input order (split, then emission order).
//       KeyView is std::string_view for string keys, Key otherwise;
//       iterating `values` yields ValueView the same way. out(k, v) writes
//       the text line "k\tv\n" to the partition's part file.
//
// Keys and values may be strings, integers, floating point, pairs and tuples
// of those, or any type with a Cereal serialize() member (keys also need
// operator<, and operator== when the job has a combiner).
//
// The job object is created once per rank; Map and Reduce run on one thread.
// An exception thrown by Map or Reduce fails the whole job with a message
// naming the rank and the record. Counters: counter("name").Add(n); look the
// Counter& up once and keep it, the lookup is by name.
//
// End the file with SLUICE_JOB(Class, "name", "one-line description"): the
// same source then builds into the `sluice` command, into a job binary and
// into a plugin (see plugin_api.h).
#pragma once

#include <string>
#include <string_view>

#include "runtime/counters.h"
#include "runtime/map_emitter.h"
#include "runtime/text_output.h"
#include "runtime/value_range.h"
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
  using Output = TextOutput;

  Counter& counter(std::string_view name) { return user_counters_.Get(name); }
  const UserCounters& user_counters() const { return user_counters_; }

 private:
  UserCounters user_counters_;
};

}  // namespace sluice

#include "runtime/job_registration.h"  // SLUICE_JOB
