// One job at a time per output directory.
//
// Rank 0 of a job takes an exclusive lock on a hidden file beside the output
// (`/data/.out.sluice-lock` for `--output /data/out`) before it looks at the
// output, staging or work directories, and holds it until the job ends. A
// second job on the same output is refused at once, naming the holder.
//
// What it relies on: an open file description lock (fcntl F_OFD_SETLK).
// The kernel drops it when the holder dies, however it dies, so a lock file
// left by a killed job is simply taken over; the file's contents (host, pid,
// start time, run token) only describe the holder. On NFS (v4, or v3 with
// lockd) the lock is granted by the server, so it excludes jobs on other
// hosts too; on Lustre it needs the `flock` mount option (with `localflock`
// it is per node only). docs/clusters.md says the same.
#pragma once

#include <string>

#include "io/status.h"

namespace sluice {

class OutputLock {
 public:
  OutputLock() = default;
  ~OutputLock();  // closes the descriptor (the kernel drops the lock); keeps the file
  OutputLock(OutputLock&& other) noexcept;
  OutputLock& operator=(OutputLock&& other) noexcept;
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  // Takes the lock at `lock_path` and records `holder` (one line: who and
  // since when) and `token` in it. Fails with kUsage when another job holds
  // it ("... is in use by another Sluice job ..." naming that holder), when
  // the path is a symlink or not a regular file, or when the file belongs
  // to another user (who could otherwise hold it forever or lie about it).
  static Result<OutputLock> Acquire(const std::string& lock_path, const std::string& output_dir,
                                    const std::string& holder, const std::string& token);

  // Any rank: whether the lock file at `lock_path` names `token`, i.e. the
  // job that broadcast the token holds the output (also proves that this
  // rank sees the same shared filesystem as rank 0).
  static Status CheckHeldBy(const std::string& lock_path, const std::string& output_dir,
                            const std::string& token);

  // Removes the lock file (while still holding the lock, so that no other
  // job can have locked that same file) and releases it. Idempotent.
  void Release();

  bool held() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// "host pid N started YYYY-MM-DD HH:MM:SS": how a lock holder is described.
std::string DescribeThisProcess();

}  // namespace sluice
