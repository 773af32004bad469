// A Cereal input archive over a fixed byte span that refuses any container
// size larger than the bytes left.
//
// Cereal's own BinaryInputArchive reads a container's element count and
// resizes to it before reading a single element, so 18 corrupt (or
// stale-layout) bytes can demand a 3 GiB string: the fuzzer found exactly
// that through a key-value file. Every element takes at least one byte, so
// "count <= bytes left" bounds what a decode can allocate by the size of its
// input. Reads the format BinaryOutputArchive writes, byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>

#include <cereal/archives/binary.hpp>
#include <cereal/cereal.hpp>

namespace sluice {

class BoundedBinaryInputArchive
    : public cereal::InputArchive<BoundedBinaryInputArchive, cereal::AllowEmptyClassElision> {
 public:
  BoundedBinaryInputArchive(const char* data, size_t size)
      : InputArchive(this), p_(data), end_(data + size) {}

  // Throws cereal::Exception (a std::runtime_error) past the end.
  void loadBinary(void* out, size_t size) {
    if (size == 0) return;  // an empty vector's data() may be null: no memcpy
    if (size > remaining()) throw cereal::Exception("read past the end of a framed value");
    std::memcpy(out, p_, size);
    p_ += size;
  }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

 private:
  const char* p_;
  const char* end_;
};

// Found by argument-dependent lookup from inside Cereal.
template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_LOAD_FUNCTION_NAME(
    BoundedBinaryInputArchive& ar, T& t) {
  ar.loadBinary(std::addressof(t), sizeof(t));
}

template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(BoundedBinaryInputArchive& ar,
                                           cereal::NameValuePair<T>& t) {
  ar(t.value);
}

template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(BoundedBinaryInputArchive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
  if (static_cast<uint64_t>(t.size) > ar.remaining()) {
    throw cereal::Exception("container size exceeds the bytes left in a framed value");
  }
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(BoundedBinaryInputArchive& ar, cereal::BinaryData<T>& bd) {
  ar.loadBinary(bd.data, static_cast<size_t>(bd.size));
}

}  // namespace sluice

CEREAL_REGISTER_ARCHIVE(sluice::BoundedBinaryInputArchive)

// Only the input-to-output half of CEREAL_SETUP_ARCHIVE_TRAITS: the other
// half already names BinaryInputArchive for BinaryOutputArchive. Cereal uses
// this to check load_minimal against save_minimal.
namespace cereal::traits::detail {
template <>
struct get_output_from_input<sluice::BoundedBinaryInputArchive> {
  using type = cereal::BinaryOutputArchive;
};
}  // namespace cereal::traits::detail
