// One decoded record on the reduce side, as the store sorts it, the merge
// streams it and reduce() reads it (sluice/value_range.h).
#pragma once

#include <cstdint>

#include "shuffle/serde.h"

namespace sluice {

// `origin` is (split << 32 | block seq): with the record's place in its
// block, the input order that equal keys keep through sorting, spilling and
// merging.
template <class K, class V>
struct ReduceRecord {
  ViewOfT<K> key;
  ViewOfT<V> value;
  uint64_t origin = 0;
};

}  // namespace sluice
