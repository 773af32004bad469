// Makes a job's output appear all at once, or not at all.
//
// Layout while a job runs, for --output /data/out and run token T (random,
// one per run, chosen by rank 0 and broadcast in the plan):
//   /data/.out.sluice-staging/T/_temporary/part-00003.r1   a task writing
//   /data/.out.sluice-staging/T/part-00003                 a committed task
// A run's staging is named by its token so that a straggling rank of a
// failed run (still alive for a moment after its rank 0 died) can never
// write into the staging of the run that follows: that one removes the
// whole container first and starts a directory under a new name.
// At job commit rank 0 writes _SUCCESS into the staging directory and renames
// the staging directory to /data/out, or, when an old output is there,
// exchanges the two in one step (renameat2 RENAME_EXCHANGE) and then removes
// the old one: a reader sees no output, the old output or the whole new one
// with _SUCCESS, never a mix and never nothing in between. Stale staging from
// a killed run is removed by the next run's Prepare().
//
// The staging directory is private (mode 0700, owned by the user; another
// user's directory or a symlink in its place is refused, never followed or
// removed). Callers hold the output lock (output_lock.h) around all of it.
#pragma once

#include <string>
#include <string_view>

#include "io/file_system.h"
#include "io/status.h"

namespace sluice {

class OutputCommitter {
 public:
  // `fs` must outlive the committer. output_dir may be relative.
  OutputCommitter(FileSystem& fs, std::string output_dir);

  // Rank 0, before anything else (the lock included): the output names a
  // directory (not "/", "." or ".."), and its parent exists (missing
  // parents are created).
  Status CheckNameAndMakeParent();

  // Names this run's staging directory (every rank, before anything else).
  void SetRunToken(const std::string& token);

  // Rank 0, before any work, holding the output lock. Fails with kUsage
  // naming the directory if it exists and !overwrite. Puts back an old
  // output left hidden by a run killed between the two renames of the
  // fallback commit, creates missing parents of the output directory,
  // removes stale staging and creates a fresh, private staging/_temporary.
  Status Prepare(bool overwrite);
  // Other ranks, once they know the job holds the output lock: from then on
  // Abort() may remove staging. Before Prepare or this, Abort() does nothing,
  // so a job refused by the lock never touches the holder's staging.
  void AdoptStaging() { owns_staging_ = true; }

  // Appended to the name of every committed part (".zst" when parts are
  // compressed). Every rank, before any task.
  void SetPartSuffix(std::string suffix) { part_suffix_ = std::move(suffix); }
  // partition's committed part: PartName and the suffix ("part-00003.zst").
  std::string PartFileName(int partition) const { return PartName(partition) + part_suffix_; }

  // Name a task writes its part to, private to (partition, rank).
  std::string TaskTempPath(int partition, int rank) const;
  // Piece `piece` of a partition reduced in several pieces, which whichever
  // rank joins them finds by this name: staging/_temporary/part-N.piece-K.
  std::string PieceTempPath(int partition, uint32_t piece) const;
  // Where CommitTask puts partition's part: staging/PartFileName.
  std::string CommittedPartPath(int partition) const;
  // Moves a finished task file into the staging directory as PartFileName.
  Status CommitTask(int partition, int rank);

  // Rank 0, after every task committed: removes _temporary, writes
  // _SUCCESS (with `success_contents`), replaces any old output (when
  // Prepare allowed overwrite) and renames staging into place.
  Status CommitJob(std::string_view success_contents);

  // Best effort, any rank: removes the staging directory if this job owns
  // it (Prepare or AdoptStaging). Never fails loudly: it runs while a failure
  // is already being reported.
  void Abort();

  const std::string& output_dir() const { return output_dir_; }
  const std::string& staging_dir() const { return staging_dir_; }
  // The hidden sibling that holds every run's staging: /data/.out.sluice-staging.
  const std::string& staging_container() const { return container_dir_; }
  // Hidden sibling /data/.out.sluice-work: completed map tasks kept for a
  // re-run (runtime/map_task_store.h). Neither Prepare nor Abort touch it.
  std::string work_root() const;
  // Hidden sibling /data/.out.sluice-lock (output_lock.h).
  std::string lock_path() const;
  static std::string PartName(int partition);  // "part-00003"

 private:
  FileSystem& fs_;
  std::string output_dir_;
  std::string container_dir_;
  std::string staging_dir_;
  std::string part_suffix_;
  bool owns_staging_ = false;
};

}  // namespace sluice
