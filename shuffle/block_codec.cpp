#include "shuffle/block_codec.h"
#include "shuffle/little_endian.h"

#include <zstd.h>

#include <bit>
#include <cstring>
#include <new>
#include <string>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice {
namespace {

static_assert(std::endian::native == std::endian::little,
              "frame headers are stored little-endian and copied with memcpy");

// 'S','L','B','1' read as a little-endian u32.
constexpr uint32_t kMagic = 0x31424C53u;
// The version names the payload's form (block_codec.h).
constexpr uint32_t kVersionZstd = 1;
constexpr uint32_t kVersionStored = 2;

// Byte offsets of the header fields (see block_codec.h).
constexpr size_t kOffMagic = 0;
constexpr size_t kOffVersion = 4;
constexpr size_t kOffPartition = 8;
constexpr size_t kOffSplit = 12;
constexpr size_t kOffSeq = 16;
constexpr size_t kOffRecords = 20;
constexpr size_t kOffRawSize = 24;
constexpr size_t kOffPackedSize = 28;
constexpr size_t kOffPayloadHash = 32;
constexpr size_t kOffHeaderHash = 40;
static_assert(kOffHeaderHash + 8 == kBlockHeaderBytes);


uint64_t HeaderHash(const char* header) { return XXH3_64bits(header, kOffHeaderHash); }

std::string Describe(std::string_view origin, std::string_view what, size_t frame_bytes) {
  std::string msg(origin);
  msg += ": ";
  msg += what;
  msg += " (frame of ";
  msg += std::to_string(frame_bytes);
  msg += " bytes)";
  return msg;
}

Status TooLargeFor(std::string_view origin, uint32_t raw_size, size_t capacity, size_t frame_bytes) {
  return Status::Corruption(Describe(origin,
                                     "block raw size " + std::to_string(raw_size) + " exceeds the " +
                                         std::to_string(capacity) + " bytes its reader expected",
                                     frame_bytes));
}

// Fills in the header of a frame whose payload is already in place.
void SealHeader(const BlockInfo& info, uint32_t version, size_t raw_size, size_t packed_size,
                char* out) {
  Store32(out + kOffMagic, kMagic);
  Store32(out + kOffVersion, version);
  Store32(out + kOffPartition, info.partition);
  Store32(out + kOffSplit, info.split);
  Store32(out + kOffSeq, info.seq);
  Store32(out + kOffRecords, info.records);
  Store32(out + kOffRawSize, static_cast<uint32_t>(raw_size));
  // compressBound(256 MiB) is far below 4 GiB, so the packed size fits.
  Store32(out + kOffPackedSize, static_cast<uint32_t>(packed_size));
  Store64(out + kOffPayloadHash, XXH3_64bits(out + kBlockHeaderBytes, packed_size));
  Store64(out + kOffHeaderHash, HeaderHash(out));
}

}  // namespace

BlockEncoder::BlockEncoder(int compression_level)
    : cctx_(ZSTD_createCCtx()), level_(compression_level) {
  if (cctx_ == nullptr) throw std::bad_alloc();
  auto* cctx = static_cast<ZSTD_CCtx*>(cctx_);
  // In range for any level zstd accepts (it clamps levels).
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level_);
  // No zstd content checksum: the frame's header carries an xxh3 of the
  // packed payload, checked before every decode, and decoding intact bytes
  // gives the bytes that were encoded. A second checksum, over the raw
  // bytes, cost an xxh64 pass on each side of every block. Frames written
  // with one (earlier saved tasks) still decode, and zstd still checks it.
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
}

BlockEncoder::~BlockEncoder() { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_)); }

Status BlockEncoder::Encode(BlockInfo info, std::string_view raw, std::string* frame,
                            BlockPayload payload) {
  if (raw.size() > kMaxBlockRawBytes) {
    return Status::Internal("block of " + std::to_string(raw.size()) +
                            " raw bytes exceeds the limit of " + std::to_string(kMaxBlockRawBytes));
  }
  if (payload == BlockPayload::kStored) {
    // A new string of the exact size, as below.
    std::string built;
    built.reserve(kBlockHeaderBytes + raw.size());
    built.append(kBlockHeaderBytes, '\0');
    built.append(raw);
    *frame = std::move(built);
    SealHeader(info, kVersionStored, raw.size(), raw.size(), frame->data());
    return Status::OK();
  }
  // Compressed into a kept scratch buffer, then copied into a frame of the
  // exact size: resizing the frame to compressBound instead zero-filled and
  // page-faulted a fresh megabyte per block (a fifth of a 1 GB TeraSort's
  // time in memset), and shrinking it after copied the payload anyway.
  const size_t bound = ZSTD_compressBound(raw.size());
  if (bound > scratch_bytes_) {
    scratch_.reset();  // free first: never hold both
    scratch_.reset(new char[bound]);
    scratch_bytes_ = bound;
  }
  const size_t packed = ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx_), scratch_.get(), bound,
                                       raw.data(), raw.size());
  if (ZSTD_isError(packed)) {
    frame->clear();
    return Status::Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(packed));
  }
  // A new string, not *frame reused: frames are moved away and kept until
  // reduce, counted by size(), so the capacity must be the size.
  std::string built;
  built.reserve(kBlockHeaderBytes + packed);
  built.append(kBlockHeaderBytes, '\0');
  built.append(scratch_.get(), packed);
  *frame = std::move(built);
  SealHeader(info, kVersionZstd, raw.size(), packed, frame->data());
  return Status::OK();
}

BlockDecoder::BlockDecoder() : dctx_(ZSTD_createDCtx()) {
  if (dctx_ == nullptr) throw std::bad_alloc();
}

BlockDecoder::~BlockDecoder() { ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(dctx_)); }

Result<BlockInfo> BlockDecoder::PeekHeader(std::string_view frame, std::string_view origin) {
  SLUICE_ASSIGN_OR_RETURN(BlockInfo info, ParseHeader(frame, origin));
  if (info.packed_size != frame.size() - kBlockHeaderBytes) {
    return Status::Corruption(Describe(
        origin,
        "block packed size " + std::to_string(info.packed_size) + " does not match the frame",
        frame.size()));
  }
  return info;
}

Result<BlockInfo> BlockDecoder::ParseHeader(std::string_view frame, std::string_view origin) {
  if (frame.size() < kBlockHeaderBytes) {
    return Status::Corruption(std::string(origin) + ": truncated block header (" +
                              std::to_string(frame.size()) + " bytes)");
  }
  const char* h = frame.data();
  if (Load32(h + kOffMagic) != kMagic) {
    return Status::Corruption(Describe(origin, "bad block magic", frame.size()));
  }
  const uint32_t version = Load32(h + kOffVersion);
  if (version != kVersionZstd && version != kVersionStored) {
    return Status::Corruption(
        Describe(origin, "unsupported block version " + std::to_string(version), frame.size()));
  }
  if (Load64(h + kOffHeaderHash) != HeaderHash(h)) {
    return Status::Corruption(Describe(origin, "block header checksum mismatch", frame.size()));
  }
  BlockInfo info;
  info.partition = Load32(h + kOffPartition);
  info.split = Load32(h + kOffSplit);
  info.seq = Load32(h + kOffSeq);
  info.records = Load32(h + kOffRecords);
  info.raw_size = Load32(h + kOffRawSize);
  info.packed_size = Load32(h + kOffPackedSize);
  info.stored = version == kVersionStored;
  if (info.raw_size > kMaxBlockRawBytes) {
    return Status::Corruption(Describe(origin,
                                       "block raw size " + std::to_string(info.raw_size) +
                                           " exceeds the limit of " +
                                           std::to_string(kMaxBlockRawBytes),
                                       frame.size()));
  }
  if (info.stored && info.packed_size != info.raw_size) {
    return Status::Corruption(Describe(origin,
                                       "stored block of " + std::to_string(info.packed_size) +
                                           " bytes, header says " + std::to_string(info.raw_size),
                                       frame.size()));
  }
  return info;
}

Status BlockDecoder::Decode(std::string_view frame, std::string_view origin, BlockInfo* info,
                            std::string* raw) {
  SLUICE_ASSIGN_OR_RETURN(BlockInfo header, PeekHeader(frame, origin));
  raw->resize(header.raw_size);
  Status s = DecodePayload(frame, origin, header, info, raw->data(), raw->size());
  if (!s.ok()) raw->clear();
  return s;
}

Status BlockDecoder::DecodeTo(std::string_view frame, std::string_view origin, BlockInfo* info,
                              char* out, size_t capacity) {
  SLUICE_ASSIGN_OR_RETURN(BlockInfo header, PeekHeader(frame, origin));
  return DecodePayload(frame, origin, header, info, out, capacity);
}

Status BlockDecoder::DecodePayload(std::string_view frame, std::string_view origin,
                                   const BlockInfo& header, BlockInfo* info, char* out,
                                   size_t capacity) {
  const char* payload = frame.data() + kBlockHeaderBytes;
  if (Load64(frame.data() + kOffPayloadHash) != XXH3_64bits(payload, header.packed_size)) {
    return Status::Corruption(Describe(origin, "payload checksum mismatch", frame.size()));
  }
  if (header.stored) {
    // ParseHeader checked packed_size == raw_size.
    if (header.raw_size > capacity) return TooLargeFor(origin, header.raw_size, capacity, frame.size());
    std::memcpy(out, payload, header.raw_size);
    *info = header;
    return Status::OK();
  }
  // Both checksums can be forged together; then the header's raw size is
  // the claim of a stranger. The zstd frame names its own content size
  // (the encoder always records it): a mismatch is caught here, before
  // raw_size bytes are allocated for a payload that could never fill them.
  const unsigned long long content = ZSTD_getFrameContentSize(payload, header.packed_size);
  if (content == ZSTD_CONTENTSIZE_ERROR ||
      (content != ZSTD_CONTENTSIZE_UNKNOWN && content != header.raw_size)) {
    return Status::Corruption(Describe(origin, "zstd frame does not hold the block's raw size",
                                       frame.size()));
  }
  if (header.raw_size > capacity) return TooLargeFor(origin, header.raw_size, capacity, frame.size());
  const size_t got = ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(dctx_), out, header.raw_size,
                                         payload, header.packed_size);
  if (ZSTD_isError(got)) {
    return Status::Corruption(Describe(
        origin, std::string("zstd decompression failed: ") + ZSTD_getErrorName(got), frame.size()));
  }
  if (got != header.raw_size) {
    return Status::Corruption(Describe(origin,
                                       "block decompressed to " + std::to_string(got) +
                                           " bytes, header says " + std::to_string(header.raw_size),
                                       frame.size()));
  }
  *info = header;
  return Status::OK();
}

}  // namespace sluice
