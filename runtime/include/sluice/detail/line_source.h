// The records of a text input: its lines (io/line_reader.h's rules).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "io/file_system.h"
#include "io/line_reader.h"
#include "io/split_planner.h"
#include "io/status.h"

namespace sluice {

// A RecordSource (record_source.h): one record per line starting in bytes
// [begin, end) of `file`, without its '\n' (and one '\r'); the offset is the
// line's first byte.
class LineSource {
 public:
  static constexpr bool kInFile = true;

  // `file` and `buffer` (the read buffer, reused across ranges) must outlive
  // the source.
  LineSource(ReadableFile& file, uint64_t begin, uint64_t end, size_t buffer_bytes,
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
      fn(chunk_offset_ + static_cast<uint64_t>(line.data() - chunk_.data()), line);
    });
    return Status::OK();
  }

  std::string Where(uint64_t offset) const {
    return "the line at byte " + std::to_string(offset) + " of '" + path_ + "'";
  }
  const std::string& path() const { return path_; }

 private:
  const std::string& path_;
  uint64_t begin_;
  LineReader reader_;
  std::string_view chunk_;
  uint64_t chunk_offset_ = 0;  // of chunk_'s first byte in the file
  uint64_t new_bytes_ = 0;
};

}  // namespace sluice
