// The receive side's memory policy: blocks stored uncompressed (those from
// this node) are compressed before anything spills, so data that fits the
// budget once compressed never touches scratch; past that the store spills
// as before, and every record comes back exactly once.
#include "shuffle/shuffle_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>
#include <unistd.h>

namespace sluice {
namespace {

struct Counts {
  uint64_t runs = 0, records = 0, bytes = 0, merges = 0;
  SpillCounters Sink() { return {&runs, &records, &bytes, &merges}; }
};

// One block of `n` word-like records for partition p, split `split`.
std::string Block(BlockEncoder& enc, uint32_t p, uint32_t split, uint32_t n, BlockPayload payload,
                  std::map<std::string, uint64_t>* sent) {
  std::string raw;
  for (uint32_t i = 0; i < n; ++i) {
    const std::string key = "word" + std::to_string((split * 7919 + i * 31) % 5000);
    const uint64_t value = i + 1;
    Encode(&raw, key);
    Encode(&raw, value);
    (*sent)[key] += value;
  }
  BlockInfo info;
  info.partition = p;
  info.split = split;
  info.records = n;
  std::string frame;
  EXPECT_TRUE(enc.Encode(info, raw, &frame, payload).ok());
  return frame;
}

class ShuffleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/shuffle_store_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  StoreSettings Settings(uint64_t store_bytes) {
    StoreSettings s;
    s.partitions = 2;
    s.store_bytes = store_bytes;
    s.scratch_dir = dir_ + "/scratch";
    return s;
  }

  // Every record the store holds for partition p, in memory or spilled, summed by key.
  static void Collect(ShuffleStore<std::string, uint64_t>& store, uint32_t p,
                      std::map<std::string, uint64_t>* got) {
    ASSERT_TRUE(store.Spill(p).ok());  // everything into runs, then read the runs
    for (const RunInfo& run : store.partition(p).runs) {
      auto cursor = RunCursor<std::string, uint64_t>::OpenFile(*FileSystem::Default(), run);
      ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
      std::vector<std::unique_ptr<RunCursor<std::string, uint64_t>>> one;
      one.push_back(std::move(*cursor));
      RunMerger<std::string, uint64_t> merger(std::move(one));
      ASSERT_TRUE(merger.Start().ok());
      for (const auto* r = merger.current(); r != nullptr; r = merger.current()) {
        (*got)[std::string(r->key)] += r->value;
        ASSERT_TRUE(merger.Advance().ok());
      }
    }
  }

  static std::map<std::string, uint64_t> CollectAll(ShuffleStore<std::string, uint64_t>& store) {
    std::map<std::string, uint64_t> got;
    Collect(store, 0, &got);
    Collect(store, 1, &got);
    return got;
  }

  std::string dir_;
};

TEST_F(ShuffleStoreTest, StoredBlocksAreCompressedBeforeAnythingSpills) {
  BlockEncoder enc;
  std::map<std::string, uint64_t> sent;
  std::vector<std::string> frames;
  uint64_t stored_total = 0;
  for (uint32_t split = 0; split < 40; ++split) {
    frames.push_back(Block(enc, split % 2, split, 4000, BlockPayload::kStored, &sent));
    stored_total += frames.back().size();
  }
  // Room for about half the blocks as stored, all of them compressed.
  Counts counts;
  ShuffleStore<std::string, uint64_t> store(Settings(stored_total / 2), FileSystem::Default(),
                                            counts.Sink());
  for (std::string& f : frames) store.OnBlock(0, std::move(f));
  ASSERT_TRUE(store.status().ok()) << store.status().ToString();
  EXPECT_EQ(counts.runs, 0u) << "a spill although the blocks fit once compressed";
  uint64_t kept = 0, still_stored = 0, packed = 0;
  for (uint32_t p = 0; p < 2; ++p) {
    for (const std::string& f : store.partition(p).frames) {
      kept += f.size();
      auto info = BlockDecoder::PeekHeader(f, "test");
      ASSERT_TRUE(info.ok());
      (info->stored ? still_stored : packed) += 1;
    }
  }
  EXPECT_LE(kept, stored_total / 2);
  EXPECT_GT(packed, 0u);
  EXPECT_GT(still_stored, 0u) << "compressed only as far as the budget needs";

  EXPECT_EQ(CollectAll(store), sent);
}

TEST_F(ShuffleStoreTest, PastTheCompressedBudgetItSpillsAndLosesNothing) {
  BlockEncoder enc;
  std::map<std::string, uint64_t> sent;
  Counts counts;
  // Mixed: two blocks in three from this node (stored), the rest from another (zstd).
  ShuffleStore<std::string, uint64_t> store(Settings(64 << 10), FileSystem::Default(), counts.Sink());
  for (uint32_t split = 0; split < 60; ++split) {
    const BlockPayload payload = split % 3 == 0 ? BlockPayload::kZstd : BlockPayload::kStored;
    store.OnBlock(split % 2, Block(enc, split % 2, split, 3000, payload, &sent));
    ASSERT_TRUE(store.status().ok()) << store.status().ToString();
  }
  EXPECT_GT(counts.runs, 0u);
  EXPECT_EQ(CollectAll(store), sent);
}

TEST_F(ShuffleStoreTest, ADamagedStoredBlockFailsWhenCompressedNeverGainsAChecksum) {
  BlockEncoder enc;
  std::map<std::string, uint64_t> sent;
  std::string bad = Block(enc, 0, 0, 4000, BlockPayload::kStored, &sent);
  bad[bad.size() / 2] ^= 0x01;  // payload only: the header still reads
  Counts counts;
  ShuffleStore<std::string, uint64_t> store(Settings(bad.size() / 2), FileSystem::Default(),
                                            counts.Sink());
  store.OnBlock(0, std::move(bad));
  ASSERT_EQ(store.status().code(), StatusCode::kCorruption) << store.status().ToString();
  EXPECT_NE(store.status().message().find("payload checksum mismatch"), std::string::npos)
      << store.status().message();
}

}  // namespace
}  // namespace sluice
