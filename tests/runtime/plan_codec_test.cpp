#include "runtime/driver/plan_codec.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(PlanCodec, RoundTrips) {
  JobPlan plan;
  plan.files = {{"/a/b.txt", 100, 123456789}, {"c", 0, -1}};
  Split s0;
  s0.index = 0;
  s0.ranges = {{0, 0, 50}, {1, 0, 0}};
  Split s1;
  s1.index = 1;
  s1.ranges = {{0, 50, 100}};
  plan.splits = {s0, s1};
  plan.total_bytes = 100;
  plan.files[0].compression = Compression::kZstd;
  plan.splits[1].ranges[0].data_begin = 70;
  plan.splits[1].ranges[0].data_end = UINT64_MAX;
  plan.splits[1].ranges[0].decode_from = MemberStart{10, 20};
  // --incremental: what the next run checks each input against, and
  // which run this is (a resumed run must fold the same merge state in).
  plan.files[0].xxh3 = 0xfedcba9876543210ULL;
  plan.files[0].ctime_ns = 987654321;
  plan.files[1].input_index = kMergeStateInput;
  plan.incremental = true;
  plan.previous_fingerprint = 0x0123456789abcdefULL;
  plan.run_kind = "incremental: 1 new input file(s)";
  auto decoded = DecodePlan(EncodePlan(plan));
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->files.size(), 2u);
  EXPECT_EQ(decoded->files[0].path, "/a/b.txt");
  EXPECT_EQ(decoded->files[1].mtime_ns, -1);
  ASSERT_EQ(decoded->splits.size(), 2u);
  EXPECT_EQ(decoded->splits[0].ranges[1].file_index, 1u);
  EXPECT_EQ(decoded->splits[1].ranges[0].begin, 50u);
  EXPECT_EQ(decoded->total_bytes, 100u);
  EXPECT_EQ(decoded->files[0].compression, Compression::kZstd);
  EXPECT_EQ(decoded->files[1].compression, Compression::kNone);
  const FileRange& r = decoded->splits[1].ranges[0];
  EXPECT_EQ(r.data_begin, 70u);
  EXPECT_EQ(r.data_end, UINT64_MAX);
  EXPECT_EQ(r.decode_from.compressed, 10u);
  EXPECT_EQ(r.decode_from.uncompressed, 20u);
  EXPECT_EQ(decoded->files[0].xxh3, 0xfedcba9876543210ULL);
  EXPECT_EQ(decoded->files[0].ctime_ns, 987654321);
  EXPECT_EQ(decoded->files[1].input_index, kMergeStateInput);
  EXPECT_TRUE(decoded->incremental);
  EXPECT_EQ(decoded->previous_fingerprint, 0x0123456789abcdefULL);
  EXPECT_EQ(decoded->run_kind, "incremental: 1 new input file(s)");
}

TEST(PlanCodec, RejectsTruncation) {
  JobPlan plan;
  plan.files = {{"/a/b.txt", 100, 1}};
  std::string bytes = EncodePlan(plan);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodePlan(bytes.substr(0, n)).ok()) << n;
  }
}

}  // namespace
}  // namespace sluice
