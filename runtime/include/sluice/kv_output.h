// Key-value output: reduce() (or a map-only job's map()) writes a Sluice
// key-value file (shuffle/kv_file.h: typed, block-compressed, checksummed)
// per part, which a later job reads with `using Input =
// sluice::KeyValueInput<K, V>;`, so pipelines chain without text parsing.
//
//   using Output = sluice::KeyValueOutput<std::string, uint64_t>;
#pragma once

#include <cstdint>

#include "io/buffered_writer.h"
#include "io/status.h"
#include "shuffle/kv_file.h"

namespace sluice {

template <class K, class V>
class KeyValueOutput {
 public:
  explicit KeyValueOutput(BufferedWriter* writer) : writer_(writer) {}

  template <class A, class B>
  void operator()(const A& key, const B& value) {
    writer_.Add(key, value);  // errors stick; Finish() returns the first
  }

  uint64_t records() const { return writer_.records(); }
  Status Finish() { return writer_.Finish(); }

 private:
  TypedKvFileWriter<K, V> writer_;
};

}  // namespace sluice
