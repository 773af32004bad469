#include "runtime/driver/reduce_sampling.h"

#include <algorithm>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "cluster/rank_agreement.h"
#include "runtime/driver/reduce_assignment.h"
#include "shuffle/serde.h"

namespace sluice {
namespace {

constexpr size_t kSampleSplits = 32;
constexpr size_t kRecordsPerSplit = 4096;

// This rank's share of the sampled splits, packed: per split its record
// count, then the records.
Status SampleMine(JobRun& run, std::string* packed) {
  const size_t splits = run.plan.splits.size();
  const size_t chosen = std::min(splits, kSampleSplits);
  std::vector<std::string> records;
  for (size_t i = 0; i < chosen; ++i) {
    if (static_cast<int>(i % run.comm.size()) != run.comm.rank()) continue;
    const size_t split = i * splits / chosen;
    MapTask task{&run.plan.splits[split], &run.plan.files, FileSystem::Default(), nullptr};
    records.clear();
    SLUICE_RETURN_IF_ERROR(run.runner->SampleKeys(task, kRecordsPerSplit, &records));
    Encode(packed, static_cast<uint64_t>(records.size()));
    for (const std::string& r : records) Encode(packed, r);
  }
  return Status::OK();
}

std::vector<std::vector<std::string>> Unpack(const std::vector<std::string>& gathered) {
  std::vector<std::vector<std::string>> per_split;
  for (const std::string& bytes : gathered) {
    ByteReader r{bytes.data(), bytes.data() + bytes.size()};
    uint64_t n = 0;
    while (r.p != r.end && Decode(r, &n)) {
      per_split.emplace_back();
      std::string record;
      for (uint64_t i = 0; i < n && Decode(r, &record); ++i) per_split.back().push_back(record);
    }
  }
  return per_split;
}

std::vector<std::string> Flatten(const std::vector<std::vector<std::string>>& per_split) {
  std::vector<std::string> all;
  for (const auto& split : per_split) all.insert(all.end(), split.begin(), split.end());
  return all;
}

// Rank 0: the cuts (range partitioning) and the weights, packed for the
// broadcast as: cut count, cuts, then one weight per partition.
Status Decide(JobRun& run, bool range_partitioned, const std::vector<std::vector<std::string>>& per_split,
              std::string* decided) {
  const uint32_t partitions = run.config.settings.partitions;
  std::vector<std::string> cuts;
  if (range_partitioned) {
    SLUICE_ASSIGN_OR_RETURN(cuts, run.runner->ChooseCuts(Flatten(per_split), partitions));
    SLUICE_RETURN_IF_ERROR(run.runner->SetRangeCuts(cuts));
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<uint64_t> weights, run.runner->PartitionWeights(per_split, partitions));
  size_t records = 0;
  for (const auto& split : per_split) records += split.size();
  if (range_partitioned) spdlog::info("range partitioning: {} sampled keys, {} cuts", records, cuts.size());
  Encode(decided, static_cast<uint64_t>(cuts.size()));
  for (const std::string& cut : cuts) Encode(decided, cut);
  for (uint64_t w : weights) Encode(decided, w);
  return Status::OK();
}

}  // namespace

Status SampleForReduce(JobRun& run, bool range_partitioned) {
  Communicator& comm = run.comm;
  const uint32_t partitions = run.config.settings.partitions;
  const int ranks = comm.size();
  run.partition_weights.assign(partitions, 0);
  if (!range_partitioned && ranks == 1) {  // one rank reduces everything: nothing to decide
    run.reduce_owners.assign(partitions, 0);
    return Status::OK();
  }
  const auto start = Clock::now();
  std::string mine;
  SLUICE_RETURN_IF_ERROR(AgreeAcrossRanks(comm, SampleMine(run, &mine)));
  std::vector<std::string> gathered = comm.Gather(mine, 0);
  std::string decided;
  Status decided_ok;
  if (comm.rank() == 0) decided_ok = Decide(run, range_partitioned, Unpack(gathered), &decided);
  SLUICE_RETURN_IF_ERROR(AgreeAcrossRanks(comm, decided_ok));
  comm.Broadcast(&decided, 0);

  ByteReader r{decided.data(), decided.data() + decided.size()};
  uint64_t cut_count = 0;
  std::vector<std::string> cuts;
  bool ok = Decode(r, &cut_count);
  for (uint64_t i = 0; ok && i < cut_count; ++i) {
    cuts.emplace_back();
    ok = Decode(r, &cuts.back());
  }
  for (uint32_t p = 0; ok && p < partitions; ++p) ok = Decode(r, &run.partition_weights[p]);
  if (!ok || r.p != r.end) return Status::Internal("malformed reduce sample decision");
  if (range_partitioned && comm.rank() != 0) SLUICE_RETURN_IF_ERROR(run.runner->SetRangeCuts(cuts));
  run.reduce_owners = AssignPartitions(run.partition_weights, ranks);
  run.runner->SetOwners(run.reduce_owners);
  if (comm.rank() == 0 && ranks > 1) {
    const double heaviest = HeaviestOverMean(run.partition_weights, run.reduce_owners, ranks);
    spdlog::info("reduce assignment: {} partitions over {} ranks by sampled weight, {} (sampled in {:.3f}s)",
                 partitions, ranks,
                 heaviest > 0 ? fmt::format("heaviest rank {:.2f}x the mean", heaviest)
                              : std::string("but the sample saw no records: spread evenly"),
                 SecondsSince(start));
  }
  return Status::OK();
}

}  // namespace sluice
