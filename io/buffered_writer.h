// Appends small pieces to a WritableFile through a large buffer.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "io/status.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {

class BufferedWriter {
 public:
  // The buffer is not zero-filled: a writer per reduce task zeroing 1 MiB
  // faulted in 256 fresh pages each time, 5 ms per task here and most of a
  // small job's cost. Pages of it that are never written cost nothing.
  explicit BufferedWriter(std::unique_ptr<WritableFile> file, size_t buffer_bytes = size_t{1} << 20)
      : file_(std::move(file)), buf_(new char[buffer_bytes]), capacity_(buffer_bytes) {
    XXH3_64bits_reset(&hash_);
  }

  // Appends; the first error sticks and is returned by every later call and
  // by Close(), so a hot loop may check only at the end.
  Status Append(std::string_view data) {
    // Empty: a default string_view's data() is null, which memcpy may not take.
    if (!status_.ok() || data.empty()) return status_;
    if (data.size() > capacity_ - used_) {
      status_ = Flush();
      if (!status_.ok()) return status_;
      if (data.size() >= capacity_) {
        status_ = HashAndWrite(data);
        bytes_ += data.size();
        return status_;
      }
    }
    std::memcpy(buf_.get() + used_, data.data(), data.size());
    used_ += data.size();
    bytes_ += data.size();
    return Status::OK();
  }

  // Flushes, fsyncs (unless `sync` is false: the caller makes many files
  // durable at once, e.g. with FileSystem::SyncFilesystem) and closes.
  // Without the fsync, the file's writeback starts here: the caller goes on
  // to other work (the next reduce task) while the device writes, and the
  // later sync waits only for what is left. A 1 GiB TeraSort's one syncfs
  // before commit took 0.9 s of its 3.4 s at 2 ranks.
  Status Close(bool sync = true) {
    if (status_.ok()) status_ = Flush();
    if (status_.ok()) {
      if (sync) {
        status_ = file_->Sync();
      } else {
        file_->StartWriteback();
      }
    }
    Status closed = file_->Close();
    if (status_.ok()) status_ = closed;
    return status_;
  }

  // Makes `s` (not OK) the writer's error, as if a write had failed with
  // it: nothing more reaches the file and Close() returns it. For a caller
  // that must refuse the whole file (an output setting the job cannot
  // honour: <sluice/text_output.h>, MakeOutput).
  void Fail(Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  uint64_t bytes_written() const { return bytes_; }
  // xxh3_64 of every byte appended so far (for the output manifest); final
  // once Close() has returned.
  uint64_t checksum() const { return XXH3_64bits_digest(&hash_); }
  // Time spent in the file's Append (writing, and compressing under
  // --output-compression) and in hashing, so far.
  uint64_t write_ns() const { return write_ns_; }
  uint64_t checksum_ns() const { return checksum_ns_; }

 private:
  Status Flush() {
    if (used_ == 0) return Status::OK();
    Status s = HashAndWrite(std::string_view(buf_.get(), used_));
    used_ = 0;
    return s;
  }
  // Timed apart, once per buffer: the report's write and checksum steps.
  Status HashAndWrite(std::string_view data) {
    const auto t0 = std::chrono::steady_clock::now();
    XXH3_64bits_update(&hash_, data.data(), data.size());
    const auto t1 = std::chrono::steady_clock::now();
    Status s = file_->Append(data);
    // Every file written through here is made durable later (Close's fsync
    // or the caller's syncfs): start the device on it as it grows, so that
    // sync waits only for the last few megabytes.
    unsynced_ += data.size();
    if (s.ok() && unsynced_ >= kWritebackBytes) {
      file_->StartWriteback();
      unsynced_ = 0;
    }
    const auto t2 = std::chrono::steady_clock::now();
    checksum_ns_ += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    write_ns_ += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t2 - t1).count());
    return s;
  }
  static constexpr uint64_t kWritebackBytes = uint64_t{8} << 20;
  std::unique_ptr<WritableFile> file_;
  std::unique_ptr<char[]> buf_;
  size_t capacity_;
  size_t used_ = 0;
  uint64_t bytes_ = 0;
  uint64_t unsynced_ = 0;  // appended since writeback last started
  uint64_t write_ns_ = 0;
  uint64_t checksum_ns_ = 0;
  XXH3_state_t hash_;
  Status status_;
};

}  // namespace sluice
