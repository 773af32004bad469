// ForEachWord: the SIMD word splitter against the byte-at-a-time definition,
// on random text biased toward separators and block edges.
#include <sluice/text_scan.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sluice {
namespace {

std::vector<std::string> Reference(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (IsWordSeparator(c)) {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> words;
  ForEachWord(text, [&](std::string_view w) { words.emplace_back(w); });
  return words;
}

TEST(ForEachWord, SeparatorsAreExactlySpaceAndTabThroughCr) {
  for (int c = 0; c < 256; ++c) {
    const bool expected = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
    EXPECT_EQ(IsWordSeparator(static_cast<char>(c)), expected) << c;
    // The same verdict inside a 16-byte block as in the scalar tail.
    const std::string text = std::string(20, 'a') + static_cast<char>(c) + std::string(20, 'b');
    EXPECT_EQ(Split(text), Reference(text)) << c;
  }
}

TEST(ForEachWord, MatchesTheDefinitionOnRandomText) {
  std::mt19937 rng(7);
  const char alphabet[] = {' ', '\t', '\n', '\r', '\v', '\f', 'a', 'b', '\0', '\x80', '\xff', '\x08', '\x0e', '!'};
  for (int trial = 0; trial < 20000; ++trial) {
    const size_t len = rng() % 100;
    std::string text;
    const int bias = static_cast<int>(rng() % 3);  // runs of words or of spaces
    for (size_t i = 0; i < len; ++i) {
      const size_t pick = bias == 0 ? rng() % sizeof alphabet : (rng() % 4 == 0 ? rng() % 6 : 6 + rng() % 8);
      text += alphabet[pick];
    }
    ASSERT_EQ(Split(text), Reference(text)) << "trial " << trial;
  }
}

TEST(ForEachWord, WordsSpanningBlocksAndEdges) {
  EXPECT_EQ(Split(""), std::vector<std::string>{});
  EXPECT_EQ(Split("   \t\r\n"), std::vector<std::string>{});
  const std::string long_word(100, 'x');
  EXPECT_EQ(Split(long_word), std::vector<std::string>{long_word});
  EXPECT_EQ(Split(" " + long_word + " y"), (std::vector<std::string>{long_word, "y"}));
  EXPECT_EQ(Split(std::string(15, ' ') + "ab" + std::string(15, ' ') + "c"),
            (std::vector<std::string>{"ab", "c"}));
}

}  // namespace
}  // namespace sluice

// CountByte against std::count at every length and alignment around the
// 16-byte steps, and over runs where every byte matches for longer than the
// byte-wide counters' 255 steps (they must be summed before they wrap).
TEST(CountByte, AgreesWithStdCount) {
  std::mt19937 rng(5);
  std::string text(20000, 'x');
  for (char& c : text) c = "ab\n\n\0\xff"[rng() % 6];
  for (size_t offset = 0; offset < 17; ++offset) {
    for (size_t length : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{4079}, size_t{4080},
                          size_t{4081}, size_t{12345}, text.size() - offset}) {
      const std::string_view piece(text.data() + offset, std::min(length, text.size() - offset));
      for (char byte : {'\n', '\0', '\xff', 'z'}) {
        ASSERT_EQ(sluice::CountByte(piece, byte), static_cast<uint64_t>(std::count(piece.begin(), piece.end(), byte)))
            << "offset " << offset << " length " << piece.size() << " byte " << int(byte);
      }
    }
  }
  const std::string all(100000, '\n');
  EXPECT_EQ(sluice::CountByte(all, '\n'), 100000u);
  EXPECT_EQ(sluice::CountByte(all, 'a'), 0u);
}
