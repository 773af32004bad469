// What a job class must look like, checked at compile time.
//
// The engine picks code paths by what the job declares: a job with Reduce
// shuffles, one with Combine pre-reduces. Detecting those by "is it callable
// the way the engine calls it" alone turns a near miss into a different
// program: a Reduce taking `const std::string&` where a std::string_view
// arrives would read as "no Reduce" and the job would silently run map-only;
// a Combine taking non-const references would silently never run. So each
// member is detected twice, by name and by call, and a name without a
// matching call is a static_assert naming the expected signature. Map-only
// is never inferred: the job declares it (kMapOnly, job.h).
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include <sluice/csv_row.h>
#include <sluice/input_formats.h>
#include <sluice/json_record.h>
#include <sluice/detail/map_emitter.h>  // HasReduce, HasCombiner: how the engine calls them
#include "shuffle/serde.h"              // ViewOfT

namespace sluice {

namespace job_traits_detail {

// Name-only detection. `&J::Reduce` alone is not enough: it is ill-formed
// for an overload set or a member template, which would read as "absent".
// A class deriving from J and from a probe that declares the same name
// makes the lookup of that name ambiguous exactly when J declares it too,
// whatever its signature. A final J cannot be derived from; for it the
// address test is all there is. (Map needs no such test: absent or not
// callable, it is the same error.)
struct ReduceProbe {
  void Reduce();
};
struct CombineProbe {
  void Combine();
};
struct CombineIntoProbe {
  void CombineInto();
};
template <class J, class Probe>
struct WithProbe : J, Probe {};

}  // namespace job_traits_detail

template <class J>
concept DeclaresReduce =
    requires { &J::Reduce; } ||
    (!std::is_final_v<J> &&
     !requires { &job_traits_detail::WithProbe<J, job_traits_detail::ReduceProbe>::Reduce; });

template <class J>
concept DeclaresCombine =
    requires { &J::Combine; } ||
    (!std::is_final_v<J> &&
     !requires { &job_traits_detail::WithProbe<J, job_traits_detail::CombineProbe>::Combine; });

template <class J>
concept DeclaresCombineInto =
    requires { &J::CombineInto; } ||
    (!std::is_final_v<J> &&
     !requires { &job_traits_detail::WithProbe<J, job_traits_detail::CombineIntoProbe>::CombineInto; });

// A map-only job says so: `static constexpr bool kMapOnly = true;`.
template <class J>
constexpr bool MapOnly() {
  if constexpr (requires { J::kMapOnly; }) {
    return J::kMapOnly;
  } else {
    return false;
  }
}

// A job whose result can be updated instead of recomputed says so:
// `static constexpr bool kMergeable = true;` (job.h, --incremental).
template <class J>
constexpr bool Mergeable() {
  if constexpr (requires { J::kMergeable; }) {
    return J::kMergeable;
  } else {
    return false;
  }
}

// True when J::Map can be called the way the engine calls it for the job's
// Input (typed_runner.h, MapOne): each record argument a const lvalue, then
// the emitter.
template <class J>
constexpr bool MapCallable() {
  using Input = typename J::Input;
  using Emitter = typename J::Emitter;
  if constexpr (Input::kKind == InputKind::kKeyValue) {
    return requires(J& job, const ViewOfT<typename Input::Key>& key,
                    const ViewOfT<typename Input::Value>& value, Emitter& emit) {
      job.Map(key, value, emit);
    };
  } else if constexpr (Input::kKind == InputKind::kGeneratedRows) {
    return requires(J& job, const uint64_t& row, Emitter& emit) { job.Map(row, emit); };
  } else if constexpr (Input::kKind == InputKind::kCsv) {
    return requires(J& job, const CsvRow& row, Emitter& emit) { job.Map(row, emit); };
  } else if constexpr (Input::kKind == InputKind::kJsonLines) {
    return requires(J& job, const JsonRecord& rec, Emitter& emit) { job.Map(rec, emit); };
  } else if constexpr (Input::kKind == InputKind::kTable) {
    return requires(J& job, const CsvRow& row, const JsonRecord& rec, Emitter& emit) {
      job.Map(row, emit);
      job.Map(rec, emit);
    };
  } else {
    return requires(J& job, const std::string_view& record, Emitter& emit) { job.Map(record, emit); };
  }
}

// Instantiating this checks J; the engine does so in TypedRunner<J>. The
// messages state the rule of job.h: ViewOfT<T> (KeyView, ValueView) is
// std::string_view for std::string and T itself for every other type.
template <class J>
struct JobContract {
  static constexpr InputKind kInput = J::Input::kKind;

  static_assert(kInput != InputKind::kLines || MapCallable<J>(),
                "Map must be callable as void Map(std::string_view line, Emitter& emit) "
                "(Input is LineInput, the default)");
  static_assert(kInput != InputKind::kFixedRecords || MapCallable<J>(),
                "Map must be callable as void Map(std::string_view record, Emitter& emit) "
                "(Input is FixedRecords<N>)");
  static_assert(kInput != InputKind::kCsv || MapCallable<J>(),
                "Map must be callable as void Map(const sluice::CsvRow& row, Emitter& emit) "
                "(Input is CsvInput)");
  static_assert(kInput != InputKind::kJsonLines || MapCallable<J>(),
                "Map must be callable as void Map(const sluice::JsonRecord& rec, Emitter& emit) "
                "(Input is JsonLinesInput)");
  static_assert(kInput != InputKind::kTable || MapCallable<J>(),
                "Map must be callable with a const sluice::CsvRow& and with a const "
                "sluice::JsonRecord& (Input is TableInput): write it as a template, "
                "template <class Row> void Map(const Row& row, Emitter& emit)");
  static_assert(kInput != InputKind::kLineBlocks || MapCallable<J>(),
                "Map must be callable as void Map(std::string_view lines, Emitter& emit) "
                "(Input is LineBlocks)");
  static_assert(kInput != InputKind::kGeneratedRows || MapCallable<J>(),
                "Map must be callable as void Map(uint64_t row, Emitter& emit) "
                "(Input is GeneratedRows<N>)");
  static_assert(kInput != InputKind::kKeyValue || MapCallable<J>(),
                "Map must be callable as void Map(ViewOfT<K> key, ViewOfT<V> value, Emitter& emit) "
                "(Input is KeyValueInput<K, V>); ViewOfT<T> is std::string_view for std::string "
                "and T itself otherwise, taken by value or by const&");

  static_assert(DeclaresReduce<J> || MapOnly<J>(),
                "this job has no Reduce: write void Reduce(KeyView key, Values& values, Output& out), "
                "or declare `static constexpr bool kMapOnly = true;` for a map-only job");
  static_assert(!(DeclaresReduce<J> && MapOnly<J>()),
                "this job declares kMapOnly = true and also has a Reduce, which would never run: "
                "remove one of them");
  static_assert(!DeclaresReduce<J> || HasReduce<J>,
                "Reduce must be callable as void Reduce(KeyView key, Values& values, Output& out); "
                "KeyView is std::string_view for std::string keys and Key itself otherwise, "
                "taken by value or by const& (so not const std::string&)");

  static_assert(!DeclaresCombine<J> || HasCombiner<J>,
                "Combine must be callable as Value Combine(const Value& a, const Value& b), "
                "parameters by value or by const& (not by non-const reference), returning Value");
  static_assert(!DeclaresCombineInto<J> || HasCombineInto<J>,
                "CombineInto must be callable as void CombineInto(Value& into, const Value& from), "
                "and the job must also have a Combine (CombineInto is its in-place form)");
  static_assert(!(DeclaresCombine<J> && MapOnly<J>()),
                "this job declares kMapOnly = true and also has a Combine, which would never run: "
                "a map-only job shuffles nothing to combine");

  static_assert(!Mergeable<J>() || (HasCombiner<J> && HasReduce<J>),
                "kMergeable = true needs a Combine and a Reduce: an incremental run folds the previous "
                "result into the new one with Combine, and Reduce sees only that fold");
  static_assert(!(Mergeable<J>() && RangePartitioned<J>()),
                "kMergeable and kRangePartitioned do not mix: range cuts come from sampled keys, which "
                "differ between an incremental run and a full one");

  static constexpr bool kChecked = true;
};

}  // namespace sluice
