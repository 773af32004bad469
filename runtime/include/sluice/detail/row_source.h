// The records of a generated input (GeneratedRows): row numbers, no file.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "io/input_lister.h"
#include "io/split_planner.h"
#include "io/status.h"

namespace sluice {

// A RecordSource (record_source.h): the rows of `input` (input.size /
// kRecordBytes of them) whose byte span starts in `range`, as the row
// number; the offset is row * kRecordBytes. Nothing is read, so a chunk is
// a batch of rows, sized so the shuffle is polled often enough.
template <uint32_t kRecordBytes>
class RowSource {
 public:
  // The offset is the row's place in the size planned, not a byte of a file:
  // Job::record_offset() stays unset.
  static constexpr bool kInFile = false;
  static constexpr uint64_t kRowsPerChunk = 4096;

  // `input` must outlive the source.
  RowSource(const InputFile& input, const FileRange& range) : path_(input.path) {
    constexpr uint64_t n = kRecordBytes;
    const uint64_t rows = input.size / n;
    next_ = std::min((range.begin + n - 1) / n, rows);
    last_ = std::min((range.end + n - 1) / n, rows);
    chunk_end_ = next_;
  }

  Status Start() { return Status::OK(); }

  Result<bool> NextChunk() {
    next_ = chunk_end_;
    chunk_end_ = std::min(last_, next_ + kRowsPerChunk);
    new_bytes_ += (chunk_end_ - next_) * kRecordBytes;
    return next_ < chunk_end_;
  }

  uint64_t TakeBytesRead() { return std::exchange(new_bytes_, 0); }

  template <class Fn>
  Status ForEachRecord(Fn&& fn) {
    for (uint64_t row = next_; row < chunk_end_; ++row) fn(row * kRecordBytes, row);
    return Status::OK();
  }

  std::string Where(uint64_t offset) const {
    return "row " + std::to_string(offset / kRecordBytes);
  }
  const std::string& path() const { return path_; }

 private:
  const std::string& path_;
  uint64_t next_;  // the chunk is rows [next_, chunk_end_)
  uint64_t chunk_end_;
  uint64_t last_;  // one past the range's last row
  uint64_t new_bytes_ = 0;
};

}  // namespace sluice
