#include "io/fault_injecting_file_system.h"

#include <algorithm>

namespace sluice {
namespace {

class FaultyReadable final : public ReadableFile {
 public:
  FaultyReadable(std::unique_ptr<ReadableFile> base, FaultInjectingFileSystem* fs)
      : base_(std::move(base)), fs_(fs) {}
  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) override {
    if (int err = fs_->Inject(FsOp::kRead)) return Status::FromErrno("read", path(), err);
    if (fs_->read_limit() > 0) n = std::min(n, fs_->read_limit());
    return base_->ReadAt(offset, n, dst, got);
  }
  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  std::unique_ptr<ReadableFile> base_;
  FaultInjectingFileSystem* fs_;
};

class FaultyWritable final : public WritableFile {
 public:
  FaultyWritable(std::unique_ptr<WritableFile> base, FaultInjectingFileSystem* fs)
      : base_(std::move(base)), fs_(fs) {}
  Status Append(std::string_view data) override {
    if (int err = fs_->Inject(FsOp::kAppend)) return Status::FromErrno("write", path(), err);
    if (!data.empty() && fs_->TakeCorruptAppend()) {
      std::string flipped(data);
      flipped[flipped.size() / 2] ^= 0x20;
      return base_->Append(flipped);
    }
    return base_->Append(data);
  }
  Status Sync() override {
    if (int err = fs_->Inject(FsOp::kSync)) return Status::FromErrno("fsync", path(), err);
    return base_->Sync();
  }
  void StartWriteback() override { base_->StartWriteback(); }
  Status Close() override {
    Status s = base_->Close();
    if (int err = fs_->Inject(FsOp::kClose)) return Status::FromErrno("close", path(), err);
    return s;
  }
  const std::string& path() const override { return base_->path(); }

 private:
  std::unique_ptr<WritableFile> base_;
  FaultInjectingFileSystem* fs_;
};

}  // namespace

int FaultInjectingFileSystem::Inject(FsOp op) {
  if (countdown_ == 0 || (op_ != FsOp::kAny && op != op_)) return 0;
  if (--countdown_ > 0) return 0;
  fired_ = true;
  return err_;
}

Result<std::unique_ptr<ReadableFile>> FaultInjectingFileSystem::OpenForRead(const std::string& path) {
  if (int err = Inject(FsOp::kOpen)) return Status::FromErrno("open", path, err);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> f, base_->OpenForRead(path));
  return std::unique_ptr<ReadableFile>(new FaultyReadable(std::move(f), this));
}

Result<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::Create(const std::string& path) {
  if (int err = Inject(FsOp::kCreate)) return Status::FromErrno("create", path, err);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, base_->Create(path));
  return std::unique_ptr<WritableFile>(new FaultyWritable(std::move(f), this));
}

Status FaultInjectingFileSystem::Rename(const std::string& from, const std::string& to) {
  if (int err = Inject(FsOp::kRename)) return Status::FromErrno("rename", from, err);
  return base_->Rename(from, to);
}

Status FaultInjectingFileSystem::Link(const std::string& from, const std::string& to) {
  if (int err = Inject(FsOp::kLink)) return Status::FromErrno("link", from, err);
  return base_->Link(from, to);
}

Status FaultInjectingFileSystem::CreatePrivateDir(const std::string& path) {
  if (int err = Inject(FsOp::kCreate)) return Status::FromErrno("mkdir", path, err);
  return base_->CreatePrivateDir(path);
}

Result<bool> FaultInjectingFileSystem::Exchange(const std::string& a, const std::string& b) {
  if (int err = Inject(FsOp::kExchange)) return Status::FromErrno("exchange", a, err);
  return base_->Exchange(a, b);
}

Status FaultInjectingFileSystem::SyncFilesystem(const std::string& path) {
  if (int err = Inject(FsOp::kSync)) return Status::FromErrno("syncfs", path, err);
  return base_->SyncFilesystem(path);
}

Status FaultInjectingFileSystem::SyncDir(const std::string& path) {
  if (int err = Inject(FsOp::kSyncDir)) return Status::FromErrno("fsync directory", path, err);
  return base_->SyncDir(path);
}

}  // namespace sluice
