// Decimal: an exact decimal number for the aggregate job's sums, minimums,
// maximums, averages and where-comparisons.
//
// A Decimal is mantissa * 10^-scale with |mantissa| < 10^38 (38 significant
// digits) and 0 <= scale <= 18 (digits after the point). Every operation is
// exact or refuses: sums never round, so they come out the same whatever
// order the engine adds them in (floating point would not: Combine runs in
// a different order at another rank count or memory budget). The only
// rounding is the one DivideRounded asks for (averages).
//
// Values are kept normalized (no trailing zero after the point in the
// mantissa), so equal numbers have equal representations and the printed
// form is canonical: ToString gives "-12.5", "1000", "0.001", "0" (never
// "-0", never an exponent, never a trailing zero after the point).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice::aggregate {

class Decimal {
 public:
  static constexpr int kMaxScale = 18;   // digits after the point
  static constexpr int kMaxDigits = 38;  // significant digits

  enum class ParseResult : uint8_t {
    kOk,
    kNotANumber,             // not the syntax below
    kTooManyFractionDigits,  // needs more than kMaxScale digits after the point
    kOutOfRange,             // needs more than kMaxDigits digits
  };

  // Reads `text`, the whole of it: an optional sign ('+' or '-'), digits
  // with an optional '.' and fraction (at least one digit; ".5" and "5."
  // are numbers), and an optional exponent (e or E, optional sign, digits):
  // "12", "-0.50", "+3", "1.5e3", "2E-4". No spaces, thousands separators,
  // hex, inf or nan. An exponent is applied exactly: 1.5e3 is 1500, 1e-19
  // is kTooManyFractionDigits. Trailing zeros after the point do not count
  // (1.0000000000000000000000 is 1). *out is set only on kOk.
  static ParseResult Parse(std::string_view text, Decimal* out);
  // "is not a number", ... for messages.
  static const char* Describe(ParseResult r);

  Decimal() = default;
  // mantissa * 10^-scale, normalized. |mantissa| < 10^38, 0 <= scale <= 18.
  static Decimal Of(__int128 mantissa, int scale);

  __int128 mantissa() const { return mantissa_; }
  int scale() const { return scale_; }
  bool is_zero() const { return mantissa_ == 0; }

  // *out = a + b, exactly; false (out untouched) when the sum needs more
  // than 38 significant digits at the larger of the two scales.
  [[nodiscard]] static bool Add(const Decimal& a, const Decimal& b, Decimal* out);
  // -1, 0 or 1 as a <, ==, > b. Exact for every pair.
  static int Compare(const Decimal& a, const Decimal& b);
  friend bool operator==(const Decimal& a, const Decimal& b) { return Compare(a, b) == 0; }
  friend bool operator<(const Decimal& a, const Decimal& b) { return Compare(a, b) < 0; }

  // *out = this / n rounded half to even at `digits` digits after the point
  // (0..18), normalized. n > 0. False when the quotient needs more than 38
  // significant digits at that scale.
  [[nodiscard]] bool DivideRounded(uint64_t n, int digits, Decimal* out) const;

  // The canonical text (above), appended / returned.
  void AppendTo(std::string* out) const;
  std::string ToString() const;

  // Cereal: the mantissa as two 64-bit halves, then the scale.
  template <class Archive>
  void serialize(Archive& ar) {
    auto bits = static_cast<unsigned __int128>(mantissa_);
    uint64_t hi = static_cast<uint64_t>(bits >> 64);
    uint64_t lo = static_cast<uint64_t>(bits);
    uint8_t scale = scale_;
    ar(hi, lo, scale);
    mantissa_ = static_cast<__int128>(static_cast<unsigned __int128>(hi) << 64 | lo);
    // Decode reports a throw as a malformed value.
    if (scale > kMaxScale || !InRange(mantissa_)) throw std::runtime_error("malformed decimal");
    scale_ = scale;
  }

 private:
  static bool InRange(__int128 m);

  // Aligned to 8, not 16: a Decimal is 24 bytes instead of 32, and the
  // aggregate job keeps them in its combiner table, a group per slot.
  using Mantissa = __int128 __attribute__((aligned(8)));
  Mantissa mantissa_ = 0;
  uint8_t scale_ = 0;
};

}  // namespace sluice::aggregate
