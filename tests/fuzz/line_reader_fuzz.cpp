// Fuzzes the line splitter (io/line_reader.h) against its contract, with a
// trivial splitter as the oracle: whatever the text, the cut points and the
// buffer size, ranges that partition a file yield every line of it exactly
// once, whole, in order, each from the range it starts in.
//
// Input: a kParamBytes header, then the file's bytes.
//   byte 0: bits 0-5: buffer size - 1 (1..64 bytes, so that long lines make
//           the buffer grow); bit 6: the last range ends far past the end of
//           the file instead of at it
//   bytes 1-6: three u16 (little-endian) cut points, each taken modulo
//           (file size + 1) and then sorted; equal cuts make empty ranges
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/line_reader.h"
#include "io/status.h"
#include "tests/fuzz/fuzz_util.h"

namespace sluice {
namespace {

constexpr size_t kParamBytes = 7;
constexpr size_t kCuts = 3;

// A failure here is a broken contract: libFuzzer reports the trap as a crash
// and keeps the input.
void Require(bool condition) {
  if (!condition) __builtin_trap();
}

// Split on '\n'; a final line without one still counts, an empty file has no
// lines; one '\r' before the end of a line is dropped (CRLF files).
std::vector<std::string> ReferenceLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    const size_t stop = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, stop - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    start = stop + 1;
  }
  return lines;
}

// Reads the range [begin, end) of `file`, whose bytes are `text`. *pos is
// the offset where the previous range's chunks ended: the chunks of all
// ranges, laid end to end, must be the file itself.
void ReadRange(ReadableFile& file, std::string_view text, uint64_t begin, uint64_t end,
               size_t buffer_bytes, uint64_t* pos, std::vector<std::string>* lines) {
  LineReader reader(file, begin, end, buffer_bytes);
  while (true) {
    std::string_view chunk;
    Result<bool> more = reader.NextChunk(&chunk);
    Require(more.ok());
    if (!*more) {
      Require(chunk.empty());
      break;
    }
    Require(!chunk.empty() && *pos <= text.size());
    Require(text.substr(*pos, chunk.size()) == chunk);
    // Whole lines only: a chunk ends at a '\n' or at the end of the file.
    Require(chunk.back() == '\n' || *pos + chunk.size() == text.size());
    // Every line in the chunk starts inside the range.
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (i == 0 || chunk[i - 1] == '\n') Require(begin <= *pos + i && *pos + i < end);
    }
    ForEachLine(chunk, [&](std::string_view line) { lines->emplace_back(line); });
    *pos += chunk.size();
  }
  // An exhausted reader stays exhausted.
  std::string_view chunk;
  Result<bool> again = reader.NextChunk(&chunk);
  Require(again.ok() && !*again && chunk.empty());
}

}  // namespace
}  // namespace sluice

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < sluice::kParamBytes) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + sluice::kParamBytes,
                              size - sluice::kParamBytes);
  const size_t buffer_bytes = 1 + (data[0] & 63);
  const bool end_past_eof = (data[0] & 64) != 0;
  std::array<uint64_t, sluice::kCuts + 2> bounds;
  bounds.front() = 0;
  for (size_t i = 0; i < sluice::kCuts; ++i) {
    const uint64_t cut = data[1 + 2 * i] | (uint64_t{data[2 + 2 * i]} << 8);
    bounds[1 + i] = cut % (text.size() + 1);
  }
  std::sort(bounds.begin() + 1, bounds.end() - 1);
  bounds.back() = end_past_eof ? UINT64_MAX : text.size();

  sluice::fuzz::MemoryReadableFile file("fuzz.txt", text);
  uint64_t pos = 0;
  std::vector<std::string> lines;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    sluice::ReadRange(file, text, bounds[i], bounds[i + 1], buffer_bytes, &pos, &lines);
  }
  sluice::Require(pos == text.size());
  sluice::Require(lines == sluice::ReferenceLines(text));
  return 0;
}
