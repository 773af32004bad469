// Spill runs: sorted records on node-local scratch, as a plain sequence of
// block frames (block_codec.h). The frames carry every checksum; what a frame
// cannot show, a missing tail, is caught against RunInfo, which the writer's
// owner keeps in memory. A run file is never read by another process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "io/file_system.h"
#include "io/status.h"
#include "shuffle/block_codec.h"

namespace sluice {

// What the store remembers of a finished run.
struct RunInfo {
  std::string path;
  uint64_t records = 0;
  uint64_t bytes = 0;  // file size
  uint32_t blocks = 0;
};

// Appends records (encoded by the caller into buffer()) to a new run file.
class RunWriter {
 public:
  static Result<std::unique_ptr<RunWriter>> Create(FileSystem& fs, const std::string& path,
                                                   int compression_level, size_t block_bytes);
  // Encode one record into this, then call RecordAdded().
  std::string* buffer() { return &raw_; }
  // Writes a block once the buffer reaches block_bytes.
  Status RecordAdded() {
    ++block_records_;
    return raw_.size() >= block_bytes_ ? Flush() : Status::OK();
  }
  // Writes the last block and closes the file. No fsync: scratch does not
  // outlive the job, so durability buys nothing.
  Result<RunInfo> Finish();

 private:
  RunWriter(std::unique_ptr<WritableFile> file, int level, size_t block_bytes);
  Status Flush();

  std::unique_ptr<WritableFile> file_;
  BlockEncoder encoder_;
  size_t block_bytes_;
  std::string raw_;
  std::string frame_;
  uint32_t block_records_ = 0;
  RunInfo info_;
};

// Reads a run back one verified, decompressed block at a time.
class RunReader {
 public:
  static Result<std::unique_ptr<RunReader>> Open(FileSystem& fs, const RunInfo& info);
  // Replaces *raw with the next block's records and sets *records. Returns
  // false at the end of the run, after checking that the run is whole.
  Result<bool> NextBlock(std::string* raw, uint32_t* records);

 private:
  RunReader(std::unique_ptr<ReadableFile> file, const RunInfo& info);
  std::string Origin() const;

  std::unique_ptr<ReadableFile> file_;
  RunInfo info_;
  BlockDecoder decoder_;
  std::string frame_;
  uint64_t offset_ = 0;
  uint64_t records_ = 0;
  uint32_t blocks_ = 0;
};

}  // namespace sluice
