// MapTaskStore (runtime/driver/map_task_store.h): a committed task is found
// again and replays the frames it saved; anything torn, corrupt, truncated
// or saved for another split is refused; and scratch records let a later
// run remove a killed run's scratch, and nothing else.
#include "runtime/driver/map_task_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/file_system.h"
#include "shuffle/block_codec.h"

namespace sluice {
namespace {

constexpr uint64_t kFingerprint = 0x00c0ffee12345678;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class MapTaskStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/task-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/.out.sluice-work";
  }
  void TearDown() override { (void)std::system(("chmod -R u+rwx " + dir_ + "; rm -rf " + dir_).c_str()); }

  std::unique_ptr<MapTaskStore> Store(uint64_t fingerprint = kFingerprint, int rank = 0) {
    return std::make_unique<MapTaskStore>(fs_, root_, fingerprint, rank);
  }

  // Real block frames (Replay parses their headers), one per partition.
  std::vector<std::string> Frames(uint32_t split, int n) {
    BlockEncoder encoder;
    std::vector<std::string> frames;
    for (int i = 0; i < n; ++i) {
      BlockInfo info;
      info.partition = static_cast<uint32_t>(i);
      info.split = split;
      info.seq = 0;
      info.records = 1;
      std::string frame;
      EXPECT_TRUE(encoder.Encode(info, "record " + std::to_string(split) + "/" + std::to_string(i) +
                                           std::string(100 * i, 'x'),
                                 &frame)
                      .ok());
      frames.push_back(frame);
    }
    return frames;
  }

  static SavedTaskStats Stats(uint32_t split) {
    SavedTaskStats s;
    s.counters.input_records = 100 + split;
    s.counters.map_output_records = 300 + split;
    s.user = {{"lines.long", 7}, {"words", 40 + split}};
    s.bad_records = {{"/data/in/a.txt", 4096, "not a number"}};
    s.reduce_tasks = 0x5eed0000 + split;  // the task table's hash
    return s;
  }

  // Saves split's task with three frames; returns the frames.
  std::vector<std::string> Save(MapTaskStore& store, uint32_t split) {
    std::vector<std::string> frames = Frames(split, 3);
    EXPECT_TRUE(store.BeginTask(split).ok());
    EXPECT_TRUE(store.task_open());
    for (const std::string& f : frames) store.Append(f);
    Status s = store.CommitTask(split, Stats(split));
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_FALSE(store.task_open());
    return frames;
  }

  std::string TaskPath(const MapTaskStore& store, uint32_t split) {
    char name[32];
    std::snprintf(name, sizeof name, "/map-%08u", split);
    return store.dir() + name;
  }

  // Check must refuse split's task, saying why (containing `reason`).
  void ExpectRefused(MapTaskStore& store, uint32_t split, const std::string& reason,
                     bool map_only = false) {
    SavedTaskStats stats;
    std::string why;
    EXPECT_FALSE(store.Check(split, map_only, &stats, &why));
    EXPECT_NE(why.find(reason), std::string::npos) << why;
  }

  FileSystem& fs_ = *FileSystem::Default();
  std::string dir_;
  std::string root_;
};

TEST_F(MapTaskStoreTest, ACommittedTaskIsFoundAgainWithItsFramesAndCounters) {
  auto store = Store();
  ASSERT_TRUE(store->Prepare().ok());
  EXPECT_EQ(store->dir(), root_ + "/00c0ffee12345678");
  const std::vector<std::string> frames = Save(*store, 3);

  // As a re-run of the killed job would: a new store, the same fingerprint.
  auto rerun = Store(kFingerprint, 1);
  ASSERT_TRUE(rerun->Prepare().ok());
  SavedTaskStats stats;
  std::string why;
  ASSERT_TRUE(rerun->Check(3, /*map_only=*/false, &stats, &why)) << why;
  const SavedTaskStats want = Stats(3);
  EXPECT_EQ(stats.counters.ToArray(), want.counters.ToArray());
  EXPECT_EQ(stats.user, want.user);
  EXPECT_EQ(stats.reduce_tasks, want.reduce_tasks);
  ASSERT_EQ(stats.bad_records.size(), 1u);
  EXPECT_EQ(stats.bad_records[0].file, "/data/in/a.txt");
  EXPECT_EQ(stats.bad_records[0].offset, 4096u);
  EXPECT_EQ(stats.bad_records[0].reason, "not a number");

  std::vector<std::string> replayed;
  std::vector<uint32_t> partitions;
  Status s = rerun->Replay(3, [&](const BlockInfo& info, std::string frame) {
    partitions.push_back(info.partition);
    EXPECT_EQ(info.split, 3u);
    replayed.push_back(std::move(frame));
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(replayed, frames);
  EXPECT_EQ(partitions, (std::vector<uint32_t>{0, 1, 2}));

  ExpectRefused(*rerun, 4, "not saved");
}

TEST_F(MapTaskStoreTest, ATaskWithNoFramesIsStillATask) {
  auto store = Store();
  ASSERT_TRUE(store->Prepare().ok());
  ASSERT_TRUE(store->BeginTask(0).ok());
  ASSERT_TRUE(store->CommitTask(0, SavedTaskStats{}).ok());
  SavedTaskStats stats;
  std::string why;
  ASSERT_TRUE(store->Check(0, false, &stats, &why)) << why;
  int n = 0;
  ASSERT_TRUE(store->Replay(0, [&](const BlockInfo&, std::string) { ++n; }).ok());
  EXPECT_EQ(n, 0);
}

TEST_F(MapTaskStoreTest, AnUncommittedTaskIsNotSavedAndPrepareRemovesItsTemporary) {
  auto store = Store();
  ASSERT_TRUE(store->Prepare().ok());
  ASSERT_TRUE(store->BeginTask(5).ok());
  for (const std::string& f : Frames(5, 2)) store->Append(f);
  // Killed here: no CommitTask.
  ExpectRefused(*store, 5, "not saved");
  const std::string temp = TaskPath(*store, 5) + ".r0.tmp";
  EXPECT_TRUE(fs_.Exists(temp));
  auto rerun = Store();
  ASSERT_TRUE(rerun->Prepare().ok());
  EXPECT_FALSE(fs_.Exists(temp));
  ExpectRefused(*rerun, 5, "not saved");
}

TEST_F(MapTaskStoreTest, ATornTaskIsNotReused) {
  auto store = Store();
  ASSERT_TRUE(store->Prepare().ok());
  Save(*store, 1);
  const std::string path = TaskPath(*store, 1);
  const std::string whole = ReadAll(path);
  // Torn in the trailer (the magic is gone), in the frames (no trailer at
  // all), and down to fewer bytes than a tail.
  WriteAll(path, whole.substr(0, whole.size() - 1));
  ExpectRefused(*store, 1, "has no trailer");
  WriteAll(path, whole.substr(0, whole.size() / 2));
  ExpectRefused(*store, 1, "saved task '" + path + "'");
  WriteAll(path, whole.substr(0, 10));
  ExpectRefused(*store, 1, "is truncated");
  WriteAll(path, "");
  ExpectRefused(*store, 1, "is truncated");
  WriteAll(path, whole);
  SavedTaskStats stats;
  std::string why;
  EXPECT_TRUE(store->Check(1, false, &stats, &why)) << why;
}

TEST_F(MapTaskStoreTest, ACorruptTaskIsNotReused) {
  auto store = Store();
  ASSERT_TRUE(store->Prepare().ok());
  Save(*store, 2);
  const std::string path = TaskPath(*store, 2);
  const std::string whole = ReadAll(path);
  // One bit, anywhere before the checksum field: a frame byte, a counter
  // in the trailer, the trailer's size.
  for (size_t at : {size_t{0}, size_t{40}, whole.size() / 2, whole.size() - 30,
                    whole.size() - 24}) {
    SCOPED_TRACE(at);
    std::string bad = whole;
    bad[at] ^= 0x10;
    WriteAll(path, bad);
    SavedTaskStats stats;
    std::string why;
    EXPECT_FALSE(store->Check(2, false, &stats, &why));
    EXPECT_FALSE(why.empty());
  }
  // The checksum field itself.
  std::string bad = whole;
  bad[whole.size() - 12] ^= 1;
  WriteAll(path, bad);
  ExpectRefused(*store, 2, "fails its checksum");
  // A frame byte: the checksum catches it, not replay.
  bad = whole;
  bad[whole.size() / 3] ^= 1;
  WriteAll(path, bad);
  ExpectRefused(*store, 2, "fails its checksum");
  // A trailer size beyond the file.
  bad = whole;
  bad[whole.size() - 24 + 7] = '\x7f';
  WriteAll(path, bad);
  ExpectRefused(*store, 2, "bad trailer size");
}

TEST_F(MapTaskStoreTest, ATaskSavedForAnotherSplitIsNotReused) {
  auto store = Store();
  ASSERT_TRUE(store->Prepare().ok());
  Save(*store, 3);
  // Copied (or renamed) into split 7's place: whole and checksummed, but
  // its frames are split 3's.
  WriteAll(TaskPath(*store, 7), ReadAll(TaskPath(*store, 3)));
  ExpectRefused(*store, 7, "belongs to split 3, not 7");
  SavedTaskStats stats;
  std::string why;
  EXPECT_TRUE(store->Check(3, false, &stats, &why)) << why;
}

TEST_F(MapTaskStoreTest, AnotherFingerprintsWorkIsRemovedAndNotFound) {
  auto old_store = Store(0x1111);
  ASSERT_TRUE(old_store->Prepare().ok());
  Save(*old_store, 0);
  auto store = Store(0x2222);
  ASSERT_TRUE(store->Prepare().ok());
  EXPECT_FALSE(fs_.Exists(old_store->dir())) << "stale work of another fingerprint kept";
  ExpectRefused(*store, 0, "not saved");
  // The same fingerprint's work survives Prepare.
  Save(*store, 0);
  ASSERT_TRUE(Store(0x2222)->Prepare().ok());
  SavedTaskStats stats;
  std::string why;
  EXPECT_TRUE(store->Check(0, false, &stats, &why)) << why;
}

TEST_F(MapTaskStoreTest, AMapOnlyTaskIsReusedOnlyWithItsIntactPartFile) {
  auto store = Store();
  ASSERT_TRUE(store->Prepare().ok());
  const std::string part = dir_ + "/part-00004";
  const std::string content = "line one\nline two\n";
  WriteAll(part, content);
  ASSERT_TRUE(store->BeginTask(4).ok());
  ASSERT_TRUE(store->KeepPart(4, part).ok());
  SavedTaskStats stats;
  stats.part_bytes = content.size();
  auto digest = Xxh3OfFile(fs_, part);
  ASSERT_TRUE(digest.ok());
  stats.part_xxh3 = *digest;
  ASSERT_TRUE(store->CommitTask(4, stats).ok());

  SavedTaskStats got;
  std::string why;
  ASSERT_TRUE(store->Check(4, /*map_only=*/true, &got, &why)) << why;
  const std::string restored = dir_ + "/restored";
  ASSERT_TRUE(store->RestorePart(4, restored).ok());
  EXPECT_EQ(ReadAll(restored), content);

  const std::string kept = TaskPath(*store, 4) + ".part";
  ASSERT_TRUE(fs_.RemoveFile(kept).ok());
  WriteAll(kept, "line one\nline TWO\n");  // same size, other bytes
  ExpectRefused(*store, 4, "fails its checksum", /*map_only=*/true);
  WriteAll(kept, "line one\n");
  ExpectRefused(*store, 4, "bytes, not the", /*map_only=*/true);
  ASSERT_TRUE(fs_.RemoveFile(kept).ok());
  ExpectRefused(*store, 4, "has no readable part file", /*map_only=*/true);
}

// ---- scratch records ----

class ScratchTest : public MapTaskStoreTest {
 protected:
  void SetUp() override {
    MapTaskStoreTest::SetUp();
    store_ = Store();
    ASSERT_TRUE(store_->Prepare().ok());
  }
  // A scratch folder with a file in it, as a run leaves it.
  std::string MakeScratch(const std::string& name) {
    const std::string path = dir_ + "/" + name;
    EXPECT_TRUE(fs_.CreateDirs(path).ok());
    WriteAll(path + "/run-0001", "spilled");
    return path;
  }
  // What a (killed) run `run` of rank `rank` on `host` recorded.
  void Register(const std::string& host, const std::string& run, int rank,
                const std::string& scratch) {
    auto other = Store(kFingerprint, rank);
    ASSERT_TRUE(other->RegisterScratch(host, run, scratch).ok());
  }
  std::vector<std::string> Records() {
    auto entries = fs_.ListDir(root_ + "/scratch");
    EXPECT_TRUE(entries.ok());
    std::vector<std::string> names = entries.ok() ? *entries : std::vector<std::string>{};
    std::sort(names.begin(), names.end());
    return names;
  }

  std::unique_ptr<MapTaskStore> store_;
};

TEST_F(ScratchTest, RegisterWritesARecordAndUnregisterForgetsIt) {
  auto store = Store(kFingerprint, 3);
  ASSERT_TRUE(store->RegisterScratch("node1", "aaaa", dir_ + "/sluice-0123").ok());
  EXPECT_EQ(Records(), (std::vector<std::string>{"node1@aaaa.r3"}));
  EXPECT_EQ(ReadAll(root_ + "/scratch/node1@aaaa.r3"), dir_ + "/sluice-0123");
  store->UnregisterScratch();
  EXPECT_TRUE(Records().empty());
}

TEST_F(ScratchTest, RecordsSurviveANewFingerprintsPrepare) {
  Register("node1", "old", 0, MakeScratch("sluice-00000000000000aa"));
  ASSERT_TRUE(Store(0x9999)->Prepare().ok());
  EXPECT_EQ(Records(), (std::vector<std::string>{"node1@old.r0"}));
}

TEST_F(ScratchTest, StaleScratchOfOtherRunsOnThisHostIsRemovedWithItsRecords) {
  const std::string a = MakeScratch("sluice-00000000000000aa");
  const std::string b = MakeScratch("sluice-00000000000000bb");
  Register("node1", "old1", 0, a);
  Register("node1", "old2", 1, b);
  EXPECT_TRUE(store_->RemoveStaleScratch("node1", "new").empty());
  EXPECT_FALSE(fs_.Exists(a));
  EXPECT_FALSE(fs_.Exists(b));
  EXPECT_TRUE(Records().empty());
  // Claimed once: a second rank finds nothing left to do.
  EXPECT_TRUE(Store(kFingerprint, 1)->RemoveStaleScratch("node1", "new").empty());
}

TEST_F(ScratchTest, ThisRunsScratchIsNeverRemoved) {
  const std::string mine = MakeScratch("sluice-00000000000000cc");
  const std::string peer = MakeScratch("sluice-00000000000000dd");
  ASSERT_TRUE(store_->RegisterScratch("node1", "run7", mine).ok());
  Register("node1", "run7", 1, peer);  // another rank of this run, same host
  EXPECT_TRUE(store_->RemoveStaleScratch("node1", "run7").empty());
  EXPECT_TRUE(fs_.Exists(mine));
  EXPECT_TRUE(fs_.Exists(peer));
  EXPECT_EQ(Records(), (std::vector<std::string>{"node1@run7.r0", "node1@run7.r1"}));
}

TEST_F(ScratchTest, OtherHostsScratchIsLeftToThem) {
  const std::string there = MakeScratch("sluice-00000000000000ee");
  Register("node10", "old", 0, there);  // "node1" is a prefix of "node10"
  Register("xnode1", "old", 0, there);
  EXPECT_TRUE(store_->RemoveStaleScratch("node1", "new").empty());
  EXPECT_TRUE(fs_.Exists(there));
  EXPECT_EQ(Records(), (std::vector<std::string>{"node10@old.r0", "xnode1@old.r0"}));
}

TEST_F(ScratchTest, ARunWhoseTokenExtendsThisOneIsStale) {
  const std::string old = MakeScratch("sluice-00000000000000ff");
  Register("node1", "run7x", 0, old);
  store_->RemoveStaleScratch("node1", "run7");
  EXPECT_FALSE(fs_.Exists(old));
}

TEST_F(ScratchTest, ARecordAnotherRankClaimedIsLeftAlone) {
  const std::string claimed = MakeScratch("sluice-0000000000000011");
  WriteAll(root_ + "/scratch/node1@old.r0.4242.claimed", claimed);
  EXPECT_TRUE(store_->RemoveStaleScratch("node1", "new").empty());
  EXPECT_TRUE(fs_.Exists(claimed));
  EXPECT_EQ(Records(), (std::vector<std::string>{"node1@old.r0.4242.claimed"}));
}

TEST_F(ScratchTest, AFolderNotNamedLikeScratchIsNeverRemoved) {
  const std::string precious = MakeScratch("precious");
  const std::string home = MakeScratch("home-sluice-data");
  Register("node1", "old1", 0, precious);
  Register("node1", "old2", 0, home);
  Register("node1", "old3", 0, "");
  Register("node1", "old4", 0, "sluice-relative");
  EXPECT_TRUE(store_->RemoveStaleScratch("node1", "new").empty());
  EXPECT_TRUE(fs_.Exists(precious + "/run-0001"));
  EXPECT_TRUE(fs_.Exists(home + "/run-0001"));
  EXPECT_TRUE(Records().empty()) << "the records themselves are stale: claimed and removed";
}

TEST_F(ScratchTest, ASymlinkNamedLikeScratchIsNotFollowed) {
  const std::string target = MakeScratch("target");
  const std::string link = dir_ + "/sluice-0000000000000022";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  Register("node1", "old", 0, link);
  const std::vector<std::string> failed = store_->RemoveStaleScratch("node1", "new");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].find(link), std::string::npos) << failed[0];
  EXPECT_TRUE(fs_.Exists(target + "/run-0001"));
}

TEST_F(ScratchTest, AnotherUsersFolderNamedLikeScratchIsNotRemoved) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a folder to another user";
  const std::string theirs = MakeScratch("sluice-0000000000000033");
  ASSERT_EQ(::chown(theirs.c_str(), 54321, 54321), 0);
  Register("node1", "old", 0, theirs);
  const std::vector<std::string> failed = store_->RemoveStaleScratch("node1", "new");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_TRUE(fs_.Exists(theirs + "/run-0001"));
}

// Only a folder whose own name is scratch's ("sluice-" and 16 hex digits)
// is removed: once, any path containing "/sluice-" was, so a record naming
// a folder inside a sluice-something folder (the user's ~/sluice-src/data)
// made a later run delete it.
TEST_F(ScratchTest, AFolderInsideASluiceNamedFolderIsNeverRemoved) {
  const std::string precious = MakeScratch("sluice-src/data");
  const std::string named = MakeScratch("sluice-notes");  // not "sluice-" + 16 hex
  Register("node1", "old1", 0, precious);
  Register("node1", "old2", 0, named);
  store_->RemoveStaleScratch("node1", "new");
  EXPECT_TRUE(fs_.Exists(precious + "/run-0001"));
  EXPECT_TRUE(fs_.Exists(named + "/run-0001"));
}

}  // namespace
}  // namespace sluice
