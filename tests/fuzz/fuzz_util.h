// What the fuzz targets share: a file held in memory, for readers that take
// a ReadableFile; and checksum repair, so that mutated bytes get past the
// xxh3 checks to the parsing behind them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "io/file_system.h"
#include "io/status.h"
#include "shuffle/block_codec.h"
#include "shuffle/little_endian.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice::fuzz {

// Reads `bytes`, which must outlive the file. Honors ReadAt's contract
// exactly: short only at end of file.
class MemoryReadableFile final : public ReadableFile {
 public:
  MemoryReadableFile(std::string path, std::string_view bytes)
      : path_(std::move(path)), bytes_(bytes) {}

  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) override {
    *got = 0;
    if (offset >= bytes_.size()) return Status::OK();
    *got = std::min<uint64_t>(n, bytes_.size() - offset);
    std::memcpy(dst, bytes_.data() + offset, *got);
    return Status::OK();
  }
  uint64_t size() const override { return bytes_.size(); }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  std::string_view bytes_;
};

// Decode allocates the raw size a frame's header claims before zstd can show
// the claim false, as block_codec.h allows: up to kMaxBlockRawBytes (256 MiB)
// for a 48-byte frame. Zeroing that much takes about 100 ms, so once the
// fuzzer found such frames it would spend its time there and run a few
// hundred inputs a second instead of thousands; the targets do not decode
// frames that claim more than this. Real blocks are rarely larger than the
// 1 MiB default, and the code paths are the same for any size.
inline constexpr uint32_t kMaxFuzzRawBytes = 1u << 20;

// Rewrites the payload and header checksums of the block frame in
// [frame, frame + size) to match its bytes (see block_codec.h for the
// layout). Does nothing to a frame shorter than a header.
inline void RepairFrameChecksums(char* frame, size_t size) {
  if (size < kBlockHeaderBytes) return;
  Store64(frame + 32, XXH3_64bits(frame + kBlockHeaderBytes, size - kBlockHeaderBytes));
  Store64(frame + 40, XXH3_64bits(frame, 40));
}

// Rewrites every checksum of a key-value file that its own bytes locate
// (kv_file.h has the layout): the header's, the footer's, and those of each
// frame the footer lists. Sizes and offsets are trusted only as far as they
// stay inside the file, so any bytes may be passed.
inline void RepairKvFileChecksums(std::string* file) {
  const uint64_t size = file->size();
  char* data = file->data();
  if (size < 16) return;
  if (uint64_t header = 16 + uint64_t{Load32(data + 8)} + Load32(data + 12) + 8; header <= size) {
    Store64(data + header - 8, XXH3_64bits(data, header - 8));
  }
  const uint64_t trailer = size - 16;
  const uint64_t footer_size = Load32(data + trailer + 8);
  const uint64_t footer = Load64(data + trailer);
  if (footer_size < 28 || footer_size > trailer || footer != trailer - footer_size) return;
  // Frames first: they lie outside the footer, whose checksum covers only
  // their offsets.
  const uint64_t blocks = (footer_size - 28) / 12;
  for (uint64_t i = 0; i < blocks; ++i) {
    const uint64_t begin = Load64(data + footer + 12 + 12 * i);
    const uint64_t end = i + 1 < blocks ? Load64(data + footer + 12 + 12 * (i + 1)) : footer;
    if (begin < end && end <= footer) RepairFrameChecksums(data + begin, end - begin);
  }
  Store64(data + trailer - 8, XXH3_64bits(data + footer, footer_size - 8));
}

}  // namespace sluice::fuzz
