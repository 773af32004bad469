#include "io/fixed_record_reader.h"

#include <algorithm>

namespace sluice {
namespace {

uint64_t RoundUp(uint64_t v, uint64_t r) { return (v + r - 1) / r * r; }

}  // namespace

Status FixedRecordReader::CheckFile(const ReadableFile& file, uint32_t record_bytes) {
  if (file.size() % record_bytes != 0) {
    return Status::BadInput("'" + file.path() + "' is " + std::to_string(file.size()) +
                            " bytes, not a whole number of " + std::to_string(record_bytes) +
                            "-byte records (" + std::to_string(file.size() % record_bytes) +
                            " bytes left over)");
  }
  return Status::OK();
}

FixedRecordReader::FixedRecordReader(ReadableFile& file, uint64_t begin, uint64_t end,
                                     uint32_t record_bytes, size_t buffer_bytes, std::string* storage)
    : file_(file),
      record_bytes_(record_bytes),
      pos_(RoundUp(begin, record_bytes)),
      stop_(std::min(RoundUp(end, record_bytes), file.size() / record_bytes * record_bytes)),
      buf_(storage != nullptr ? *storage : own_),
      // Whole records per read, at least one.
      read_bytes_(std::max<size_t>(buffer_bytes / record_bytes, 1) * record_bytes) {
  if (buf_.size() < read_bytes_) buf_.resize(read_bytes_);
}

Result<bool> FixedRecordReader::NextChunk(std::string_view* chunk) {
  if (pos_ >= stop_) {
    *chunk = {};
    return false;
  }
  const size_t want = static_cast<size_t>(std::min<uint64_t>(read_bytes_, stop_ - pos_));
  size_t got = 0;
  SLUICE_RETURN_IF_ERROR(file_.ReadAt(pos_, want, buf_.data(), &got));
  if (got != want) {
    return Status::IOError("'" + file_.path() + "' shrank while being read (expected " +
                           std::to_string(want) + " bytes at offset " + std::to_string(pos_) +
                           ", got " + std::to_string(got) + ")");
  }
  chunk_offset_ = pos_;
  pos_ += got;
  *chunk = std::string_view(buf_.data(), got);
  return true;
}

}  // namespace sluice
