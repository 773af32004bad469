// What a job's map() reads. A job picks one with `using Input = ...;`
// (LineInput when it says nothing); the engine reads splits accordingly.
//
//   LineInput                map(std::string_view line, Emitter&)
//   FixedRecords<N>          map(std::string_view record, Emitter&), N bytes each
//   KeyValueInput<K, V>      map(KeyView key, ValueView value, Emitter&), from
//                            Sluice key-value files another job wrote
//   GeneratedRows<N>         map(uint64_t row, Emitter&): no input files; the
//                            job's INPUT is a row count, split like a file of
//                            N-byte rows (for generators such as teragen)
#pragma once

#include <cstdint>

namespace sluice {

enum class InputKind : uint8_t { kLines, kFixedRecords, kKeyValue, kGeneratedRows };

struct LineInput {
  static constexpr InputKind kKind = InputKind::kLines;
  static constexpr uint32_t kRecordBytes = 0;
};

template <uint32_t N>
struct FixedRecords {
  static_assert(N > 0);
  static constexpr InputKind kKind = InputKind::kFixedRecords;
  static constexpr uint32_t kRecordBytes = N;
};

template <class K, class V>
struct KeyValueInput {
  static constexpr InputKind kKind = InputKind::kKeyValue;
  static constexpr uint32_t kRecordBytes = 0;
  using Key = K;
  using Value = V;
};

template <uint32_t N>
struct GeneratedRows {
  static_assert(N > 0);
  static constexpr InputKind kKind = InputKind::kGeneratedRows;
  static constexpr uint32_t kRecordBytes = N;  // counted toward --split-size
};

}  // namespace sluice
