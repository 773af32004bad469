// Helpers for jobs that read text: split a line into words the way a
// hand-tuned program would, while the job still reads like the algorithm.
#pragma once

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

}  // namespace sluice
