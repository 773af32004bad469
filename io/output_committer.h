// Makes a job's output appear all at once, or not at all.
//
// Layout while a job runs, for --output /data/out:
//   /data/.out.sluice-staging/_temporary/part-00003.r1   a task writing
//   /data/.out.sluice-staging/part-00003                 a committed task
// At job commit rank 0 writes _SUCCESS into the staging directory and renames
// the staging directory to /data/out: a reader sees no output, or the whole
// output with _SUCCESS. Stale staging from a killed run is removed by the
// next run's Prepare().
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

  // Rank 0, before any work. Fails with kUsage naming the directory if it
  // exists and !overwrite. Creates missing parents of the output directory,
  // removes stale staging and creates a fresh staging/_temporary.
  Status Prepare(bool overwrite);

  // Name a task writes its part to, private to (partition, rank).
  std::string TaskTempPath(int partition, int rank) const;
  // Where CommitTask puts partition's part: staging/part-NNNNN.
  std::string CommittedPartPath(int partition) const;
  // Moves a finished task file into the staging directory as part-NNNNN.
  Status CommitTask(int partition, int rank);

  // Rank 0, after every task committed: removes _temporary, writes
  // _SUCCESS (with `success_contents`), replaces any old output (when
  // Prepare allowed overwrite) and renames staging into place.
  Status CommitJob(std::string_view success_contents);

  // Best effort, any rank: removes the staging directory. Never fails loudly:
  // it runs while a failure is already being reported.
  void Abort();

  const std::string& output_dir() const { return output_dir_; }
  const std::string& staging_dir() const { return staging_dir_; }
  // Hidden sibling /data/.out.sluice-work: completed map tasks kept for a
  // re-run (runtime/map_task_store.h). Neither Prepare nor Abort touch it.
  std::string work_root() const;
  static std::string PartName(int partition);  // "part-00003"

 private:
  FileSystem& fs_;
  std::string output_dir_;
  std::string staging_dir_;
};

}  // namespace sluice
