// Completed map tasks, kept on the shared filesystem so that a re-run of a
// killed job resumes from them instead of mapping their splits again.
//
// Layout, for --output /data/out and job fingerprint F (job_fingerprint.h):
//   /data/.out.sluice-work/F/map-00000012          a completed task
//   /data/.out.sluice-work/F/map-00000012.part     its part file (map-only jobs)
//   /data/.out.sluice-work/F/map-00000012.r1.tmp   a task rank 1 is writing
//   /data/.out.sluice-work/scratch/HOST@RUN.rR     where a rank's scratch is
// Every directory here is private to the user (mode 0700; another user's
// directory or a symlink in its place is refused, never followed).
// A completed task is published by rename, so it is whole or absent. Its
// bytes are the block frames the task sent, in order, then a trailer: the
// split it belongs to, the counters the task added (TaskCounters, user
// counters, a map-only task's part size and xxh3, the records it skipped),
// the reduce task table its blocks were cut for (reduce_tasks.h),
// the trailer's size, an xxh3 of every byte before it, and a magic. A saved
// task is checked end to end before any of it is used (a map-only task's
// part file too, against the size and xxh3 in the trailer, and the split
// against the one asked for, so a task file copied from another split is
// caught); one that fails the check is mapped again (a warning says why).
//
// Replaying a task's frames gives the reduce side exactly the blocks the
// task sent the first time: the same partitions, splits and sequence
// numbers, so the output is byte-identical to a run that was never killed.
// Frames carry their partition, not their destination, so a job killed at 4
// ranks can resume at 2. The work directory is removed once the job commits.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/file_system.h"
#include "io/status.h"
#include <sluice/bad_record.h>
#include <sluice/counters.h>
#include "shuffle/block_codec.h"

namespace sluice {

// What a map task added to its rank's counters, saved with its output.
struct SavedTaskStats {
  TaskCounters counters;
  std::vector<std::pair<std::string, uint64_t>> user;
  uint64_t part_bytes = 0;  // map-only jobs: the task's part file
  uint64_t part_xxh3 = 0;
  std::vector<BadRecordInfo> bad_records;  // records the task skipped
  // ReduceTasks::Hash of the table its blocks were cut for: their
  // `partition` is a reduce task's number, which another table reads as
  // another task.
  uint64_t reduce_tasks = 0;
};

// One per rank. Not thread-safe.
class MapTaskStore {
 public:
  // `fs` must outlive the store. `work_root` holds every fingerprint's work
  // for one output directory (OutputCommitter::work_root()).
  MapTaskStore(FileSystem& fs, std::string work_root, uint64_t fingerprint, int rank);
  ~MapTaskStore();

  const std::string& dir() const { return dir_; }

  // Rank 0, before any task runs: removes the work of other fingerprints
  // (stale: inputs, job or configuration changed) and temporaries of killed
  // tasks, and creates this fingerprint's folder.
  Status Prepare();
  // Rank 0, once the job's output is committed: removes the work root.
  Status RemoveAll();

  // ---- saving the task being mapped ----
  Status BeginTask(uint32_t split);
  // A frame the task sent. An error sticks and is returned by CommitTask.
  void Append(std::string_view frame);
  bool task_open() const { return file_ != nullptr; }
  // Map-only jobs: keeps the task's committed part file (a hard link).
  Status KeepPart(uint32_t split, const std::string& committed_part);
  Status CommitTask(uint32_t split, const SavedTaskStats& stats);
  // Removes the file of a task begun and not committed (none: OK). A failed
  // run keeps its completed tasks for the re-run, but a partial one is of
  // no use, and on a full disk it holds the very space the user needs
  // back, possibly for hours before anyone re-runs the job.
  Status AbandonOpenTask();

  // ---- reusing a saved task ----
  // Checks split's saved task end to end (and, for a map-only job, its part
  // file). Returns false, with *why set, when there is none or it cannot be
  // used (torn, corrupt, unreadable, another split's).
  bool Check(uint32_t split, bool map_only, SavedTaskStats* stats, std::string* why);
  // After a successful Check: calls send(const BlockInfo&, std::string frame)
  // for each frame, in the order the task sent them.
  template <class Send>
  Status Replay(uint32_t split, Send&& send);
  // Map-only jobs: links the saved part file of split to `part_path`.
  Status RestorePart(uint32_t split, const std::string& part_path);

  // ---- this run's scratch, so that a later run can remove it ----
  // Records that this rank (on `host`, in run `run_token`) keeps its
  // scratch at `scratch_dir`.
  Status RegisterScratch(const std::string& host, const std::string& run_token,
                         const std::string& scratch_dir);
  // Removes the scratch that earlier, killed runs on `host` registered (and
  // their records), never that of run `run_token` (this one). Each record is
  // claimed by one rank only. Best effort: returns what it could not remove,
  // for a warning.
  std::vector<std::string> RemoveStaleScratch(const std::string& host, const std::string& run_token);
  // Forgets this rank's record (its scratch is gone).
  void UnregisterScratch();

 private:
  std::string TaskPath(uint32_t split) const;
  Status OpenForReplay(uint32_t split);
  // Next frame of the task opened by OpenForReplay into *frame; false at
  // the trailer.
  Result<bool> NextFrame(BlockInfo* info, std::string* frame);

  FileSystem& fs_;
  std::string root_;
  std::string dir_;
  int rank_;
  std::string scratch_record_;
  // The task being saved.
  std::unique_ptr<WritableFile> file_;
  std::string temp_path_;
  bool temp_exists_ = false;  // temp_path_ was created and not yet renamed
  void* hash_state_;  // XXH3_state_t over every byte written
  Status write_status_;
  // The task being replayed.
  std::unique_ptr<ReadableFile> replay_;
  uint64_t replay_offset_ = 0;
  uint64_t replay_frames_end_ = 0;
};

template <class Send>
Status MapTaskStore::Replay(uint32_t split, Send&& send) {
  SLUICE_RETURN_IF_ERROR(OpenForReplay(split));
  for (;;) {
    BlockInfo info;
    std::string frame;
    SLUICE_ASSIGN_OR_RETURN(bool more, NextFrame(&info, &frame));
    if (!more) break;
    send(info, std::move(frame));
  }
  replay_.reset();
  return Status::OK();
}

}  // namespace sluice
