// Part files compressed as they are written (--output-compression): a
// WritableFile that compresses what is appended to it into another
// WritableFile. BufferedWriter and the output formats above it are unchanged;
// only the code that opens a part file wraps it (runtime/driver/job_run.h).
//
// Both codecs write a file of independent members, each stating how many
// bytes it decodes to, so that Sluice can later cut such a file into splits
// at member starts (io/compression.h, IndexMembers) and any standard tool
// still reads it whole:
//   zstd  one frame per `zstd_frame_bytes` of input, each with its
//         Frame_Content_Size and a content checksum (`zstd -d` verifies it);
//   gzip  BGZF, exactly as `bgzip` writes it: one gzip member per 65280
//         bytes of input (at most 64 KiB compressed), each carrying the 'BC'
//         extra subfield with its size, then the standard 28-byte BGZF
//         end-of-file block. `zcat`, `gzip -t` and `bgzip -d` read it.
// Member boundaries depend only on the bytes appended, never on how they
// were cut into Append calls: the same records give the same file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "io/status.h"

namespace sluice {

enum class OutputCompression : uint8_t { kNone, kZstd, kGzip };

// "none", "zstd", "gzip": the flag's words.
std::string_view OutputCompressionName(OutputCompression c);
// What a part file compressed with `c` has appended to its name: "", ".zst",
// ".gz".
std::string_view OutputCompressionExtension(OutputCompression c);
// The flag's word back to the codec; nullopt for anything else.
std::optional<OutputCompression> ParseOutputCompression(std::string_view name);

// The codec's own level scale: zstd -7..22 (default 3), gzip 1..12 (libdeflate's
// scale, like gzip's up to 9; default 1). kNone: 0..0.
struct CompressionLevels {
  int min = 0;
  int max = 0;
  int fallback = 0;  // what level 0 ("the codec's default") stands for
};
CompressionLevels LevelsOf(OutputCompression c);

struct CompressedWriterOptions {
  OutputCompression codec = OutputCompression::kZstd;
  // 0: the codec's default (LevelsOf). Out of the codec's range: Wrap fails.
  int level = 0;
  // zstd only: input bytes per frame. Smaller: finer splits when read back,
  // a slightly worse ratio. The writer holds one frame's input and its
  // compressed form in memory.
  size_t zstd_frame_bytes = size_t{4} << 20;
};

// Not thread-safe. Errors stick, as in BufferedWriter: the first failure
// (of the codec or of `base`) is returned by every later call.
class CompressedWritableFile final : public WritableFile {
 public:
  // Compresses into `base` (owned), which must be empty. kUsage for a level
  // outside the codec's range or codec kNone; kInternal if the codec cannot
  // allocate its state.
  static Result<std::unique_ptr<CompressedWritableFile>> Wrap(
      std::unique_ptr<WritableFile> base, const CompressedWriterOptions& options);
  ~CompressedWritableFile() override;
  CompressedWritableFile(const CompressedWritableFile&) = delete;
  CompressedWritableFile& operator=(const CompressedWritableFile&) = delete;

  // Compresses whole frames (blocks) as their input fills; the rest waits
  // for more input, Sync or Close.
  Status Append(std::string_view data) override;
  // Ends the pending frame (block) early, ends the stream (gzip: the EOF
  // block) so that the file is complete and valid as it stands, then fsyncs
  // `base`. Appending after it is allowed: the stream continues with new
  // members (a gzip EOF block in the middle is an empty member, which every
  // reader skips).
  Status Sync() override;
  // Starts writeback of the compressed bytes given to `base` so far.
  void StartWriteback() override;
  // Ends the stream unless Sync already did and nothing followed, then
  // closes `base`. A file given no bytes at all is still a valid compressed
  // file: one empty zstd frame, or the BGZF EOF block alone.
  Status Close() override;
  const std::string& path() const override;

  // Bytes given to `base` (the compressed file's size) and their xxh3_64:
  // what the output manifest lists. Final once Close has returned.
  uint64_t file_bytes() const;
  uint64_t file_xxh3() const;
  // Bytes appended (uncompressed).
  uint64_t raw_bytes() const;

  class Codec;  // one per OutputCompression (compressed_writer.cpp)

 private:
  CompressedWritableFile(std::unique_ptr<WritableFile> base, std::unique_ptr<Codec> codec);
  Status CompressUnit(const char* data, size_t n);
  Status EndStream();
  Status Emit(const char* data, size_t n);
  Status FlushOut();

  std::unique_ptr<WritableFile> base_;
  std::unique_ptr<Codec> codec_;
  std::string pending_;  // input of the frame (block) being filled
  std::string out_;      // compressed bytes not yet given to base_
  struct Hash;
  std::unique_ptr<Hash> hash_;
  uint64_t file_bytes_ = 0;
  uint64_t raw_bytes_ = 0;
  bool stream_ended_ = false;  // the file as written so far is complete
  bool closed_ = false;
  Status status_;
};

}  // namespace sluice
