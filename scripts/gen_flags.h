// Flag parsing shared by the generators (textgen.cpp, tablegen.cpp): a
// usage error exits 2 naming the program, integers and sizes (1000, 64K,
// 512M, 1G) are checked whole.
#pragma once

#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace gen {

constexpr int kExitUsage = 2;

[[noreturn]] inline void UsageError(const char* program, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n(run %s --help for usage)\n", program, message.c_str(), program);
  std::exit(kExitUsage);
}

inline uint64_t ParseInteger(const char* program, std::string_view flag, std::string_view text,
                             uint64_t min, uint64_t max) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    UsageError(program, std::string(flag) + ": expected an integer in [" + std::to_string(min) + ", " +
                            std::to_string(max) + "], got '" + std::string(text) + "'");
  }
  return value;
}

// Bytes: digits with an optional K, M or G suffix (powers of 1024), at most
// 1 PiB.
inline uint64_t ParseSize(const char* program, std::string_view flag, std::string_view text) {
  int shift = 0;
  std::string_view digits = text;
  constexpr std::string_view kSuffixes = "KMG";
  if (const size_t suffix =
          text.empty()
              ? kSuffixes.npos
              : kSuffixes.find(char(std::toupper(static_cast<unsigned char>(text.back()))));
      suffix != kSuffixes.npos) {
    shift = 10 * int(suffix + 1);
    digits.remove_suffix(1);
  }
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  const uint64_t max = uint64_t(1) << 50;
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
      value > (max >> shift)) {
    UsageError(program, std::string(flag) +
                            ": expected a size like 1000, 64K, 512M or 1G (at most 1048576G), got '" +
                            std::string(text) + "'");
  }
  return value << shift;
}

}  // namespace gen
