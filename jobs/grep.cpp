// Grep: how many lines of each input file match a regular expression.
//
//   sluice run grep --param 'pattern= 404 [0-9]+$' --input logs/ --output hits/
//   sluice run grep --param 'pattern=error|warn' --param ignore-case=true ...
//   sluice run grep --param 'pattern=^#' --param invert=true ...  (lines NOT matching)
//
// Output: one "path\tcount" line per input file with at least one counted
// line, path as the job saw it (input_path()). The count is what
// `LC_ALL=C grep -a -c -E PATTERN FILE` prints (-i with ignore-case, -v with
// invert), compressed files read decoded, except where listed below.
//
// Lines are Sluice's: each ends at '\n', and one '\r' before that '\n' (or
// ending the file's unterminated last line) is not part of the line, as
// LineInput hands lines to other jobs. So `x$` matches "x\r\n" and `x.`
// does not; grep would see the '\r'. With --record-delimiter each record
// is searched on its own, so the delimiter ends a line as '\n' does. Bytes are characters (LC_ALL=C): `.`
// matches one byte of a UTF-8 character, and a NUL byte is an ordinary
// character, as with grep -a (without -a GNU grep may end a line at a NUL).
//
// The pattern is read as a POSIX extended regular expression, GNU grep -E's
// flavour, and matched by RE2. RE2 never backtracks: it runs a DFA built
// lazily in at most kMaxMem bytes, and the NFA where that cache would not do,
// so time is linear in the input for any pattern: no pattern a user writes
// can make a rank run for exponential time (`(a+)+$` on a long line of 'a's
// takes as long as `a`). What differs from grep -E:
//   - No backreferences (\1 .. \9): a usage error (exit 2) naming the pattern
//     with RE2's message. They cannot be matched in linear time.
//   - Refused likewise, rather than silently read another way: GNU's word
//     anchors \< \> and buffer anchors \` \' (\b \B \w \W \s \S work as in
//     GNU grep), equivalence classes [[=a=]] and collating symbols [[.a.]],
//     a repetition count over 1000 (x{1001}), a pattern too large for
//     kMaxMem, a '*' or '+' with nothing before it (a|*b), escapes RE2 does
//     not know (\y: GNU warns "stray \" and reads 'y').
//   - Escapes GNU reads as the bare letter mean what they do in Perl: \d is
//     a digit (GNU: 'd'), \t \f \v \a \r control bytes, \x41 'A'; \n never
//     matches (no line holds one). \s is [\t\n\f\r ], without \v.
//   - Inside a bracket expression a backslash escapes (as in Perl): [\]] is
//     ']', [\\] a backslash, and [\.] only '.' (POSIX: '\' or '.').
//   - ignore-case folds ASCII letters and also the Latin-1 letter bytes
//     0xC0-0xFE (RE2 reads the bytes as Latin-1), which C-locale grep leaves.
// As in GNU grep -E, x{,n} is x{0,n} (rewritten: RE2 alone would take it as
// text), and ^ and $ match at each line's start and end.
//
// Speed: a block of many lines is searched as one text. At a match the
// line holding it is counted and the search resumes at the next line, so
// lines that do not match cost no call. A pattern with a literal that
// every match holds (`static [a-z_]+ \(`, `^\S+ 404 `, `[0-9]+ ERROR`) is
// searched for that literal, 16 bytes at a time, and only the lines holding
// it are matched.
#include <re2/filtered_re2.h>
#include <re2/re2.h>
#include <string.h>  // memrchr

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <sluice/job.h>
#include <sluice/text_scan.h>

namespace {

// The DFA's cache (RE2 splits it between the forward and reverse programs).
// Past it RE2 falls back to its NFA: slower, still linear.
constexpr int64_t kMaxMem = int64_t{64} << 20;

std::string BadPatternMessage(const std::string& pattern, const std::string& why) {
  return "parameter 'pattern': '" + pattern + "' is not a valid regular expression: " + why;
}

// `pattern` as RE2 should read it: GNU's x{,n} and x{,} written x{0,n},
// x{0,}. Throws JobParamError for the GNU syntax RE2 would read another
// way without complaint. Walks the pattern as RE2's parser does: a
// backslash takes the next byte, also inside a bracket expression; in one,
// a ']' first (after an optional '^') is literal and [:name:] is a class.
std::string ForRe2(const std::string& pattern) {
  auto refuse = [&pattern](std::string_view what, std::string_view instead) {
    throw sluice::JobParamError(BadPatternMessage(
        pattern, std::string(what) + " is not supported" +
                     (instead.empty() ? "" : "; " + std::string(instead))));
  };
  std::string out;
  out.reserve(pattern.size() + 4);
  const size_t n = pattern.size();
  size_t i = 0;
  while (i < n) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 < n && std::strchr("<>`'", pattern[i + 1]) != nullptr) {
        refuse(std::string("GNU's \\") + pattern[i + 1],
               pattern[i + 1] == '<' || pattern[i + 1] == '>' ? "use \\b (word boundary)"
                                                              : "use ^ or $");
      }
      const size_t len = std::min<size_t>(2, n - i);
      out.append(pattern, i, len);
      i += len;
    } else if (c == '[') {
      size_t j = i + 1;
      if (j < n && pattern[j] == '^') ++j;
      if (j < n && pattern[j] == ']') ++j;
      while (j < n && pattern[j] != ']') {
        if (pattern[j] == '\\') {
          j += 2;
        } else if (pattern[j] == '[' && j + 1 < n &&
                   (pattern[j + 1] == '=' || pattern[j + 1] == '.')) {
          refuse(pattern[j + 1] == '=' ? "an equivalence class [= =]" : "a collating symbol [. .]",
                 "");
        } else if (pattern[j] == '[' && j + 1 < n && pattern[j + 1] == ':' &&
                   pattern.find(":]", j + 2) != std::string::npos) {
          j = pattern.find(":]", j + 2) + 2;
        } else {
          ++j;
        }
      }
      j = std::min(j + 1, n);  // past the ']' (RE2 reports a missing one)
      out.append(pattern, i, j - i);
      i = j;
    } else if (c == '{' && i + 1 < n && pattern[i + 1] == ',') {
      size_t j = i + 2;
      while (j < n && std::isdigit(static_cast<unsigned char>(pattern[j]))) ++j;
      out += c;
      if (j < n && pattern[j] == '}') out += '0';
      ++i;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

// Counts the lines of a text that match a pattern.
class LineMatcher {
 public:
  // Throws JobParamError (a usage error) if the pattern is missing or does
  // not compile.
  LineMatcher(const std::string& pattern, bool ignore_case)
      : re2_pattern_(ForRe2(Required(pattern))), regex_(re2_pattern_, Options(ignore_case)) {
    if (!regex_.ok()) {
      std::string why = regex_.error();
      const std::string& arg = regex_.error_arg();
      if (regex_.error_code() == RE2::ErrorBadEscape && arg.size() == 2 && arg[1] >= '1' &&
          arg[1] <= '9') {
        why += " (backreferences are not supported: RE2 matches in linear time)";
      }
      throw sluice::JobParamError(BadPatternMessage(pattern, why));
    }
    FindRequiredLiteral(ignore_case);
  }

  // The lines of `text` that match: text is whole lines, each ending in
  // '\n' but perhaps the last; no '\r' is special.
  uint64_t CountMatching(std::string_view text) const {
    // Without its last '\n', the text's end is the last line's end: `$`
    // matches there, and no empty line follows it for `^$` to match.
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    return literal_.empty() ? CountBySearch(text) : CountByLiteral(text);
  }

 private:
  static RE2::Options Options(bool ignore_case) {
    RE2::Options options;
    options.set_encoding(RE2::Options::EncodingLatin1);  // bytes, as LC_ALL=C
    options.set_posix_syntax(true);    // egrep's syntax ...
    options.set_perl_classes(true);    // ... with GNU's \w \W \s \S
    options.set_word_boundary(true);   // ... and \b \B
    options.set_one_line(false);       // ^ $ at every line's start and end
    options.set_never_nl(true);        // no match crosses a '\n'
    options.set_case_sensitive(!ignore_case);
    options.set_max_mem(kMaxMem);
    options.set_log_errors(false);     // errors become a usage message
    return options;
  }

  static const std::string& Required(const std::string& pattern) {
    if (pattern.empty()) {
      throw sluice::JobParamError("parameter 'pattern' is required: --param pattern=REGEX");
    }
    return pattern;
  }

  // One search over all the text: at a match, count its line and resume at
  // the next line's start.
  uint64_t CountBySearch(std::string_view text) const {
    const char* p = text.data();
    const char* const end = p + text.size();
    uint64_t matching = 0;
    for (;;) {
      // p is a line's start (perhaps an empty last line's: p == end), so
      // the text RE2 sees starts and ends at line boundaries.
      const re2::StringPiece rest(p, static_cast<size_t>(end - p));
      re2::StringPiece match;
      if (!regex_.Match(rest, 0, rest.size(), RE2::UNANCHORED, &match, 1)) break;
      ++matching;
      // never_nl: the match lies within one line, and so does an empty one
      // (at a line's start or before its '\n'). Resume after that line.
      const void* nl = std::memchr(match.data(), '\n', static_cast<size_t>(end - match.data()));
      if (nl == nullptr) break;
      p = static_cast<const char*>(nl) + 1;
    }
    return matching;
  }

  // Only the lines holding literal_ can match: find each, and match the
  // pattern against that line alone.
  uint64_t CountByLiteral(std::string_view text) const {
    const char* p = text.data();
    const char* const end = p + text.size();
    uint64_t matching = 0;
    while (p < end) {
      const char* hit = FindLiteral(p, end);
      if (hit == nullptr) break;
      // p is a line's start; the literal holds no '\n'.
      const void* nl_before = memrchr(p, '\n', static_cast<size_t>(hit - p));
      const void* nl_after = std::memchr(hit, '\n', static_cast<size_t>(end - hit));
      const char* line = nl_before == nullptr ? p : static_cast<const char*>(nl_before) + 1;
      const char* line_end = nl_after == nullptr ? end : static_cast<const char*>(nl_after);
      const re2::StringPiece candidate(line, static_cast<size_t>(line_end - line));
      matching += regex_.Match(candidate, 0, candidate.size(), RE2::UNANCHORED, nullptr, 0);
      p = line_end + 1;
    }
    return matching;
  }

  // The first place at or after p where literal_ occurs, in either case
  // (FilteredRE2 lowercases it); nullptr if none. An ASCII literal is
  // looked for 16 positions at a time (SSE2): where both its first and its
  // last byte are (either case of a letter: c | 0x20 folds just 'S' and 's'
  // together), the rest is compared. RE2's own search, which memchr's for
  // the first byte, stops at every 's' of C text for `static ...`.
  const char* FindLiteral(const char* p, const char* end) const {
    if (literal_search_ != nullptr) {
      const re2::StringPiece rest(p, static_cast<size_t>(end - p));
      re2::StringPiece hit;
      if (!literal_search_->Match(rest, 0, rest.size(), RE2::UNANCHORED, &hit, 1)) return nullptr;
      return hit.data();
    }
    const size_t size = literal_.size();
    const char* q = p;
#if defined(__SSE2__)
    const auto fold = [](char c) { return static_cast<char>(c >= 'a' && c <= 'z' ? 0x20 : 0); };
    const __m128i first = _mm_set1_epi8(literal_[0]);
    const __m128i last = _mm_set1_epi8(literal_[size - 1]);
    const __m128i fold_first = _mm_set1_epi8(fold(literal_[0]));
    const __m128i fold_last = _mm_set1_epi8(fold(literal_[size - 1]));
    for (; end - q >= static_cast<std::ptrdiff_t>(size + 15); q += 16) {
      const __m128i a = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)), fold_first);
      const __m128i b =
          _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + size - 1)), fold_last);
      auto candidates = static_cast<uint32_t>(
          _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last))));
      while (candidates != 0) {
        const char* at = q + __builtin_ctz(candidates);
        if (EqualIgnoringAsciiCase(at, literal_)) return at;
        candidates &= candidates - 1;
      }
    }
#endif
    for (; end - q >= static_cast<std::ptrdiff_t>(size); ++q) {
      if (EqualIgnoringAsciiCase(q, literal_)) return q;
    }
    return nullptr;
  }

  static char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

  // Whether text[0, lower.size()) is `lower`, ignoring the case of A-Z.
  static bool EqualIgnoringAsciiCase(const char* text, std::string_view lower) {
    for (size_t i = 0; i < lower.size(); ++i) {
      if (AsciiLower(text[i]) != lower[i]) return false;
    }
    return true;
  }

  // Sets literal_ to a string every matching line holds (as FilteredRE2's
  // prefilter finds them, lowercased): a pattern like `^\S+ 404 ` or
  // `[0-9]+ ERROR` has no literal prefix, so RE2's DFA reads every byte,
  // where FindLiteral skips to " 404 " (several times faster). One that
  // starts with its literal is searched the same way: RE2's prefix search
  // memchr's for the literal's first byte, which C text is full of.
  void FindRequiredLiteral(bool ignore_case) {
    re2::FilteredRE2 filter(/*min_atom_len=*/3);
    int id = 0;
    if (filter.Add(re2_pattern_, Options(ignore_case), &id) != RE2::NoError) return;
    std::vector<std::string> atoms;
    filter.Compile(&atoms);
    // An atom is required if the pattern cannot match without it.
    for (size_t i = 0; i < atoms.size(); ++i) {
      std::vector<int> others;
      for (size_t j = 0; j < atoms.size(); ++j) {
        if (j != i) others.push_back(static_cast<int>(j));
      }
      std::vector<int> possible;
      filter.AllPotentials(others, &possible);
      if (possible.empty() && atoms[i].size() > literal_.size() &&
          atoms[i].find('\n') == std::string::npos) {
        literal_ = atoms[i];
      }
    }
    if (literal_.empty()) return;
    for (char& c : literal_) c = AsciiLower(c);
    // An ASCII literal is searched for by FindLiteral's own loop; any
    // other by RE2, ignoring case (RE2 folds Latin-1 letters too).
    if (std::all_of(literal_.begin(), literal_.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
      return;
    }
    literal_search_ = std::make_unique<RE2>(RE2::QuoteMeta(literal_), Options(true));
    if (!literal_search_->ok()) literal_.clear();  // cannot happen: a quoted literal
  }

  std::string re2_pattern_;
  RE2 regex_;
  std::string literal_;  // lowercase; every matching line holds it in some case; empty: none
  std::unique_ptr<RE2> literal_search_;  // finds a non-ASCII literal_ in either case; null: ASCII
};

class Grep : public sluice::Job<Grep, std::string, uint64_t> {
 public:
  using Input = sluice::LineBlocks;

  static constexpr sluice::Param<std::string> kPattern{
      "pattern", "", "POSIX extended regular expression, as grep -E (required)"};
  static constexpr sluice::Param<bool> kIgnoreCase{"ignore-case", false,
                                                   "match letters in either case, as grep -i"};
  static constexpr sluice::Param<bool> kInvert{"invert", false,
                                               "count the lines that do not match, as grep -v"};
  static constexpr auto kParams = sluice::ParamTable(kPattern, kIgnoreCase, kInvert);

  void Map(std::string_view block, Emitter& emit) {
    const std::string_view lines = WithoutCarriageReturns(block);
    uint64_t count = matcher_.CountMatching(lines);
    if (invert_) count = LineCount(lines) - count;
    if (count > 0) emit(input_path(), count);
  }

  uint64_t Combine(uint64_t a, uint64_t b) { return a + b; }

  void Reduce(std::string_view path, Values& counts, Output& out) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    out(path, total);
  }

 private:
  // The block with the '\r' that ends a line dropped (the one before each
  // '\n', and a last byte '\r': the file's unterminated last line), as
  // LineInput drops it. Most text has no '\r': one memchr, no copy.
  std::string_view WithoutCarriageReturns(std::string_view block) {
    const char* p = block.data();
    const char* const end = p + block.size();
    const char* cr = static_cast<const char*>(std::memchr(p, '\r', block.size()));
    if (cr == nullptr) return block;
    crlf_copy_.clear();
    while (cr != nullptr) {
      crlf_copy_.append(p, cr);
      if (cr + 1 < end && cr[1] != '\n') crlf_copy_ += '\r';  // not a line's end: kept
      p = cr + 1;
      cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<size_t>(end - p)));
    }
    crlf_copy_.append(p, end);
    return crlf_copy_;
  }

  // Lines in a block: each ends in '\n' but perhaps the last.
  static uint64_t LineCount(std::string_view lines) {
    if (lines.empty()) return 0;
    return sluice::CountByte(lines, '\n') + (lines.back() != '\n');
  }

  const LineMatcher matcher_{param(kPattern), param(kIgnoreCase)};
  const bool invert_ = param(kInvert);
  std::string crlf_copy_;
};

}  // namespace

SLUICE_JOB(Grep, "grep", "Counts the lines matching --param pattern=REGEX in each input file")
