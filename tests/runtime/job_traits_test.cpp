// The job API's compile-time rules (job.h, detail/job_traits.h): the one
// rule for how keys and values reach user code, and the detection that
// tells a missing Reduce or Combine from a misspelt one. The near misses
// themselves fail to compile; tests/compile_fail/ shows each of them.
#include <sluice/detail/job_traits.h>
#include <sluice/detail/typed_runner.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include <sluice/job.h>

namespace sluice {
namespace {

struct UserPoint {
  int32_t x = 0;
  int32_t y = 0;
  bool operator<(const UserPoint& o) const { return std::tie(x, y) < std::tie(o.x, o.y); }
  template <class A>
  void serialize(A& ar) {
    ar(x, y);
  }
};

// The rule: std::string_view for std::string, the type itself otherwise.
static_assert(std::is_same_v<ViewOfT<std::string>, std::string_view>);
static_assert(std::is_same_v<ViewOfT<int64_t>, int64_t>);
static_assert(std::is_same_v<ViewOfT<uint32_t>, uint32_t>);
static_assert(std::is_same_v<ViewOfT<double>, double>);
static_assert(std::is_same_v<ViewOfT<std::pair<std::string, int64_t>>, std::pair<std::string, int64_t>>);
static_assert(std::is_same_v<ViewOfT<std::tuple<std::string, std::string, uint64_t>>,
                             std::tuple<std::string, std::string, uint64_t>>);
static_assert(std::is_same_v<ViewOfT<UserPoint>, UserPoint>);

// A job's KeyView and ValueView follow it, and so do the values Reduce
// iterates.
template <class K, class V>
struct AnyJob : Job<AnyJob<K, V>, K, V> {
  static constexpr bool kMapOnly = true;
  void Map(std::string_view, typename Job<AnyJob<K, V>, K, V>::Emitter&) {}
};
template <class K, class V>
constexpr bool kViewsFollowRule =
    std::is_same_v<typename AnyJob<K, V>::KeyView, ViewOfT<K>> &&
    std::is_same_v<typename AnyJob<K, V>::ValueView, ViewOfT<V>> &&
    std::is_same_v<typename AnyJob<K, V>::Values::value_type, ViewOfT<V>>;
static_assert(kViewsFollowRule<std::string, std::string>);
static_assert(kViewsFollowRule<int64_t, double>);
static_assert(kViewsFollowRule<std::pair<std::string, int64_t>, UserPoint>);
static_assert(kViewsFollowRule<std::tuple<int32_t, std::string>, uint64_t>);
static_assert(kViewsFollowRule<UserPoint, std::pair<int64_t, int64_t>>);

// Both spellings job.h allows for the key are callable as the engine calls
// Reduce, for a string key and for a tuple key.
class StringByValue : public Job<StringByValue, std::string, uint64_t> {
 public:
  void Map(std::string_view, Emitter&) {}
  void Reduce(KeyView, Values&, Output&) {}
};
class StringByConstRef : public Job<StringByConstRef, std::string, uint64_t> {
 public:
  void Map(std::string_view, Emitter&) {}
  void Reduce(const KeyView&, Values&, Output&) {}
};
class TupleByConstRef : public Job<TupleByConstRef, std::tuple<std::string, int64_t>, uint64_t> {
 public:
  void Map(std::string_view, Emitter&) {}
  void Reduce(const Key&, Values&, Output&) {}
};
class TupleByValue : public Job<TupleByValue, std::tuple<std::string, int64_t>, uint64_t> {
 public:
  void Map(std::string_view, Emitter&) {}
  void Reduce(KeyView, Values&, Output&) {}
};
static_assert(HasReduce<StringByValue> && HasReduce<StringByConstRef>);
static_assert(HasReduce<TupleByConstRef> && HasReduce<TupleByValue>);
static_assert(JobContract<StringByValue>::kChecked && JobContract<TupleByConstRef>::kChecked);

// The near miss of trap 1: the name is there, the call is not.
class StringKeyAsStdString : public Job<StringKeyAsStdString, std::string, uint64_t> {
 public:
  void Map(std::string_view, Emitter&) {}
  void Reduce(const std::string&, Values&, Output&) {}
};
static_assert(DeclaresReduce<StringKeyAsStdString> && !HasReduce<StringKeyAsStdString>);

// Name detection sees overloads and member templates, which `&J::Reduce`
// alone would report as absent.
class OverloadedReduce : public Job<OverloadedReduce, std::string, uint64_t> {
 public:
  void Map(std::string_view, Emitter&) {}
  void Reduce(KeyView, Values&, Output&) {}
  void Reduce(int) {}
};
class TemplateReduce : public Job<TemplateReduce, std::string, uint64_t> {
 public:
  void Map(std::string_view, Emitter&) {}
  template <class Out>
  void Reduce(KeyView, Values&, Out&) {}
};
class FinalJob final : public Job<FinalJob, std::string, uint64_t> {
 public:
  void Map(std::string_view, Emitter&) {}
  void Reduce(KeyView, Values&, Output&) {}
};
static_assert(DeclaresReduce<OverloadedReduce> && HasReduce<OverloadedReduce>);
static_assert(DeclaresReduce<TemplateReduce> && HasReduce<TemplateReduce>);
static_assert(DeclaresReduce<FinalJob> && HasReduce<FinalJob>);
static_assert(!DeclaresCombine<FinalJob>);

// Absent is absent, and map-only is what the job declares, nothing else.
static_assert(!DeclaresReduce<AnyJob<std::string, uint64_t>>);
static_assert(!DeclaresCombine<AnyJob<std::string, uint64_t>>);
static_assert(MapOnly<AnyJob<std::string, uint64_t>>());
static_assert(!MapOnly<StringByValue>());
static_assert(MapCallable<StringByValue>());

// Combine: by value and by const& are what the engine can call; non-const
// references are a near miss, not an absent combiner.
class CombineByValue : public Job<CombineByValue, std::string, uint64_t> {
 public:
  void Map(std::string_view, Emitter&) {}
  uint64_t Combine(uint64_t a, uint64_t b) { return a + b; }
  void Reduce(KeyView, Values&, Output&) {}
};
class CombineByMutableRef : public Job<CombineByMutableRef, std::string, uint64_t> {
 public:
  void Map(std::string_view, Emitter&) {}
  uint64_t Combine(uint64_t& a, uint64_t& b) { return a + b; }
  void Reduce(KeyView, Values&, Output&) {}
};
static_assert(DeclaresCombine<CombineByValue> && HasCombiner<CombineByValue>);
static_assert(DeclaresCombine<CombineByMutableRef> && !HasCombiner<CombineByMutableRef>);

// Map is checked against what the job's Input hands it.
class RowsJob : public Job<RowsJob, uint64_t, uint64_t> {
 public:
  using Input = GeneratedRows<8>;
  static constexpr bool kMapOnly = true;
  void Map(uint64_t, Emitter&) {}
};
class KvJob : public Job<KvJob, std::string, uint64_t> {
 public:
  using Input = KeyValueInput<std::string, std::tuple<int64_t, std::string>>;
  void Map(std::string_view, const std::tuple<int64_t, std::string>&, Emitter&) {}
  void Reduce(KeyView, Values&, Output&) {}
};
class LineMapTakesString : public Job<LineMapTakesString, std::string, uint64_t> {
 public:
  static constexpr bool kMapOnly = true;
  void Map(const std::string&, Emitter&) {}
};
static_assert(MapCallable<RowsJob>() && JobContract<RowsJob>::kChecked);
static_assert(MapCallable<KvJob>() && JobContract<KvJob>::kChecked);
static_assert(!MapCallable<LineMapTakesString>());

// CombineInto: the in-place form of Combine, used by the combiner tables
// when present; refused when it cannot be called so, or without Combine.
class MergesInPlace : public Job<MergesInPlace, std::string, std::string> {
 public:
  void Map(std::string_view, Emitter&) {}
  std::string Combine(const std::string& a, const std::string& b) {
    ++combines;
    return a + b;
  }
  void CombineInto(std::string& into, const std::string& from) {
    ++in_place;
    into += from;
  }
  void Reduce(KeyView, Values&, Output&) {}
  int combines = 0;
  int in_place = 0;
};
class CombineIntoByValue : public Job<CombineIntoByValue, std::string, uint64_t> {
 public:
  void Map(std::string_view, Emitter&) {}
  uint64_t Combine(uint64_t a, uint64_t b) { return a + b; }
  void CombineInto(uint64_t into, uint64_t from) { into += from; }  // would merge nothing
  void Reduce(KeyView, Values&, Output&) {}
};
static_assert(HasCombineInto<MergesInPlace> && JobContract<MergesInPlace>::kChecked);
static_assert(DeclaresCombineInto<CombineIntoByValue> && !HasCombineInto<CombineIntoByValue>);
static_assert(!DeclaresCombineInto<StringByValue>);

TEST(JobTraits, CombinerTablesMergeInPlaceWithCombineInto) {
  MergesInPlace job;
  bool running = false;
  StringCombineTable<std::string, CombineWith<MergesInPlace>> table(CombineWith<MergesInPlace>{&job, &running});
  for (const char* v : {"a", "b", "c"}) table.Add("key", table.Hash("key"), v);
  table.Add("other", table.Hash("other"), "x");
  std::string merged;
  table.ForEach([&](std::string_view key, uint64_t, const std::string& value) {
    if (key == "key") merged = value;
  });
  EXPECT_EQ(merged, "abc");
  EXPECT_EQ(job.in_place, 2);
  EXPECT_EQ(job.combines, 0);
  EXPECT_FALSE(running);
}

// The engine runs a job map-only exactly when the job declares kMapOnly,
// whatever spelling its Reduce has.
TEST(JobTraits, EngineIsMapOnlyExactlyWhenTheJobDeclaresIt) {
  EXPECT_TRUE(TypedRunner<RowsJob>().traits().map_only);
  EXPECT_TRUE((TypedRunner<AnyJob<std::string, uint64_t>>().traits().map_only));
  EXPECT_FALSE(TypedRunner<StringByValue>().traits().map_only);
  EXPECT_FALSE(TypedRunner<TupleByConstRef>().traits().map_only);
  EXPECT_FALSE(TypedRunner<OverloadedReduce>().traits().map_only);
  EXPECT_FALSE(TypedRunner<TemplateReduce>().traits().map_only);
}

// A job with a Reduce that skips it for some parameters (the stream job
// without a reducer): TraitsFor asks it, traits() alone cannot know.
class MaybeMapOnly : public Job<MaybeMapOnly, std::string, std::string> {
 public:
  static constexpr Param<std::string> kReducer{"reducer", "", "empty: map-only"};
  static constexpr auto kParams = ParamTable(kReducer);
  bool RunsMapOnly() const { return param(kReducer).empty(); }
  void Map(std::string_view line, Emitter& emit) { emit(line, line); }
  void Reduce(std::string_view key, Values& values, Output& out) {
    for (std::string_view v : values) out(key, v);
  }
};

TEST(JobTraits, AJobMayRunMapOnlyForSomeParameters) {
  TypedRunner<MaybeMapOnly> runner;
  EXPECT_FALSE(runner.traits().map_only);
  EXPECT_TRUE(runner.TraitsFor({}).map_only);
  EXPECT_FALSE(runner.TraitsFor({{"reducer", "cat"}}).map_only);
  EXPECT_FALSE(runner.TraitsFor({{"reducer", "cat"}}).cuttable_partitions && runner.TraitsFor({}).cuttable_partitions);
  // Parameters that do not parse leave the static traits (CheckParams names them).
  EXPECT_FALSE(runner.TraitsFor({{"no-such", "x"}}).map_only);
}

// PartitionBytes: the partition follows the bytes the job names, not the
// whole key, and a piece boundary may not cut such a partition.
class PrefixPartitioned : public Job<PrefixPartitioned, std::string, std::string> {
 public:
  std::string_view PartitionBytes(std::string_view key, std::string*) const {
    return key.substr(0, key.find(','));
  }
  void Map(std::string_view line, Emitter& emit) { emit(line, line); }
  void Reduce(std::string_view key, Values& values, Output& out) {
    for (std::string_view v : values) out(key, v);
  }
};

TEST(JobTraits, PartitionBytesChooseThePartitionAndKeepItWhole) {
  EXPECT_FALSE(TypedRunner<PrefixPartitioned>().traits().cuttable_partitions);
  PrefixPartitioned job;
  JobSettings settings;
  settings.partitions = 97;
  TaskCounters counters;
  MapEmitter<PrefixPartitioned> emit(&job, settings, nullptr, &counters);
  std::set<uint32_t> of_a, all;
  for (int i = 0; i < 50; ++i) {
    of_a.insert(emit.PartitionOfKey("a," + std::to_string(i)));
    all.insert(emit.PartitionOfKey("k" + std::to_string(i) + "," + std::to_string(i)));
  }
  EXPECT_EQ(of_a.size(), 1u);
  EXPECT_EQ(*of_a.begin(), PartitionOf("a", 97));
  EXPECT_GT(all.size(), 10u);
}

}  // namespace
}  // namespace sluice
