// The records of a fixed-size record input (io/fixed_record_reader.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "io/file_system.h"
#include "io/fixed_record_reader.h"
#include "io/split_planner.h"
#include "io/status.h"

namespace sluice {

// A RecordSource (record_source.h): the kRecordBytes-byte records whose
// first byte lies in `range`; the offset is that byte.
template <uint32_t kRecordBytes>
class FixedRecordSource {
 public:
  static constexpr bool kInFile = true;

  // `file` and `buffer` (the read buffer, reused across ranges) must outlive
  // the source.
  FixedRecordSource(ReadableFile& file, const FileRange& range, size_t buffer_bytes,
                    std::string* buffer)
      : file_(file),
        path_(file.path()),
        range_(range),
        buffer_bytes_(buffer_bytes),
        buffer_(buffer) {}

  // A file that is not a whole number of records is refused before any
  // record is read.
  Status Start() {
    SLUICE_RETURN_IF_ERROR(FixedRecordReader::CheckFile(file_, kRecordBytes));
    reader_.emplace(file_, range_.begin, range_.end, kRecordBytes, buffer_bytes_, buffer_);
    return Status::OK();
  }

  Result<bool> NextChunk() {
    SLUICE_ASSIGN_OR_RETURN(const bool more, reader_->NextChunk(&chunk_));
    new_bytes_ += chunk_.size();
    return more;
  }

  uint64_t TakeBytesRead() { return std::exchange(new_bytes_, 0); }

  template <class Fn>
  Status ForEachRecord(Fn&& fn) {
    const uint64_t chunk_offset = reader_->chunk_offset();
    for (size_t at = 0; at < chunk_.size(); at += kRecordBytes) {
      fn(chunk_offset + at, chunk_.substr(at, kRecordBytes));
    }
    return Status::OK();
  }

  std::string Where(uint64_t offset) const {
    return "the record at byte " + std::to_string(offset) + " of '" + path_ + "'";
  }
  const std::string& path() const { return path_; }

 private:
  ReadableFile& file_;
  const std::string& path_;
  FileRange range_;
  size_t buffer_bytes_;
  std::string* buffer_;
  std::optional<FixedRecordReader> reader_;  // made once the file passes CheckFile
  std::string_view chunk_;
  uint64_t new_bytes_ = 0;
};

}  // namespace sluice
