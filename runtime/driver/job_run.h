// One rank's run of one job: the state every phase of the job driver shares
// (job_driver.cpp, map_phase.cpp, commit_phase.cpp), and the ways a run ends:
// in step on every rank (EndCleanly), or from the one rank that failed
// (Fail, AbortAfterException). Internal to runtime/driver/.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/communicator.h"
#include "io/buffered_writer.h"
#include "io/compressed_writer.h"
#include "io/file_system.h"
#include "io/output_committer.h"
#include "io/output_lock.h"
#include "io/status.h"
#include "runtime/driver/job_config.h"
#include "runtime/driver/job_report.h"
#include "runtime/driver/lineage.h"
#include "runtime/driver/map_task_store.h"
#include "runtime/driver/plan_codec.h"
#include "runtime/driver/reduce_tasks.h"
#include "runtime/driver/task_recording_transport.h"
#include <sluice/detail/job_entry.h>
#include <sluice/detail/job_runner.h>
#include <sluice/detail/step_times.h>

namespace sluice {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t);

// "12.3 MiB", for log lines.
std::string Mib(uint64_t bytes);
// This host's name (gethostname), "unknown-host" when it has none.
std::string HostName();

// Not copyable: the phases hold it by reference, and the failure paths of
// RunJob reach it after an exception.
class JobRun {
 public:
  JobRun(const JobEntry& job, const JobConfig& config, Communicator& comm);
  JobRun(const JobRun&) = delete;
  JobRun& operator=(const JobRun&) = delete;

  // True until this rank ends its share of the shuffle: before that no peer
  // can finish receiving and begin writing reduce output into staging. A
  // map-only job writes its parts during map, so there it is never true.
  bool NoPeerWritesStaging() const { return !map_only && !shuffle_finished; }

  // Ends the run with `phase`'s error `s` unless it is OK (see Fail).
  void Check(const char* phase, const Status& s);
  // Logs `s` with the phase and this rank, removes what this rank made, and
  // ends the job on every rank with s's exit code. Never returns.
  [[noreturn]] void Fail(const char* phase, const Status& s);
  // After an exception on this rank: removes what this run made, then ends
  // the job everywhere.
  [[noreturn]] void AbortAfterException();

  // Ends this rank's part of a job that stops in step on every rank (done,
  // or failed the same way everywhere): rank 0 removes staging and releases
  // the output lock (removing the lock file) once every rank is past it.
  // Returns `exit_code`.
  int EndCleanly(int exit_code);

  // Removes this rank's scratch (idempotent; also on failure paths).
  void RemoveScratch();
  // Removes the file of the map task this rank was saving, if any
  // (failure paths; completed tasks stay for the re-run).
  void AbandonMapTask();

  // Runs one task that writes part `part` (a reduce partition, or a
  // map-only job's split) into its task-private file, then commits it.
  // `body(BufferedWriter*)` writes the records and returns a Status.
  template <class Body>
  PartInfo WriteTask(uint32_t part, const char* phase, Body&& body);
  // The same into `temp`, without the commit (a piece of a cut partition);
  // the PartInfo's partition is left 0.
  template <class Body>
  PartInfo WriteFile(const std::string& temp, const char* phase, Body&& body);

  const JobEntry& job;
  const JobConfig& config;
  Communicator& comm;
  OutputCommitter committer;
  JobPlan plan;
  std::unique_ptr<MapTaskStore> store;
  std::unique_ptr<TaskRecordingTransport> recording;
  std::unique_ptr<JobRunner> runner;
  // --lineage: this run's id once its START is written (rank 0); cleared
  // when its COMPLETE or FAIL is, so that a run ends once.
  std::string lineage_run_id;
  // Rank 0 with --lineage: appends an event of this run (LineageEventJson)
  // with the plan's inputs and the output. `finish` fills what the event
  // adds (COMPLETE: counts and parts; FAIL: the error).
  Status EmitLineage(const char* type, const std::function<void(LineageEvent*)>& finish = nullptr);
  // Rank 0: the FAIL event, if a START was written; logged if it cannot be.
  void EmitLineageFailure(const std::string& error);
  bool map_only = true;  // until the job's traits say otherwise
  InputKind input = InputKind::kLines;  // what the job reads, from its traits for these parameters
  bool shuffle_finished = false;
  OutputLock lock;           // rank 0: held from the plan to the end
  std::string scratch_dir;   // this rank's, once made
  Clock::time_point start;   // when this rank began the run
  double plan_seconds = 0;   // from start to the end of the job's setup
  // The reduce tasks, which rank reduces each, and the sampled bytes that
  // decided it (reduce_sampling.h); set on every rank before the map phase.
  ReduceTasks reduce_tasks;
  std::vector<int> reduce_owners;      // per task
  std::vector<uint64_t> task_weights;  // per task
  // The step times the driver measures itself (job_report.h's StepSeconds).
  // [0]: the map phase (a map-only job's parts), [1]: the reduce phase.
  struct DriverSteps {
    uint64_t save_ns = 0;  // beginning, committing and replaying saved map tasks
    uint64_t receive_wait_ns = 0;
    uint64_t write_ns[2] = {}, checksum_ns[2] = {};
    uint64_t body_io_ns[2] = {};  // the part of those inside the task's body: the engine's own step holds it
    uint64_t commit_ns = 0;       // closing, committing and joining parts, syncfs
  } steps;

 private:
  // A job of one rank has no peer that could outlive it, so on failure it
  // removes its lock file too (after removing staging). With peers the file
  // stays until the next job takes it over (see AbortJob in job_run.cpp).
  void ReleaseLockIfAlone();
};

template <class Body>
PartInfo JobRun::WriteTask(uint32_t part, const char* phase, Body&& body) {
  PartInfo info = WriteFile(committer.TaskTempPath(static_cast<int>(part), comm.rank()), phase, body);
  StepTimer committing(std::string_view(phase) == "map" ? &steps.write_ns[0] : &steps.commit_ns);
  Check("commit", committer.CommitTask(static_cast<int>(part), comm.rank()));
  info.partition = part;
  return info;
}

template <class Body>
PartInfo JobRun::WriteFile(const std::string& temp, const char* phase, Body&& body) {
  FileSystem& fs = *FileSystem::Default();
  auto file = fs.Create(temp);
  Check(phase, file.status());
  std::unique_ptr<WritableFile> sink = std::move(file).value();
  // --output-compression: the records go through BufferedWriter as ever and
  // are compressed on their way to the file.
  const JobSettings& s = config.settings;
  CompressedWritableFile* compressed = nullptr;
  if (s.output_compression != OutputCompression::kNone) {
    auto wrapped = CompressedWritableFile::Wrap(std::move(sink), {s.output_compression, s.output_compression_level});
    Check(phase, wrapped.status());
    compressed = wrapped->get();
    sink = std::move(wrapped).value();
  }
  BufferedWriter writer(std::move(sink));
  Check(phase, body(&writer));
  const int k = std::string_view(phase) == "map" ? 0 : 1;
  const uint64_t body_io = writer.write_ns() + writer.checksum_ns();
  steps.body_io_ns[k] += body_io;
  const uint64_t closing = StepClockNs();
  Check(phase, writer.Close(/*sync=*/false));  // made durable in one syncfs before commit
  const uint64_t close_io = writer.write_ns() + writer.checksum_ns() - body_io;
  const uint64_t closed = StepClockNs() - closing;
  (k == 0 ? steps.write_ns[0] : steps.commit_ns) += closed > close_io ? closed - close_io : 0;
  steps.write_ns[k] += writer.write_ns();
  steps.checksum_ns[k] += writer.checksum_ns();
  // The manifest lists the file on disk: for a compressed part, the bytes
  // that left the compressor, not those the writer was given.
  if (compressed != nullptr) return PartInfo{0, compressed->file_bytes(), compressed->file_xxh3()};
  return PartInfo{0, writer.bytes_written(), writer.checksum()};
}

}  // namespace sluice
