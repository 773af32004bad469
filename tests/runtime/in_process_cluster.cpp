#include "tests/runtime/in_process_cluster.h"

#include <algorithm>
#include <utility>

#include "io/buffered_writer.h"
#include "io/file_system.h"
#include "io/input_lister.h"
#include "io/split_planner.h"
#include "shuffle/partitioner.h"

namespace sluice {

class InProcessCluster::Rank final : public BlockTransport {
 public:
  Rank(InProcessCluster* cluster, int rank) : cluster_(cluster), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return cluster_->ranks(); }
  void SetReceiver(BlockReceiver* receiver) override { cluster_->receivers_[rank_] = receiver; }
  void SendBlock(int dest, std::string frame) override {
    cluster_->sent_[rank_][dest] += 1;
    cluster_->inbox_[dest].push_back({rank_, std::move(frame)});
  }
  void Poll() override { cluster_->Deliver(rank_); }
  void FinishShuffle() override { cluster_->Deliver(rank_); }

 private:
  InProcessCluster* cluster_;
  int rank_;
};

std::string ClusterRun::all() const {
  std::string s;
  for (const std::string& p : parts) s += p;
  return s;
}

uint64_t ClusterRun::cross_rank_blocks() const {
  uint64_t n = 0;
  for (size_t a = 0; a < blocks_sent.size(); ++a) {
    for (size_t b = 0; b < blocks_sent[a].size(); ++b) n += a == b ? 0 : blocks_sent[a][b];
  }
  return n;
}

InProcessCluster::InProcessCluster(int ranks, std::string work_dir, Arrival arrival)
    : work_dir_(std::move(work_dir)),
      arrival_(arrival),
      inbox_(static_cast<size_t>(std::max(ranks, 1))),
      receivers_(inbox_.size(), nullptr),
      sent_(inbox_.size(), std::vector<uint64_t>(inbox_.size(), 0)) {
  for (int r = 0; r < static_cast<int>(inbox_.size()); ++r) {
    ranks_.push_back(std::make_unique<Rank>(this, r));
  }
}

InProcessCluster::~InProcessCluster() = default;

BlockTransport* InProcessCluster::transport(int rank) { return ranks_[rank].get(); }

void InProcessCluster::Deliver(int dest) {
  std::deque<Pending>& box = inbox_[dest];
  if (arrival_ == Arrival::kHighestSourceFirst) {
    std::stable_sort(box.begin(), box.end(),
                     [](const Pending& a, const Pending& b) { return a.source > b.source; });
  }
  // Popped before it is handed over, so a receiver that polled again from
  // inside OnBlock would not see the same frame twice.
  while (!inbox_[dest].empty()) {
    Pending p = std::move(inbox_[dest].front());
    inbox_[dest].pop_front();
    receivers_[dest]->OnBlock(p.source, std::move(p.frame));
  }
}

Result<ClusterRun> InProcessCluster::Run(const RunnerFactory& make_runner,
                                         const std::vector<std::string>& inputs,
                                         JobSettings settings, uint64_t split_size) {
  FileSystem& fs = *FileSystem::Default();
  const int n = ranks();
  // Numbered across every cluster in the process: clusters may share work_dir.
  static int runs = 0;
  const std::string dir = work_dir_ + "/run" + std::to_string(runs++);
  SLUICE_RETURN_IF_ERROR(fs.CreateDirs(dir));
  for (auto& box : inbox_) box.clear();
  std::fill(receivers_.begin(), receivers_.end(), nullptr);
  for (auto& row : sent_) std::fill(row.begin(), row.end(), 0);

  std::vector<InputFile> files;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string path = dir + "/input" + std::to_string(i);
    SLUICE_RETURN_IF_ERROR(WriteStringToFile(fs, path, inputs[i]));
    files.push_back({path, inputs[i].size(), 0, static_cast<uint32_t>(i)});
  }
  std::vector<Split> splits = PlanSplits(files, split_size);
  auto task = [&](size_t i, BufferedWriter* out) { return MapTask{&splits[i], &files, &fs, out}; };
  auto at = [](const std::string& step, int rank, const Status& s) {
    return Status(s.code(), step + " on rank " + std::to_string(rank) + ": " + s.message());
  };

  std::vector<std::unique_ptr<JobRunner>> runners;
  for (int r = 0; r < n; ++r) {
    runners.push_back(make_runner());
    settings.scratch_dir = dir + "/scratch" + std::to_string(r);
    Status s = runners[r]->Setup(settings, transport(r), &fs);
    if (!s.ok()) return at("setup", r, s);
  }
  const JobTraits traits = runners[0]->traits();

  if (traits.range_partitioned) {
    // As the driver: the same splits (up to 32, spread over the input)
    // sampled whatever the rank count, gathered at rank 0 in rank order.
    constexpr size_t kSampleSplits = 32;
    constexpr size_t kKeysPerSplit = 4096;
    const size_t chosen = std::min(splits.size(), kSampleSplits);
    std::vector<std::vector<std::string>> by_rank(n);
    for (size_t i = 0; i < chosen; ++i) {
      const int r = static_cast<int>(i % n);
      uint64_t input_bytes = 0;
      Status s = runners[r]->SampleKeys(task(i * splits.size() / chosen, nullptr), kKeysPerSplit,
                                        &by_rank[r], &input_bytes);
      if (!s.ok()) return at("sampling", r, s);
    }
    std::vector<std::string> samples;
    for (auto& keys : by_rank) {
      for (std::string& k : keys) samples.push_back(std::move(k));
    }
    Result<std::vector<std::string>> cuts =
        runners[0]->ChooseCuts(std::move(samples), settings.partitions);
    if (!cuts.ok()) return at("choosing cuts", 0, cuts.status());
    for (int r = 0; r < n; ++r) {
      Status s = runners[r]->SetRangeCuts(*cuts);
      if (!s.ok()) return at("setting cuts", r, s);
    }
  }

  ClusterRun run;
  for (size_t i = 0; i < splits.size(); ++i) {
    const int r = static_cast<int>(i % n);
    std::unique_ptr<BufferedWriter> out;
    const std::string part = dir + "/split-part" + std::to_string(i);
    if (traits.map_only) {
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs.Create(part));
      out = std::make_unique<BufferedWriter>(std::move(file));
    }
    Status s = runners[r]->RunMapTask(task(i, out.get()));
    if (!s.ok()) return at("map task " + std::to_string(i), r, s);
    if (traits.map_only) {
      SLUICE_RETURN_IF_ERROR(out->Close());
      SLUICE_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(fs, part));
      run.parts.push_back(std::move(bytes));
    }
  }
  for (int r = 0; r < n; ++r) {
    transport(r)->FinishShuffle();
    Status s = runners[r]->ReceiveStatus();
    if (!s.ok()) return at("shuffle", r, s);
  }

  if (!traits.map_only) {
    for (uint32_t p = 0; p < settings.partitions; ++p) {
      const int owner = OwnerOf(p, n);
      const std::string part = dir + "/part" + std::to_string(p);
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs.Create(part));
      BufferedWriter writer(std::move(file));
      Status s = runners[owner]->RunReduceTask(p, &writer);
      if (!s.ok()) return at("reduce of partition " + std::to_string(p), owner, s);
      SLUICE_RETURN_IF_ERROR(writer.Close());
      SLUICE_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(fs, part));
      run.parts.push_back(std::move(bytes));
    }
  }
  for (auto& runner : runners) {
    for (auto field : TaskCounters::kFields) run.counters.*field += runner->counters().*field;
  }
  run.blocks_sent = sent_;
  return run;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  for (size_t at = 0; at < text.size();) {
    const size_t nl = text.find('\n', at);
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return lines;
}

}  // namespace sluice
