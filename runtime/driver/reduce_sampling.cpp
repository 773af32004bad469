#include "runtime/driver/reduce_sampling.h"

#include <algorithm>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "cluster/rank_agreement.h"
#include "runtime/driver/incremental_plan.h"
#include "runtime/driver/reduce_assignment.h"
#include "runtime/driver/reduce_tasks.h"
#include "shuffle/serde.h"

namespace sluice {
namespace {

constexpr size_t kSampleSplits = 32;
constexpr size_t kRecordsPerSplit = 4096;

// The splits of input, not of merge state (--incremental): those come
// last, one per state file (plan_maker.cpp), and are weighed by their
// sizes instead, exactly, where a sample of one would stand for nothing.
size_t InputSplits(const JobRun& run) {
  size_t n = 0;
  for (const Split& split : run.plan.splits) {
    if (!split.ranges.empty() && run.plan.files[split.ranges[0].file_index].input_index == kMergeStateInput) break;
    ++n;
  }
  return n;
}

// Per partition, the bytes of the previous run's merge state for it, when
// that run had one reduce task per partition (its state file N,
// MergeStateFileName(N), is partition N's); empty otherwise.
std::vector<uint64_t> StateBytesPerPartition(const JobRun& run, uint32_t partitions) {
  std::vector<uint64_t> bytes;
  for (const InputFile& f : run.plan.files) {
    if (f.input_index != kMergeStateInput) continue;
    const std::string name = "/" + MergeStateFileName(static_cast<uint32_t>(bytes.size()));
    if (bytes.size() == partitions || !f.path.ends_with(name)) return {};
    bytes.push_back(f.size);
  }
  if (bytes.size() != partitions) return {};
  return bytes;
}

// This rank's share of the sampled splits, packed: per split the input
// bytes it read and its record count, then the records.
Status SampleMine(JobRun& run, std::string* packed) {
  const size_t splits = InputSplits(run);
  const size_t chosen = std::min(splits, kSampleSplits);
  std::vector<std::string> records;
  for (size_t i = 0; i < chosen; ++i) {
    if (static_cast<int>(i % run.comm.size()) != run.comm.rank()) continue;
    const size_t split = i * splits / chosen;
    MapTask task{&run.plan.splits[split], &run.plan.files, FileSystem::Default(), nullptr};
    records.clear();
    uint64_t input_bytes = 0;
    SLUICE_RETURN_IF_ERROR(run.runner->SampleKeys(task, kRecordsPerSplit, &records, &input_bytes));
    Encode(packed, input_bytes);
    Encode(packed, static_cast<uint64_t>(records.size()));
    for (const std::string& r : records) Encode(packed, r);
  }
  return Status::OK();
}

struct Sample {
  std::vector<std::vector<std::string>> per_split;
  uint64_t input_bytes = 0;  // read to take it
};

Sample Unpack(const std::vector<std::string>& gathered) {
  Sample sample;
  auto& per_split = sample.per_split;
  for (const std::string& bytes : gathered) {
    ByteReader r{bytes.data(), bytes.data() + bytes.size()};
    uint64_t n = 0, input_bytes = 0;
    while (r.p != r.end && Decode(r, &input_bytes) && Decode(r, &n)) {
      sample.input_bytes += input_bytes;
      per_split.emplace_back();
      std::string record;
      for (uint64_t i = 0; i < n && Decode(r, &record); ++i) per_split.back().push_back(record);
    }
  }
  return sample;
}

std::vector<std::string> Flatten(const std::vector<std::vector<std::string>>& per_split) {
  std::vector<std::string> all;
  for (const auto& split : per_split) all.insert(all.end(), split.begin(), split.end());
  return all;
}

// Rank 0: the range cuts (range partitioning), the reduce tasks and their
// weights, packed for the broadcast as: range cut count, range cuts, the
// task table (ReduceTasks::Encode), then one weight per task.
Status Decide(JobRun& run, bool range_partitioned, bool cuttable, const Sample& sample, std::string* decided) {
  const uint32_t partitions = run.config.settings.partitions;
  std::vector<std::string> cuts;
  if (range_partitioned) {
    SLUICE_ASSIGN_OR_RETURN(cuts, run.runner->ChooseCuts(Flatten(sample.per_split), partitions));
    SLUICE_RETURN_IF_ERROR(run.runner->SetRangeCuts(cuts));
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<SampledKeys> keys, run.runner->WeighSampledKeys(sample.per_split, partitions));
  // Sampled bytes stand for input bytes at the sample's rate: what a
  // partition would receive if every split looked like the sampled ones.
  const uint64_t task_bytes = run.config.settings.reduce_task_bytes;
  const std::vector<uint64_t> state_bytes = StateBytesPerPartition(run, partitions);
  uint64_t new_input_bytes = run.plan.total_bytes;
  for (uint64_t b : state_bytes) new_input_bytes -= std::min(new_input_bytes, b);
  std::vector<std::vector<std::string>> piece_cuts(partitions);
  std::vector<uint64_t> weights;
  for (uint32_t p = 0; p < partitions; ++p) {
    uint64_t sampled = 0;
    for (const auto& k : keys[p]) sampled += k.second;
    uint32_t pieces = 1;
    if (cuttable && sample.input_bytes > 0) {
      const long double estimated = static_cast<long double>(sampled) * new_input_bytes / sample.input_bytes +
                                    (p < state_bytes.size() ? state_bytes[p] : 0);
      pieces = PiecesFor(static_cast<uint64_t>(std::min<long double>(estimated, 1e18L)), task_bytes, keys[p].size());
    }
    std::vector<uint64_t> piece_weights;
    piece_cuts[p] = CutAtWeight(keys[p], pieces, &piece_weights);
    // The merge state a partition's reducer also receives, in the sample's
    // units (sampled bytes per input byte read), or as bytes when no input
    // was sampled.
    if (p < state_bytes.size() && piece_weights.size() == 1) {
      const long double rate = new_input_bytes > 0 && sample.input_bytes > 0
                                   ? static_cast<long double>(sample.input_bytes) / new_input_bytes : 1.0L;
      piece_weights[0] += static_cast<uint64_t>(state_bytes[p] * rate);
    }
    weights.insert(weights.end(), piece_weights.begin(), piece_weights.end());
  }
  size_t records = 0;
  for (const auto& split : sample.per_split) records += split.size();
  if (range_partitioned) spdlog::info("range partitioning: {} sampled keys, {} cuts", records, cuts.size());
  Encode(decided, static_cast<uint64_t>(cuts.size()));
  for (const std::string& cut : cuts) Encode(decided, cut);
  Encode(decided, ReduceTasks::FromCuts(std::move(piece_cuts)).Encode());
  for (uint64_t w : weights) Encode(decided, w);
  return Status::OK();
}

}  // namespace

Status SampleForReduce(JobRun& run, const JobTraits& traits) {
  Communicator& comm = run.comm;
  const JobSettings& settings = run.config.settings;
  const uint32_t partitions = settings.partitions;
  const int ranks = comm.size();
  const bool range_partitioned = traits.range_partitioned;
  const bool cuttable = traits.cuttable_partitions && settings.reduce_task_bytes > 0;
  run.reduce_tasks = ReduceTasks::OnePerPartition(partitions);
  run.task_weights.assign(partitions, 0);
  // One rank reduces everything, so there is nothing to assign; but where
  // partitions may be cut it samples all the same: blocks name reduce
  // tasks, so the shuffle counters in the manifest (and a compressed part,
  // one member per piece) need the cuts a run on any other number of ranks
  // makes.
  if (!range_partitioned && ranks == 1 && !cuttable) {
    run.reduce_owners.assign(partitions, 0);
    return Status::OK();
  }
  const auto start = Clock::now();
  std::string mine;
  SLUICE_RETURN_IF_ERROR(AgreeAcrossRanks(comm, SampleMine(run, &mine)));
  std::vector<std::string> gathered = comm.Gather(mine, 0);
  std::string decided;
  Status decided_ok;
  if (comm.rank() == 0) decided_ok = Decide(run, range_partitioned, cuttable, Unpack(gathered), &decided);
  SLUICE_RETURN_IF_ERROR(AgreeAcrossRanks(comm, decided_ok));
  comm.Broadcast(&decided, 0);

  ByteReader r{decided.data(), decided.data() + decided.size()};
  uint64_t cut_count = 0;
  std::vector<std::string> cuts;
  bool ok = Decode(r, &cut_count) && cut_count < partitions;
  for (uint64_t i = 0; ok && i < cut_count; ++i) {
    cuts.emplace_back();
    ok = Decode(r, &cuts.back());
  }
  std::string table;
  ok = ok && Decode(r, &table);
  if (!ok) return Status::Internal("malformed reduce sample decision");
  SLUICE_ASSIGN_OR_RETURN(run.reduce_tasks, ReduceTasks::Decode(table));
  if (run.reduce_tasks.partitions() != partitions) return Status::Internal("malformed reduce sample decision");
  const uint32_t tasks = run.reduce_tasks.count();
  run.task_weights.assign(tasks, 0);
  for (uint32_t t = 0; ok && t < tasks; ++t) ok = Decode(r, &run.task_weights[t]);
  if (!ok || r.p != r.end) return Status::Internal("malformed reduce sample decision");
  if (range_partitioned && comm.rank() != 0) SLUICE_RETURN_IF_ERROR(run.runner->SetRangeCuts(cuts));
  if (!run.reduce_tasks.one_per_partition()) {
    std::vector<std::vector<std::string>> piece_cuts;
    for (uint32_t p = 0; p < partitions; ++p) piece_cuts.push_back(run.reduce_tasks.cuts(p));
    SLUICE_RETURN_IF_ERROR(run.runner->SetReduceTasks(piece_cuts));
  }
  run.reduce_owners = AssignPartitions(run.task_weights, ranks);
  run.runner->SetOwners(run.reduce_owners);
  if (comm.rank() == 0) {
    const double heaviest = HeaviestOverMean(run.task_weights, run.reduce_owners, ranks);
    const std::string cut =
        run.reduce_tasks.one_per_partition()
            ? std::string()
            : fmt::format(" ({} reduce tasks: partitions over --reduce-task-size cut by key)", tasks);
    spdlog::info("reduce assignment: {} partitions{} over {} ranks by sampled weight, {} (sampled in {:.3f}s)",
                 partitions, cut, ranks,
                 heaviest > 0 ? fmt::format("heaviest rank {:.2f}x the mean", heaviest)
                              : std::string("but the sample saw no records: spread evenly"),
                 SecondsSince(start));
  }
  return Status::OK();
}

}  // namespace sluice
