// The aggregate job's exact decimals (jobs/aggregate/decimal.h): what reads
// as a number and what does not, exact sums in any order, exact comparison,
// averages rounded half to even, the canonical printed form, and the
// shuffle encoding.
#include "jobs/aggregate/decimal.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "shuffle/serde.h"

namespace sluice::aggregate {
namespace {

using PR = Decimal::ParseResult;

Decimal D(const std::string& text) {
  Decimal d;
  EXPECT_EQ(Decimal::Parse(text, &d), PR::kOk) << text;
  return d;
}

std::string Canonical(const std::string& text) { return D(text).ToString(); }

PR ParseResult(const std::string& text) {
  Decimal d;
  return Decimal::Parse(text, &d);
}

TEST(AggregateDecimal, ParsesNumbersIntoCanonicalText) {
  EXPECT_EQ(Canonical("0"), "0");
  EXPECT_EQ(Canonical("-0"), "0");
  EXPECT_EQ(Canonical("-0.000"), "0");
  EXPECT_EQ(Canonical("12"), "12");
  EXPECT_EQ(Canonical("+3"), "3");
  EXPECT_EQ(Canonical("-0.50"), "-0.5");
  EXPECT_EQ(Canonical(".5"), "0.5");
  EXPECT_EQ(Canonical("5."), "5");
  EXPECT_EQ(Canonical("00012.3400"), "12.34");
  EXPECT_EQ(Canonical("1.5e3"), "1500");
  EXPECT_EQ(Canonical("1.5E+3"), "1500");
  EXPECT_EQ(Canonical("2E-4"), "0.0002");
  EXPECT_EQ(Canonical("12345e-2"), "123.45");
  EXPECT_EQ(Canonical("1e0"), "1");
  EXPECT_EQ(Canonical("1.0000000000000000000000"), "1");  // trailing zeros do not count
  EXPECT_EQ(Canonical("0e999999999999"), "0");
  EXPECT_EQ(Canonical("0.000000000000000001"), "0.000000000000000001");  // 18 digits
  EXPECT_EQ(Canonical("99999999999999999999999999999999999999"),
            "99999999999999999999999999999999999999");  // 38 digits
  EXPECT_EQ(Canonical("-12345678901234567890.123456789012345678"),
            "-12345678901234567890.123456789012345678");
  EXPECT_EQ(Canonical("1e37"), "10000000000000000000000000000000000000");
  EXPECT_EQ(Canonical("1.2345678901234568e+23"), "123456789012345680000000");  // a double's text
  EXPECT_EQ(D("1.50").scale(), 1);                                             // normalized
}

TEST(AggregateDecimal, RefusesWhatIsNotANumber) {
  for (const char* text :
       {"",    "-",     "+",     ".",     "-.",  "e5",   ".e5",   "1e",      "1e+",   "1e-",
        " 1",  "1 ",    "1,5",   "0x10",  "inf", "-inf", "nan",   "NaN",     "1.2.3", "--1",
        "+-1", "1e5.5", "1e2e3", "12abc", "N/A", "true", "1_000", "\xd9\xa1"}) {
    EXPECT_EQ(ParseResult(text), PR::kNotANumber) << "'" << text << "'";
  }
}

TEST(AggregateDecimal, RefusesWhatItCannotHoldExactly) {
  EXPECT_EQ(ParseResult("0.0000000000000000001"), PR::kTooManyFractionDigits);
  EXPECT_EQ(ParseResult("1e-19"), PR::kTooManyFractionDigits);
  EXPECT_EQ(ParseResult("1.5e-18"), PR::kTooManyFractionDigits);
  EXPECT_EQ(ParseResult("100000000000000000000000000000000000000"), PR::kOutOfRange);  // 39 digits
  EXPECT_EQ(ParseResult("1e38"), PR::kOutOfRange);
  EXPECT_EQ(ParseResult("-1e999999999999999999"), PR::kOutOfRange);
  EXPECT_EQ(ParseResult("1234567890123456789012345678901234567.89"), PR::kOutOfRange);  // 39 significant
  EXPECT_STREQ(Decimal::Describe(PR::kNotANumber), "is not a number");
}

TEST(AggregateDecimal, AddsExactly) {
  Decimal sum;
  ASSERT_TRUE(Decimal::Add(D("0.1"), D("0.2"), &sum));
  EXPECT_EQ(sum.ToString(), "0.3");
  ASSERT_TRUE(Decimal::Add(D("1.5"), D("-1.5"), &sum));
  EXPECT_EQ(sum.ToString(), "0");
  EXPECT_EQ(sum.scale(), 0);
  ASSERT_TRUE(Decimal::Add(D("1"), D("0.001"), &sum));
  EXPECT_EQ(sum.ToString(), "1.001");
  ASSERT_TRUE(Decimal::Add(D("0.25"), D("0.75"), &sum));
  EXPECT_EQ(sum.ToString(), "1");
  EXPECT_EQ(sum.scale(), 0);
}

// Short numbers ("-1234.56") take a 64-bit path; a number with an
// exponent always takes the general one. Appending "e0" changes neither
// the value nor (for these texts) whether it is one, so both paths must
// agree on every random short text, well-formed or not.
TEST(AggregateDecimal, TheShortPathReadsAsTheGeneralOne) {
  std::mt19937_64 rng(7);
  const std::string alphabet = "0123456789000..--+x";
  for (int i = 0; i < 200000; ++i) {
    std::string text(1 + rng() % 22, '0');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    if (rng() % 2 == 0) {  // mostly well-formed: digits, maybe a point, maybe a sign
      text = std::string(rng() % 3 == 0 ? "-" : "") + std::to_string(rng() % 1000000000000000000ULL);
      const size_t point = rng() % (text.size() + 1);
      if (point > 0 && text[point - 1] != '-') text.insert(point, ".");
    }
    Decimal short_path, general;
    const PR a = Decimal::Parse(text, &short_path);
    const PR b = Decimal::Parse(text + "e0", &general);
    ASSERT_EQ(a, b) << text;
    if (a == PR::kOk) {
      ASSERT_TRUE(short_path.mantissa() == general.mantissa()) << text;
      ASSERT_EQ(short_path.scale(), general.scale()) << text;
    }
  }
}

// Sums whose terms fit 64 bits take a path with no overflow checks; at its
// edges (the largest mantissas, the widest scale gap) it must still be
// exact, and a term past 64 bits must take the checked path.
TEST(AggregateDecimal, AddsExactlyAtTheEdgesOf64Bits) {
  Decimal sum;
  ASSERT_TRUE(Decimal::Add(Decimal::Of(INT64_MAX, 0), Decimal::Of(1, 18), &sum));
  EXPECT_EQ(sum.ToString(), "9223372036854775807.000000000000000001");
  ASSERT_TRUE(Decimal::Add(Decimal::Of(INT64_MIN, 0), Decimal::Of(INT64_MIN, 18), &sum));
  EXPECT_EQ(sum.ToString(), "-9223372036854775817.223372036854775808");
  ASSERT_TRUE(Decimal::Add(Decimal::Of(INT64_MAX, 0), Decimal::Of(INT64_MAX, 0), &sum));
  EXPECT_EQ(sum.ToString(), "18446744073709551614");
  ASSERT_TRUE(Decimal::Add(sum, Decimal::Of(1, 18), &sum));  // now past 64 bits: the checked path
  EXPECT_EQ(sum.ToString(), "18446744073709551614.000000000000000001");
  ASSERT_TRUE(Decimal::Add(Decimal::Of(-5, 1), Decimal::Of(5, 1), &sum));
  EXPECT_EQ(sum.ToString(), "0");
  EXPECT_EQ(sum.scale(), 0);
  ASSERT_TRUE(Decimal::Add(Decimal::Of(1999, 3), Decimal::Of(1, 3), &sum));  // 2.000: normalized
  EXPECT_EQ(sum.ToString(), "2");
  EXPECT_EQ(sum.scale(), 0);
}

TEST(AggregateDecimal, RefusesASumPast38Digits) {
  Decimal sum = D("7");
  EXPECT_FALSE(Decimal::Add(D("99999999999999999999999999999999999999"), D("1"), &sum));
  EXPECT_EQ(sum.ToString(), "7");                         // untouched
  EXPECT_FALSE(Decimal::Add(D("1e37"), D("0.1"), &sum));  // 39 digits at scale 1
  EXPECT_FALSE(Decimal::Add(D("-99999999999999999999999999999999999999"), D("-1"), &sum));
  EXPECT_TRUE(Decimal::Add(D("99999999999999999999999999999999999999"), D("-1"), &sum));
}

// Sums of the same values in different orders print the same: what makes
// the job's output independent of the rank count. Checked against integer
// arithmetic at a fixed scale.
TEST(AggregateDecimal, SumsDoNotDependOnOrder) {
  std::mt19937_64 rng(2026);
  std::vector<Decimal> values;
  __int128 reference = 0;  // at scale 9
  for (int i = 0; i < 2000; ++i) {
    const int scale = static_cast<int>(rng() % 10);
    const auto mantissa = static_cast<int64_t>(rng() % 2000000000001ULL) - 1000000000000LL;
    values.push_back(Decimal::Of(mantissa, scale));
    __int128 scaled = mantissa;
    for (int s = scale; s < 9; ++s) scaled *= 10;
    reference += scaled;
  }
  std::string expected = Decimal::Of(reference, 9).ToString();
  for (int round = 0; round < 4; ++round) {
    Decimal sum;
    for (const Decimal& v : values) ASSERT_TRUE(Decimal::Add(sum, v, &sum));
    EXPECT_EQ(sum.ToString(), expected) << "order " << round;
    std::shuffle(values.begin(), values.end(), rng);
  }
  // Pairwise (as combiners merge partial sums) gives the same too.
  std::vector<Decimal> level = values;
  while (level.size() > 1) {
    std::vector<Decimal> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      next.emplace_back();
      ASSERT_TRUE(Decimal::Add(level[i], level[i + 1], &next.back()));
    }
    if (level.size() % 2 == 1) next.push_back(level.back());
    level = std::move(next);
  }
  EXPECT_EQ(level[0].ToString(), expected);
}

TEST(AggregateDecimal, ComparesExactly) {
  EXPECT_EQ(Decimal::Compare(D("1.5"), D("1.50")), 0);
  EXPECT_TRUE(D("1.5") == D("1.500"));
  EXPECT_EQ(Decimal::Compare(D("-2"), D("-1.5")), -1);
  EXPECT_EQ(Decimal::Compare(D("0.1"), D("1")), -1);
  EXPECT_EQ(Decimal::Compare(D("0"), D("-0.000000000000000001")), 1);
  EXPECT_EQ(Decimal::Compare(D("0.30000000000000004"), D("0.3")), 1);
  // Aligning 10^37 to 18 digits after the point overflows: still right.
  EXPECT_EQ(Decimal::Compare(D("1e37"), D("1e-18")), 1);
  EXPECT_EQ(Decimal::Compare(D("1e-18"), D("1e37")), -1);
  EXPECT_EQ(Decimal::Compare(D("-1e37"), D("-1e-18")), -1);
  EXPECT_EQ(Decimal::Compare(D("-1e-18"), D("-1e37")), 1);
  EXPECT_EQ(Decimal::Compare(D("99999999999999999999.000000000000000001"), D("99999999999999999999")), 1);
}

std::string Avg(const std::string& sum, uint64_t n, int digits) {
  Decimal out;
  EXPECT_TRUE(D(sum).DivideRounded(n, digits, &out)) << sum << "/" << n;
  return out.ToString();
}

TEST(AggregateDecimal, DividesRoundingHalfToEven) {
  EXPECT_EQ(Avg("10", 4, 0), "2");  // 2.5
  EXPECT_EQ(Avg("14", 4, 0), "4");  // 3.5
  EXPECT_EQ(Avg("0.5", 1, 0), "0");
  EXPECT_EQ(Avg("1.5", 1, 0), "2");
  EXPECT_EQ(Avg("-5", 2, 0), "-2");  // -2.5
  EXPECT_EQ(Avg("-7", 2, 0), "-4");  // -3.5
  EXPECT_EQ(Avg("1", 3, 6), "0.333333");
  EXPECT_EQ(Avg("2", 3, 6), "0.666667");
  EXPECT_EQ(Avg("-1", 3, 6), "-0.333333");
  EXPECT_EQ(Avg("-0.0000001", 1, 6), "0");  // never "-0"
  EXPECT_EQ(Avg("0.125", 1, 2), "0.12");
  EXPECT_EQ(Avg("0.135", 1, 2), "0.14");
  EXPECT_EQ(Avg("0.1250000001", 1, 2), "0.13");
  EXPECT_EQ(Avg("3", 2, 6), "1.5");  // no trailing zeros
  EXPECT_EQ(Avg("1", UINT64_MAX, 18), "0");
  EXPECT_EQ(Avg("99999999999999999999999999999999999999", UINT64_MAX, 18),
            "5421010862427522170.331137592055280434");
  EXPECT_EQ(Avg("0.000000000000000001", 2, 18), "0");  // 0.5e-18: half to even
  EXPECT_EQ(Avg("0.000000000000000003", 2, 18), "0.000000000000000002");
  Decimal out;
  EXPECT_FALSE(D("99999999999999999999999999999999999999").DivideRounded(1, 6, &out));
}

TEST(AggregateDecimal, PrintsCanonically) {
  EXPECT_EQ(Decimal::Of(-5, 3).ToString(), "-0.005");
  EXPECT_EQ(Decimal::Of(1200, 2).ToString(), "12");
  EXPECT_EQ(Decimal::Of(123, 0).ToString(), "123");
  EXPECT_EQ(Decimal::Of(0, 7).ToString(), "0");
  EXPECT_EQ(Decimal::Of(100000, 5).ToString(), "1");
  EXPECT_EQ(Decimal::Of(-123456, 3).ToString(), "-123.456");
}

TEST(AggregateDecimal, TravelsThroughTheShuffleEncoding) {
  for (const char* text : {"0", "-1", "12.5", "-99999999999999999999999999999999999999",
                           "0.000000000000000001", "123456789012345678901234567890.12345678"}) {
    std::string bytes;
    Encode(&bytes, D(text));
    Decimal back;
    ByteReader r{bytes.data(), bytes.data() + bytes.size()};
    ASSERT_TRUE(Decode(r, &back)) << text;
    EXPECT_EQ(back.ToString(), D(text).ToString());
    EXPECT_EQ(back.scale(), D(text).scale());
  }
  // A corrupt scale is refused, not used as an index.
  std::string bytes;
  Encode(&bytes, D("1.5"));
  bytes.back() = 99;
  Decimal back;
  ByteReader r{bytes.data(), bytes.data() + bytes.size()};
  EXPECT_FALSE(Decode(r, &back));
}

}  // namespace
}  // namespace sluice::aggregate
