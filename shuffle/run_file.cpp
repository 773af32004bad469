#include "shuffle/run_file.h"

#include <utility>

namespace sluice {

Result<std::unique_ptr<RunWriter>> RunWriter::Create(FileSystem& fs, const std::string& path,
                                                     int compression_level, size_t block_bytes) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs.Create(path));
  return std::unique_ptr<RunWriter>(new RunWriter(std::move(file), compression_level, block_bytes));
}

RunWriter::RunWriter(std::unique_ptr<WritableFile> file, int level, size_t block_bytes)
    : file_(std::move(file)), encoder_(level), block_bytes_(block_bytes) {
  info_.path = file_->path();
  raw_.reserve(block_bytes + block_bytes / 4);
}

Status RunWriter::Flush() {
  if (block_records_ == 0) return Status::OK();
  BlockInfo block;
  block.seq = info_.blocks;
  block.records = block_records_;
  SLUICE_RETURN_IF_ERROR(encoder_.Encode(block, raw_, &frame_));
  SLUICE_RETURN_IF_ERROR(file_->Append(frame_));
  info_.bytes += frame_.size();
  info_.records += block_records_;
  ++info_.blocks;
  raw_.clear();
  block_records_ = 0;
  return Status::OK();
}

Result<RunInfo> RunWriter::Finish() {
  SLUICE_RETURN_IF_ERROR(Flush());
  SLUICE_RETURN_IF_ERROR(file_->Close());
  return info_;
}

Result<std::unique_ptr<RunReader>> RunReader::Open(FileSystem& fs, const RunInfo& info) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, fs.OpenForRead(info.path));
  if (file->size() != info.bytes) {
    return Status::Corruption("spill run '" + info.path + "' is " + std::to_string(file->size()) +
                              " bytes, " + std::to_string(info.bytes) + " were written");
  }
  return std::unique_ptr<RunReader>(new RunReader(std::move(file), info));
}

RunReader::RunReader(std::unique_ptr<ReadableFile> file, const RunInfo& info)
    : file_(std::move(file)), info_(info) {}

std::string RunReader::Origin() const {
  return "spill run '" + info_.path + "' at offset " + std::to_string(offset_);
}

Result<bool> RunReader::NextBlock(std::string* raw, uint32_t* records) {
  if (offset_ == info_.bytes) {
    if (records_ != info_.records || blocks_ != info_.blocks) {
      return Status::Corruption("spill run '" + info_.path + "' ended after " +
                                std::to_string(records_) + " of " + std::to_string(info_.records) +
                                " records");
    }
    return false;
  }
  size_t got = 0;
  frame_.resize(kBlockHeaderBytes);
  SLUICE_RETURN_IF_ERROR(file_->ReadAt(offset_, kBlockHeaderBytes, frame_.data(), &got));
  if (got != kBlockHeaderBytes) return Status::Corruption(Origin() + ": truncated block header");
  SLUICE_ASSIGN_OR_RETURN(BlockInfo peek,
                          BlockDecoder::ParseHeader(std::string_view(frame_.data(), got), Origin()));
  const uint64_t frame_bytes = kBlockHeaderBytes + uint64_t{peek.packed_size};
  if (frame_bytes > info_.bytes - offset_) return Status::Corruption(Origin() + ": truncated block");
  frame_.resize(frame_bytes);
  SLUICE_RETURN_IF_ERROR(file_->ReadAt(offset_ + kBlockHeaderBytes, peek.packed_size,
                                       frame_.data() + kBlockHeaderBytes, &got));
  if (got != peek.packed_size) return Status::Corruption(Origin() + ": truncated block");
  BlockInfo block;
  SLUICE_RETURN_IF_ERROR(decoder_.Decode(frame_, Origin(), &block, raw));
  if (block.seq != blocks_) {
    return Status::Corruption(Origin() + ": block " + std::to_string(block.seq) + " where block " +
                              std::to_string(blocks_) + " belongs");
  }
  offset_ += frame_bytes;
  records_ += block.records;
  ++blocks_;
  *records = block.records;
  return true;
}

}  // namespace sluice
