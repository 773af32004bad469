// TeraSort and spilling end to end: a sort whose data is several times the
// --memory budget gives the same bytes as one that fits, at 1, 2 and 4 ranks,
// equal to a reference sorted here; teravalidate tells sorted from unsorted;
// spilling never changes wordcount's answer; and the scratch directory is
// left empty whether the job succeeds or fails.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kUsage = 2;
constexpr int kBadInput = 3;
constexpr int kUserCode = 6;

constexpr size_t kRecordBytes = 100;
constexpr size_t kKeyBytes = 10;
constexpr int kRows = 300000;    // 30 MB: several times an 8M budget per rank
constexpr int kPartitions = 16;  // terasort's default
// Small splits: many map tasks, so every rank has work at 4 ranks.
const std::string kSplits = " --split-size 2M";
// Far below the data per rank: the shuffle must spill (and, with
// --merge-factor 2, merge runs in more than one pass).
const std::string kSmallMemory = " --memory 8M";

std::string Quoted(const std::string& path) { return "'" + path + "'"; }

std::vector<std::string> PartNames(const std::string& dir) {
  std::vector<std::string> parts;
  for (const std::string& name : ListDir(dir)) {
    if (name.rfind("part-", 0) == 0) parts.push_back(name);
  }
  return parts;
}

// A job's output as one file: its parts concatenated in name order.
std::string ConcatParts(const std::string& dir) {
  std::string all;
  for (const std::string& name : PartNames(dir)) all += ReadFile(dir + "/" + name);
  return all;
}

// The independent answer: 100-byte records stably sorted by their first 10
// bytes, compared unsigned (memcmp), as TeraSort promises.
std::string ReferenceSort(const std::string& records) {
  std::vector<size_t> order(records.size() / kRecordBytes);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::memcmp(records.data() + a * kRecordBytes, records.data() + b * kRecordBytes, kKeyBytes) < 0;
  });
  std::string sorted;
  sorted.reserve(records.size());
  for (size_t i : order) sorted.append(records, i * kRecordBytes, kRecordBytes);
  return sorted;
}

// Runs teravalidate on IN and returns its summary lines as field -> value.
std::map<std::string, std::string> TeraValidate(int ranks, const std::string& in, const std::string& out) {
  std::map<std::string, std::string> fields;
  CommandResult r = RunSluice(ranks, "run teravalidate " + Quoted(in) + " " + Quoted(out));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string text = ConcatParts(out);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    const size_t tab = line.find('\t');
    EXPECT_NE(tab, std::string::npos) << "bad line '" << line << "' in " << out;
    if (tab != std::string::npos) fields[line.substr(0, tab)] = line.substr(tab + 1);
  }
  for (const char* f : {"records", "checksum", "misordered", "first_key", "last_key"}) {
    EXPECT_EQ(fields.count(f), 1u) << f << " missing from " << out << ":\n" << text;
  }
  return fields;
}

// Runs a job with stderr kept apart from stdout; returns stderr as output.
CommandResult RunSluiceStderr(int ranks, const std::string& args, const std::string& err_file) {
  CommandResult r = RunCommand("{ " + MpiLauncher(ranks) + BinPath("sluice") + " " + args + " 2>" +
                               Quoted(err_file) + " >/dev/null; }");
  r.output = ReadFile(err_file);
  return r;
}

// One teragen input for the suite (records are a pure function of the row
// number, so generating it once loses nothing), and one spilled 2-rank sort
// of it, made on first use.
class SortE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    generated_ = RunSluice(1, "run teragen " + std::to_string(kRows) + " " + Quoted(Input()) + kSplits);
  }
  static void TearDownTestSuite() {
    sorted_.reset();
    records_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_EQ(generated_.exit_code, 0) << "teragen failed:\n" << generated_.output; }

  static std::string Input() { return *dir_ / "in"; }

  // The input's records, concatenated in part order.
  static const std::string& InputRecords() {
    if (!records_) records_ = ConcatParts(Input());
    return *records_;
  }

  // terasort of the input at 2 ranks with a spilling budget.
  static std::string Sorted() {
    const std::string out = *dir_ / "sorted";
    if (!sorted_) {
      sorted_ = RunSluice(2, "run terasort " + Quoted(Input()) + " " + Quoted(out) + kSplits + kSmallMemory);
    }
    EXPECT_EQ(sorted_->exit_code, 0) << sorted_->output;
    return out;
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline CommandResult generated_;
  static inline std::optional<std::string> records_;
  static inline std::optional<CommandResult> sorted_;
};

TEST_F(SortE2E, SpilledSortsAtOneTwoFourRanksMatchInMemoryAndReference) {
  const std::string& records = InputRecords();
  ASSERT_EQ(records.size(), static_cast<size_t>(kRows) * kRecordBytes);
  ASSERT_GT(PartNames(Input()).size(), 8u) << "teragen should write one part per split";
  const std::string reference = ReferenceSort(records);
  ASSERT_NE(reference, records) << "teragen's rows must not come sorted";

  struct Run {
    int ranks;
    std::string flags;
    bool spills;
  } runs[] = {
      {1, kSmallMemory + " --merge-factor 2", true},
      {2, kSmallMemory, true},
      {4, kSmallMemory + " --merge-factor 2", true},
      {2, " --memory 512M", false},
      // Blocks kept on the node uncompressed: the store compresses them
      // before it spills, then spills; the bytes are the same.
      {2, kSmallMemory + " --compress-node-local no", true},
      {1, " --memory 512M --compress-node-local no", false},
  };
  uint64_t merge_passes = 0;
  for (const Run& run : runs) {
    const std::string out = *dir_ / ("out" + std::to_string(&run - runs));
    const std::string args = "run terasort " + Quoted(Input()) + " " + Quoted(out) + kSplits + run.flags;
    CommandResult r = RunSluice(run.ranks, args);
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.output;
    EXPECT_TRUE(Exists(out + "/_SUCCESS"));
    EXPECT_EQ(PartNames(out).size(), static_cast<size_t>(kPartitions));
    const std::string sorted = ConcatParts(out);
    // Compared as a flag, not with EXPECT_EQ: a diff of 30 MB helps no one.
    EXPECT_TRUE(sorted == reference) << args << ": output differs from the reference (" << sorted.size()
                                     << " vs " << reference.size() << " bytes)";
    EXPECT_EQ(ReportCounter(out, "output_bytes"), records.size()) << args;
    const uint64_t spill_runs = ReportCounter(out, "spill_runs");
    if (run.spills) {
      EXPECT_GT(spill_runs, 0u) << args;
      EXPECT_GT(ReportCounter(out, "spill_records"), 0u) << args;
    } else {
      EXPECT_EQ(spill_runs, 0u) << args;
    }
    merge_passes += ReportCounter(out, "merge_passes");
    RunCommand("rm -rf " + Quoted(out));
  }
  EXPECT_GT(merge_passes, 0u) << "--merge-factor 2 should force intermediate merges";
}

// Without single-copy shared memory (a VM, a container without CMA) and
// over TCP (every multi-host run), a large block arrives in fragments that
// both ranks must keep pushing: blocks are received without blocking
// (mpi_communicator.cpp). 256 KiB blocks are past both transports' eager
// limits, and a 64 KiB in-flight budget lets each rank hold one block being
// received at a time, the control messages (split requests, the end of the
// shuffle) passing it. The bytes must not change.
TEST_F(SortE2E, TransportsWithoutSingleCopyGiveTheSameBytes) {
  const std::string reference = ReferenceSort(InputRecords());
  for (const std::string transport : {"OMPI_MCA_btl_vader_single_copy_mechanism=none", "OMPI_MCA_btl=self,tcp"}) {
    const std::string out = *dir_ / "transport";
    const std::string args = "run terasort " + Quoted(Input()) + " " + Quoted(out) + kSplits +
                             " --memory 512M --block-size 256K --max-inflight 64K";
    CommandResult r = RunCommand(transport + " " + MpiLauncher(4) + BinPath("sluice") + " " + args);
    ASSERT_EQ(r.exit_code, 0) << transport << "\n" << r.output;
    EXPECT_TRUE(ConcatParts(out) == reference) << transport << ": output differs from the reference";
    RunCommand("rm -rf " + Quoted(out));
  }
}

TEST_F(SortE2E, PartsAreInGlobalKeyOrder) {
  const std::string out = Sorted();
  const std::vector<std::string> names = PartNames(out);
  ASSERT_EQ(names.size(), static_cast<size_t>(kPartitions));
  std::string prev_last;
  int non_empty = 0;
  for (const std::string& name : names) {
    const std::string part = ReadFile(out + "/" + name);
    ASSERT_EQ(part.size() % kRecordBytes, 0u) << name;
    if (part.empty()) continue;
    ++non_empty;
    for (size_t i = kRecordBytes; i < part.size(); i += kRecordBytes) {
      ASSERT_LE(std::memcmp(part.data() + i - kRecordBytes, part.data() + i, kKeyBytes), 0)
          << name << " is not sorted at record " << i / kRecordBytes;
    }
    const std::string first = part.substr(0, kKeyBytes);
    if (!prev_last.empty()) {
      EXPECT_GE(std::memcmp(first.data(), prev_last.data(), kKeyBytes), 0)
          << name << " starts with '" << first << "', before the last key of the part before it, '"
          << prev_last << "'";
    }
    prev_last = part.substr(part.size() - kRecordBytes, kKeyBytes);
  }
  EXPECT_GE(non_empty, kPartitions / 2) << "sampled split points should spread keys over the parts";
}

TEST_F(SortE2E, TeraValidateAgreesAndCatchesDisorder) {
  const std::string sorted = Sorted();
  auto in = TeraValidate(1, Input(), *dir_ / "check-in");
  auto out = TeraValidate(2, sorted, *dir_ / "check-out");
  EXPECT_EQ(in["records"], std::to_string(kRows));
  EXPECT_EQ(out["records"], in["records"]);
  EXPECT_EQ(out["checksum"], in["checksum"]) << "sorting must neither lose nor change records";
  EXPECT_EQ(out["misordered"], "0");
  EXPECT_NE(in["misordered"], "0") << "teragen's rows are in random key order";
  const std::string reference = ReferenceSort(InputRecords());
  EXPECT_EQ(out["first_key"], reference.substr(0, kKeyBytes));
  EXPECT_EQ(out["last_key"], reference.substr(reference.size() - kRecordBytes, kKeyBytes));

  // Two records swapped: the same records and checksum, but out of order.
  std::string swapped = ConcatParts(sorted);
  ASSERT_EQ(swapped.size(), reference.size());
  const size_t a = 10 * kRecordBytes, b = swapped.size() - 10 * kRecordBytes;
  ASSERT_NE(swapped.compare(a, kKeyBytes, swapped, b, kKeyBytes), 0);
  std::swap_ranges(swapped.begin() + static_cast<ptrdiff_t>(a),
                   swapped.begin() + static_cast<ptrdiff_t>(a + kRecordBytes),
                   swapped.begin() + static_cast<ptrdiff_t>(b));
  ASSERT_EQ(RunCommand("mkdir -p " + Quoted(*dir_ / "swapped")).exit_code, 0);
  WriteFile(*dir_ / "swapped/part-00000", swapped);
  auto bad = TeraValidate(2, *dir_ / "swapped", *dir_ / "check-swapped");
  EXPECT_NE(bad["misordered"], "0");
  EXPECT_EQ(bad["records"], in["records"]);
  EXPECT_EQ(bad["checksum"], in["checksum"]);
}

TEST_F(SortE2E, TornRecordsAndBadRowCountsAreRefused) {
  TempDir dir;
  const std::string torn = dir / "torn.dat";
  WriteFile(torn, std::string(250, 'x'));  // two and a half records
  for (int ranks : {1, 2}) {
    const std::string out = dir / ("out" + std::to_string(ranks));
    CommandResult r = RunSluiceStderr(ranks, "run terasort " + Quoted(torn) + " " + Quoted(out), dir / "err");
    EXPECT_EQ(r.exit_code, kBadInput) << r.output;
    EXPECT_NE(r.output.find(torn), std::string::npos) << "stderr must name the file:\n" << r.output;
    EXPECT_FALSE(Exists(out + "/_SUCCESS"));

    r = RunSluiceStderr(ranks, "run teragen abc " + Quoted(out), dir / "err");
    EXPECT_EQ(r.exit_code, kUsage) << r.output;
    EXPECT_FALSE(Exists(out + "/_SUCCESS"));
  }
}

// Spill runs live in SCRATCH/sluice-<job>-r<rank>; no entry may outlive the job.
std::vector<std::string> SluiceEntries(const std::string& scratch) {
  std::vector<std::string> left;
  for (const std::string& name : ListDir(scratch)) {
    if (name.rfind("sluice-", 0) == 0) left.push_back(name);
  }
  return left;
}

TEST(SpillE2E, SpilledWordCountEqualsInMemory) {
  TempDir dir;
  ASSERT_EQ(RunCommand("mkdir " + Quoted(dir / "scratch")).exit_code, 0);
  CommandResult r = RunCommand(BinPath("sluice-textgen") + " --output " + Quoted(dir / "in") +
                               " --bytes 16M --files 4 --vocab 200000");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string io = " --input " + Quoted(dir / "in") + " --split-size 2M --partitions 5 --output ";
  const std::string mem = dir / "mem";
  const std::string spilled = dir / "spilled";
  r = RunSluice(2, "run wordcount" + io + Quoted(mem) + " --memory 512M");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReportCounter(mem, "spill_runs"), 0u);
  r = RunSluice(2, "run wordcount" + io + Quoted(spilled) + " --memory 4M --merge-factor 3 --scratch " +
                       Quoted(dir / "scratch"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(ReportCounter(spilled, "spill_runs"), 0u);
  EXPECT_GT(ReportCounter(spilled, "spill_records"), 0u);
  EXPECT_GT(ReportCounter(spilled, "spill_bytes"), 0u);
  EXPECT_GT(ReportCounter(spilled, "merge_passes"), 0u) << "--merge-factor 3 should merge in passes";
  EXPECT_EQ(ReadParts(spilled, 5), ReadParts(mem, 5));
  EXPECT_EQ(ListDir(dir / "scratch"), std::vector<std::string>{});
}

// Input for the failing plugin (which emits each line as a key): random hex
// lines, which compress poorly, so the shuffle store outgrows a 4M budget and
// spills while the map phase still runs. `marker` ("BOOM" or "SLEEP"), if
// given, goes 100K before the end of the last file.
void WriteSpillingInput(const std::string& in_dir, const std::string& marker) {
  ASSERT_EQ(RunCommand("mkdir -p " + Quoted(in_dir)).exit_code, 0);
  std::mt19937_64 rng(20261122);
  constexpr int kFiles = 4;
  for (int f = 0; f < kFiles; ++f) {
    std::string text;
    char line[48];
    while (text.size() < (4 << 20)) {
      const auto a = static_cast<unsigned long long>(rng());
      const auto b = static_cast<unsigned long long>(rng());
      text.append(line, static_cast<size_t>(std::snprintf(line, sizeof line, "%016llx%016llx\n", a, b)));
    }
    if (f == kFiles - 1 && !marker.empty()) {
      text.insert(text.rfind('\n', text.size() - (100 << 10)) + 1, marker + "\n");
    }
    WriteFile(in_dir + "/f" + std::to_string(f) + ".txt", text);
  }
}

std::string FailingJobArgs(const std::string& in, const std::string& out, const std::string& scratch) {
  return "run --plugin " + PluginPath("test/libfailing.so") + " --memory 4M --split-size 1M --scratch " +
         Quoted(scratch) + " --input " + Quoted(in) + " --output " + Quoted(out);
}

TEST(SpillE2E, ScratchIsEmptyAfterSuccessAndAfterFailure) {
  TempDir dir;
  const std::string scratch = dir / "scratch";
  ASSERT_EQ(RunCommand("mkdir " + Quoted(scratch)).exit_code, 0);

  ASSERT_NO_FATAL_FAILURE(WriteSpillingInput(dir / "good", ""));
  const std::string ok = dir / "ok";
  CommandResult r = RunSluice(2, FailingJobArgs(dir / "good", ok, scratch));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(ReportCounter(ok, "spill_runs"), 0u) << "the input must be large enough to spill";
  EXPECT_EQ(ListDir(scratch), std::vector<std::string>{});

  // BOOM sits late in the last file: by then runs have spilled (the SIGTERM
  // test below sees them), and they must still be removed.
  ASSERT_NO_FATAL_FAILURE(WriteSpillingInput(dir / "boom", "BOOM"));
  for (int ranks : {1, 2}) {
    const std::string out = dir / ("out" + std::to_string(ranks));
    r = RunSluice(ranks, FailingJobArgs(dir / "boom", out, scratch));
    EXPECT_EQ(r.exit_code, kUserCode) << "ranks=" << ranks << "\n" << r.output;
    EXPECT_NE(r.output.find("found the BOOM line"), std::string::npos) << r.output;
    EXPECT_FALSE(Exists(out + "/_SUCCESS"));
    EXPECT_EQ(SluiceEntries(scratch), std::vector<std::string>{}) << "ranks=" << ranks;
  }
}

// The job stalls on SLEEP after spilling; a SIGTERM then must remove the runs
// that are, at that moment, provably on disk. mpirun SIGKILLs its ranks one
// second after forwarding the SIGTERM (odls_base_sigkill_timeout); on a
// loaded 2-core CI machine a rank was once not scheduled (or sat in a write
// throttled by another test's I/O) for that long, and died before its handler
// ran. That race is mpirun's, not the handler's, and the next run removes
// what it leaves (FaultE2E/SpillFault.FailsCleanlyAndLeavesNoScratch), so this
// test gives the handler a grace period no load can miss.
TEST(SpillE2E, ScratchIsEmptyAfterSigtermMidSpill) {
  TempDir dir;
  const std::string scratch = dir / "scratch";
  ASSERT_EQ(RunCommand("mkdir " + Quoted(scratch)).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(WriteSpillingInput(dir / "in", "SLEEP"));
  for (int ranks : {1, 2}) {
    const std::string out = dir / ("out" + std::to_string(ranks));
    const std::string log = dir / ("log" + std::to_string(ranks));
    const std::string job =
        "OMPI_MCA_odls_base_sigkill_timeout=4 " + MpiLauncher(ranks) + BinPath("sluice") + " " +
        FailingJobArgs(dir / "in", out, scratch);
    // Signal once both hold: map() has stalled on SLEEP (the plugin says so
    // on stderr just before it sleeps, so the job cannot finish first) and a
    // spill run is on disk. No fixed delay after that.
    CommandResult r = RunCommand(
        "{ " + job + " > " + Quoted(log) + " 2>&1 & pid=$!; seen=0; "
        "for i in $(seq 600); do "
        "  if grep -q 'failing_job: sleeping on SLEEP' " + Quoted(log) + " && "
        "     [ -n \"$(find " + Quoted(scratch) + " -mindepth 2 -type f)\" ]; then seen=1; break; fi; "
        "  sleep 0.1; done; "
        "kill -TERM $pid; wait $pid; rc=$?; cat " + Quoted(log) + "; "
        "[ $seen = 1 ] || { echo 'never stalled on SLEEP with a spill run on disk'; exit 99; }; exit $rc; }");
    EXPECT_NE(r.exit_code, 99) << r.output;
    // 1 rank: the handler cleans up, then re-raises SIGTERM with the default
    // action, so the process dies of it and the shell reports 128 + 15.
    // 2 ranks: the status is mpirun's own: Open MPI (4.1) forwards the
    // SIGTERM to the ranks and exits 1, whatever the ranks die of.
    EXPECT_EQ(r.exit_code, ranks == 1 ? 128 + 15 : 1) << r.output;
    EXPECT_FALSE(Exists(out + "/_SUCCESS"));
    EXPECT_EQ(SluiceEntries(scratch), std::vector<std::string>{}) << "ranks=" << ranks << "\n" << r.output;
  }
}

}  // namespace
}  // namespace sluice::e2e
