// The records of a CSV input: io/csv_reader.h's records, split into fields.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "io/csv_reader.h"
#include "io/file_system.h"
#include "io/status.h"
#include "sluice/csv_row.h"

namespace sluice {

namespace csv_detail {

// A UTF-8 byte order mark, which spreadsheets write at the start of a file;
// it is not part of the first record.
inline std::string_view StripBom(std::string_view record) {
  if (record.size() >= 3 && record.substr(0, 3) == "\xEF\xBB\xBF") record.remove_prefix(3);
  return record;
}

}  // namespace csv_detail

// The header of a CSV file: its first record (from offset 0 of
// `file_from_start`), parsed by `options`, less a UTF-8 byte order mark. An
// empty file has an empty header. kBadInput naming the file when the header
// does not parse or names a column twice (empty names, for unnamed columns,
// may repeat; they are reachable by index only in practice); kUsage for
// options that cannot describe a CSV file.
inline Result<CsvHeader> ReadCsvHeader(ReadableFile& file_from_start, const CsvOptions& options) {
  const std::string& path = file_from_start.path();
  if (Status s = ValidateCsvOptions(options); !s.ok()) {
    return Status(s.code(), s.message() + " (reading '" + path + "')");
  }
  // The range [0, 1) owns exactly the first record, however long.
  CsvReader reader(file_from_start, 0, 1, false, options.quote, size_t{64} << 10);
  std::string_view chunk;
  SLUICE_ASSIGN_OR_RETURN(const bool more, reader.NextChunk(&chunk));
  if (!more) return CsvHeader();
  std::string_view first;
  bool have = false;
  ForEachCsvRecord(chunk, options.quote, [&](std::string_view record, size_t) {
    if (!have) first = record;
    have = true;
  });
  CsvParser parser(options.delimiter, options.quote, nullptr);
  const CsvRow& row = parser.Parse(csv_detail::StripBom(first));
  if (row.parse_error() != nullptr) {
    return Status::BadInput("the CSV header of '" + path +
                            "' does not parse: " + row.parse_error());
  }
  std::vector<std::string> names;
  names.reserve(row.size());
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < row.size(); ++i) {
    const std::string_view name = row[i].text();
    if (!name.empty()) {
      const auto [it, fresh] = seen.emplace(name, i);
      if (!fresh) {
        return Status::BadInput("the CSV header of '" + path + "' names column '" +
                                std::string(name) + "' twice (columns " +
                                std::to_string(it->second) + " and " + std::to_string(i) + ")");
      }
    }
    names.emplace_back(name);
  }
  return CsvHeader(std::move(names));
}

// A RecordSource (record_source.h): the CSV records that start in [begin,
// end) of `file`, each as a CsvRow; the offset is the record's first byte.
// - in_quotes_at_begin: whether an odd number of quotes precede `begin` in
//   the file (the engine's census, CountQuotes over [0, begin)).
// - When begin is 0 and options.header is set, the file's first record is
//   the header, not a record; `header` is that header (ReadCsvHeader), and
//   null when options.header is false.
// - An empty line (zero bytes, or a lone '\r') is not a record: it is
//   skipped, as blank lines are by most CSV readers. (A record of one empty
//   field is written `""`.)
// - Malformed records are yielded too, with parse_error() set: the engine
//   counts them as bad records instead of calling Map.
// `file`, `header` and `buffer` (the read buffer, reused across ranges)
// must outlive the source.
class CsvSource {
 public:
  static constexpr bool kInFile = true;

  CsvSource(ReadableFile& file, uint64_t begin, uint64_t end, bool in_quotes_at_begin,
            const CsvOptions& options, const CsvHeader* header, size_t buffer_bytes,
            std::string* buffer)
      : path_(file.path()),
        begin_(begin),
        options_(options),
        skip_header_(begin == 0 && options.header),
        reader_(file, begin, end, in_quotes_at_begin, options.quote, buffer_bytes, buffer),
        parser_(options.delimiter, options.quote, header) {}

  Status Start() {
    if (Status s = ValidateCsvOptions(options_); !s.ok()) {
      return Status(s.code(), s.message() + " (reading '" + path_ + "')");
    }
    return Status::OK();
  }

  Result<bool> NextChunk() {
    SLUICE_ASSIGN_OR_RETURN(const bool more, reader_.NextChunk(&chunk_));
    chunk_offset_ = begin_ + reader_.bytes_read() - chunk_.size();
    new_bytes_ += chunk_.size();
    return more;
  }

  uint64_t TakeBytesRead() { return std::exchange(new_bytes_, 0); }

  template <class Fn>
  Status ForEachRecord(Fn&& fn) {
    ForEachCsvRecord(chunk_, options_.quote, [&](std::string_view record, size_t at) {
      const uint64_t offset = chunk_offset_ + at;
      if (offset == 0) {
        if (skip_header_) return;
        record = csv_detail::StripBom(record);
      }
      if (record.empty()) return;
      fn(offset, parser_.Parse(record));
    });
    return Status::OK();
  }

  std::string Where(uint64_t offset) const {
    return "the CSV record at byte " + std::to_string(offset) + " of '" + path_ + "'";
  }
  const std::string& path() const { return path_; }

 private:
  const std::string& path_;
  uint64_t begin_;
  CsvOptions options_;
  bool skip_header_;
  CsvReader reader_;
  CsvParser parser_;
  std::string_view chunk_;
  uint64_t chunk_offset_ = 0;  // of chunk_'s first byte in the file
  uint64_t new_bytes_ = 0;
};

}  // namespace sluice
