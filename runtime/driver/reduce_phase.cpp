#include "runtime/driver/reduce_phase.h"

#include <xxhash.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "io/fault_points.h"
#include "io/file_system.h"
#include "runtime/driver/incremental_plan.h"
#include "shuffle/serde.h"

namespace sluice {
namespace {

// Every piece written on any rank, indexed by task (size and xxh3; its
// partition field unused), from each rank's (task, bytes, xxh3) list.
std::vector<PartInfo> AgreeOnPieces(JobRun& run, const std::string& mine) {
  std::vector<std::string> gathered = run.comm.Gather(mine, 0);
  std::string all;
  for (const std::string& g : gathered) all += g;
  run.comm.Broadcast(&all, 0);
  std::vector<PartInfo> pieces(run.reduce_tasks.count());
  std::vector<bool> seen(pieces.size(), false);
  ByteReader r{all.data(), all.data() + all.size()};
  while (r.p != r.end) {
    uint32_t t = 0;
    PartInfo info;
    if (!Decode(r, &t) || !Decode(r, &info.bytes) || !Decode(r, &info.xxh3) || t >= pieces.size() || seen[t]) {
      run.Fail("commit", Status::Internal("malformed list of written reduce pieces"));
    }
    seen[t] = true;
    pieces[t] = info;
  }
  return pieces;
}

// Partition p's piece files, in key order, into its part, each checked
// against what its writer wrote; each piece file goes once copied.
PartInfo JoinPieces(JobRun& run, uint32_t p, const std::vector<PartInfo>& written) {
  FileSystem& fs = *FileSystem::Default();
  const int part = static_cast<int>(p);
  std::string buffer(1 << 20, '\0');
  auto file = fs.Create(run.committer.TaskTempPath(part, run.comm.rank()));
  run.Check("commit", file.status());
  BufferedWriter writer(std::move(file).value());
  for (uint32_t piece = 0; piece < run.reduce_tasks.pieces(p); ++piece) {
    const std::string path = run.committer.PieceTempPath(part, piece);
    const PartInfo& want = written[run.reduce_tasks.first(p) + piece];
    auto opened = fs.OpenForRead(path);
    run.Check("commit", opened.status());
    ReadableFile& in = **opened;
    if (in.size() != want.bytes) {
      run.Fail("commit", Status::Corruption(fmt::format("reduce piece '{}' holds {} bytes, but its writer wrote {}",
                                                         path, in.size(), want.bytes)));
    }
    std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> hash(XXH3_createState(), &XXH3_freeState);
    XXH3_64bits_reset(hash.get());
    for (uint64_t offset = 0; offset < in.size();) {
      size_t got = 0;
      run.Check("commit", in.ReadAt(offset, std::min<uint64_t>(buffer.size(), in.size() - offset), buffer.data(), &got));
      if (got == 0) run.Fail("commit", Status::IOError("reduce piece '" + path + "' ended early"));
      XXH3_64bits_update(hash.get(), buffer.data(), got);
      run.Check("commit", writer.Append(std::string_view(buffer.data(), got)));
      offset += got;
    }
    if (XXH3_64bits_digest(hash.get()) != want.xxh3) {
      run.Fail("commit", Status::Corruption("reduce piece '" + path + "' fails its checksum: it changed after it was written"));
    }
    opened->reset();
    run.Check("commit", fs.RemoveFile(path));
  }
  run.Check("commit", writer.Close(/*sync=*/false));  // made durable in one syncfs before commit
  run.Check("commit", run.committer.CommitTask(part, run.comm.rank()));
  return PartInfo{p, writer.bytes_written(), writer.checksum()};
}

// --incremental: reduce task t's merge state file, written beside the
// parts and published with them (incremental_plan.h reads it back).
// Returns the status of running `reduce(BufferedWriter* state)`.
// Its size and xxh3, taken as it is written, go into `written` for the
// manifest (the next run checks the state against them).
template <class Reduce>
Status WithMergeState(JobRun& run, uint32_t t, std::vector<PartInfo>* written, Reduce&& reduce) {
  if (!run.config.incremental) return reduce(nullptr);
  FileSystem& fs = *FileSystem::Default();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                          fs.Create(run.committer.staging_dir() + "/" + MergeStateFileName(t)));
  BufferedWriter state(std::move(file));
  Status s = reduce(&state);
  Status closed = state.Close(/*sync=*/false);  // made durable by the syncfs before commit
  if (s.ok() && closed.ok()) written->push_back({t, state.bytes_written(), state.checksum()});
  return s.ok() ? closed : s;
}

}  // namespace

// The reduce tasks assigned to this rank (reduce_sampling.h). A task that
// is a whole partition writes its part file; a piece of a cut partition
// writes a piece file, and once every rank has written its pieces the
// rank that wrote a partition's first piece joins them into the part.
void RunReduceTasks(JobRun& run, PhaseProgress& progress, RankWork* work) {
  const ReduceTasks& tasks = run.reduce_tasks;
  const int rank = run.comm.rank();
  uint32_t& mine = work->reduce_tasks;
  uint32_t done = 0;
  std::string pieces_written;  // (task, bytes, xxh3) of each piece this rank wrote
  for (uint32_t t = 0; t < tasks.count(); ++t) mine += run.reduce_owners[t] == rank;
  const auto reduce_start = Clock::now();
  for (uint32_t t = 0; t < tasks.count(); ++t) {
    if (run.reduce_owners[t] != rank) continue;
    SLUICE_FAULT_POINT("during_reduce");
    const double task_start = SecondsSince(reduce_start);
    uint64_t task_bytes = 0;
    const uint32_t p = tasks.PartitionOf(t);
    if (tasks.pieces(p) == 1) {
      work->parts.push_back(run.WriteTask(p, "reduce", [&](BufferedWriter* out) {
        return WithMergeState(run, t, &work->state_files, [&](BufferedWriter* state) {
          return run.runner->RunReduceTask(t, out, state, "partition " + std::to_string(p), /*continues_part=*/false);
        });
      }));
      work->output_bytes += work->parts.back().bytes;
      task_bytes = work->parts.back().bytes;
    } else {
      const uint32_t piece = tasks.PieceOf(t);
      const std::string label = fmt::format("partition {} (piece {} of {})", p, piece + 1, tasks.pieces(p));
      const std::string path = run.committer.PieceTempPath(static_cast<int>(p), piece);
      const PartInfo written = run.WriteFile(path, "reduce", [&](BufferedWriter* out) {
        return WithMergeState(run, t, &work->state_files, [&](BufferedWriter* state) {
          return run.runner->RunReduceTask(t, out, state, label, /*continues_part=*/piece > 0);
        });
      });
      Encode(&pieces_written, t);
      Encode(&pieces_written, written.bytes);
      Encode(&pieces_written, written.xxh3);
      task_bytes = written.bytes;
    }
    work->reduce_spans.push_back({task_start, SecondsSince(reduce_start), task_bytes});
    ProgressSample s = progress.Sample("reduce");
    s.parts_done = ++done;
    s.parts_total = mine;
    progress.reporter.Update(s);
  }
  progress.reporter.Finish();
  if (tasks.one_per_partition()) return;
  // Every rank has written its pieces once all have said what they wrote:
  // the joiner checks each piece against its writer's size and checksum.
  std::vector<PartInfo> pieces = AgreeOnPieces(run, pieces_written);
  for (uint32_t p = 0; p < tasks.partitions(); ++p) {
    if (tasks.pieces(p) == 1 || run.reduce_owners[tasks.first(p)] != rank) continue;
    StepTimer joining(&run.steps.commit_ns);
    work->parts.push_back(JoinPieces(run, p, pieces));
    work->output_bytes += work->parts.back().bytes;
  }
}

}  // namespace sluice
