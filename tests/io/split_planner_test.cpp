// Defends the split plan: every byte of every input in exactly one range,
// large files cut evenly, small files grouped, order kept, deterministic.
#include "io/split_planner.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace sluice {
namespace {

// Spelled out because GCC 12 warns (-Wrestrict) falsely on "f" + to_string().
std::string Name(size_t i) {
  std::string name = "f";
  name += std::to_string(i);
  return name;
}

std::vector<InputFile> Files(std::initializer_list<uint64_t> sizes) {
  std::vector<InputFile> files;
  for (uint64_t size : sizes) {
    files.push_back(InputFile{Name(files.size()), size, 0});
  }
  return files;
}

// Checks the invariants every plan must hold.
void CheckPlan(const std::vector<InputFile>& files, uint64_t split_size,
               const std::vector<Split>& plan) {
  std::vector<uint64_t> covered(files.size(), 0);
  uint32_t last_file = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    const Split& s = plan[i];
    EXPECT_EQ(s.index, i);
    ASSERT_FALSE(s.ranges.empty());
    if (s.ranges.size() > 1) {
      EXPECT_LE(s.bytes(), MaxRangeBytes(split_size));
    }
    for (const FileRange& r : s.ranges) {
      ASSERT_LT(r.file_index, files.size());
      EXPECT_GE(r.file_index, last_file) << "ranges out of file order";
      last_file = r.file_index;
      EXPECT_EQ(r.begin, covered[r.file_index]) << "gap or overlap";
      EXPECT_LT(r.begin, r.end);
      EXPECT_LE(r.end - r.begin, MaxRangeBytes(split_size));
      covered[r.file_index] = r.end;
    }
  }
  for (size_t i = 0; i < files.size(); ++i) EXPECT_EQ(covered[i], files[i].size) << i;
}

TEST(SplitPlannerTest, NoFilesNoSplits) { EXPECT_TRUE(PlanSplits({}, 100).empty()); }

TEST(SplitPlannerTest, ZeroByteFilesProduceNoRange) {
  std::vector<InputFile> files = Files({0, 10, 0, 0});
  std::vector<Split> plan = PlanSplits(files, 100);
  ASSERT_EQ(plan.size(), 1u);
  ASSERT_EQ(plan[0].ranges.size(), 1u);
  EXPECT_EQ(plan[0].ranges[0].file_index, 1u);
  EXPECT_TRUE(PlanSplits(Files({0, 0}), 100).empty());
}

TEST(SplitPlannerTest, LargeFileCutIntoNearlyEqualRanges) {
  std::vector<InputFile> files = Files({1000});
  std::vector<Split> plan = PlanSplits(files, 300);
  ASSERT_EQ(plan.size(), 4u);  // ceil(1000 / 300)
  for (const Split& s : plan) {
    ASSERT_EQ(s.ranges.size(), 1u);
    EXPECT_EQ(s.bytes(), 250u);
  }
  CheckPlan(files, 300, plan);
}

TEST(SplitPlannerTest, UnevenSizesDifferByAtMostOneByte) {
  std::vector<InputFile> files = Files({1001});
  std::vector<Split> plan = PlanSplits(files, 100);
  ASSERT_EQ(plan.size(), 10u);  // ranges of up to 110 bytes (the slop)
  for (const Split& s : plan) {
    EXPECT_GE(s.bytes(), 100u);
    EXPECT_LE(s.bytes(), 101u);
  }
  CheckPlan(files, 100, plan);
}

// Up to a tenth over split_size, a file is one range (Hadoop's split slop):
// a 64 MiB + 65 B file used to become two 32 MiB tasks.
TEST(SplitPlannerTest, FileJustOverSplitSizeIsOneRange) {
  for (uint64_t size : {1001u, 1050u, 1100u}) {
    std::vector<InputFile> files = Files({size});
    std::vector<Split> plan = PlanSplits(files, 1000);
    ASSERT_EQ(plan.size(), 1u) << size;
    CheckPlan(files, 1000, plan);
  }
  EXPECT_EQ(PlanSplits(Files({1101}), 1000).size(), 2u);
}

TEST(SplitPlannerTest, ExactMultipleOfSplitSize) {
  std::vector<InputFile> files = Files({600, 200});
  std::vector<Split> plan = PlanSplits(files, 200);
  ASSERT_EQ(plan.size(), 4u);
  for (const Split& s : plan) EXPECT_EQ(s.bytes(), 200u);
  CheckPlan(files, 200, plan);
}

TEST(SplitPlannerTest, SmallFilesAreGroupedInOrder) {
  std::vector<InputFile> files = Files({30, 30, 30, 30, 50, 10});
  std::vector<Split> plan = PlanSplits(files, 100);
  ASSERT_EQ(plan.size(), 2u);
  ASSERT_EQ(plan[0].ranges.size(), 3u);  // 90 bytes; the fourth would make 120
  EXPECT_EQ(plan[0].bytes(), 90u);
  ASSERT_EQ(plan[1].ranges.size(), 3u);
  EXPECT_EQ(plan[1].bytes(), 90u);
  CheckPlan(files, 100, plan);
}

TEST(SplitPlannerTest, ManyTinyFilesMakeFewSplits) {
  std::vector<InputFile> files(10000, InputFile{"x", 1, 0});
  std::vector<Split> plan = PlanSplits(files, 1000);
  EXPECT_EQ(plan.size(), 10u);
  CheckPlan(files, 1000, plan);
}

TEST(SplitPlannerTest, LargeFileBetweenSmallOnesKeepsFileOrder) {
  std::vector<InputFile> files = Files({10, 250, 10, 10});
  std::vector<Split> plan = PlanSplits(files, 100);
  ASSERT_EQ(plan.size(), 5u);
  EXPECT_EQ(plan[0].ranges.size(), 1u);
  EXPECT_EQ(plan[0].ranges[0].file_index, 0u);
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(plan[i].ranges[0].file_index, 1u);
  ASSERT_EQ(plan[4].ranges.size(), 2u);
  CheckPlan(files, 100, plan);
}

TEST(SplitPlannerTest, SplitSizeOneCutsEveryByte) {
  std::vector<InputFile> files = Files({3, 1, 2});
  std::vector<Split> plan = PlanSplits(files, 1);
  EXPECT_EQ(plan.size(), 6u);
  CheckPlan(files, 1, plan);
}

TEST(SplitPlannerTest, HugeFileSizesDoNotOverflow) {
  const uint64_t size = ~uint64_t{0} - 5;
  std::vector<InputFile> files = Files({size});
  const uint64_t split_size = uint64_t{1} << 62;
  std::vector<Split> plan = PlanSplits(files, split_size);
  ASSERT_EQ(plan.size(), 4u);
  CheckPlan(files, split_size, plan);
}

TEST(SplitPlannerTest, BytesSumsItsRanges) {
  Split s;
  s.ranges = {FileRange{0, 10, 25}, FileRange{1, 0, 5}};
  EXPECT_EQ(s.bytes(), 20u);
  EXPECT_EQ(Split().bytes(), 0u);
}

TEST(SplitPlannerTest, PropertyRandomPlansCoverEveryByteOnceAndAreDeterministic) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<InputFile> files;
    const int n = std::uniform_int_distribution<int>(0, 12)(rng);
    for (int i = 0; i < n; ++i) {
      const uint64_t size = std::uniform_int_distribution<int>(0, 3)(rng) == 0
                                ? 0
                                : std::uniform_int_distribution<uint64_t>(1, 2000)(rng);
      files.push_back(InputFile{Name(i), size, 0});
    }
    const uint64_t split_size = std::uniform_int_distribution<uint64_t>(1, 700)(rng);
    SCOPED_TRACE("iteration " + std::to_string(iter));
    std::vector<Split> plan = PlanSplits(files, split_size);
    CheckPlan(files, split_size, plan);
    std::vector<Split> again = PlanSplits(files, split_size);
    ASSERT_EQ(again.size(), plan.size());
    for (size_t i = 0; i < plan.size(); ++i) {
      ASSERT_EQ(again[i].ranges.size(), plan[i].ranges.size());
      for (size_t j = 0; j < plan[i].ranges.size(); ++j) {
        EXPECT_EQ(again[i].ranges[j].file_index, plan[i].ranges[j].file_index);
        EXPECT_EQ(again[i].ranges[j].begin, plan[i].ranges[j].begin);
        EXPECT_EQ(again[i].ranges[j].end, plan[i].ranges[j].end);
      }
    }
    if (::testing::Test::HasFailure()) break;
  }
}


// ---- compressed files ---------------------------------------------------

// A compressed file of `members` members of `each` compressed bytes, each
// decoding to 3x as much.
InputFile CompressedFile(uint64_t members, uint64_t each, bool splittable) {
  InputFile f{"c.gz", members * each, 0};
  f.compression = Compression::kGzip;
  if (splittable) {
    for (uint64_t i = 0; i <= members; ++i) f.members.push_back(MemberStart{i * each, i * each * 3});
  }
  return f;
}

TEST(SplitPlannerTest, UnsplittableCompressedFileIsOneRangeHoweverLarge) {
  std::vector<InputFile> files{CompressedFile(100, 1000, false)};
  std::vector<Split> plan = PlanSplits(files, 1000);
  ASSERT_EQ(plan.size(), 1u);
  ASSERT_EQ(plan[0].ranges.size(), 1u);
  const FileRange& r = plan[0].ranges[0];
  EXPECT_EQ(r.begin, 0u);
  EXPECT_EQ(r.end, 100'000u);
  EXPECT_EQ(r.data_begin, 0u);
  EXPECT_EQ(r.data_end, UINT64_MAX);
  EXPECT_EQ(r.decode_from.compressed, 0u);
}

TEST(SplitPlannerTest, SplittableCompressedFileIsCutAtMemberStarts) {
  std::vector<InputFile> files{CompressedFile(100, 1000, true)};
  std::vector<Split> plan = PlanSplits(files, 10'000);
  ASSERT_EQ(plan.size(), 10u);
  uint64_t at = 0, data_at = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    ASSERT_EQ(plan[i].ranges.size(), 1u);
    const FileRange& r = plan[i].ranges[0];
    EXPECT_EQ(r.begin, at);
    EXPECT_EQ(r.begin % 1000, 0u) << "cut inside a member";
    EXPECT_EQ(r.data_begin, data_at);
    EXPECT_EQ(r.data_begin, r.begin * 3);
    // Decoding starts one member early, to see the byte before data_begin.
    EXPECT_EQ(r.decode_from.compressed, i == 0 ? 0 : r.begin - 1000);
    EXPECT_EQ(r.decode_from.uncompressed, i == 0 ? 0 : (r.begin - 1000) * 3);
    at = r.end;
    data_at = r.data_end;
  }
  EXPECT_EQ(at, 100'000u);
  EXPECT_EQ(data_at, 300'000u);
}

TEST(SplitPlannerTest, SmallCompressedFilesAreGroupedWhole) {
  std::vector<InputFile> files{CompressedFile(2, 100, true), CompressedFile(1, 100, false)};
  std::vector<Split> plan = PlanSplits(files, 10'000);
  ASSERT_EQ(plan.size(), 1u);
  ASSERT_EQ(plan[0].ranges.size(), 2u);
  for (const FileRange& r : plan[0].ranges) {
    EXPECT_EQ(r.data_begin, 0u);
    EXPECT_EQ(r.data_end, UINT64_MAX);
  }
}

TEST(SplitPlannerTest, MapOrderIsHeaviestFirstAndStable) {
  // A plain file cut in three, a big gzip that cannot be cut, a small plain
  // file: the gzip goes first, the rest keep plan order among equals.
  std::vector<InputFile> files = Files({3000});
  files.push_back(CompressedFile(2, 1000, false));
  files.push_back(InputFile{"small", 10, 0});
  std::vector<Split> plan = PlanSplits(files, 1000);
  ASSERT_EQ(plan.size(), 5u);
  EXPECT_EQ(MapOrder(plan, files), (std::vector<uint32_t>{3, 0, 1, 2, 4}));
}

}  // namespace
}  // namespace sluice
