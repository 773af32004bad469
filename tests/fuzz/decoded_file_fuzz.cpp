// Fuzzes the decoders of compressed input (io/decoded_file.h) and the member
// index (io/compression.h) against their contracts: whatever the bytes,
// decoding ends, in a Status or in the decoded bytes, without crashing or
// hanging; and where the whole file decodes, the index agrees with it:
// decoding from every member start gives exactly the rest of those bytes.
//
// Input: a kParamBytes header, then the compressed file's bytes.
//   byte 0: bits 0-1: the format (gzip, zstd, bzip2, xz); bits 2-7: the
//           size of each read, 1 + (bits << 10) bytes, so that reads end in
//           the middle of members and of the decoder's output
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/compression.h"
#include "io/decoded_file.h"
#include "io/status.h"
#include "tests/fuzz/fuzz_util.h"

namespace sluice {
namespace {

constexpr size_t kParamBytes = 1;
// A few bytes of input can stand for gigabytes of output (zstd RLE blocks,
// deflate runs): decoding stops after this many bytes or reads, so that one
// input costs milliseconds (one-byte reads through libbz2 are slow).
constexpr size_t kMaxDecodedBytes = size_t{8} << 20;
constexpr size_t kMaxReads = size_t{1} << 14;

void Require(bool condition) {
  if (!condition) __builtin_trap();
}

// Decodes from `from` in reads of `chunk` bytes. Sets *out and returns true
// when the stream ended within the limits above; false when it failed (a
// kBadInput, the only failure a file in memory can cause) or is longer.
bool DecodeAll(std::string_view file_bytes, Compression c, MemberStart from, size_t chunk,
               std::string* out) {
  std::unique_ptr<ReadableFile> file =
      OpenDecoded(std::make_unique<fuzz::MemoryReadableFile>("fuzz.bin", file_bytes), c, from);
  Require(file->size() == UINT64_MAX);
  std::string buf(chunk, '\0');
  out->clear();
  uint64_t at = from.uncompressed;
  for (size_t reads = 0; reads < kMaxReads && out->size() < kMaxDecodedBytes; ++reads) {
    size_t got = 0;
    const Status s = file->ReadAt(at, chunk, buf.data(), &got);
    if (!s.ok()) {
      Require(s.code() == StatusCode::kBadInput);
      Require(s.message().find("'fuzz.bin'") != std::string::npos);
      // A failed file stays failed.
      size_t again = 0;
      Require(file->ReadAt(at, chunk, buf.data(), &again).code() == StatusCode::kBadInput);
      return false;
    }
    Require(got <= chunk);
    out->append(buf.data(), got);
    at += got;
    if (got < chunk) {
      // The end stays the end.
      size_t again = 1;
      Require(file->ReadAt(at, chunk, buf.data(), &again).ok() && again == 0);
      return true;
    }
  }
  return false;
}

}  // namespace
}  // namespace sluice

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sluice::Compression;
  if (size < sluice::kParamBytes) return 0;
  static constexpr Compression kFormats[4] = {Compression::kGzip, Compression::kZstd,
                                              Compression::kBzip2, Compression::kXz};
  const Compression c = kFormats[data[0] & 3];
  const size_t chunk = 1 + (size_t{data[0]} >> 2 << 10);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + sluice::kParamBytes,
                               size - sluice::kParamBytes);

  sluice::fuzz::MemoryReadableFile raw("fuzz.bin", bytes);
  sluice::Result<Compression> detected = sluice::DetectCompression(raw);
  sluice::Require(detected.ok());

  std::string whole;
  const bool decoded = sluice::DecodeAll(bytes, c, {}, chunk, &whole);

  sluice::Result<std::vector<sluice::MemberStart>> members = sluice::IndexMembers(raw, c);
  if (!members.ok()) {
    sluice::Require(members.status().code() == sluice::StatusCode::kBadInput);
    return 0;
  }
  if (members->empty() || !decoded) return 0;
  sluice::Require(members->size() >= 3);
  sluice::Require(members->front().compressed == 0 && members->front().uncompressed == 0);
  sluice::Require(members->back().compressed == bytes.size());
  sluice::Require(members->back().uncompressed == whole.size());
  for (size_t i = 0; i + 1 < members->size(); ++i) {
    sluice::Require((*members)[i].compressed < (*members)[i + 1].compressed);
    sluice::Require((*members)[i].uncompressed <= (*members)[i + 1].uncompressed);
  }
  // Decoding from a member costs up to the whole file again: a few members,
  // spread over the file, the last included.
  const size_t starts = members->size() - 1;
  const size_t step = std::max<size_t>(1, starts / 8);
  std::string part;
  for (size_t i = starts - 1;; i -= std::min(i, step)) {
    const sluice::MemberStart& m = (*members)[i];
    sluice::Require(sluice::DecodeAll(bytes, c, m, chunk, &part));
    sluice::Require(std::string_view(whole).substr(m.uncompressed) == part);
    if (i == 0) break;
  }
  return 0;
}
