// BufferedWriter (io/buffered_writer.h): every file it writes is made
// durable later, so it starts the file's writeback as the file grows and at
// a Close that leaves the sync to the caller; a Close that fsyncs needs no
// hint, and a failed write starts nothing.
#include "io/buffered_writer.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sluice {
namespace {

// Records what the writer asked of it: the bytes it held at each
// StartWriteback, and how often it was synced.
class RecordingFile final : public WritableFile {
 public:
  struct Log {
    uint64_t bytes = 0;
    std::vector<uint64_t> writeback_at;
    int syncs = 0;
    bool fail_appends = false;
  };
  explicit RecordingFile(Log* log) : log_(log) {}
  Status Append(std::string_view data) override {
    if (log_->fail_appends) return Status::IOError("disk full");
    log_->bytes += data.size();
    return Status::OK();
  }
  Status Sync() override {
    ++log_->syncs;
    return Status::OK();
  }
  void StartWriteback() override { log_->writeback_at.push_back(log_->bytes); }
  Status Close() override { return Status::OK(); }
  const std::string& path() const override { return path_; }

 private:
  Log* log_;
  std::string path_ = "/out/part-00000";
};

constexpr uint64_t kMiB = uint64_t{1} << 20;

void AppendMiB(BufferedWriter* w, int mib) {
  const std::string piece(64 << 10, 'x');
  for (int i = 0; i < mib * 16; ++i) ASSERT_TRUE(w->Append(piece).ok());
}

TEST(BufferedWriterTest, StartsWritebackEvery8MiBAndAtAnUnsyncedClose) {
  RecordingFile::Log log;
  BufferedWriter w(std::make_unique<RecordingFile>(&log));
  AppendMiB(&w, 20);
  // Flushed 1 MiB at a time: hints once 8 and 16 MiB have reached the file.
  EXPECT_EQ(log.writeback_at, (std::vector<uint64_t>{8 * kMiB, 16 * kMiB}));
  ASSERT_TRUE(w.Close(/*sync=*/false).ok());
  EXPECT_EQ(log.writeback_at.back(), 20 * kMiB);  // all of it, the tail included
  EXPECT_EQ(log.syncs, 0);
}

TEST(BufferedWriterTest, ASyncedCloseFsyncsWithoutAHint) {
  RecordingFile::Log log;
  BufferedWriter w(std::make_unique<RecordingFile>(&log));
  AppendMiB(&w, 3);
  ASSERT_TRUE(w.Close(/*sync=*/true).ok());
  EXPECT_EQ(log.syncs, 1);
  EXPECT_TRUE(log.writeback_at.empty());
  EXPECT_EQ(log.bytes, 3 * kMiB);
}

TEST(BufferedWriterTest, AFailedWriteStartsNoWritebackAndCloseReturnsIt) {
  RecordingFile::Log log;
  log.fail_appends = true;
  BufferedWriter w(std::make_unique<RecordingFile>(&log));
  const std::string big(9 * kMiB, 'x');  // past the buffer: written at once, and fails
  EXPECT_EQ(w.Append(big).code(), StatusCode::kIOError);
  EXPECT_EQ(w.Close(/*sync=*/false).code(), StatusCode::kIOError);
  EXPECT_TRUE(log.writeback_at.empty());
  EXPECT_EQ(log.syncs, 0);
}

}  // namespace
}  // namespace sluice
