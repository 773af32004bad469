// How keys and values become bytes in a block, and back.
//
// Plain types travel as bytes: integers, floating point and enums are copied
// raw (little-endian), strings are a varint length and the bytes, pairs and
// tuples are their members in order. Anything else goes through Cereal, in
// its binary archive's format (string_output_archive.h), framed by a varint length so that a decoder never reads
// past it (nor allocates more than it holds: bounded_binary_archive.h). Cereal is the slow path; it is there so users can shuffle their
// own types by writing a `serialize(Archive&)` member.
//
// Keys are written through EncodeKey: the same bytes, except that float and
// double fields are canonical (-0.0 as +0.0, every NaN as one NaN), so that
// equal keys hash and group alike (float_keys.h).
//
// Decoding never trusts its input: every read is bounds-checked and a
// malformed encoding makes Decode return false (Cereal exceptions included).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <cereal/archives/binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>

#include "shuffle/bounded_binary_archive.h"
#include "shuffle/float_keys.h"
#include "shuffle/string_output_archive.h"

namespace sluice {

// The form in which a decoded T is handed to user code: strings are views
// into the decoded block (no copy, no allocation); everything else is T.
template <class T>
struct ViewOf {
  using type = T;
};
template <>
struct ViewOf<std::string> {
  using type = std::string_view;
};
template <class T>
using ViewOfT = typename ViewOf<T>::type;

// A bounds-checked cursor over bytes being decoded.
struct ByteReader {
  const char* p;
  const char* end;
  size_t remaining() const { return static_cast<size_t>(end - p); }
};

namespace serde_detail {

template <class T>
struct IsPair : std::false_type {};
template <class A, class B>
struct IsPair<std::pair<A, B>> : std::true_type {};
template <class T>
struct IsTuple : std::false_type {};
template <class... Ts>
struct IsTuple<std::tuple<Ts...>> : std::true_type {};

template <class T>
inline constexpr bool kRaw = std::is_arithmetic_v<T> || std::is_enum_v<T>;
template <class T>
inline constexpr bool kString =
    std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>;

}  // namespace serde_detail

inline void PutVarint(std::string* out, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

inline bool GetVarint(ByteReader& r, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && r.p < r.end; shift += 7) {
    uint64_t byte = static_cast<unsigned char>(*r.p++);
    result |= (byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *v = result;
      return true;
    }
  }
  return false;
}

template <class T>
void Encode(std::string* out, const T& v);
template <class T>
bool Decode(ByteReader& r, T* v);

template <class T>
void Encode(std::string* out, const T& v) {
  using namespace serde_detail;
  if constexpr (kRaw<T>) {
    out->append(reinterpret_cast<const char*>(&v), sizeof(T));
  } else if constexpr (kString<T>) {
    PutVarint(out, v.size());
    out->append(v.data(), v.size());
  } else if constexpr (IsPair<T>::value) {
    Encode(out, v.first);
    Encode(out, v.second);
  } else if constexpr (IsTuple<T>::value) {
    std::apply([out](const auto&... e) { (Encode(out, e), ...); }, v);
  } else {
    // Length-framed Cereal: the body is written straight into `out`, then
    // its length spliced in front of it (a short move: values are small).
    const size_t start = out->size();
    {
      StringOutputArchive ar(out);
      ar(v);
    }
    std::string length;
    PutVarint(&length, out->size() - start);
    out->insert(start, length);
  }
}

template <class T>
bool Decode(ByteReader& r, T* v) {
  using namespace serde_detail;
  if constexpr (kRaw<T>) {
    if (r.remaining() < sizeof(T)) return false;
    std::memcpy(v, r.p, sizeof(T));
    r.p += sizeof(T);
    return true;
  } else if constexpr (kString<T>) {
    uint64_t n;
    if (!GetVarint(r, &n) || n > r.remaining()) return false;
    *v = T(r.p, static_cast<size_t>(n));
    r.p += n;
    return true;
  } else if constexpr (IsPair<T>::value) {
    return Decode(r, &v->first) && Decode(r, &v->second);
  } else if constexpr (IsTuple<T>::value) {
    return std::apply([&r](auto&... e) { return (Decode(r, &e) && ...); }, *v);
  } else {
    uint64_t n;
    if (!GetVarint(r, &n) || n > r.remaining()) return false;
    try {
      BoundedBinaryInputArchive ar(r.p, static_cast<size_t>(n));
      ar(*v);
    } catch (const std::exception&) {
      return false;  // a short read or an oversized count: malformed
    }
    r.p += n;
    return true;
  }
}

// Encodes a key as Encode does, except that float and double fields
// (through pairs and tuples) are written in their canonical form: +0.0 for
// -0.0, the positive quiet NaN for every NaN (float_keys.h). Every key the
// map side shuffles, samples or hashes goes through here, so equal keys have
// equal bytes: one partition, one group, one Reduce call. Keys without a
// floating-point field are encoded exactly as by Encode.
template <class K>
void EncodeKey(std::string* out, const K& key) {
  using namespace serde_detail;
  if constexpr (!kKeyHasFloat<K>) {
    Encode(out, key);
  } else if constexpr (std::is_floating_point_v<K>) {
    Encode(out, CanonicalKeyFloat(key));
  } else if constexpr (IsPair<K>::value) {
    EncodeKey(out, key.first);
    EncodeKey(out, key.second);
  } else {
    std::apply([out](const auto&... e) { (EncodeKey(out, e), ...); }, key);
  }
}

// The bytes that decide a key's partition. Strings hash their characters
// (so a string and a string_view key agree); other types their key encoding
// (EncodeKey: -0.0 and +0.0, and all NaNs, hash alike).
template <class K>
inline std::string_view KeyBytes(const K& key, std::string* scratch) {
  if constexpr (serde_detail::kString<K>) {
    return std::string_view(key.data(), key.size());
  } else {
    scratch->clear();
    EncodeKey(scratch, key);
    return *scratch;
  }
}

}  // namespace sluice
