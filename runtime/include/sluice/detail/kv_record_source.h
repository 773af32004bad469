// The records of a key-value input: a Sluice key-value file
// (shuffle/kv_file.h), read and decoded by the same KvFileReader and
// ForEachKvRecord that tests/fuzz/kv_file_reader_fuzz.cpp exercises.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "io/file_system.h"
#include "io/split_planner.h"
#include "io/status.h"
#include "shuffle/kv_file.h"

namespace sluice {

// A RecordSource (record_source.h): the (Key, Value) records of the blocks
// whose frames start in `range`, one block per chunk. The offset of every
// record is its block's: a position known without decoding the block.
template <class Key, class Value>
class KvRecordSource {
 public:
  static constexpr bool kInFile = true;

  // Takes over `file`, opened (and checked) by the caller.
  KvRecordSource(std::unique_ptr<ReadableFile> file, const FileRange& range)
      : file_(std::move(file)), path_(file_->path()), range_(range) {}

  // Reads the file's trailer, footer and header and checks that it holds
  // (Key, Value) records. Its bytes are all counted here, as the split rule
  // assigns them (KvFileReader::BytesOwnedBy).
  Status Start() {
    SLUICE_ASSIGN_OR_RETURN(reader_, KvFileReader::Open(std::move(file_)));
    SLUICE_RETURN_IF_ERROR((CheckKvTypes<Key, Value>(*reader_)));
    new_bytes_ = reader_->BytesOwnedBy(range_.begin, range_.end);
    std::tie(next_block_, last_block_) = reader_->BlocksStartingIn(range_.begin, range_.end);
    return Status::OK();
  }

  Result<bool> NextChunk() {
    if (next_block_ == last_block_) return false;
    block_ = next_block_++;
    SLUICE_RETURN_IF_ERROR(reader_->ReadBlock(block_, &raw_));
    return true;
  }

  uint64_t TakeBytesRead() { return std::exchange(new_bytes_, 0); }

  // A record that does not decode, or bytes left after the block's last
  // record, are kCorruption naming the file and the block.
  template <class Fn>
  Status ForEachRecord(Fn&& fn) {
    const uint64_t offset = reader_->blocks()[block_].offset;
    uint32_t next_record = 0;
    auto each = [&](const auto& key, const auto& value) {
      record_ = next_record++;
      fn(offset, key, value);
    };
    return ForEachKvRecord<Key, Value>(*reader_, block_, raw_, each);
  }

  std::string Where(uint64_t offset) const {
    return "the record " + std::to_string(record_) + " of the block at byte " +
           std::to_string(offset) + " of '" + path_ + "'";
  }
  const std::string& path() const { return path_; }

 private:
  std::unique_ptr<ReadableFile> file_;  // until Start hands it to reader_
  std::string path_;                    // a copy: the file object moves into the reader
  FileRange range_;
  std::unique_ptr<KvFileReader> reader_;
  size_t next_block_ = 0;
  size_t last_block_ = 0;
  size_t block_ = 0;     // the chunk's block
  uint32_t record_ = 0;  // in block_, the record last handed out
  std::string raw_;      // block_'s decompressed records
  uint64_t new_bytes_ = 0;
};

}  // namespace sluice
