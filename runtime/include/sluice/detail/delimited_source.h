// The records of a text input split by a --record-delimiter
// (io/record_delimiter.h's rules).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "io/file_system.h"
#include "io/record_delimiter.h"
#include "io/split_planner.h"
#include "io/status.h"

namespace sluice {

// A RecordSource (record_source.h): one record per delimited record that
// starts in [begin, end), without its delimiter (kParagraph: never an empty
// one); the offset is the record's first byte.
class DelimitedSource {
 public:
  static constexpr bool kInFile = true;

  // `file` and `buffer` (the read buffer, reused across ranges) must outlive
  // the source; `d` is copied.
  DelimitedSource(ReadableFile& file, uint64_t begin, uint64_t end, const RecordDelimiter& d,
                  size_t buffer_bytes, std::string* buffer)
      : path_(file.path()), begin_(begin), reader_(file, begin, end, d, buffer_bytes, buffer) {}
  DelimitedSource(ReadableFile& file, const FileRange& range, const RecordDelimiter& d,
                  size_t buffer_bytes, std::string* buffer)
      : DelimitedSource(file, range.begin, range.end, d, buffer_bytes, buffer) {}

  // kUsage for a delimiter that ParseRecordDelimiter would have refused
  // (one a job filled in itself), before anything is read.
  Status Start() { return CheckRecordDelimiter(reader_.delimiter()); }

  Result<bool> NextChunk() {
    SLUICE_ASSIGN_OR_RETURN(const bool more, reader_.NextChunk(&chunk_));
    chunk_offset_ = begin_ + reader_.bytes_read() - chunk_.size();
    new_bytes_ += chunk_.size();
    return more;
  }

  uint64_t TakeBytesRead() { return std::exchange(new_bytes_, 0); }

  template <class Fn>
  Status ForEachRecord(Fn&& fn) {
    ForEachDelimited(chunk_, reader_.delimiter(), [&](std::string_view record, size_t at) {
      fn(chunk_offset_ + static_cast<uint64_t>(at), record);
    });
    return Status::OK();
  }

  std::string Where(uint64_t offset) const {
    return "the record at byte " + std::to_string(offset) + " of '" + path_ + "'";
  }
  const std::string& path() const { return path_; }

 private:
  const std::string& path_;
  uint64_t begin_;
  DelimitedReader reader_;
  std::string_view chunk_;
  uint64_t chunk_offset_ = 0;  // of chunk_'s first byte in the file
  uint64_t new_bytes_ = 0;
};

}  // namespace sluice
