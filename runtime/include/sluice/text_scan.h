// Helpers for jobs that read text: split a line into words the way a
// hand-tuned program would, while the job still reads like the algorithm.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice {

// The whitespace that separates words: space, \t, \n, \v, \f, \r.
constexpr bool IsWordSeparator(char c) {
  return c == ' ' || (static_cast<unsigned char>(c) >= '\t' && static_cast<unsigned char>(c) <= '\r');
}

// Bit k set: byte base + k of p[0, n) is a separator, or lies past n (the
// text ends as if followed by separators). base < n + 16.
inline uint32_t SeparatorMask(const char* p, size_t base, size_t n) {
  if (base >= n) return 0xFFFFu;
#if defined(__SSE2__)
  __m128i v;
  if (base + 16 <= n) {
    v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + base));
  } else {  // the last bytes: copied into a block of spaces, never read past n
    alignas(16) char tail[16];
    std::fill(tail, tail + 16, ' ');
    std::copy(p + base, p + n, tail);
    v = _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
  }
  const __m128i off = _mm_sub_epi8(v, _mm_set1_epi8('\t'));  // \t..\r is tab + 0..4
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(off, _mm_set1_epi8(4)), off);
  return static_cast<uint32_t>(
      _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), control)));
#else
  uint32_t mask = 0;
  for (size_t k = 0; k < 16; ++k) {
    if (base + k >= n || IsWordSeparator(p[base + k])) mask |= 1u << k;
  }
  return mask;
#endif
}

// Calls fn(std::string_view word) for each maximal run of non-separator
// bytes in `text`, in order. Every other byte (NUL, UTF-8, control bytes)
// is part of a word. Classifies 16 bytes at a time (SSE2 on all x86-64), so
// a line costs a few instructions per word rather than several per byte.
//
// fn is called from one place only, so the loop stays small wherever the
// compiler inlines fn into it. (Whether it does is its choice: a map that
// several record sources reach keeps fn as a call per word.)
template <class Fn>
inline void ForEachWord(std::string_view text, Fn&& fn) {
  const char* const p = text.data();
  const size_t n = text.size();
  if (n == 0) return;
  size_t base = 0;                          // the block's first byte
  uint32_t separators = SeparatorMask(p, 0, n);
  uint32_t unread = 0xFFFFu;                // bits of the block not yet scanned
  for (;;) {
    uint32_t starts = ~separators & unread;
    while (starts == 0) {
      base += 16;
      if (base >= n) return;
      separators = SeparatorMask(p, base, n);
      starts = ~separators & 0xFFFFu;
    }
    const unsigned s = static_cast<unsigned>(__builtin_ctz(starts));
    const size_t start = base + s;
    uint32_t ends = separators & (0xFFFFu << s);
    while (ends == 0) {  // the word runs into the next block
      base += 16;
      separators = SeparatorMask(p, base, n);
      ends = separators;
    }
    const unsigned e = static_cast<unsigned>(__builtin_ctz(ends));
    unread = ~((2u << e) - 1) & 0xFFFFu;  // the separator at e is read too
    fn(std::string_view(p + start, base + e - start));
  }
}

// How many bytes of `text` equal `byte` (CountByte(block, '\n'): the lines
// of a block). 16 bytes per step with SSE2: byte-wide counters, summed
// every 255 steps before they could wrap. A plain loop with a 64-bit count
// widens every compare to 64 bits, four times slower.
inline uint64_t CountByte(std::string_view text, char byte) {
  const char* const p = text.data();
  const size_t n = text.size();
  size_t i = 0;
  uint64_t count = 0;
#if defined(__SSE2__)
  const __m128i wanted = _mm_set1_epi8(byte);
  const __m128i zero = _mm_setzero_si128();
  while (i + 16 <= n) {
    __m128i counters = zero;  // per byte lane, at most 255 steps
    const size_t steps = std::min<size_t>((n - i) / 16, 255);
    for (size_t k = 0; k < steps; ++k, i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      counters = _mm_sub_epi8(counters, _mm_cmpeq_epi8(v, wanted));  // a match is -1
    }
    const __m128i sums = _mm_sad_epu8(counters, zero);  // two 64-bit lane sums
    count += static_cast<uint64_t>(_mm_cvtsi128_si64(sums)) +
             static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
#endif
  for (; i < n; ++i) count += p[i] == byte;
  return count;
}

}  // namespace sluice
