// A FileSystem that forwards to another and fails the calls a test chooses:
// the Nth write with ENOSPC, a rename with EIO, reads that come back short.
// It is how tests prove that every I/O failure surfaces as a Status naming
// the file, and that nothing half-written is published.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "io/file_system.h"

namespace sluice {

// kAny: whichever call comes next (the `ioerror` fault action).
enum class FsOp : uint8_t { kOpen, kCreate, kRead, kAppend, kSync, kClose, kRename, kSyncDir, kLink, kExchange, kAny };

class FaultInjectingFileSystem;
// The injector inside FileSystem::Default(): unarmed it passes every call
// through; SLUICE_FAULT=POINT@RANK:ioerror arms it (fault_points.h).
FaultInjectingFileSystem& DefaultFileSystemFaults();

class FaultInjectingFileSystem final : public FileSystem {
 public:
  // `base` must outlive this object.
  explicit FaultInjectingFileSystem(FileSystem* base) : base_(base) {}

  // The `nth` (1-based, counted from now) call of `op` fails with `err`
  // (ENOSPC, EIO, ...). One armed fault at a time; re-arming replaces it.
  void FailNth(FsOp op, int nth, int err) {
    op_ = op;
    err_ = err;
    countdown_ = nth;
  }
  // Every ReadAt returns at most `bytes` (0: no limit): a legal short read
  // that the caller must loop over, not mistake for end of file.
  void LimitReads(size_t bytes) { read_limit_ = bytes; }
  // The next Append (through any file) writes its data with one byte
  // flipped and reports success: silent corruption, as a failing disk or
  // controller gives, which only a checksum can catch.
  void CorruptNextAppend() { corrupt_next_append_ = true; }
  bool TakeCorruptAppend() { return std::exchange(corrupt_next_append_, false); }
  // Whether the armed fault has fired.
  bool fired() const { return fired_; }

  // Returns the error to inject for this call of `op`, or 0.
  int Inject(FsOp op);
  size_t read_limit() const { return read_limit_; }

  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override { return base_->Stat(path); }
  Result<FileInfo> LinkStat(const std::string& path) override { return base_->LinkStat(path); }
  Status CreatePrivateDir(const std::string& path) override;
  Result<bool> Exchange(const std::string& a, const std::string& b) override;
  Status SyncFilesystem(const std::string& path) override;
  Status SetMode(const std::string& path, uint32_t mode) override { return base_->SetMode(path, mode); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Status CreateDirs(const std::string& path) override { return base_->CreateDirs(path); }
  Status Rename(const std::string& from, const std::string& to) override;
  Status Link(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  Status RemoveAll(const std::string& path) override { return base_->RemoveAll(path); }
  bool Exists(const std::string& path) override { return base_->Exists(path); }
  bool IsReadable(const std::string& path) override { return base_->IsReadable(path); }
  Status SyncDir(const std::string& path) override;

 private:
  FileSystem* base_;
  FsOp op_ = FsOp::kOpen;
  int err_ = 0;
  int countdown_ = 0;  // 0: nothing armed
  bool fired_ = false;
  size_t read_limit_ = 0;
  bool corrupt_next_append_ = false;
};

}  // namespace sluice
