// Fuzzes the block frame reader (shuffle/block_codec.h), which every shuffled
// and spilled byte goes through. Whatever the bytes, PeekHeader, ParseHeader
// and Decode must return a value or a kCorruption Status, never crash or
// trip a sanitizer; and a frame that decodes must survive re-encoding.
//
// Each input is tried twice: as is, and with its checksums rewritten to
// match, since random bytes almost never pass an xxh3 check and the size and
// zstd handling behind it would otherwise go untested.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "io/status.h"
#include "shuffle/block_codec.h"
#include "tests/fuzz/fuzz_util.h"

namespace sluice {
namespace {

// Reused across inputs, as production reuses them across blocks: a context
// left in a bad state by one malformed frame must not break the next.
BlockDecoder& Decoder() {
  static BlockDecoder* const decoder = new BlockDecoder;
  return *decoder;
}
BlockEncoder& Encoder() {
  static BlockEncoder* const encoder = new BlockEncoder(1);
  return *encoder;
}

// A failure here is a broken contract, not a bad input: libFuzzer reports
// the trap as a crash and keeps the input.
void Require(bool condition) {
  if (!condition) __builtin_trap();
}

bool IsCorruption(const Status& s) { return s.code() == StatusCode::kCorruption; }

bool SameInfo(const BlockInfo& a, const BlockInfo& b) {
  return a.partition == b.partition && a.split == b.split && a.seq == b.seq &&
         a.records == b.records && a.raw_size == b.raw_size;
}

void CheckFrame(std::string_view frame) {
  Result<BlockInfo> parsed = BlockDecoder::ParseHeader(frame, "fuzz");
  Require(parsed.ok() || IsCorruption(parsed.status()));
  if (parsed.ok()) Require(parsed->raw_size <= kMaxBlockRawBytes);

  Result<BlockInfo> peeked = BlockDecoder::PeekHeader(frame, "fuzz");
  Require(peeked.ok() || IsCorruption(peeked.status()));
  // PeekHeader is ParseHeader plus one check.
  if (peeked.ok()) Require(parsed.ok() && peeked->packed_size == frame.size() - kBlockHeaderBytes);
  if (parsed.ok() && parsed->raw_size > fuzz::kMaxFuzzRawBytes) return;

  BlockInfo info;
  std::string raw;
  Status decoded = Decoder().Decode(frame, "fuzz", &info, &raw);
  if (!decoded.ok()) {
    Require(IsCorruption(decoded));
    return;
  }
  Require(peeked.ok() && SameInfo(info, *peeked) && info.packed_size == peeked->packed_size &&
          raw.size() == info.raw_size);

  // The round trip: what decoded must encode and decode back to itself.
  std::string again;
  Require(Encoder().Encode(info, raw, &again).ok());
  BlockInfo info_again;
  std::string raw_again;
  Require(Decoder().Decode(again, "fuzz re-encoded", &info_again, &raw_again).ok());
  Require(SameInfo(info_again, info) && raw_again == raw);
}

}  // namespace
}  // namespace sluice

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  sluice::CheckFrame(input);
  std::string repaired(input);
  sluice::fuzz::RepairFrameChecksums(repaired.data(), repaired.size());
  sluice::CheckFrame(repaired);
  return 0;
}
