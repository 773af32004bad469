#include "io/output_committer.h"

#include "io/fault_points.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

namespace sluice {

namespace {

std::string StripTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// "a/b/out" -> {"a/b", "out"}; "out" -> {".", "out"}; "/out" -> {"/", "out"}.
std::pair<std::string, std::string> SplitParent(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  // Keeping the slash at index 0 makes "/out" give "/", never "".
  std::string parent = path.substr(0, slash == 0 ? 1 : slash);
  while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
  return {parent, path.substr(slash + 1)};
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

// Hidden sibling of the output directory: on the same filesystem, so the
// final rename is atomic, and skipped by input listing (leading '.').
std::string SiblingPath(const std::string& output_dir, const char* suffix) {
  auto [parent, name] = SplitParent(output_dir);
  return JoinPath(parent, "." + name + suffix);
}

}  // namespace

OutputCommitter::OutputCommitter(FileSystem& fs, std::string output_dir)
    : fs_(fs), output_dir_(StripTrailingSlashes(std::move(output_dir))) {
  container_dir_ = SiblingPath(output_dir_, ".sluice-staging");
  staging_dir_ = JoinPath(container_dir_, "unnamed");
}

void OutputCommitter::SetRunToken(const std::string& token) {
  staging_dir_ = JoinPath(container_dir_, token);
}

std::string OutputCommitter::CommittedPartPath(int partition) const {
  return JoinPath(staging_dir_, PartFileName(partition));
}

std::string OutputCommitter::work_root() const { return SiblingPath(output_dir_, ".sluice-work"); }

std::string OutputCommitter::lock_path() const { return SiblingPath(output_dir_, ".sluice-lock"); }


Status OutputCommitter::CheckNameAndMakeParent() {
  const std::string name = SplitParent(output_dir_).second;
  if (name.empty() || name == "." || name == "..") {
    return Status::Usage("output directory '" + output_dir_ +
                         "' must name a directory (not '/', '.' or '..')");
  }
  const std::string parent = SplitParent(output_dir_).first;
  SLUICE_RETURN_IF_ERROR(fs_.CreateDirs(parent));
  // Staging, work and lock live beside the output, in its parent.
  return CheckSafeParent(fs_, parent, "the output's folder", /*owner_checked=*/false);
}

Status OutputCommitter::Prepare(bool overwrite) {
  SLUICE_RETURN_IF_ERROR(CheckNameAndMakeParent());
  if (!overwrite && fs_.Exists(output_dir_)) {
    return Status::Usage("output directory '" + output_dir_ +
                         "' already exists (pass --overwrite to replace it)");
  }
  // A run killed between the two renames of the fallback commit left the
  // old output hidden and no output: put it back before anything else.
  const std::string old_dir = SiblingPath(output_dir_, ".sluice-old");
  if (fs_.LinkStat(old_dir).ok()) {
    if (!fs_.LinkStat(output_dir_).ok()) {
      SLUICE_RETURN_IF_ERROR(RemoveOwnTree(fs_, container_dir_));  // checks ownership first
      Result<FileInfo> old = fs_.LinkStat(old_dir);
      if (old.ok() && !old->symlink && old->uid == static_cast<uint32_t>(::geteuid())) {
        SLUICE_RETURN_IF_ERROR(fs_.Rename(old_dir, output_dir_));
      }
    }
    SLUICE_RETURN_IF_ERROR(RemoveOwnTree(fs_, old_dir));
  }
  SLUICE_RETURN_IF_ERROR(RemoveOwnTree(fs_, container_dir_));
  SLUICE_RETURN_IF_ERROR(fs_.CreatePrivateDir(container_dir_));
  SLUICE_RETURN_IF_ERROR(fs_.CreatePrivateDir(staging_dir_));
  owns_staging_ = true;
  return fs_.CreatePrivateDir(JoinPath(staging_dir_, "_temporary"));
}

std::string OutputCommitter::TaskTempPath(int partition, int rank) const {
  return staging_dir_ + "/_temporary/" + PartName(partition) + ".r" + std::to_string(rank);
}

std::string OutputCommitter::PieceTempPath(int partition, uint32_t piece) const {
  return staging_dir_ + "/_temporary/" + PartName(partition) + ".piece-" + std::to_string(piece);
}

namespace {
// A path missing during commit is never the user's input: it is Sluice's own
// staging, so report it as an I/O error, not as bad input.
Status AsCommitError(Status s) {
  if (s.code() == StatusCode::kBadInput) return Status::IOError(s.message());
  return s;
}
}  // namespace

Status OutputCommitter::CommitTask(int partition, int rank) {
  Status s = AsCommitError(
      fs_.Rename(TaskTempPath(partition, rank), JoinPath(staging_dir_, PartFileName(partition))));
  SLUICE_FAULT_POINT("after_task_commit");
  return s;
}

Status OutputCommitter::CommitJob(std::string_view success_contents) {
  SLUICE_RETURN_IF_ERROR(fs_.RemoveAll(JoinPath(staging_dir_, "_temporary")));
  SLUICE_RETURN_IF_ERROR(
      WriteStringToFile(fs_, JoinPath(staging_dir_, "_SUCCESS"), success_contents));
  // Durable before visible: every part's rename and _SUCCESS reach the disk
  // before the directory that holds them is renamed into place.
  SLUICE_RETURN_IF_ERROR(fs_.SyncDir(staging_dir_));
  // Staging was private while it filled; the output gets the mode any new
  // directory of this user would get (0777 less the umask).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  SLUICE_RETURN_IF_ERROR(fs_.SetMode(staging_dir_, 0777 & ~mask));
  SLUICE_FAULT_POINT("before_job_commit");
  const std::string parent = SplitParent(output_dir_).first;
  if (!fs_.LinkStat(output_dir_).ok()) {
    SLUICE_RETURN_IF_ERROR(fs_.Rename(staging_dir_, output_dir_));
    owns_staging_ = false;
    (void)fs_.RemoveAll(container_dir_);  // empty now; a leftover is removed by the next run
    return fs_.SyncDir(parent);
  }

  // One atomic step: staging becomes the output and the old output takes
  // staging's name, to be removed after. A reader always sees one whole
  // version, and a crash in between leaves the new output in place (the next
  // run removes the old one as stale staging).
  SLUICE_ASSIGN_OR_RETURN(bool exchanged, fs_.Exchange(staging_dir_, output_dir_));
  if (exchanged) {
    SLUICE_FAULT_POINT("between_commit_renames");
    if (Status synced = fs_.SyncDir(parent); !synced.ok()) {
      // Not durable: swap the old output back rather than claim success.
      (void)fs_.Exchange(staging_dir_, output_dir_);
      return synced;
    }
    owns_staging_ = false;
    // The job's result is in place. The old output, now under staging's
    // name, is removed; if that fails the next run removes it as stale
    // staging (the caller may warn: staging_dir() still exists).
    (void)fs_.RemoveAll(container_dir_);
    return Status::OK();
  }

  // The filesystem cannot exchange (NFS, say). rename(2) cannot replace a
  // non-empty directory, so the old output is moved aside first. Between the
  // two renames no output exists, which a reader sees as "not finished yet",
  // never as a mix; a crash there is repaired by the next run's Prepare(),
  // which puts the old output back.
  const std::string old_dir = SiblingPath(output_dir_, ".sluice-old");
  SLUICE_RETURN_IF_ERROR(fs_.RemoveAll(old_dir));  // left by a run killed here
  SLUICE_RETURN_IF_ERROR(fs_.Rename(output_dir_, old_dir));
  SLUICE_FAULT_POINT("between_commit_renames");
  Status s = fs_.Rename(staging_dir_, output_dir_);
  if (!s.ok()) {
    (void)fs_.Rename(old_dir, output_dir_);  // best effort: put the old output back
    return s;
  }
  owns_staging_ = false;
  (void)fs_.RemoveAll(container_dir_);
  SLUICE_RETURN_IF_ERROR(fs_.SyncDir(parent));
  return fs_.RemoveAll(old_dir);
}

void OutputCommitter::Abort() {
  if (!owns_staging_) return;
  (void)fs_.RemoveAll(staging_dir_);
  // Only this run's directory: the container goes only if nothing else is
  // in it (rmdir of a non-empty directory fails and changes nothing).
  (void)::rmdir(container_dir_.c_str());
}

std::string OutputCommitter::PartName(int partition) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "part-%05d", partition);
  return buf;
}

}  // namespace sluice
