// Reads the fixed-size records of one FileRange in large chunks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "io/status.h"

namespace sluice {

// A file of R-byte records: the records whose first byte lies in
// [begin, end) belong to the range (the same rule as lines), so a range
// starts at the first multiple of R at or after `begin`.
class FixedRecordReader {
 public:
  // Fails (kBadInput naming the file) when the file's size is not a whole
  // number of records: a truncated or foreign file, never silently cut.
  static Status CheckFile(const ReadableFile& file, uint32_t record_bytes);

  // `file` must outlive the reader. `storage`: as for LineReader, a buffer
  // the caller reuses across readers (it must outlive this one).
  FixedRecordReader(ReadableFile& file, uint64_t begin, uint64_t end, uint32_t record_bytes,
                    size_t buffer_bytes = size_t{4} << 20, std::string* storage = nullptr);

  // Sets *chunk to the next run of whole records; false at the end.
  Result<bool> NextChunk(std::string_view* chunk);
  // File offset of the first record of the last chunk.
  uint64_t chunk_offset() const { return chunk_offset_; }

 private:
  ReadableFile& file_;
  uint32_t record_bytes_;
  uint64_t pos_;
  uint64_t stop_;
  uint64_t chunk_offset_ = 0;
  std::string own_;
  std::string& buf_;  // own_ or the caller's storage
  size_t read_bytes_;  // whole records per read
};

}  // namespace sluice
