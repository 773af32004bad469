// The order and equality of keys, made total for floating point.
//
// Keys are partitioned by their bytes and grouped by sorting, so a key type
// needs one equality that agrees with its bytes and one strict weak order.
// Built-in `<` and `==` give neither for float and double:
//   - -0.0 == +0.0, but their bytes differ, so they would hash to different
//     partitions (and reach Reduce as two keys, or one, by rank count);
//   - NaN is unordered, so `<` is not a strict weak order: std::sort and the
//     spill merge may put NaN anywhere, and `!(a < b)` calls it equal to
//     every key it follows.
//
// The rule, for float and double keys and for such fields of pair and tuple
// keys (recursively):
//   - -0.0 and +0.0 are one key. It is encoded (so hashed, shuffled and
//     handed to Reduce) as +0.0.
//   - Every NaN (any sign, any payload, quiet or signaling) is one key,
//     encoded as the positive quiet NaN, and sorts after +infinity:
//       -inf < ... < -1 < -0.0 == +0.0 < 1 < ... < +inf < NaN.
// The map side canonicalizes each key as it encodes it (EncodeKey in
// serde.h); KeyOrder and KeyEqual below hold the same rule for keys that
// were not canonicalized yet (range cuts, the combiner's table). Values are
// never canonicalized: a value -0.0 or NaN reaches Reduce bit for bit.
// User (Cereal) key types keep their own operator< and operator==.
//
// Keys with no floating-point field compile to plain `<` and `==`.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>

namespace sluice {

namespace float_keys_detail {

template <class T>
struct HasFloat : std::is_floating_point<T> {};
template <class A, class B>
struct HasFloat<std::pair<A, B>> : std::bool_constant<HasFloat<std::remove_cvref_t<A>>::value ||
                                                      HasFloat<std::remove_cvref_t<B>>::value> {};
template <class... Ts>
struct HasFloat<std::tuple<Ts...>>
    : std::bool_constant<(HasFloat<std::remove_cvref_t<Ts>>::value || ...)> {};

}  // namespace float_keys_detail

// True when key type T is, or holds (through pairs and tuples), a float or
// double: the types whose order and encoding the rule above changes.
template <class T>
inline constexpr bool kKeyHasFloat = float_keys_detail::HasFloat<std::remove_cvref_t<T>>::value;

// The one representative of x's key: +0.0 for either zero, the positive
// quiet NaN for any NaN, x otherwise.
template <std::floating_point F>
inline F CanonicalKeyFloat(F x) {
  if (std::isnan(x)) return std::numeric_limits<F>::quiet_NaN();
  return x == 0 ? F(0) : x;
}

// a < b for keys: `<`, except that floating-point fields follow the rule
// above. A strict weak order for every key type whose own `<` is one.
// (Two type parameters, like std::less<>: a string_view key against a
// std::string cut, a tuple of references against a tuple.)
struct KeyOrder {
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    if constexpr (!kKeyHasFloat<A> && !kKeyHasFloat<B>) {
      return a < b;
    } else if constexpr (std::is_floating_point_v<A>) {
      // NaN is after everything but NaN; -0.0 < +0.0 is already false.
      return a < b || (std::isnan(b) && !std::isnan(a));
    } else {
      static_assert(std::tuple_size_v<A> == std::tuple_size_v<B>, "keys of different shapes");
      return Lexicographic(a, b, std::make_index_sequence<std::tuple_size_v<A>>());
    }
  }

 private:
  template <class A, class B, size_t... I>
  bool Lexicographic(const A& a, const B& b, std::index_sequence<I...>) const {
    // The first field in which either key is less decides; || stops there.
    bool less = false;
    (void)((((*this)(std::get<I>(a), std::get<I>(b)) && (less = true)) ||
            (*this)(std::get<I>(b), std::get<I>(a))) ||
           ...);
    return less;
  }
};

// a == b for keys: `==`, except that floating-point fields follow the rule
// above (so every NaN equals every NaN). Agrees with KeyOrder: equal keys
// are the ones neither of which is less.
struct KeyEqual {
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    if constexpr (!kKeyHasFloat<A> && !kKeyHasFloat<B>) {
      return a == b;
    } else {
      return !KeyOrder()(a, b) && !KeyOrder()(b, a);
    }
  }
};

}  // namespace sluice
