// A Cereal output archive that appends to a std::string, writing exactly
// the bytes cereal::BinaryOutputArchive writes (so BoundedBinaryInputArchive
// and BinaryInputArchive read it back).
//
// BinaryOutputArchive writes through a std::ostream: the encoder built an
// ostream (a locale and its facets), a streambuf and a scratch string per
// value, and every field went through a virtual xsputn. For a user type
// emitted once per record that was most of its encoding cost. Here each
// field is one append.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>

#include <cereal/archives/binary.hpp>
#include <cereal/cereal.hpp>

#include "shuffle/bounded_binary_archive.h"

namespace sluice {

class StringOutputArchive
    : public cereal::OutputArchive<StringOutputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit StringOutputArchive(std::string* out) : OutputArchive(this), out_(out) {}

  void saveBinary(const void* data, size_t size) { out_->append(static_cast<const char*>(data), size); }

 private:
  std::string* out_;
};

// Found by argument-dependent lookup from inside Cereal; the same rules as
// cereal/archives/binary.hpp's for BinaryOutputArchive.
template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_SAVE_FUNCTION_NAME(StringOutputArchive& ar,
                                                                          const T& t) {
  ar.saveBinary(std::addressof(t), sizeof(t));
}

template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(StringOutputArchive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}

template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(StringOutputArchive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
}

template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(StringOutputArchive& ar, const cereal::BinaryData<T>& bd) {
  ar.saveBinary(bd.data, static_cast<size_t>(bd.size));
}

}  // namespace sluice

CEREAL_REGISTER_ARCHIVE(sluice::StringOutputArchive)

// Cereal checks a type's save_minimal against its load_minimal through
// this pairing.
namespace cereal::traits::detail {
template <>
struct get_input_from_output<sluice::StringOutputArchive> {
  using type = sluice::BoundedBinaryInputArchive;
};
}  // namespace cereal::traits::detail
