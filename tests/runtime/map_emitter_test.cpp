// The map emitter with partitions cut into reduce tasks (reduce_tasks.h):
// each record goes to the task whose key range holds it, and the buffers of
// many tasks together stay within the share --memory gives them.
#include <sluice/detail/map_emitter.h>

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/job.h>
#include "shuffle/block_codec.h"
#include "shuffle/partitioner.h"

namespace sluice {
namespace {

class Pairs : public Job<Pairs, std::string, uint64_t> {  // no combiner: every record is sent
 public:
  void Map(std::string_view line, Emitter& emit) { emit(line, 1); }
  void Reduce(std::string_view key, Values& values, Output& out) {
    uint64_t n = 0;
    for (uint64_t v : values) n += v;
    out(key, n);
  }
};

// Keeps the header of every block sent.
class Recorder final : public BlockTransport {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void SetReceiver(BlockReceiver*) override {}
  void SendBlock(int, std::string frame) override {
    auto info = BlockDecoder::ParseHeader(frame, "test");
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    blocks.push_back(*info);
  }
  void Poll() override {}
  void FinishShuffle() override {}
  std::vector<BlockInfo> blocks;
};

TEST(MapEmitterTasks, RecordsGoToTheirKeyRangesTaskAndBuffersKeepTheirShare) {
  JobSettings settings;
  settings.partitions = 2;
  settings.block_bytes = 64 << 10;
  Pairs job;
  TaskCounters counters;
  Recorder transport;
  MapEmitter<Pairs> emit(&job, settings, &transport, &counters);
  // Partition 0 in 2 tasks (0, 1), partition 1 in 4 (2..5).
  const std::vector<std::vector<std::string>> cuts = {{"m"}, {"d", "k", "t"}};
  emit.SetReduceTasks(cuts);
  emit.BeginSplit(0);
  std::map<uint32_t, uint32_t> want;  // task -> records, computed here
  for (int i = 0; i < 60000; ++i) {
    const std::string key = std::string(1, static_cast<char>('a' + i % 26)) + std::to_string(i);
    emit(key, 1);
    const uint32_t p = PartitionOf(key, 2);
    const auto& c = cuts[p];
    const uint32_t piece = static_cast<uint32_t>(std::upper_bound(c.begin(), c.end(), key) - c.begin());
    want[(p == 0 ? 0 : 2) + piece] += 1;
  }
  ASSERT_TRUE(emit.EndSplit().ok());
  std::map<uint32_t, uint32_t> got;
  uint32_t largest = 0;
  for (const BlockInfo& b : transport.blocks) {
    got[b.partition] += b.records;
    largest = std::max(largest, b.raw_size);
  }
  EXPECT_EQ(got, want);
  // Six tasks share what two partitions' buffers had: 2 x 64 KiB / 6 each
  // (a block flushes once it reaches that, so one record past it at most).
  EXPECT_LE(largest, (2u * (64u << 10)) / 6 + 64) << "buffers outgrew their share";
  EXPECT_GT(transport.blocks.size(), 6u);
}

}  // namespace
}  // namespace sluice
