// Fixed-width integers in the on-disk formats (block frames, key-value
// files): little-endian, unaligned. x86-64 and AArch64 Linux are little-endian,
// so these are plain copies; the static_assert keeps it that way.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace sluice {

static_assert(std::endian::native == std::endian::little, "on-disk formats assume little-endian");

inline uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void Store32(char* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }
inline void Store64(char* p, uint64_t v) { std::memcpy(p, &v, sizeof v); }
inline void Put32(std::string* out, uint32_t v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}
inline void Put64(std::string* out, uint64_t v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

}  // namespace sluice
