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

// Calls fn(std::string_view word) for each maximal run of non-separator
// bytes in `text`, in order. Every other byte (NUL, UTF-8, control bytes)
// is part of a word. Classifies 16 bytes at a time with SSE2 where the
// target has it (all x86-64), so a line costs a few instructions per word
// rather than several per byte.
template <class Fn>
inline void ForEachWord(std::string_view text, Fn&& fn) {
  const char* p = text.data();
  const size_t n = text.size();
  size_t i = 0;
  size_t start = 0;
  bool in_word = false;
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(' ');
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i four = _mm_set1_epi8(4);  // \t..\r is tab + 0..4
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i off = _mm_sub_epi8(v, tab);
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(off, four), off);
    const uint32_t separators =
        static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, space), control)));
    const uint32_t word = ~separators & 0xFFFFu;
    uint32_t pos_mask = 0xFFFFu;  // bits at or after the scan position
    for (;;) {
      if (in_word) {
        const uint32_t ends = separators & pos_mask;
        if (ends == 0) break;  // the word runs into the next block
        const unsigned e = static_cast<unsigned>(__builtin_ctz(ends));
        fn(std::string_view(p + start, i + e - start));
        in_word = false;
        pos_mask = 0xFFFFu << e;
      } else {
        const uint32_t starts = word & pos_mask;
        if (starts == 0) break;
        const unsigned s = static_cast<unsigned>(__builtin_ctz(starts));
        start = i + s;
        in_word = true;
        pos_mask = (0xFFFFu << s) & 0xFFFFu;
      }
    }
  }
#endif
  for (; i < n; ++i) {
    const bool sep = IsWordSeparator(p[i]);
    if (in_word && sep) {
      fn(std::string_view(p + start, i - start));
      in_word = false;
    } else if (!in_word && !sep) {
      start = i;
      in_word = true;
    }
  }
  if (in_word) fn(std::string_view(p + start, n - start));
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
