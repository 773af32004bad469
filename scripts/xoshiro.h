// The generators that draw per-file streams (textgen.cpp, tablegen.cpp):
// xoshiro256** seeded through splitmix64, one independent stream per file,
// so a file's bytes depend only on the seed and its index (not on threads).
#pragma once

#include <bit>
#include <cstdint>

namespace gen {

// One step of splitmix64 on `state`.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Seed of stream `stream` under `seed`.
inline uint64_t StreamSeed(uint64_t seed, uint64_t stream) {
  uint64_t state = seed;
  uint64_t mixed = SplitMix64(state) ^ (stream * 0xD1B54A32D192ED03ull);
  return SplitMix64(mixed);
}

// xoshiro256** (Blackman and Vigna), seeded through splitmix64 as its authors
// recommend.
class Xoshiro256 {
 public:
  explicit Xoshiro256(uint64_t seed) {
    for (uint64_t& word : s_) word = SplitMix64(seed);
  }

  uint64_t Next() {
    const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }

  // Uniform on [0, n), n <= 2^32 (Lemire, on the top 32 bits).
  uint32_t Below(uint64_t n) { return uint32_t(((Next() >> 32) * n) >> 32); }

 private:
  uint64_t s_[4];
};

}  // namespace gen
