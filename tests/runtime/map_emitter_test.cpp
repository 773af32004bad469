// The map emitter with partitions cut into reduce tasks (reduce_tasks.h):
// each record goes to the task whose key range holds it, and the buffers of
// many tasks together stay within the share --memory gives them. And blocks
// are compressed only when they leave the node.
#include <sluice/detail/map_emitter.h>

#include <cstring>
#include <map>
#include <set>
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

// Rank 0 of three, sharing its node with rank 1 only; keeps each block's
// destination and payload form (the frame's version: 1 zstd, 2 stored).
class NodeRecorder final : public BlockTransport {
 public:
  int rank() const override { return 0; }
  int size() const override { return 3; }
  bool SharesNodeWith(int r) const override { return r == 0 || r == 1; }
  void SetReceiver(BlockReceiver*) override {}
  void SendBlock(int dest, std::string frame) override {
    BlockDecoder dec;
    BlockInfo info;
    std::string raw;
    ASSERT_TRUE(dec.Decode(frame, "test", &info, &raw).ok());
    uint32_t version;
    std::memcpy(&version, frame.data() + 4, 4);
    versions[dest].insert(version);
    records[dest] += info.records;
  }
  void Poll() override {}
  void FinishShuffle() override {}
  std::map<int, std::set<uint32_t>> versions;
  std::map<int, uint64_t> records;
};

void SendPairs(const JobSettings& settings, NodeRecorder* transport) {
  Pairs job;
  TaskCounters counters;
  MapEmitter<Pairs> emit(&job, settings, transport, &counters);
  emit.BeginSplit(0);
  for (int i = 0; i < 30000; ++i) emit("k" + std::to_string(i), 1);
  ASSERT_TRUE(emit.EndSplit().ok());
}

TEST(MapEmitterBlocks, BlocksStayUncompressedOnlyWhileTheyStayOnTheNode) {
  JobSettings settings;
  settings.partitions = 12;
  settings.block_bytes = 16 << 10;
  settings.compress_node_local = false;  // --compress-node-local no
  NodeRecorder transport;
  SendPairs(settings, &transport);
  ASSERT_EQ(transport.versions.size(), 3u) << "every rank owns some partition";
  EXPECT_EQ(transport.versions[0], std::set<uint32_t>{2});
  EXPECT_EQ(transport.versions[1], std::set<uint32_t>{2});
  EXPECT_EQ(transport.versions[2], std::set<uint32_t>{1}) << "a block leaving the node is zstd";
  EXPECT_EQ(transport.records[0] + transport.records[1] + transport.records[2], 30000u);

  settings.compress_node_local = true;  // the default
  NodeRecorder compressing;
  SendPairs(settings, &compressing);
  for (int r = 0; r < 3; ++r) EXPECT_EQ(compressing.versions[r], std::set<uint32_t>{1}) << r;
  EXPECT_EQ(compressing.records, transport.records);
}

}  // namespace
}  // namespace sluice
