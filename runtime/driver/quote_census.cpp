#include "runtime/driver/quote_census.h"

#include <vector>

#include <spdlog/spdlog.h>

namespace sluice {

void RunQuoteCensus(JobRun& run) {
  const InputKind kind = run.input;
  if (kind != InputKind::kCsv && kind != InputKind::kTable) return;
  JobPlan& plan = run.plan;
  std::vector<uint32_t> ranges_of_file(plan.files.size(), 0);
  for (const Split& split : plan.splits) {
    for (const FileRange& r : split.ranges) ++ranges_of_file[r.file_index];
  }
  // The ranges of files cut in pieces, in plan order (which is file order,
  // then offset order within a file).
  std::vector<FileRange*> cut;
  for (Split& split : plan.splits) {
    for (FileRange& r : split.ranges) {
      if (ranges_of_file[r.file_index] > 1) cut.push_back(&r);
    }
  }
  if (cut.empty()) return;
  const auto start = Clock::now();
  std::vector<uint64_t> quotes(cut.size(), 0);
  const size_t ranks = static_cast<size_t>(run.comm.size());
  const size_t rank = static_cast<size_t>(run.comm.rank());
  for (size_t i = rank; i < cut.size(); i += ranks) {
    auto counted = run.runner->CountQuotes(plan.files, *cut[i], *FileSystem::Default());
    run.Check("quote census", counted.status());
    quotes[i] = *counted;
  }
  run.comm.AllReduceSum(&quotes);
  std::vector<bool> odd(plan.files.size(), false);
  for (size_t i = 0; i < cut.size(); ++i) {
    cut[i]->starts_in_quotes = odd[cut[i]->file_index];
    if (quotes[i] % 2 == 1) odd[cut[i]->file_index] = !odd[cut[i]->file_index];
  }
  if (rank == 0) {
    spdlog::debug("quote census: {} CSV range(s) counted in {:.3f}s", cut.size(), SecondsSince(start));
  }
}

}  // namespace sluice
