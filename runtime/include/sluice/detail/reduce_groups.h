// The reduce side's group loop: reduce() once per group of sorted records,
// written once for both ways a partition is held (array_groups.h: sorted in
// memory; merged_groups.h: merged from spill runs), as a template over the
// group source so that neither pays a virtual call per record.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>

#include "io/status.h"
#include <sluice/counters.h>
#include <sluice/detail/map_emitter.h>
#include "shuffle/float_keys.h"
#include "shuffle/key_prefix.h"
#include "shuffle/reduce_record.h"
#include "shuffle/serde.h"

namespace sluice {

// Whether b, which follows a in sorted order, is in a's group: unless a < b
// (on the group's fields, with secondary sort).
template <class J>
struct SameGroup {
  using KeyView = ViewOfT<typename J::Key>;
  bool operator()(const KeyView& a, const KeyView& b) const {
    if constexpr (GroupFields<J>() > 0) {
      return !KeyOrder()(GroupPrefix<GroupFields<J>()>(a), GroupPrefix<GroupFields<J>()>(b));
    } else if constexpr (std::is_same_v<typename J::Key, std::string>) {
      return SameKeyBytes(a, b);  // sorted, so "not less" is "equal"
    } else {
      return !KeyOrder()(a, b);
    }
  }
};

// `task` names the reduce task: "partition 3", or "partition 3 (piece 2 of 5)".
inline Status ReduceThrew(const std::string& task, const std::exception& e) {
  return Status::UserCode("reduce() threw in " + task + ": " + e.what());
}
// Combine folding a partition's values before Reduce (string keys).
inline Status CombineThrewInReduce(const std::string& task, const std::exception& e) {
  return Status::UserCode("combine() threw in the reduce phase, folding " + task + ": " + e.what());
}

// A group source hands out a partition's groups in key order:
//   bool NextGroup()             moves to the next group; false at the end
//                                or on an error.
//   const KeyView& key()         the group's key, until NextGroup.
//   const Record& first()        its first record, until NextInGroup.
//   const Record* NextInGroup()  its next record, or null past its last
//                                (or on an error).
//   ValueRange values()          the group from first(), for reduce(): a
//                                single pass, so use this or NextInGroup.
//   void SkipRest(ValueRange&)   passes what reduce() left unread.
//   Status status()              the first error, or OK.
//
// ReduceGroups calls job.Reduce once per group. With kFold the group's
// values are first folded into one with the job's Combine: string-keyed
// jobs with a combiner, over records whose keys repeat (a merge; an
// in-memory partition is folded while it is decoded). `*in_combine` is
// CombineWith's flag, which tells a Combine that threw from a Reduce that
// did.
//
// `state` (--incremental, kMergeable jobs: a TypedKvFileWriter) receives
// each key with its folded value before Reduce sees it: the merge state a
// later incremental run folds its new records into. Without kFold the
// groups must already be one record each (folded while decoded).
struct NoMergeState {};
template <bool kFold, class J, class Groups, class Output, class State = NoMergeState>
Status ReduceGroups(J& job, Groups& groups, Output& output, const std::string& partition,
                    TaskCounters& counters, bool* in_combine, State* state = nullptr) {
  using V = typename J::Value;
  constexpr bool kWritesState = !std::is_same_v<State, NoMergeState>;
  using Record = ReduceRecord<typename J::Key, V>;
  while (groups.NextGroup()) {
    ++counters.reduce_input_groups;
    if constexpr (kFold) {
      const CombineWith<J> combine{&job, in_combine};
      V folded(groups.first().value);
      try {  // once per key, not per value
        while (const Record* r = groups.NextInGroup()) folded = combine(folded, V(r->value));
      } catch (const std::exception& e) {
        if (!*in_combine) throw;
        return CombineThrewInReduce(partition, e);
      }
      SLUICE_RETURN_IF_ERROR(groups.status());
      if constexpr (kWritesState) {
        if (state != nullptr) state->Add(groups.key(), folded);
      }
      Record one{groups.key(), ViewOfT<V>(folded), 0};
      typename J::Values values(&one, &one + 1);
      try {
        job.Reduce(groups.key(), values, output);
      } catch (const std::exception& e) {
        return ReduceThrew(partition, e);
      }
    } else {
      if constexpr (kWritesState) {
        if (state != nullptr) state->Add(groups.key(), groups.first().value);
      }
      typename J::Values values = groups.values();
      try {
        job.Reduce(groups.key(), values, output);
      } catch (const std::exception& e) {
        return ReduceThrew(partition, e);
      }
      groups.SkipRest(values);
    }
    SLUICE_RETURN_IF_ERROR(groups.status());
  }
  return groups.status();
}

}  // namespace sluice
