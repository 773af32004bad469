// The records of a LineBlocks input: runs of whole lines, one per read chunk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "io/file_system.h"
#include "io/line_reader.h"
#include "io/status.h"
#include "sluice/text_scan.h"

namespace sluice {

// A RecordSource (record_source.h) over the lines starting in [begin, end) of
// `file` (LineReader's rules), handed out as whole chunks: each a run of
// complete lines, every one ending in '\n' except perhaps the file's last.
// A job that scans text with a buffer-at-a-time matcher (grep) avoids a call
// per line. The offset is the block's first byte. input_records still counts
// lines: TakeExtraRecords() gives the lines beyond one per block.
class LineBlockSource {
 public:
  static constexpr bool kInFile = true;

  LineBlockSource(ReadableFile& file, uint64_t begin, uint64_t end, size_t buffer_bytes,
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
  uint64_t TakeExtraRecords() { return std::exchange(extra_records_, 0); }

  template <class Fn>
  Status ForEachRecord(Fn&& fn) {
    if (chunk_.empty()) return Status::OK();
    uint64_t lines = CountByte(chunk_, '\n');
    if (chunk_.back() != '\n') ++lines;  // the file's last line, unterminated
    extra_records_ += lines - 1;
    fn(chunk_offset_, chunk_);
    return Status::OK();
  }

  std::string Where(uint64_t offset) const {
    return "the block of lines at byte " + std::to_string(offset) + " of '" + path_ + "'";
  }
  const std::string& path() const { return path_; }

 private:
  const std::string& path_;
  uint64_t begin_;
  LineReader reader_;
  std::string_view chunk_;
  uint64_t chunk_offset_ = 0;
  uint64_t new_bytes_ = 0;
  uint64_t extra_records_ = 0;
};

}  // namespace sluice
