// The records of a JSON Lines input: one JSON value per line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "io/file_system.h"
#include "io/line_reader.h"
#include "io/status.h"
#include "sluice/json_record.h"

namespace sluice {

// A RecordSource (record_source.h): the lines that start in [begin, end) of
// `file` (io/line_reader.h's rules: JSON Lines escapes newlines inside
// strings, so a line is a record), each parsed into a JsonRecord; the
// offset is the line's first byte.
// - A blank line (empty, or spaces, tabs and a '\r' only) is not a record:
//   it is skipped. A UTF-8 byte order mark at the start of the file is not
//   part of the first record.
// - A line that is not JSON is yielded with parse_error() set: the engine
//   counts it as a bad record instead of calling Map.
// `file` and `buffer` (the read buffer, reused across ranges) must outlive
// the source. Not movable: the record points into the source's parser.
class JsonSource {
 public:
  static constexpr bool kInFile = true;

  JsonSource(ReadableFile& file, uint64_t begin, uint64_t end, size_t buffer_bytes,
             std::string* buffer)
      : path_(file.path()), begin_(begin), reader_(file, begin, end, buffer_bytes, buffer) {}

  Status Start() { return Status::OK(); }

  Result<bool> NextChunk() {
    SLUICE_ASSIGN_OR_RETURN(const bool more, reader_.NextChunk(&chunk_));
    chunk_offset_ = begin_ + reader_.bytes_read() - chunk_.size();
    new_bytes_ += chunk_.size();
    return more;
  }

  uint64_t TakeBytesRead() { return std::exchange(new_bytes_, 0); }

  template <class Fn>
  Status ForEachRecord(Fn&& fn) {
    ForEachLine(chunk_, [&](std::string_view line) {
      const uint64_t offset = chunk_offset_ + static_cast<uint64_t>(line.data() - chunk_.data());
      if (offset == 0 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
      if (IsBlank(line)) return;
      fn(offset, parser_.Parse(line));
    });
    return Status::OK();
  }

  std::string Where(uint64_t offset) const {
    return "the JSON line at byte " + std::to_string(offset) + " of '" + path_ + "'";
  }
  const std::string& path() const { return path_; }

 private:
  static bool IsBlank(std::string_view line) {
    for (const char c : line) {
      if (c != ' ' && c != '\t' && c != '\r') return false;
    }
    return true;
  }

  const std::string& path_;
  uint64_t begin_;
  LineReader reader_;
  JsonParser parser_;
  std::string_view chunk_;
  uint64_t chunk_offset_ = 0;  // of chunk_'s first byte in the file
  uint64_t new_bytes_ = 0;
};

}  // namespace sluice
