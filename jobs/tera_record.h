// The TeraSort record: 100 bytes, a 10-byte key first. Printable, in the
// spirit of the sort benchmark's ASCII records (gensort -a), so the same file
// is also 100-byte text lines that GNU sort can order for comparison:
//
//   bytes  0..9   key: 10 characters from ' '..'~', pseudo-random per row
//   bytes 10..11  two spaces
//   bytes 12..43  the row number, 32 hex digits
//   bytes 44..45  two spaces
//   bytes 46..97  filler: 13 groups of 4 equal hex digits, from the row number
//   bytes 98..99  "\r\n"
//
// Row r's record depends only on (seed, r), so any rank can generate any row.
#pragma once

#include <cstdint>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace tera {

inline constexpr uint32_t kRecordBytes = 100;
inline constexpr uint32_t kKeyBytes = 10;

inline void MakeRecord(uint64_t seed, uint64_t row, char* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  uint64_t bits[2] = {XXH3_64bits_withSeed(&row, sizeof row, seed),
                      XXH3_64bits_withSeed(&row, sizeof row, ~seed)};
  for (uint32_t i = 0; i < kKeyBytes; ++i) {
    uint64_t& h = bits[i / 5];  // 95^5 < 2^64: five characters per hash
    out[i] = static_cast<char>(' ' + h % 95);
    h /= 95;
  }
  out[10] = out[11] = ' ';
  for (int i = 0; i < 32; ++i) {
    const int shift = 4 * (31 - i);
    out[12 + i] = shift >= 64 ? '0' : kHex[(row >> shift) & 15];
  }
  out[44] = out[45] = ' ';
  for (int g = 0; g < 13; ++g) {
    const char c = kHex[(row + static_cast<uint64_t>(g)) & 15];
    for (int j = 0; j < 4; ++j) out[46 + 4 * g + j] = c;
  }
  out[98] = '\r';
  out[99] = '\n';
}

}  // namespace tera
