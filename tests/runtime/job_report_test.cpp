// The job report and the manifest (runtime/driver/job_report.h) as readers
// see them: rendered from known inputs, parsed back with a JSON library, and
// compared field by field with what they must say. File names are bytes, so
// paths with quotes, backslashes, control characters and invalid UTF-8 must
// still give valid JSON that names the exact file.
#include "runtime/driver/job_report.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sluice/version.h>

namespace sluice {
namespace {

// Parsed keeping key order, so that comparing with an expected document also
// checks the order the renderer promises.
using Json = nlohmann::ordered_json;

const std::string kFffd = "\xef\xbf\xbd";  // U+FFFD REPLACEMENT CHARACTER

// `text` parsed; fails the test (and returns null) when it is not JSON.
Json Parse(const std::string& text) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(doc.is_discarded()) << "not JSON:\n" << text;
  return doc;
}

// Equality of JSON values does not see 3 versus 3.0 (or a hash as a number
// versus a string of digits); readers do. Checks that every value of `got`
// has the kind of `want`: integer, float, string, ...
void ExpectSameKinds(const Json& got, const Json& want, const std::string& where = "") {
  const auto kind = [](const Json& v) {
    return v.is_number_integer() ? std::string("integer") : std::string(v.type_name());
  };
  ASSERT_EQ(kind(got), kind(want)) << "at " << where;
  if (want.is_object()) {
    for (const auto& [key, value] : want.items()) {
      ASSERT_TRUE(got.contains(key)) << "missing " << where << "/" << key;
      ExpectSameKinds(got[key], value, where + "/" + key);
    }
  } else if (want.is_array()) {
    ASSERT_EQ(got.size(), want.size()) << "at " << where;
    for (size_t i = 0; i < want.size(); ++i) ExpectSameKinds(got[i], want[i], where + "/" + std::to_string(i));
  }
}

// Equal as values, of the same kinds, in the same key order, and printed as
// the library prints the value with a 2-space indent (no hand-made layout).
void ExpectDocument(const std::string& text, const Json& want) {
  const Json got = Parse(text);
  EXPECT_EQ(got, want) << "got:\n" << got.dump(2) << "\nwant:\n" << want.dump(2);
  ExpectSameKinds(got, want);
  EXPECT_EQ(text, got.dump(2) + "\n");
}

TaskCounters CountersFrom(uint64_t first) {
  std::vector<uint64_t> values;
  for (size_t i = 0; i < TaskCounters::kCount; ++i) values.push_back(first + i);
  return TaskCounters::FromArray(values);
}

Json CountersJson(uint64_t first) {
  Json j = Json::object();
  for (size_t i = 0; i < TaskCounters::kCount; ++i) j[std::string(TaskCounters::kNames[i])] = first + i;
  return j;
}

// A report of a finished two-rank job, every number distinct, so that a
// field written from the wrong source shows.
struct KnownJob {
  JobConfig config;
  JobReport report;

  KnownJob() {
    config.inputs = {"in/logs", "extra/*.txt"};
    config.settings.params = {{"top", "10"}, {"sep", ","}};
    config.settings.partitions = 3;
    config.split_size = 1000;
    config.settings.block_bytes = 2000;
    config.settings.compression_level = 4;
    config.settings.combine_bytes = 3000;
    config.max_inflight_bytes = 4000;
    config.memory_bytes = 5000;
    config.settings.store_bytes = 6000;
    config.settings.sort_bytes = 7000;
    config.settings.merge_factor = 8;
    config.scratch_root = "/scratch";

    report.job = "wordcount";
    report.config = &config;
    report.ranks = 2;
    report.input_files = 11;
    report.input_bytes = 5'000'000;
    report.splits = 13;
    report.plan_seconds = 0.0504;    // to the millisecond: 0.05
    report.commit_seconds = 0.2506;  // 0.251
    report.total_seconds = 2.5;      // 2 MB/s
    report.per_rank.resize(2);
    RankStats& r0 = report.per_rank[0];
    r0.host = "node-a";
    r0.map_seconds = 1.0;
    r0.reduce_seconds = 0.7504;
    r0.splits = 7;
    r0.reused_splits = 2;
    r0.peak_rss_bytes = 100'000;
    r0.counters.shuffle_packed_bytes = 21;
    r0.counters.reduce_input_records = 22;
    r0.reduce_tasks = 2;
    r0.reduce_input_bytes = 3000;
    r0.parts = {{2, 300, 0x33}, {0, 100, 0x11}};
    // Map clock 1.0 s, 0.1 of it waiting for the shuffle: 0.9 in map's
    // steps and other; reduce clock 0.7504 s.
    StepSeconds& st = r0.steps;
    st.read = 0.01, st.map = 0.5, st.serialize = 0.02, st.compress = 0.03, st.send = 0.04, st.save = 0.05;
    st.receive_wait = 0.1, st.decode = 0.06, st.merge = 0.07, st.sort = 0.08, st.reduce = 0.09;
    st.write = 0.011, st.checksum = 0.012, st.commit = 0.2;
    RankStats& r1 = report.per_rank[1];
    r1.host = "node-b";
    report.attempt = 2;
    report.earlier_attempts_json = R"([{"attempt": 1, "lost": "host h2"}])";
    r1.map_seconds = 1.2344;  // the slower mapper
    r1.reduce_seconds = 0.5;
    r1.splits = 6;
    r1.reused_splits = 1;
    r1.peak_rss_bytes = 200'000;
    r1.counters.shuffle_packed_bytes = 31;
    r1.counters.reduce_input_records = 32;
    r1.reduce_tasks = 1;
    r1.reduce_input_bytes = 1000;
    // Partition 1 sampled heaviest and was cut into two pieces (tasks 1, 2).
    report.task_partitions = {0, 1, 1, 2};
    report.task_weights = {100, 300, 200, 200};
    report.reduce_owners = {0, 1, 0, 1};
    r1.parts = {{1, 200, 0x0123456789abcdefULL}};
    report.totals = CountersFrom(100);
    report.totals.shuffle_raw_bytes = 300;
    report.totals.shuffle_packed_bytes = 120;
    report.user_counters = {{"lines.kept", 40}, {"lines.dropped", 2}};
    report.output_dir = "/data/out";
    report.inputs = {{"in/logs/a.log", 10, 1'700'000'000'000'000'001},
                     {"in/logs/b.log", 20, 1'700'000'000'000'000'002}};
    report.plugin_path = "/opt/jobs/libwc.so";
    report.plugin_xxh3 = 0xab;
    report.fingerprint = 0xfedcba9876543210ULL;
  }
};

TEST(JobReportTest, ReportHoldsEveryFieldWithItsKind) {
  KnownJob k;
  Json counters = CountersJson(100);
  counters["shuffle_raw_bytes"] = 300;
  counters["shuffle_packed_bytes"] = 120;
  const Json want = {
      {"job", "wordcount"},
      {"ranks", 2},
      {"output", "/data/out"},
      {"config",
       {{"inputs", {"in/logs", "extra/*.txt"}},
        {"params", {{"top", "10"}, {"sep", ","}}},
        {"partitions", 3},
        {"split_size", 1000},
        {"block_bytes", 2000},
        {"compression_level", 4},
        {"compress_node_local", true},
        {"combine_bytes", 3000},
        {"max_inflight_bytes", 4000},
        {"memory_bytes", 5000},
        {"store_bytes", 6000},
        {"sort_bytes", 7000},
        {"merge_factor", 8},
        {"scratch", "/scratch"}}},
      {"input", {{"files", 11}, {"bytes", 5'000'000}, {"splits", 13}}},
      {"resume", {{"fingerprint", "fedcba9876543210"}, {"map_tasks_reused", 3}}},
      {"attempts", {{"this", 2}, {"earlier", {{{"attempt", 1}, {"lost", "host h2"}}}}}},
      {"seconds", {{"plan", 0.05}, {"commit", 0.251}, {"total", 2.5}}},
      {"throughput_mb_per_s", 2.0},
      // No task spans given: every slice of the 2.5 s is empty.
      {"throughput_over_time",
       {{"slice_seconds", 0.052},
        {"map_input_mb_per_s", std::vector<double>(48, 0.0)},
        {"reduce_output_mb_per_s", std::vector<double>(48, 0.0)}}},
      {"slowest_rank", {{"map", 1}, {"reduce", 0}}},
      {"per_rank",
       {{{"rank", 0},
         {"host", "node-a"},
         {"map_seconds", 1.0},
         {"reduce_seconds", 0.75},
         {"splits", 7},
         {"reused_splits", 2},
         {"peak_rss_bytes", 100'000},
         {"shuffle_packed_bytes", 21},
         {"reduce_tasks", 2},
         {"reduce_input_bytes", 3000},
         {"reduce_input_records", 22},
         {"steps",
          {{"map",
            {{"read", 0.01}, {"map_and_combine", 0.5}, {"serialize", 0.02}, {"compress", 0.03},
             {"send", 0.04}, {"save_for_resume", 0.05}, {"other", 0.25}}},
           {"reduce",
            {{"receive_wait", 0.1}, {"decode_and_fold", 0.06}, {"merge", 0.07}, {"sort", 0.08},
             {"reduce_and_format", 0.09}, {"write", 0.011}, {"checksum", 0.012}, {"commit", 0.2},
             {"other", 0.227}}}}}},
        {{"rank", 1},
         {"host", "node-b"},
         {"map_seconds", 1.234},
         {"reduce_seconds", 0.5},
         {"splits", 6},
         {"reused_splits", 1},
         {"peak_rss_bytes", 200'000},
         {"shuffle_packed_bytes", 31},
         {"reduce_tasks", 1},
         {"reduce_input_bytes", 1000},
         {"reduce_input_records", 32},
         // No step measured: each phase's whole clock is "other".
         {"steps",
          {{"map",
            {{"read", 0.0}, {"map_and_combine", 0.0}, {"serialize", 0.0}, {"compress", 0.0},
             {"send", 0.0}, {"save_for_resume", 0.0}, {"other", 1.234}}},
           {"reduce",
            {{"receive_wait", 0.0}, {"decode_and_fold", 0.0}, {"merge", 0.0}, {"sort", 0.0},
             {"reduce_and_format", 0.0}, {"write", 0.0}, {"checksum", 0.0}, {"commit", 0.0},
             {"other", 0.5}}}}}}}},
      // Sampled: 500 of 800 on rank 1 (1.25x the mean of 400); received:
      // 3000 of 4000 on rank 0 (1.5x).
      {"reduce_assignment",
       {{"by", "sampled bytes per reduce task, heaviest first to the least-loaded rank; a partition the "
               "sample puts over --reduce-task-size is cut by key into pieces"},
        {"heaviest_rank_over_mean_sampled", 1.25},
        {"heaviest_rank_over_mean_received", 1.5},
        {"tasks",
         {{{"partition", 0}, {"rank", 0}, {"sampled_bytes", 100}},
          {{"partition", 1}, {"piece", 0}, {"rank", 1}, {"sampled_bytes", 300}},
          {{"partition", 1}, {"piece", 1}, {"rank", 0}, {"sampled_bytes", 200}},
          {{"partition", 2}, {"rank", 1}, {"sampled_bytes", 200}}}}}},
      {"counters", counters},
      // A std::map: names in sorted order.
      {"user_counters", {{"lines.dropped", 2}, {"lines.kept", 40}}},
      {"shuffle", {{"raw_bytes", 300}, {"packed_bytes", 120}, {"compression_ratio", 2.5}}},
  };
  ExpectDocument(RenderReportJson(k.report), want);
}

TEST(JobReportTest, ManifestHoldsEveryFieldAndNoTimings) {
  KnownJob k;
  Json counters = CountersJson(100);
  counters["shuffle_raw_bytes"] = 300;
  counters["shuffle_packed_bytes"] = 120;
  // Spilling depends on memory and ranks, not on the inputs: report only.
  for (const char* c : {"spill_runs", "spill_records", "spill_bytes", "merge_passes"}) counters.erase(c);
  const Json want = {
      {"format", "sluice-manifest/1"},
      {"job",
       {{"name", "wordcount"},
        {"sluice_version", kSluiceVersion},
        {"plugin", "/opt/jobs/libwc.so"},
        {"plugin_xxh3", "00000000000000ab"}}},
      {"fingerprint", "fedcba9876543210"},
      // Only the settings that decide the output's bytes.
      {"config",
       {{"inputs", {"in/logs", "extra/*.txt"}},
        {"params", {{"top", "10"}, {"sep", ","}}},
        {"partitions", 3},
        {"split_size", 1000}}},
      {"inputs",
       {{{"path", "in/logs/a.log"}, {"size", 10}, {"mtime_ns", 1'700'000'000'000'000'001}},
        {{"path", "in/logs/b.log"}, {"size", 20}, {"mtime_ns", 1'700'000'000'000'000'002}}}},
      // In partition order, whichever rank committed them.
      {"outputs",
       {{{"file", "part-00000"}, {"bytes", 100}, {"xxh3", "0000000000000011"}},
        {{"file", "part-00001"}, {"bytes", 200}, {"xxh3", "0123456789abcdef"}},
        {{"file", "part-00002"}, {"bytes", 300}, {"xxh3", "0000000000000033"}}}},
      {"counters", counters},
      {"user_counters", {{"lines.dropped", 2}, {"lines.kept", 40}}},
  };
  ExpectDocument(RenderManifestJson(k.report), want);
}

TEST(JobReportTest, ManifestIsTheSameForAnyRankCountAndTiming) {
  KnownJob one_rank, two_ranks;
  one_rank.report.ranks = 1;
  one_rank.report.per_rank.resize(1);
  one_rank.report.per_rank[0].parts = {{1, 200, 0x0123456789abcdefULL}, {0, 100, 0x11}, {2, 300, 0x33}};
  one_rank.report.reduce_owners = {0, 0, 0};  // owners are not in the manifest either
  one_rank.report.per_rank[0].map_seconds = 9;
  one_rank.report.total_seconds = 99;
  one_rank.config.memory_bytes = 1;  // a resource setting: not in the manifest
  one_rank.report.totals.spill_runs = 17;  // so is what it spilled
  one_rank.report.totals.merge_passes = 2;
  EXPECT_EQ(RenderManifestJson(one_rank.report), RenderManifestJson(two_ranks.report));
  EXPECT_NE(RenderReportJson(one_rank.report), RenderReportJson(two_ranks.report));
}

TEST(JobReportTest, BuiltInJobHasNoPluginFieldsAndEmptyListsStayLists) {
  KnownJob k;
  k.report.plugin_path.clear();
  k.report.user_counters.clear();
  k.report.inputs.clear();
  k.report.per_rank.clear();
  k.config.settings.params.clear();
  Json manifest = Parse(RenderManifestJson(k.report));
  EXPECT_EQ(manifest["job"], Json::object({{"name", "wordcount"}, {"sluice_version", kSluiceVersion}}));
  EXPECT_EQ(manifest["inputs"], Json::array());
  EXPECT_EQ(manifest["outputs"], Json::array());
  EXPECT_EQ(manifest["user_counters"], Json::object());
  EXPECT_EQ(manifest["config"]["params"], Json::object());
  Json report = Parse(RenderReportJson(k.report));
  EXPECT_EQ(report["per_rank"], Json::array());
  EXPECT_EQ(report["user_counters"], Json::object());
  EXPECT_EQ(report["slowest_rank"], Json::object({{"map", 0}, {"reduce", 0}}));
}

TEST(JobReportTest, RepeatedParamKeepsTheLastValueAsTheJobDoes) {
  KnownJob k;
  k.config.settings.params = {{"top", "10"}, {"top", "20"}};
  EXPECT_EQ(Parse(RenderManifestJson(k.report))["config"]["params"], Json::object({{"top", "20"}}));
}

// Quotes, backslashes, every control character, DEL and valid multi-byte
// UTF-8: all of them are text JSON can carry, so each reads back exactly and
// no "_hex" sibling is added.
TEST(JobReportTest, OddButValidFileNamesReadBackExactly) {
  std::string odd = "we\"ird\\name/'q' caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f";
  for (int c = 0; c < 0x20; ++c) odd.push_back(static_cast<char>(c));
  ASSERT_TRUE(IsValidUtf8(odd));
  KnownJob k;
  k.report.output_dir = odd + "/out";
  k.config.scratch_root = odd + "/scratch";
  k.config.inputs = {odd};
  k.report.inputs = {{odd + "/a", 1, 2}};
  k.report.plugin_path = odd + ".so";
  k.config.settings.params = {{odd, odd}};
  k.report.user_counters = {{odd, 5}};

  const std::string report_text = RenderReportJson(k.report);
  const std::string manifest_text = RenderManifestJson(k.report);
  EXPECT_TRUE(IsValidUtf8(report_text));
  EXPECT_TRUE(IsValidUtf8(manifest_text));
  // Not const: a missing key then reads as null, not as undefined behaviour.
  Json report = Parse(report_text);
  Json manifest = Parse(manifest_text);
  EXPECT_EQ(report["output"], odd + "/out");
  EXPECT_FALSE(report.contains("output_hex"));
  EXPECT_EQ(report["config"]["scratch"], odd + "/scratch");
  EXPECT_FALSE(report["config"].contains("scratch_hex"));
  EXPECT_EQ(report["config"]["inputs"], Json::array({odd}));
  EXPECT_FALSE(report["config"].contains("inputs_hex"));
  EXPECT_EQ(report["config"]["params"], Json::object({{odd, odd}}));
  EXPECT_EQ(report["user_counters"], Json::object({{odd, 5}}));
  EXPECT_EQ(manifest["inputs"], Json::array({{{"path", odd + "/a"}, {"size", 1}, {"mtime_ns", 2}}}));
  EXPECT_EQ(manifest["job"]["plugin"], odd + ".so");
  EXPECT_FALSE(manifest["job"].contains("plugin_hex"));
  EXPECT_EQ(manifest["config"]["inputs"], Json::array({odd}));
}

// Bytes that are not UTF-8 cannot be in JSON text: rendering must not throw
// (one Latin-1 file name would fail a finished job), each path shows U+FFFD
// where its bytes could not go, and its "<field>_hex" sibling gives the exact
// bytes back.
TEST(JobReportTest, InvalidUtf8FileNamesAreReplacedAndKeptAsHex) {
  const std::string latin1 = "in/caf\xe9\"\\\n.txt";  // é in Latin-1
  const std::string shown = "in/caf" + kFffd + "\"\\\n.txt";
  KnownJob k;
  k.report.output_dir = "out\xff";
  k.config.scratch_root = "/tmp/\xc3";  // truncated sequence
  k.config.inputs = {"ok", latin1};
  k.report.inputs = {{"in/ok.txt", 1, 2}, {latin1, 3, 4}};
  k.report.plugin_path = "/lib/\xfe.so";
  k.config.settings.params = {{"key\xff", "value\xff"}};
  k.report.user_counters = {{"count\xff", 6}};

  std::string report_text, manifest_text;
  ASSERT_NO_THROW(report_text = RenderReportJson(k.report));
  ASSERT_NO_THROW(manifest_text = RenderManifestJson(k.report));
  EXPECT_TRUE(IsValidUtf8(report_text));
  EXPECT_TRUE(IsValidUtf8(manifest_text));
  // Not const: a missing key then reads as null, not as undefined behaviour.
  Json report = Parse(report_text);
  Json manifest = Parse(manifest_text);

  EXPECT_EQ(report["output"], "out" + kFffd);
  EXPECT_EQ(report["output_hex"], "6f7574ff");
  EXPECT_EQ(report["config"]["scratch"], "/tmp/" + kFffd);
  EXPECT_EQ(report["config"]["scratch_hex"], HexBytes("/tmp/\xc3"));
  for (Json* config : {&report["config"], &manifest["config"]}) {
    EXPECT_EQ((*config)["inputs"], Json::array({"ok", shown}));
    // null where the spec is valid UTF-8, its bytes where it is not.
    EXPECT_EQ((*config)["inputs_hex"], Json::array({nullptr, HexBytes(latin1)}));
    EXPECT_EQ((*config)["params"], Json::object({{"key" + kFffd, "value" + kFffd}}));
  }
  EXPECT_EQ(report["user_counters"], Json::object({{"count" + kFffd, 6}}));
  EXPECT_EQ(manifest["user_counters"], Json::object({{"count" + kFffd, 6}}));
  EXPECT_EQ(manifest["inputs"],
            Json::array({{{"path", "in/ok.txt"}, {"size", 1}, {"mtime_ns", 2}},
                         {{"path", shown}, {"path_hex", HexBytes(latin1)}, {"size", 3}, {"mtime_ns", 4}}}));
  EXPECT_EQ(manifest["job"]["plugin"], "/lib/" + kFffd + ".so");
  EXPECT_EQ(manifest["job"]["plugin_hex"], HexBytes("/lib/\xfe.so"));
  EXPECT_EQ(manifest["job"]["plugin_xxh3"], "00000000000000ab");
}

// Where U+FFFD goes: one per maximal invalid subsequence (Unicode 15, 3.9,
// "U+FFFD Substitution of Maximal Subparts"), read back from a manifest.
TEST(JobReportTest, ReplacesEachMaximalInvalidSubsequence) {
  struct Case {
    std::string bytes, shown;
  };
  const std::vector<Case> cases = {
      {"a\xff", "a" + kFffd},
      {"\xc3", kFffd},                                 // truncated at the end
      {"\xe2\x82" "A", kFffd + "A"},                   // truncated before ASCII
      {"\xc0\xaf", kFffd + kFffd},                     // overlong
      {"\xed\xa0\x80", kFffd + kFffd + kFffd},         // surrogate
      {"\xf4\x90\x80\x80x", kFffd + kFffd + kFffd + kFffd + "x"},  // past U+10FFFF
  };
  for (const Case& c : cases) {
    KnownJob k;
    k.report.inputs = {{c.bytes, 1, 2}};
    Json manifest = Parse(RenderManifestJson(k.report));
    EXPECT_EQ(manifest["inputs"][0]["path"], c.shown) << HexBytes(c.bytes);
    EXPECT_EQ(manifest["inputs"][0]["path_hex"], HexBytes(c.bytes));
  }
}

TEST(JobReportTest, IsValidUtf8FollowsRfc3629) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0 and \x7f", 10)));
  EXPECT_FALSE(IsValidUtf8("a\xff"));
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong, 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation byte
}

TEST(JobReportTest, HexBytesGivesTwoLowercaseDigitsPerByte) {
  EXPECT_EQ(HexBytes(""), "");
  EXPECT_EQ(HexBytes(std::string("a\xff\n\0", 4)), "61ff0a00");
}

// A map-only job writes its parts in the map phase: its write and checksum
// are map steps there, and appear nowhere for a job with a reduce.
TEST(JobReportTest, MapOnlyWritesAreMapSteps) {
  KnownJob k;
  StepSeconds& st = k.report.per_rank[1].steps;
  st.map = 0.5;
  st.map_write = 0.25;
  st.map_checksum = 0.125;
  const Json map = Parse(RenderReportJson(k.report))["per_rank"][1]["steps"]["map"];
  EXPECT_EQ(map["write"], 0.25) << map.dump();
  EXPECT_EQ(map["checksum"], 0.125) << map.dump();
  EXPECT_EQ(map["other"], 0.359) << map.dump();  // 1.2344 - 0.875
  const Json other = Parse(RenderReportJson(k.report))["per_rank"][0]["steps"]["map"];
  EXPECT_FALSE(other.contains("write")) << other.dump();
}

TEST(JobReportTest, RankStatsSurviveEncodeAndDecode) {
  RankStats s;
  s.host = "node-07";
  s.map_seconds = 1.5;
  s.reduce_seconds = 2.25;
  s.splits = 3;
  s.reused_splits = 1;
  s.peak_rss_bytes = 1 << 20;
  s.counters = CountersFrom(7);
  s.reduce_tasks = 5;
  s.reduce_input_bytes = 1ULL << 40;
  s.parts = {{4, 40, 0x44}, {1, 10, 0x11}};
  s.map_spans = {{0.0, 0.5, 100}, {0.5, 1.25, 200}};
  s.state_files = {{3, 30, 0x33}};
  s.reduce_spans = {{0.25, 2.0, 77}};
  double v = 0.5;
  for (const StepSeconds::Field& f : StepSeconds::kFields) s.steps.*f.seconds = (v += 0.25);
  const std::string bytes = s.Encode();
  RankStats back;
  ASSERT_TRUE(RankStats::Decode(bytes, &back));
  EXPECT_EQ(back.host, "node-07");
  EXPECT_EQ(back.map_seconds, 1.5);
  EXPECT_EQ(back.reduce_seconds, 2.25);
  EXPECT_EQ(back.splits, 3u);
  EXPECT_EQ(back.reused_splits, 1u);
  EXPECT_EQ(back.peak_rss_bytes, 1u << 20);
  EXPECT_EQ(back.reduce_tasks, 5u);
  EXPECT_EQ(back.reduce_input_bytes, 1ULL << 40);
  EXPECT_EQ(back.counters.ToArray(), s.counters.ToArray());
  for (const StepSeconds::Field& f : StepSeconds::kFields) EXPECT_EQ(back.steps.*f.seconds, s.steps.*f.seconds) << f.name;
  ASSERT_EQ(back.parts.size(), 2u);
  EXPECT_EQ(back.parts[1].partition, 1u);
  EXPECT_EQ(back.parts[1].bytes, 10u);
  EXPECT_EQ(back.parts[1].xxh3, 0x11u);
  ASSERT_EQ(back.state_files.size(), 1u);
  EXPECT_EQ(back.state_files[0].partition, 3u);
  EXPECT_EQ(back.state_files[0].xxh3, 0x33u);
  ASSERT_EQ(back.map_spans.size(), 2u);
  EXPECT_EQ(back.map_spans[1].start, 0.5);
  EXPECT_EQ(back.map_spans[1].end, 1.25);
  EXPECT_EQ(back.map_spans[1].bytes, 200u);
  ASSERT_EQ(back.reduce_spans.size(), 1u);
  EXPECT_EQ(back.reduce_spans[0].bytes, 77u);
  RankStats ignored;
  EXPECT_FALSE(RankStats::Decode(bytes.substr(0, bytes.size() - 1), &ignored));
  EXPECT_FALSE(RankStats::Decode(bytes + "x", &ignored));
}

// Each task's bytes spread evenly over its span, summed over ranks; reduce
// spans start after their own rank's map phase.
TEST(JobReportTest, ThroughputOverTimeSumsTaskSpans) {
  JobReport r;
  r.total_seconds = 4;
  r.plan_seconds = 1;
  r.per_rank.resize(2);
  r.per_rank[0].map_seconds = 2;
  r.per_rank[0].map_spans = {{0, 1, 2'000'000}};      // job time 1-2: 2 MB/s
  r.per_rank[1].map_seconds = 1;
  r.per_rank[1].map_spans = {{0.5, 1, 1'000'000}};    // job time 1.5-2: 2 MB/s
  r.per_rank[1].reduce_spans = {{0, 2, 4'000'000}};   // job time 2-4: 2 MB/s
  r.per_rank[0].reduce_spans = {{0.5, 0.5, 500'000}};  // an instant, at 3.5
  const Throughput t = ThroughputOverTime(r, 8);
  EXPECT_DOUBLE_EQ(t.slice_seconds, 0.5);
  const std::vector<double> map = {0, 0, 2, 4, 0, 0, 0, 0};
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(t.map_mb_per_s[i], map[i], 1e-9) << i;
  const std::vector<double> reduce = {0, 0, 0, 0, 2, 2, 2, 3};
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(t.reduce_mb_per_s[i], reduce[i], 1e-9) << i;
  double mb = 0;
  for (size_t i = 0; i < 8; ++i) mb += (t.map_mb_per_s[i] + t.reduce_mb_per_s[i]) * t.slice_seconds;
  EXPECT_NEAR(mb, 7.5, 1e-9) << "every byte counted once";
}

}  // namespace
}  // namespace sluice
