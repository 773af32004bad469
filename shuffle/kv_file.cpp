#include "shuffle/kv_file.h"

#include "shuffle/little_endian.h"

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the format is little-endian and copied with memcpy");

constexpr std::string_view kHeaderMagic = "SLKV";
constexpr std::string_view kFooterMagic = "SLKF";
constexpr std::string_view kTrailerMagic = "SLKE";
constexpr uint32_t kVersion = 1;

constexpr size_t kHashBytes = 8;
constexpr size_t kHeaderFixedBytes = 16;  // magic, version, two type name lengths
constexpr size_t kFooterFixedBytes = 28;  // magic, block count, total records, hash
constexpr size_t kFooterEntryBytes = 12;  // u64 offset, u32 records
constexpr size_t kTrailerBytes = 16;
// Empty type names, no blocks.
constexpr uint64_t kMinFileBytes =
    kHeaderFixedBytes + kHashBytes + kFooterFixedBytes + kTrailerBytes;
// The footer size is a u32; this many entries keep it in range.
constexpr uint64_t kMaxBlocks = (UINT32_MAX - kFooterFixedBytes) / kFooterEntryBytes;
// No writer makes a larger frame: bounds what one ReadBlock allocates.
constexpr uint64_t kMaxFrameBytes = kBlockHeaderBytes + ZSTD_COMPRESSBOUND(kMaxBlockRawBytes);

void PutHash(std::string* out) { Put64(out, XXH3_64bits(out->data(), out->size())); }
bool HashMatches(std::string_view bytes) {
  const size_t hashed = bytes.size() - kHashBytes;
  return Load64(bytes.data() + hashed) == XXH3_64bits(bytes.data(), hashed);
}

std::string Str(uint64_t v) { return std::to_string(v); }

}  // namespace

KvFileWriter::KvFileWriter(BufferedWriter* out, std::string_view key_type,
                           std::string_view value_type, int compression_level, size_t block_bytes)
    : out_(out),
      encoder_(compression_level),
      block_bytes_(std::min<size_t>(block_bytes, kMaxBlockRawBytes)) {
  if (out_->bytes_written() != 0) {
    status_ = Status::Internal("a key-value file must start at byte 0 of its output, not " +
                               Str(out_->bytes_written()));
    return;
  }
  if (key_type.size() > kMaxKvTypeNameBytes || value_type.size() > kMaxKvTypeNameBytes) {
    status_ = Status::Internal("key-value type names of " + Str(key_type.size()) + " and " +
                               Str(value_type.size()) + " bytes exceed the limit of " +
                               Str(kMaxKvTypeNameBytes));
    return;
  }
  std::string header(kHeaderMagic);
  Put32(&header, kVersion);
  Put32(&header, static_cast<uint32_t>(key_type.size()));
  Put32(&header, static_cast<uint32_t>(value_type.size()));
  header += key_type;
  header += value_type;
  PutHash(&header);
  status_ = out_->Append(header);
}

void KvFileWriter::RecordAdded() {
  ++block_records_;
  ++records_;
  if (raw_.size() >= block_bytes_ || block_records_ == UINT32_MAX) FlushBlock();
}

void KvFileWriter::FlushBlock() {
  if (block_records_ == 0) return;
  if (status_.ok()) status_ = WriteBlock();
  // Dropped even after an error, so that a failed writer does not grow.
  raw_.clear();
  block_records_ = 0;
}

Status KvFileWriter::WriteBlock() {
  if (blocks_ == kMaxBlocks) {
    return Status::Internal("a key-value file holds at most " + Str(kMaxBlocks) +
                            " blocks; raise block_bytes");
  }
  BlockInfo info;
  info.seq = static_cast<uint32_t>(blocks_);
  info.records = block_records_;
  SLUICE_RETURN_IF_ERROR(encoder_.Encode(info, raw_, &frame_));
  Put64(&index_, out_->bytes_written());
  Put32(&index_, block_records_);
  ++blocks_;
  return out_->Append(frame_);
}

Status KvFileWriter::Finish() {
  if (finished_) return Status::Internal("KvFileWriter::Finish called twice");
  finished_ = true;
  FlushBlock();
  if (!status_.ok()) return status_;
  const uint64_t footer_offset = out_->bytes_written();
  std::string footer(kFooterMagic);
  Put64(&footer, blocks_);
  footer += index_;
  Put64(&footer, records_);
  PutHash(&footer);
  std::string trailer;
  Put64(&trailer, footer_offset);
  Put32(&trailer, static_cast<uint32_t>(footer.size()));  // <= UINT32_MAX by kMaxBlocks
  trailer += kTrailerMagic;
  status_ = out_->Append(footer);
  if (status_.ok()) status_ = out_->Append(trailer);
  return status_;
}

Result<std::unique_ptr<KvFileReader>> KvFileReader::Open(FileSystem& fs, const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, fs.OpenForRead(path));
  std::unique_ptr<KvFileReader> reader(new KvFileReader(std::move(file), path));
  SLUICE_RETURN_IF_ERROR(reader->Load());
  return reader;
}

Result<std::unique_ptr<KvFileReader>> KvFileReader::Open(std::unique_ptr<ReadableFile> file) {
  std::string path = file->path();
  std::unique_ptr<KvFileReader> reader(new KvFileReader(std::move(file), std::move(path)));
  SLUICE_RETURN_IF_ERROR(reader->Load());
  return reader;
}

KvFileReader::KvFileReader(std::unique_ptr<ReadableFile> file, std::string path)
    : file_(std::move(file)), path_(std::move(path)), file_size_(file_->size()) {}

Status KvFileReader::CorruptAt(uint64_t offset, std::string_view what) const {
  return Status::Corruption("key-value file '" + path_ + "' at offset " + Str(offset) + ": " +
                            std::string(what));
}

std::string KvFileReader::DescribeBlock(size_t i) const {
  return "key-value file '" + path_ + "' block " + Str(i) + " at offset " + Str(blocks_[i].offset);
}

Status KvFileReader::ReadExact(uint64_t offset, size_t n, std::string* out) {
  out->resize(n);
  size_t done = 0;
  while (done < n) {
    size_t got = 0;
    SLUICE_RETURN_IF_ERROR(file_->ReadAt(offset + done, n - done, out->data() + done, &got));
    // Every caller has checked the range against the size at open.
    if (got == 0) {
      return CorruptAt(offset + done,
                       "the file ends here; it was " + Str(file_size_) + " bytes when opened");
    }
    done += got;
  }
  return Status::OK();
}

Status KvFileReader::Load() {
  std::string head;
  SLUICE_RETURN_IF_ERROR(ReadExact(0, std::min<uint64_t>(file_size_, kHeaderFixedBytes), &head));
  std::string tail;
  if (file_size_ >= kTrailerBytes) {
    SLUICE_RETURN_IF_ERROR(ReadExact(file_size_ - kTrailerBytes, kTrailerBytes, &tail));
  }
  // Which magic survives tells "not ours" from "ours, but damaged": a
  // truncated file keeps its head, a file damaged at one end keeps the other.
  const bool has_header_magic = head.starts_with(kHeaderMagic);
  const bool has_trailer_magic = tail.ends_with(kTrailerMagic);
  if (!has_header_magic && !has_trailer_magic) {
    return Status::BadInput("'" + path_ +
                            "' is not a Sluice key-value file: it neither starts with SLKV nor "
                            "ends with SLKE");
  }
  if (file_size_ < kMinFileBytes) {
    return CorruptAt(file_size_, "the file ends here, short of the " + Str(kMinFileBytes) +
                                     " bytes that even an empty key-value file has");
  }
  if (!has_trailer_magic) {
    return CorruptAt(file_size_ - kTrailerMagic.size(),
                     "no trailer magic SLKE at the end: the file is truncated or damaged");
  }
  if (!has_header_magic) return CorruptAt(0, "bad header magic");
  if (const uint32_t version = Load32(head.data() + 4); version != kVersion) {
    return Status::BadInput("key-value file '" + path_ + "' at offset 4: format version " +
                            Str(version) + "; this build reads version " + Str(kVersion));
  }

  const uint64_t trailer_offset = file_size_ - kTrailerBytes;
  footer_offset_ = Load64(tail.data());
  const uint32_t footer_size = Load32(tail.data() + 8);
  if (footer_size > trailer_offset || footer_offset_ != trailer_offset - footer_size) {
    return CorruptAt(trailer_offset, "the trailer names a footer of " + Str(footer_size) +
                                         " bytes at offset " + Str(footer_offset_) +
                                         ", which does not end where the trailer begins");
  }
  SLUICE_RETURN_IF_ERROR(LoadFooter(footer_size));
  SLUICE_RETURN_IF_ERROR(LoadHeader(head));
  return CheckBlockLayout();
}

Status KvFileReader::LoadFooter(uint64_t footer_size) {
  if (footer_size < kFooterFixedBytes ||
      (footer_size - kFooterFixedBytes) % kFooterEntryBytes != 0) {
    return CorruptAt(file_size_ - kTrailerBytes,
                     "the trailer gives a footer size of " + Str(footer_size) + ", not " +
                         Str(kFooterFixedBytes) + " + " + Str(kFooterEntryBytes) + " per block");
  }
  std::string footer;
  SLUICE_RETURN_IF_ERROR(ReadExact(footer_offset_, footer_size, &footer));
  if (!footer.starts_with(kFooterMagic)) return CorruptAt(footer_offset_, "bad footer magic");
  if (!HashMatches(footer)) return CorruptAt(footer_offset_, "footer checksum mismatch");

  const uint64_t block_count = Load64(footer.data() + 4);
  const uint64_t room = (footer_size - kFooterFixedBytes) / kFooterEntryBytes;
  if (block_count != room) {
    return CorruptAt(footer_offset_ + 4, "the footer lists " + Str(block_count) +
                                             " blocks but has room for " + Str(room));
  }
  // Every frame is at least a frame header long: caps the index by the file
  // before anything is allocated for it.
  if (block_count > footer_offset_ / kBlockHeaderBytes) {
    return CorruptAt(footer_offset_ + 4, Str(block_count) + " blocks cannot fit in the " +
                                             Str(footer_offset_) + " bytes before the footer");
  }
  blocks_.reserve(block_count);
  const char* entry = footer.data() + 12;
  for (uint64_t i = 0; i < block_count; ++i, entry += kFooterEntryBytes) {
    blocks_.push_back(KvBlockRef{Load64(entry), Load32(entry + 8), 0});
  }
  total_records_ = Load64(footer.data() + footer.size() - 2 * kHashBytes);
  return Status::OK();
}

Status KvFileReader::LoadHeader(std::string_view fixed) {
  const uint32_t key_len = Load32(fixed.data() + 8);
  const uint32_t value_len = Load32(fixed.data() + 12);
  if (key_len > kMaxKvTypeNameBytes || value_len > kMaxKvTypeNameBytes) {
    return CorruptAt(8, "type name lengths " + Str(key_len) + " and " + Str(value_len) +
                            " exceed the limit of " + Str(kMaxKvTypeNameBytes));
  }
  header_bytes_ = kHeaderFixedBytes + key_len + value_len + kHashBytes;
  if (header_bytes_ > footer_offset_) {
    return CorruptAt(8, "a header of " + Str(header_bytes_) +
                            " bytes would run into the footer at " + Str(footer_offset_));
  }
  std::string header;
  SLUICE_RETURN_IF_ERROR(ReadExact(0, header_bytes_, &header));
  if (!HashMatches(header)) return CorruptAt(0, "header checksum mismatch");
  key_type_ = header.substr(kHeaderFixedBytes, key_len);
  value_type_ = header.substr(kHeaderFixedBytes + key_len, value_len);
  return Status::OK();
}

// The frames must tile the bytes from the header's end to the footer in
// index order. Only their starts are checked here; a frame whose own size
// disagrees with its slot is caught when ReadBlock decodes it.
Status KvFileReader::CheckBlockLayout() {
  if (blocks_.empty() && header_bytes_ != footer_offset_) {
    return CorruptAt(header_bytes_, "no blocks are listed, but " +
                                        Str(footer_offset_ - header_bytes_) +
                                        " bytes lie between the header and the footer");
  }
  uint64_t records = 0;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const KvBlockRef& b = blocks_[i];
    const uint64_t entry = footer_offset_ + 12 + i * kFooterEntryBytes;
    const std::string listed = "block " + Str(i) + " is listed at offset " + Str(b.offset);
    if (i == 0 && b.offset != header_bytes_) {
      return CorruptAt(entry, listed + ", but the header ends at " + Str(header_bytes_));
    }
    if (i > 0 && (b.offset < blocks_[i - 1].offset ||
                  b.offset - blocks_[i - 1].offset < kBlockHeaderBytes)) {
      return CorruptAt(entry, listed + ", overlapping block " + Str(i - 1) + " at " +
                                  Str(blocks_[i - 1].offset));
    }
    if (b.offset > footer_offset_ || footer_offset_ - b.offset < kBlockHeaderBytes) {
      return CorruptAt(entry, listed + ", too close to the footer at " + Str(footer_offset_));
    }
    if (b.records == 0) return CorruptAt(entry, listed + " with no records");
    records += b.records;
  }
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const uint64_t next = i + 1 < blocks_.size() ? blocks_[i + 1].offset : footer_offset_;
    blocks_[i].frame_bytes = next - blocks_[i].offset;
    if (blocks_[i].frame_bytes > kMaxFrameBytes) {
      return CorruptAt(blocks_[i].offset, "block " + Str(i) + " spans " +
                                              Str(blocks_[i].frame_bytes) +
                                              " bytes, more than any frame can");
    }
  }
  if (records != total_records_) {
    return CorruptAt(file_size_ - kTrailerBytes - 2 * kHashBytes,
                     "the blocks hold " + Str(records) + " records, but the footer's total is " +
                         Str(total_records_));
  }
  return Status::OK();
}

std::pair<size_t, size_t> KvFileReader::BlocksStartingIn(uint64_t begin, uint64_t end) const {
  const auto first_at_or_after = [this](uint64_t offset) {
    return static_cast<size_t>(
        std::partition_point(blocks_.begin(), blocks_.end(),
                             [offset](const KvBlockRef& b) { return b.offset < offset; }) -
        blocks_.begin());
  };
  const size_t first = first_at_or_after(begin);
  return {first, std::max(first, first_at_or_after(end))};
}

uint64_t KvFileReader::BytesOwnedBy(uint64_t begin, uint64_t end) const {
  if (end <= begin) return 0;
  uint64_t bytes = 0;
  // Frames are contiguous, so the ones starting in the range span one run.
  if (const auto [first, last] = BlocksStartingIn(begin, end); first < last) {
    bytes += blocks_[last - 1].offset + blocks_[last - 1].frame_bytes - blocks_[first].offset;
  }
  if (begin == 0) bytes += header_bytes_;
  if (footer_offset_ >= begin && footer_offset_ < end) bytes += file_size_ - footer_offset_;
  return bytes;
}

Status KvFileReader::ReadBlock(size_t i, std::string* raw) {
  if (i >= blocks_.size()) {
    return Status::Internal("key-value file '" + path_ + "' has " + Str(blocks_.size()) +
                            " blocks; block " + Str(i) + " was asked for");
  }
  const KvBlockRef& ref = blocks_[i];
  SLUICE_RETURN_IF_ERROR(ReadExact(ref.offset, ref.frame_bytes, &frame_));
  const std::string origin = DescribeBlock(i);
  BlockInfo info;
  SLUICE_RETURN_IF_ERROR(decoder_.Decode(frame_, origin, &info, raw));
  if (info.seq != i || info.records != ref.records || info.partition != 0 || info.split != 0) {
    return Status::Corruption(origin + ": the frame is block " + Str(info.seq) + " of split " +
                              Str(info.split) + ", partition " + Str(info.partition) + " with " +
                              Str(info.records) + " records; the footer expects block " + Str(i) +
                              " of split 0, partition 0 with " + Str(ref.records));
  }
  return Status::OK();
}

Status CheckKvTypeNames(const KvFileReader& reader, std::string_view key_type,
                        std::string_view value_type) {
  if (reader.key_type() == key_type && reader.value_type() == value_type) return Status::OK();
  return Status::BadInput("key-value file '" + reader.path() + "' holds (" + reader.key_type() +
                          ", " + reader.value_type() + ") records but the job reads (" +
                          std::string(key_type) + ", " + std::string(value_type) + ")");
}

}  // namespace sluice
