#include "io/compressed_writer.h"

#include <libdeflate.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {
namespace {

// Compressed bytes gathered before one write to the file: BGZF blocks are
// small, and a write per block would be a system call per 20 KiB.
constexpr size_t kOutBytes = size_t{1} << 20;

void PutLe16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

void PutLe32(uint8_t* p, uint32_t v) {
  PutLe16(p, v);
  PutLe16(p + 2, v >> 16);
}

}  // namespace

// One member at a time: the writer gathers a member's input, the codec turns
// it into the member's bytes (in a buffer of its own, valid until the next
// call).
class CompressedWritableFile::Codec {
 public:
  virtual ~Codec() = default;
  // Input bytes per member (the last may hold fewer).
  virtual size_t unit_bytes() const = 0;
  virtual Result<std::string_view> Compress(const char* data, size_t n) = 0;
  // What ends the stream after the last member ("" when nothing does).
  virtual std::string_view EndOfStream() const = 0;
  // Whether a stream with no member at all would be invalid, so that an
  // empty file needs one empty member.
  virtual bool NeedsAMember() const = 0;
};

namespace {

class ZstdCodec final : public CompressedWritableFile::Codec {
 public:
  ZstdCodec(ZSTD_CCtx* cctx, size_t frame_bytes)
      : cctx_(cctx), frame_bytes_(frame_bytes), out_(ZSTD_compressBound(frame_bytes), '\0') {}
  ~ZstdCodec() override { ZSTD_freeCCtx(cctx_); }

  size_t unit_bytes() const override { return frame_bytes_; }

  // One whole frame per call: with its input known, ZSTD_compress2 writes
  // its size into the frame header (Frame_Content_Size), which is what lets
  // a reader find the frames' decoded offsets without decoding.
  Result<std::string_view> Compress(const char* data, size_t n) override {
    const size_t got = ZSTD_compress2(cctx_, out_.data(), out_.size(), data, n);
    if (ZSTD_isError(got)) {
      return Status::Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(got));
    }
    return std::string_view(out_.data(), got);
  }
  std::string_view EndOfStream() const override { return {}; }
  bool NeedsAMember() const override { return true; }  // zstd -d refuses an empty file

 private:
  ZSTD_CCtx* cctx_;
  size_t frame_bytes_;
  std::string out_;
};

// BGZF (the SAM/BAM specification, section 4.1): each block a gzip member
// whose header carries the extra subfield 'B','C' holding the block's total
// size minus one, so a block never exceeds 64 KiB.
class BgzfCodec final : public CompressedWritableFile::Codec {
 public:
  // bgzip's own input per block: small enough that even incompressible input
  // fits one block as a stored deflate block.
  static constexpr size_t kBlockInput = 0xff00;
  static constexpr size_t kMaxBlock = 65536;
  static constexpr size_t kHeader = 18;
  static constexpr size_t kTrailer = 8;  // CRC32, ISIZE
  // The block `bgzip` ends every file with: an empty member.
  static constexpr uint8_t kEofBlock[28] = {0x1f, 0x8b, 0x08, 0x04, 0, 0, 0,    0, 0, 0xff,
                                            0x06, 0,    0x42, 0x43, 2, 0, 0x1b, 0, 3, 0,
                                            0,    0,    0,    0,    0, 0, 0,    0};

  explicit BgzfCodec(libdeflate_compressor* c) : compressor_(c) {}
  ~BgzfCodec() override { libdeflate_free_compressor(compressor_); }

  size_t unit_bytes() const override { return kBlockInput; }

  Result<std::string_view> Compress(const char* data, size_t n) override {
    static constexpr uint8_t kHeaderBytes[16] = {0x1f, 0x8b, 0x08, 0x04, 0,    0,    0, 0,
                                                 0,    0xff, 0x06, 0,    0x42, 0x43, 2, 0};
    std::memcpy(block_, kHeaderBytes, sizeof kHeaderBytes);
    uint8_t* body = block_ + kHeader;
    const size_t room = kMaxBlock - kHeader - kTrailer;
    size_t body_bytes = libdeflate_deflate_compress(compressor_, data, n, body, room);
    if (body_bytes == 0) {
      // Did not fit (input that does not compress): one stored block, which
      // always does, since n <= 0xff00. BFINAL=1, BTYPE=00, then LEN, NLEN.
      body[0] = 1;
      PutLe16(body + 1, static_cast<uint32_t>(n));
      PutLe16(body + 3, static_cast<uint32_t>(~n & 0xffff));
      std::memcpy(body + 5, data, n);
      body_bytes = n + 5;
    }
    const size_t total = kHeader + body_bytes + kTrailer;
    PutLe16(block_ + 16, static_cast<uint32_t>(total - 1));
    PutLe32(body + body_bytes, libdeflate_crc32(0, data, n));
    PutLe32(body + body_bytes + 4, static_cast<uint32_t>(n));
    return std::string_view(reinterpret_cast<const char*>(block_), total);
  }
  std::string_view EndOfStream() const override {
    return std::string_view(reinterpret_cast<const char*>(kEofBlock), sizeof kEofBlock);
  }
  bool NeedsAMember() const override { return false; }  // the EOF block is one

 private:
  libdeflate_compressor* compressor_;
  uint8_t block_[kMaxBlock];
};

}  // namespace

std::string_view OutputCompressionName(OutputCompression c) {
  switch (c) {
    case OutputCompression::kNone:
      return "none";
    case OutputCompression::kZstd:
      return "zstd";
    case OutputCompression::kGzip:
      return "gzip";
  }
  return "?";
}

std::string_view OutputCompressionExtension(OutputCompression c) {
  switch (c) {
    case OutputCompression::kNone:
      return "";
    case OutputCompression::kZstd:
      return ".zst";
    case OutputCompression::kGzip:
      return ".gz";
  }
  return "";
}

std::optional<OutputCompression> ParseOutputCompression(std::string_view name) {
  for (OutputCompression c :
       {OutputCompression::kNone, OutputCompression::kZstd, OutputCompression::kGzip}) {
    if (name == OutputCompressionName(c)) return c;
  }
  return std::nullopt;
}

CompressionLevels LevelsOf(OutputCompression c) {
  switch (c) {
    case OutputCompression::kNone:
      return {0, 0, 0};
    // 3: zstd's own default, several hundred MB/s with a ratio gzip -9
    // does not reach on text.
    case OutputCompression::kZstd:
      return {-7, 22, 3};
    // 1, not gzip's 6: libdeflate's level 1 compresses text about as gzip
    // -2 does, at twice gzip -1's speed; level 6 (in 64 KiB BGZF blocks) is
    // ~3x slower for ~10% smaller parts (README, "Output formats and
    // compression").
    case OutputCompression::kGzip:
      return {1, 12, 1};
  }
  return {};
}

struct CompressedWritableFile::Hash {
  XXH3_state_t state;
};

Result<std::unique_ptr<CompressedWritableFile>> CompressedWritableFile::Wrap(
    std::unique_ptr<WritableFile> base, const CompressedWriterOptions& options) {
  const CompressionLevels levels = LevelsOf(options.codec);
  const int level = options.level == 0 ? levels.fallback : options.level;
  const std::string name(OutputCompressionName(options.codec));
  if (options.codec == OutputCompression::kNone) {
    return Status::Usage("no compression to write with (codec 'none')");
  }
  if (level < levels.min || level > levels.max) {
    return Status::Usage(name + " level must be in " + std::to_string(levels.min) + ".." +
                         std::to_string(levels.max) + ", got " + std::to_string(level));
  }
  std::unique_ptr<Codec> codec;
  if (options.codec == OutputCompression::kZstd) {
    if (options.zstd_frame_bytes == 0) return Status::Usage("zstd frame size must be > 0");
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    if (cctx == nullptr) return Status::Internal("cannot allocate a zstd compression context");
    codec = std::make_unique<ZstdCodec>(cctx, options.zstd_frame_bytes);
    for (auto [param, value] :
         {std::pair{ZSTD_c_compressionLevel, level}, std::pair{ZSTD_c_checksumFlag, 1},
          std::pair{ZSTD_c_contentSizeFlag, 1}}) {
      const size_t r = ZSTD_CCtx_setParameter(cctx, param, value);
      if (ZSTD_isError(r)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(r));
    }
  } else {
    libdeflate_compressor* c = libdeflate_alloc_compressor(level);
    if (c == nullptr) return Status::Internal("cannot allocate a deflate compressor");
    codec = std::make_unique<BgzfCodec>(c);
  }
  return std::unique_ptr<CompressedWritableFile>(
      new CompressedWritableFile(std::move(base), std::move(codec)));
}

CompressedWritableFile::CompressedWritableFile(std::unique_ptr<WritableFile> base,
                                               std::unique_ptr<Codec> codec)
    : base_(std::move(base)), codec_(std::move(codec)), hash_(std::make_unique<Hash>()) {
  pending_.reserve(codec_->unit_bytes());
  out_.reserve(kOutBytes);
  XXH3_64bits_reset(&hash_->state);
}

CompressedWritableFile::~CompressedWritableFile() = default;

const std::string& CompressedWritableFile::path() const { return base_->path(); }
uint64_t CompressedWritableFile::file_bytes() const { return file_bytes_; }
uint64_t CompressedWritableFile::file_xxh3() const { return XXH3_64bits_digest(&hash_->state); }
uint64_t CompressedWritableFile::raw_bytes() const { return raw_bytes_; }

Status CompressedWritableFile::Append(std::string_view data) {
  if (!status_.ok()) return status_;
  if (closed_) return status_ = Status::Internal("append to closed file '" + path() + "'");
  if (data.empty()) return Status::OK();
  raw_bytes_ += data.size();
  stream_ended_ = false;
  const size_t unit = codec_->unit_bytes();
  while (!data.empty()) {
    if (pending_.empty() && data.size() >= unit) {  // a whole member: no copy
      SLUICE_RETURN_IF_ERROR(CompressUnit(data.data(), unit));
      data.remove_prefix(unit);
      continue;
    }
    const size_t take = std::min(unit - pending_.size(), data.size());
    pending_.append(data.data(), take);
    data.remove_prefix(take);
    if (pending_.size() == unit) {
      SLUICE_RETURN_IF_ERROR(CompressUnit(pending_.data(), pending_.size()));
      pending_.clear();
    }
  }
  return Status::OK();
}

Status CompressedWritableFile::CompressUnit(const char* data, size_t n) {
  Result<std::string_view> member = codec_->Compress(data, n);
  if (!member.ok()) return status_ = member.status();
  return Emit(member->data(), member->size());
}

Status CompressedWritableFile::Emit(const char* data, size_t n) {
  if (out_.size() + n > kOutBytes) SLUICE_RETURN_IF_ERROR(FlushOut());
  out_.append(data, n);
  return Status::OK();
}

Status CompressedWritableFile::FlushOut() {
  if (out_.empty()) return Status::OK();
  XXH3_64bits_update(&hash_->state, out_.data(), out_.size());
  file_bytes_ += out_.size();
  status_ = base_->Append(out_);
  out_.clear();
  return status_;
}

// The file as written so far becomes complete: the pending member, then
// whatever ends the stream.
Status CompressedWritableFile::EndStream() {
  if (!status_.ok()) return status_;
  if (stream_ended_) return Status::OK();
  if (!pending_.empty() || (file_bytes_ == 0 && out_.empty() && codec_->NeedsAMember())) {
    SLUICE_RETURN_IF_ERROR(CompressUnit(pending_.data(), pending_.size()));
    pending_.clear();
  }
  const std::string_view end = codec_->EndOfStream();
  SLUICE_RETURN_IF_ERROR(Emit(end.data(), end.size()));
  SLUICE_RETURN_IF_ERROR(FlushOut());
  stream_ended_ = true;
  return Status::OK();
}

Status CompressedWritableFile::Sync() {
  if (closed_)
    return status_.ok() ? Status::Internal("sync of closed file '" + path() + "'") : status_;
  SLUICE_RETURN_IF_ERROR(EndStream());
  return status_ = base_->Sync();
}

void CompressedWritableFile::StartWriteback() {
  if (!closed_) base_->StartWriteback();
}

Status CompressedWritableFile::Close() {
  if (closed_) return status_;
  closed_ = true;
  (void)EndStream();  // its error, if any, is status_
  Status closed = base_->Close();
  if (status_.ok()) status_ = closed;
  return status_;
}

}  // namespace sluice
