// Block frames: the unit that crosses the wire and lands in spills.
//
// A frame is a fixed 48-byte header followed by the payload:
//   u32 magic | u32 version | u32 partition | u32 split | u32 seq |
//   u32 records | u32 raw_size | u32 packed_size | u64 payload_xxh3 |
//   u64 header_xxh3 (over the 40 bytes before it)
// all little-endian; the magic is the bytes "SLB1" on disk (0x31424C53 as a
// u32), and payload_xxh3 covers the payload bytes. Version 1: the payload is
// a zstd frame. Version 2: the payload is the raw block itself (stored), so
// packed_size == raw_size; for blocks that never leave a node, where zstd
// costs more CPU than the copy it saves (BlockPayload). Reading checks the
// magic and version, then the header checksum, then caps every size against
// the frame and the limits below, then the payload checksum, and only then
// decompresses (frames carry no zstd content checksum: it would re-check
// what the payload xxh3 already vouches for) or copies. No byte of
// an unverified frame reaches a decoder.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "io/status.h"

namespace sluice {

inline constexpr size_t kBlockHeaderBytes = 48;
// A raw block never exceeds this: bounds the memory a corrupt size can claim.
inline constexpr uint32_t kMaxBlockRawBytes = 256u << 20;

struct BlockInfo {
  uint32_t partition = 0;
  uint32_t split = 0;  // split index the records came from (input order)
  uint32_t seq = 0;    // block number within (split, partition), from 0
  uint32_t records = 0;
  uint32_t raw_size = 0;
  uint32_t packed_size = 0;
  bool stored = false;  // the payload is the raw block (version 2)
};

// How a frame carries its block: zstd-compressed, or stored as is.
enum class BlockPayload : uint8_t { kZstd, kStored };

// Reusable: holds a zstd context (throws std::bad_alloc if zstd cannot make
// one). Not thread-safe; one per thread.
class BlockEncoder {
 public:
  explicit BlockEncoder(int compression_level = 1);
  ~BlockEncoder();
  BlockEncoder(const BlockEncoder&) = delete;
  BlockEncoder& operator=(const BlockEncoder&) = delete;

  // Replaces *frame with the frame for `raw`. info.raw_size and
  // info.packed_size are filled in here (ignored on input). raw.size() must be
  // <= kMaxBlockRawBytes; otherwise, or if zstd fails, returns kInternal and
  // *frame is unspecified.
  Status Encode(BlockInfo info, std::string_view raw, std::string* frame,
                BlockPayload payload = BlockPayload::kZstd);

 private:
  void* cctx_;  // ZSTD_CCtx
  int level_;
  std::unique_ptr<char[]> scratch_;  // compressBound of the largest block so far
  size_t scratch_bytes_ = 0;
};

// Reusable: holds a zstd context (throws std::bad_alloc if zstd cannot make
// one). Not thread-safe; one per thread.
class BlockDecoder {
 public:
  BlockDecoder();
  ~BlockDecoder();
  BlockDecoder(const BlockDecoder&) = delete;
  BlockDecoder& operator=(const BlockDecoder&) = delete;

  // Reads only the header of `frame` (checks its checksum and sizes against
  // frame.size()). `origin` names where the bytes came from ("block from rank
  // 2", "spill /tmp/x at offset 4096") for the error message.
  static Result<BlockInfo> PeekHeader(std::string_view frame, std::string_view origin);
  // The same checks on the first kBlockHeaderBytes of `bytes` alone, for a
  // reader that learns the frame's size from its header (spill runs).
  static Result<BlockInfo> ParseHeader(std::string_view bytes, std::string_view origin);

  // Verifies the whole frame and decompresses its payload into *raw
  // (replaced). Any mismatch is kCorruption naming `origin`; *info and *raw
  // are then unspecified, and nothing is allocated for a size the header
  // checks reject.
  Status Decode(std::string_view frame, std::string_view origin, BlockInfo* info,
                std::string* raw);
  // The same, decompressing into out[0, info->raw_size) instead; a frame
  // whose raw size exceeds `capacity` is kCorruption. For callers that keep
  // one uninitialized buffer for many blocks: nothing is zeroed or
  // allocated per block.
  Status DecodeTo(std::string_view frame, std::string_view origin, BlockInfo* info, char* out,
                  size_t capacity);

 private:
  // Decode and DecodeTo after their header check: `header` is the frame's.
  Status DecodePayload(std::string_view frame, std::string_view origin, const BlockInfo& header,
                       BlockInfo* info, char* out, size_t capacity);

  void* dctx_;  // ZSTD_DCtx
};

}  // namespace sluice
