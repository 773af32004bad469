// A partition merged from spill runs, as groups for reduce_groups.h.
#pragma once

#include <string>
#include <type_traits>

#include "io/status.h"
#include <sluice/counters.h>
#include <sluice/value_range.h>
#include "shuffle/reduce_record.h"
#include "shuffle/run_merge.h"
#include "shuffle/serde.h"

namespace sluice {

// The group source (reduce_groups.h) over a started RunMerger; `Same` tells
// whether a record is in the group of the one before it (SameGroup<J>).
// Records stream in one at a time, so a group larger than memory reduces
// in bounded memory; each is counted in reduce_input_records as the merge
// yields it. `merger` and `counters` must outlive the groups.
template <class K, class V, class Same>
class MergedGroups {
 public:
  using Record = ReduceRecord<K, V>;

  MergedGroups(RunMerger<K, V>* merger, TaskCounters* counters)
      : merger_(merger), counters_(counters) {}

  bool NextGroup() {
    if (!status_.ok()) return false;
    first_ = merger_->current();
    if (first_ == nullptr) return false;
    ++counters_->reduce_input_records;
    if constexpr (std::is_same_v<K, std::string>) {
      key_bytes_.assign(first_->key);
      key_ = key_bytes_;
    } else {
      key_ = first_->key;
    }
    return true;
  }
  const ViewOfT<K>& key() const { return key_; }
  const Record& first() const { return *first_; }
  const Record* NextInGroup() {
    if (Status s = merger_->Advance(); !s.ok()) {
      status_ = s;
      return nullptr;
    }
    const Record* r = merger_->current();
    if (r == nullptr || !Same()(key_, r->key)) return nullptr;
    ++counters_->reduce_input_records;
    return r;
  }
  ValueRange<K, V> values() { return ValueRange<K, V>(first_, first_ + 1, &Refill, this); }
  // The merge must pass the rest of the group to reach the next one.
  void SkipRest(ValueRange<K, V>& values) { values.SkipRest(); }
  const Status& status() const { return status_; }

 private:
  // ValueRange's refill: one record at a time, to the group's end.
  static bool Refill(void* self, const Record** cur, const Record** end) {
    const Record* r = static_cast<MergedGroups*>(self)->NextInGroup();
    if (r == nullptr) return false;
    *cur = r;
    *end = r + 1;
    return true;
  }

  RunMerger<K, V>* merger_;
  TaskCounters* counters_;
  const Record* first_ = nullptr;
  std::string key_bytes_;  // owns a string group's key: merging moves past its block
  ViewOfT<K> key_{};
  Status status_;
};

}  // namespace sluice
