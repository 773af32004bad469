#include "jobs/aggregate/decimal.h"

#include <algorithm>
#include <array>
#include <cstddef>

namespace sluice::aggregate {

namespace {

using u128 = unsigned __int128;

constexpr std::array<u128, Decimal::kMaxDigits + 1> kPow10 = [] {
  std::array<u128, Decimal::kMaxDigits + 1> p{};
  p[0] = 1;
  for (size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * 10;
  return p;
}();
constexpr u128 kLimit = kPow10[Decimal::kMaxDigits];  // |mantissa| < 10^38

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

u128 Magnitude(__int128 m) { return m < 0 ? -static_cast<u128>(m) : static_cast<u128>(m); }

// m * 10^k within the mantissa range, k <= 18.
bool Rescale(__int128 m, int k, __int128* out) {
  if (k == 0) {
    *out = m;
    return true;
  }
  __int128 r;
  if (__builtin_mul_overflow(m, static_cast<__int128>(kPow10[k]), &r)) return false;
  if (Magnitude(r) >= kLimit) return false;
  *out = r;
  return true;
}

int Sign(__int128 m) { return m < 0 ? -1 : (m > 0 ? 1 : 0); }

// |m| % 10 in 64-bit arithmetic (2^64 % 10 == 6): a 128-bit division is a
// library call.
unsigned LastDigit(__int128 m) {
  const u128 u = Magnitude(m);
  const auto hi = static_cast<uint64_t>(u >> 64);
  const auto lo = static_cast<uint64_t>(u);
  return static_cast<unsigned>((hi % 10 * 6 + lo % 10) % 10);
}

bool FitsInt64(__int128 m) { return m >= INT64_MIN && m <= INT64_MAX; }

// Parse's common case, "-1234.56": an optional '-', at most 18 digits and
// at most one '.', nothing else. False for any other text, which the
// general parser then reads (or refuses): the result is the same either
// way, only 64-bit arithmetic and one pass here.
bool ParseShort(std::string_view text, __int128* mantissa, int* scale) {
  constexpr size_t kLongest = 20;  // '-', 18 digits, '.'
  if (text.size() > kLongest) return false;
  const char* p = text.data();
  const char* const end = p + text.size();
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  uint64_t m = 0;
  int digits = 0;
  int fraction = 0;
  bool point = false;
  for (; p < end; ++p) {
    const unsigned d = static_cast<unsigned char>(*p) - unsigned{'0'};
    if (d < 10) {
      m = m * 10 + d;
      ++digits;
      fraction += point ? 1 : 0;
    } else if (*p == '.' && !point) {
      point = true;
    } else {
      return false;
    }
  }
  if (digits == 0 || digits > 18) return false;
  while (fraction > 0 && m % 10 == 0) {
    m /= 10;
    --fraction;
  }
  *mantissa = negative ? -static_cast<__int128>(m) : static_cast<__int128>(m);
  *scale = m == 0 ? 0 : fraction;
  return true;
}

}  // namespace

bool Decimal::InRange(__int128 m) { return Magnitude(m) < kLimit; }

Decimal Decimal::Of(__int128 mantissa, int scale) {
  if (FitsInt64(mantissa)) {  // the common case, in 64-bit arithmetic (no library division)
    auto m = static_cast<int64_t>(mantissa);
    while (scale > 0 && m % 10 == 0) {
      m /= 10;
      --scale;
    }
    mantissa = m;
  }
  while (scale > 0 && LastDigit(mantissa) == 0) {
    mantissa /= 10;
    --scale;
  }
  Decimal d;
  d.mantissa_ = mantissa;
  d.scale_ = static_cast<uint8_t>(mantissa == 0 ? 0 : scale);
  return d;
}

Decimal::ParseResult Decimal::Parse(std::string_view text, Decimal* out) {
  __int128 short_mantissa = 0;  // a local: mantissa_ is aligned to 8 only
  int short_scale = 0;
  if (ParseShort(text, &short_mantissa, &short_scale)) {
    out->mantissa_ = short_mantissa;
    out->scale_ = static_cast<uint8_t>(short_scale);
    return ParseResult::kOk;
  }
  const char* p = text.data();
  const char* const end = p + text.size();
  bool negative = false;
  if (p < end && (*p == '+' || *p == '-')) negative = *p++ == '-';
  const char* const int_begin = p;
  while (p < end && IsDigit(*p)) ++p;
  const char* const int_end = p;
  const char* frac_begin = p;
  const char* frac_end = p;
  if (p < end && *p == '.') {
    frac_begin = ++p;
    while (p < end && IsDigit(*p)) ++p;
    frac_end = p;
  }
  if (int_begin == int_end && frac_begin == frac_end) return ParseResult::kNotANumber;
  int64_t exponent = 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool exponent_negative = false;
    if (p < end && (*p == '+' || *p == '-')) exponent_negative = *p++ == '-';
    const char* const digits = p;
    for (; p < end && IsDigit(*p); ++p) {
      if (exponent < 1000000) exponent = exponent * 10 + (*p - '0');  // past that: out of range anyway
    }
    if (p == digits) return ParseResult::kNotANumber;
    if (exponent_negative) exponent = -exponent;
  }
  if (p != end) return ParseResult::kNotANumber;

  // The digits of integer and fraction as one run; the value is
  // run * 10^(exponent - fraction digits).
  const size_t n_int = static_cast<size_t>(int_end - int_begin);
  const size_t n_frac = static_cast<size_t>(frac_end - frac_begin);
  const size_t n = n_int + n_frac;
  auto digit = [&](size_t i) { return i < n_int ? int_begin[i] : frac_begin[i - n_int]; };
  size_t first = 0;
  while (first < n && digit(first) == '0') ++first;
  if (first == n) {
    *out = Decimal();
    return ParseResult::kOk;
  }
  size_t last = n;  // one past the last nonzero digit
  while (digit(last - 1) == '0') --last;
  const int64_t power = exponent - static_cast<int64_t>(n_frac) + static_cast<int64_t>(n - last);
  const int64_t significant = static_cast<int64_t>(last - first);
  if (power < -kMaxScale) return ParseResult::kTooManyFractionDigits;
  if (significant + std::max<int64_t>(power, 0) > kMaxDigits) return ParseResult::kOutOfRange;
  // 19 digits fit 64 bits: the common case never multiplies 128-bit numbers.
  uint64_t head = 0;
  const size_t head_end = std::min(last, first + 19);
  size_t i = first;
  for (; i < head_end; ++i) head = head * 10 + static_cast<uint64_t>(digit(i) - '0');
  u128 m = head;
  for (; i < last; ++i) m = m * 10 + static_cast<u128>(digit(i) - '0');
  if (power > 0) m *= kPow10[static_cast<size_t>(power)];
  out->mantissa_ = negative ? -static_cast<__int128>(m) : static_cast<__int128>(m);
  out->scale_ = static_cast<uint8_t>(power < 0 ? -power : 0);
  return ParseResult::kOk;
}

const char* Decimal::Describe(ParseResult r) {
  switch (r) {
    case ParseResult::kOk:
      return "is a number";
    case ParseResult::kNotANumber:
      return "is not a number";
    case ParseResult::kTooManyFractionDigits:
      return "has more than 18 digits after the decimal point";
    case ParseResult::kOutOfRange:
      return "has more than 38 significant digits";
  }
  return "?";
}

bool Decimal::Add(const Decimal& a, const Decimal& b, Decimal* out) {
  const int scale = std::max(a.scale_, b.scale_);
  if (FitsInt64(a.mantissa_) && FitsInt64(b.mantissa_)) {
    // |m| < 2^63 and 10^18 < 2^60: each aligned term is below 2^123 and
    // the sum below 2^124 < 10^38, so nothing can overflow or leave the
    // range, and no checked 128-bit multiply (a library call) is needed.
    const __int128 x = a.mantissa_ * static_cast<__int128>(kPow10[scale - a.scale_]);
    const __int128 y = b.mantissa_ * static_cast<__int128>(kPow10[scale - b.scale_]);
    *out = Of(x + y, scale);
    return true;
  }
  __int128 x, y, sum;
  if (!Rescale(a.mantissa_, scale - a.scale_, &x) || !Rescale(b.mantissa_, scale - b.scale_, &y)) {
    return false;
  }
  if (__builtin_add_overflow(x, y, &sum) || !InRange(sum)) return false;
  *out = Of(sum, scale);
  return true;
}

int Decimal::Compare(const Decimal& a, const Decimal& b) {
  const int sa = Sign(a.mantissa_);
  const int sb = Sign(b.mantissa_);
  if (sa != sb) return sa < sb ? -1 : 1;
  __int128 x = a.mantissa_;
  __int128 y = b.mantissa_;
  // Aligning scales can only overflow the side with more integer digits:
  // then its magnitude is the larger, and its sign decides.
  if (a.scale_ < b.scale_) {
    if (__builtin_mul_overflow(x, static_cast<__int128>(kPow10[b.scale_ - a.scale_]), &x)) return sa;
  } else if (b.scale_ < a.scale_) {
    if (__builtin_mul_overflow(y, static_cast<__int128>(kPow10[a.scale_ - b.scale_]), &y)) return -sb;
  }
  return x < y ? -1 : (x > y ? 1 : 0);
}

bool Decimal::DivideRounded(uint64_t n, int digits, Decimal* out) const {
  const u128 u = Magnitude(mantissa_);
  u128 quotient, remainder, divisor;
  if (digits >= scale_) {
    // u * 10^k / n, as (u / n) * 10^k + (u % n) * 10^k / n: the second
    // product is below n * 10^18 < 2^124.
    const u128 scale_up = kPow10[digits - scale_];
    u128 high;
    if (__builtin_mul_overflow(u / n, scale_up, &high)) return false;
    const u128 low = (u % n) * scale_up;
    if (__builtin_add_overflow(high, low / n, &quotient)) return false;
    remainder = low % n;
    divisor = n;
  } else {
    divisor = static_cast<u128>(n) * kPow10[scale_ - digits];  // < 2^64 * 10^18
    quotient = u / divisor;
    remainder = u % divisor;
  }
  const u128 twice = remainder * 2;  // remainder < divisor < 2^125
  if (twice > divisor || (twice == divisor && (quotient & 1) != 0)) ++quotient;
  if (quotient >= kLimit) return false;
  const auto signed_quotient = static_cast<__int128>(quotient);
  *out = Of(mantissa_ < 0 ? -signed_quotient : signed_quotient, digits);
  return true;
}

void Decimal::AppendTo(std::string* out) const {
  if (mantissa_ == 0) {
    out->push_back('0');
    return;
  }
  char digits[kMaxDigits + 1];
  int len = 0;
  for (u128 u = Magnitude(mantissa_); u != 0; u /= 10) digits[len++] = static_cast<char>('0' + u % 10);
  // digits[] holds the mantissa least significant first.
  int frac = scale_;
  int skip = 0;  // trailing zeros after the point (none when normalized)
  while (skip < frac && digits[skip] == '0') ++skip;
  if (mantissa_ < 0) out->push_back('-');
  if (len <= frac) {
    out->push_back('0');
  } else {
    for (int i = len - 1; i >= frac; --i) out->push_back(digits[i]);
  }
  if (skip < frac) {
    out->push_back('.');
    for (int i = frac - 1; i >= skip; --i) out->push_back(i < len ? digits[i] : '0');
  }
}

std::string Decimal::ToString() const {
  std::string s;
  AppendTo(&s);
  return s;
}

}  // namespace sluice::aggregate
