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
//   CsvInput                 map(const CsvRow& row, Emitter&): RFC 4180 rows
//                            (csv_row.h); --csv-delimiter, --csv-header,
//                            --csv-quote set the dialect
//   JsonLinesInput           map(const JsonRecord& rec, Emitter&): one JSON
//                            value per line (json_record.h)
//   TableInput               map(const Row& row, Emitter&) for Row = CsvRow
//                            AND Row = JsonRecord (a template): each file is
//                            read as CSV or JSON Lines, whichever it is
//                            (TableFormat below)
//   LineBlocks               map(std::string_view lines, Emitter&): many
//                            whole lines at once, each ending in '\n' but
//                            perhaps the file's last; for jobs that scan
//                            text faster than line by line (grep,
//                            wordcount). With --record-delimiter, each
//                            call gets one record, as LineInput would
//
// Text-like inputs (LineInput, CsvInput, JsonLinesInput, TableInput,
// LineBlocks) may be compressed: gzip, zstd, bzip2 or xz, recognised by their
// first bytes and decoded on the fly; record_offset() is then the offset in
// the decoded bytes (what `zcat FILE | tail -c +N` shows, counting from 0).
#pragma once

#include <cstdint>

namespace sluice {

enum class InputKind : uint8_t {
  kLines,
  kFixedRecords,
  kKeyValue,
  kGeneratedRows,
  kCsv,
  kJsonLines,
  kTable,
  kLineBlocks,
};

// Whether an input kind reads text, which may come compressed.
constexpr bool ReadsText(InputKind kind) {
  return kind == InputKind::kLines || kind == InputKind::kCsv || kind == InputKind::kJsonLines ||
         kind == InputKind::kTable || kind == InputKind::kLineBlocks;
}

// How a TableInput file is read. kAuto: by its name (.csv .tsv: CSV;
// .jsonl .ndjson .json: JSON Lines; a compression suffix is looked through),
// else by its first non-blank byte ('{' or '[': JSON Lines, else CSV). A
// job that knows better says so by declaring
// `sluice::TableFormat table_format() const`.
enum class TableFormat : uint8_t { kAuto, kCsv, kJsonLines };

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

struct CsvInput {
  static constexpr InputKind kKind = InputKind::kCsv;
  static constexpr uint32_t kRecordBytes = 0;
};

struct JsonLinesInput {
  static constexpr InputKind kKind = InputKind::kJsonLines;
  static constexpr uint32_t kRecordBytes = 0;
};

struct TableInput {
  static constexpr InputKind kKind = InputKind::kTable;
  static constexpr uint32_t kRecordBytes = 0;
};

struct LineBlocks {
  static constexpr InputKind kKind = InputKind::kLineBlocks;
  static constexpr uint32_t kRecordBytes = 0;
};

template <uint32_t N>
struct GeneratedRows {
  static_assert(N > 0);
  static constexpr InputKind kKind = InputKind::kGeneratedRows;
  static constexpr uint32_t kRecordBytes = N;  // counted toward --split-size
};

}  // namespace sluice
