// The report's per-step times (issue 14: per_rank[].steps): every rank
// lists each phase's steps in a fixed order, none negative, and with
// "other" they add up to the phase's clock; the steps a job runs show
// time (map and combine, compress, decode, sort), a spilled sort shows its
// merge, and a map-only job's writing is a map step.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

const std::vector<std::string> kMapSteps = {"read", "map_and_combine", "serialize", "compress",
                                            "send", "save_for_resume", "other"};
const std::vector<std::string> kReduceSteps = {"receive_wait", "decode_and_fold", "merge", "sort",
                                               "reduce_and_format", "write", "checksum", "commit", "other"};

std::vector<std::string> Keys(const nlohmann::ordered_json& object) {
  std::vector<std::string> keys;
  for (auto it = object.begin(); it != object.end(); ++it) keys.push_back(it.key());
  return keys;
}

double Sum(const nlohmann::ordered_json& steps, const std::string& except = "") {
  double sum = 0;
  for (auto it = steps.begin(); it != steps.end(); ++it) {
    if (it.key() != except) sum += it.value().get<double>();
  }
  return sum;
}

// Each rank's steps, checked for shape and sums; returns them summed over
// ranks, as {"map": {...}, "reduce": {...}}.
nlohmann::json CheckedSteps(const std::string& out, const std::vector<std::string>& map_steps) {
  // Ordered: the report writes steps in order, and the test checks it.
  const nlohmann::ordered_json report = nlohmann::ordered_json::parse(ReadFile(out + "/_report.json"));
  nlohmann::json total = {{"map", nlohmann::json::object()}, {"reduce", nlohmann::json::object()}};
  for (const nlohmann::ordered_json& rank : report["per_rank"]) {
    SCOPED_TRACE(rank.dump());
    const nlohmann::ordered_json& steps = rank["steps"];
    EXPECT_EQ(Keys(steps), (std::vector<std::string>{"map", "reduce"}));
    EXPECT_EQ(Keys(steps["map"]), map_steps);
    EXPECT_EQ(Keys(steps["reduce"]), kReduceSteps);
    for (const char* phase : {"map", "reduce"}) {
      for (auto it = steps[phase].begin(); it != steps[phase].end(); ++it) {
        EXPECT_GE(it.value().get<double>(), 0.0) << phase << "." << it.key();
        total[phase][it.key()] = total[phase].value(it.key(), 0.0) + it.value().get<double>();
      }
    }
    // Milliseconds, rounded each: a step's rounding per step at most.
    const double wait = steps["reduce"]["receive_wait"].get<double>();
    EXPECT_NEAR(Sum(steps["map"]), rank["map_seconds"].get<double>() - wait, 0.001 * (map_steps.size() + 2));
    EXPECT_NEAR(Sum(steps["reduce"], "receive_wait"), rank["reduce_seconds"].get<double>(),
                0.001 * (kReduceSteps.size() + 1));
    EXPECT_LE(wait, rank["map_seconds"].get<double>() + 0.001);
  }
  return total;
}

// 1.2 M lines (20 MB) over 60,000 distinct words: enough work per step to
// show in the report's milliseconds. A third of that once left 2 ranks'
// read step under half a millisecond, so it showed as 0, after huge pages
// made reading cheaper.
void WriteManyWords(const std::string& dir) {
  std::string text;
  for (int64_t i = 0; i < 1200000; ++i) {
    text += "word" + std::to_string(i * 7919 % 60000) + " the " + std::to_string(i % 97) + "\n";
  }
  std::filesystem::create_directories(dir);
  WriteFile(dir + "/words.txt", text);
}

TEST(StepTimesE2E, WordCountStepsAddUpToEachPhaseAtOneAndTwoRanks) {
  TempDir dir;
  WriteManyWords(dir / "in");
  for (int ranks : {1, 2}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    const std::string out = dir / ("out" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, "run wordcount --split-size 1M --input " + dir / "in" + " --output " + out);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const nlohmann::json total = CheckedSteps(out, kMapSteps);
    SCOPED_TRACE(total.dump());
    for (const char* step : {"read", "map_and_combine", "serialize", "compress"}) {
      EXPECT_GT(total["map"][step].get<double>(), 0.0) << step;
    }
    for (const char* step : {"decode_and_fold", "sort", "reduce_and_format"}) {
      EXPECT_GT(total["reduce"][step].get<double>(), 0.0) << step;
    }
    EXPECT_EQ(total["reduce"]["merge"].get<double>(), 0.0);  // it fit in memory
  }
}

TEST(StepTimesE2E, ASpilledSortShowsItsMergeAndAMapOnlyJobItsWrites) {
  TempDir dir;
  const std::string in = dir / "in";
  CommandResult gen = RunSluice(1, "run teragen 200000 " + in + " --split-size 4M");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  // teragen is map-only: it writes its parts while it maps.
  const nlohmann::json generated = CheckedSteps(in, {"read", "map_and_combine", "serialize", "compress", "send",
                                                     "save_for_resume", "write", "checksum", "other"});
  EXPECT_GT(generated["map"]["write"].get<double>() + generated["map"]["checksum"].get<double>(), 0.0)
      << generated.dump();

  // 20 MB of records in two partitions under an 8 MiB budget per rank:
  // each partition is over the rank's sort share, so it spills and merges.
  const std::string out = dir / "sorted";
  CommandResult r = RunSluice(2, "run terasort " + in + " " + out + " --memory 8M --split-size 2M --partitions 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json total = CheckedSteps(out, kMapSteps);
  EXPECT_GT(ReportCounter(out, "spill_runs"), 0u);
  EXPECT_GT(total["reduce"]["merge"].get<double>(), 0.0) << total.dump();
  EXPECT_GT(total["reduce"]["reduce_and_format"].get<double>(), 0.0) << total.dump();
}

}  // namespace
}  // namespace sluice::e2e
