// Two jobs on one output (issue 10): 50 pairs of the same WordCount on the
// same --output, the second started at a random offset after the first, so
// that it lands in each phase of the first (start and plan, map, reduce,
// commit, exit) and after it; some pairs with --force, so that the second
// really replaces the first's output. Whatever the timing: each job exits 0
// or 2, and a 2 names the output lock; one job at least succeeds; the output
// is complete and byte-identical to an undisturbed run; nothing is left
// beside it. A reader polls the output all along and must never see it torn.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/output_look.h"

namespace sluice::e2e {
namespace {

constexpr int kPartitions = 16;
// 50 pairs as the issue asks; a sanitizer build runs ~3x slower, so it runs
// fewer (the Release pass of the suite runs all 50).
#if defined(__SANITIZE_ADDRESS__)
constexpr int kPairs = 16;
#else
constexpr int kPairs = 50;
#endif
constexpr size_t npos = std::string::npos;

std::string Quoted(const std::string& path) { return "'" + path + "'"; }

std::string HostName() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

std::string FingerprintLine(const std::string& success) {
  const size_t at = success.find("fingerprint\t");
  return at == npos ? "" : success.substr(at, success.find('\n', at) - at);
}

// Seconds since local midnight, as the log's "[HH:MM:SS.mmm]" stamps count.
double SecondsOfDay(std::chrono::system_clock::time_point t) {
  const std::time_t whole = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&whole, &tm);
  const double frac =
      std::chrono::duration<double>(t - std::chrono::system_clock::from_time_t(whole)).count();
  return tm.tm_hour * 3600.0 + tm.tm_min * 60.0 + tm.tm_sec + frac;
}

// Stamp of rank 0's first log line holding `marker`, in seconds after
// `launch` (seconds of day); -1 if there is none.
double LoggedAt(const std::string& output, const std::string& marker, double launch) {
  const size_t at = output.find(marker);
  if (at == npos) return -1;
  const size_t line = output.rfind('\n', at) == npos ? 0 : output.rfind('\n', at) + 1;
  int h, m, s, ms;
  if (std::sscanf(output.c_str() + line, "[%d:%d:%d.%d]", &h, &m, &s, &ms) != 4) return -1;
  double d = h * 3600.0 + m * 60.0 + s + ms / 1000.0 - launch;
  if (d < -43200) d += 86400;  // across midnight
  return d;
}

// Stamp of the first log line of `output` (rank 0 of a job logs first when
// it has taken the output lock, or been refused it), in seconds after
// `launch`; -1 if there is none.
double FirstLogLineAt(const std::string& output, double launch) {
  for (size_t line = 0; line < output.size();) {
    int h, m, s, ms;
    if (std::sscanf(output.c_str() + line, "[%d:%d:%d.%d]", &h, &m, &s, &ms) == 4) {
      double d = h * 3600.0 + m * 60.0 + s + ms / 1000.0 - launch;
      if (d < -43200) d += 86400;
      return d;
    }
    const size_t nl = output.find('\n', line);
    if (nl == npos) break;
    line = nl + 1;
  }
  return -1;
}

// The phases of a run, as seconds after its launch, from its log: the plan
// is logged ("job wordcount: ...") when map begins, then "map+shuffle: ",
// "reduce: ", "done in " after the commit; then the process exits.
enum Phase { kStart, kMap, kReduce, kCommit, kExit, kAfter, kPhaseCount };
const char* const kPhaseNames[kPhaseCount] = {"start+plan", "map", "reduce", "commit", "exit", "after"};

struct Timeline {
  bool ok = false;
  std::array<double, kPhaseCount> begin{};  // begin[kAfter] = when it exited
};

Timeline TimelineOf(const CommandResult& r, double launch) {
  Timeline t;
  t.begin[kStart] = 0;
  t.begin[kMap] = LoggedAt(r.output, "] job wordcount: ", launch);
  t.begin[kReduce] = LoggedAt(r.output, "] map+shuffle: ", launch);
  t.begin[kCommit] = LoggedAt(r.output, "] reduce: ", launch);
  t.begin[kExit] = LoggedAt(r.output, "] done in ", launch);
  t.begin[kAfter] = r.seconds;
  t.ok = r.exit_code == 0;
  for (int p = kMap; p <= kExit; ++p) t.ok = t.ok && t.begin[p] >= t.begin[p - 1];
  return t;
}

Phase PhaseAt(const Timeline& t, double offset) {
  for (int p = kAfter; p > kStart; --p) {
    if (offset >= t.begin[p]) return static_cast<Phase>(p);
  }
  return kStart;
}

TEST(ConcurrentOutputE2E, FiftyPairsOnOneOutput) {
  TempDir dir;
  const std::string in = dir / "in", parent = dir / "p", out = dir / "p/out", scratch = dir / "scratch";
  CommandResult gen = RunCommand(BinPath("sluice-textgen") + " --output " + Quoted(in) +
                                 " --bytes 24M --files 12 --vocab 300000 --seed 3");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  ASSERT_EQ(RunCommand("mkdir -p " + Quoted(parent) + " " + Quoted(scratch)).exit_code, 0);
  auto command = [&](int ranks, const std::string& output, bool force) {
    return MpiLauncher(ranks) + BinPath("sluice") + " run wordcount --split-size 256K --partitions " +
           std::to_string(kPartitions) + " --scratch " + Quoted(scratch) + (force ? " --force" : "") +
           " --input " + Quoted(in) + " --output " + Quoted(output);
  };

  // Undisturbed runs at 1 and 2 ranks: the reference, and each one's timeline.
  std::array<Timeline, 3> clean;
  std::vector<std::string> reference;
  std::string reference_fingerprint, reference_manifest;
  for (int ranks : {1, 2}) {
    const std::string ref = dir / ("ref" + std::to_string(ranks));
    const double launch = SecondsOfDay(std::chrono::system_clock::now());
    CommandResult r = RunCommand(command(ranks, ref, false));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    clean[ranks] = TimelineOf(r, launch);
    ASSERT_TRUE(clean[ranks].ok) << "cannot read the phases from the log:\n" << r.output;
    if (reference.empty()) {
      reference = ReadParts(ref, kPartitions);
      reference_fingerprint = FingerprintLine(ReadFile(ref + "/_SUCCESS"));
      reference_manifest = ReadFile(ref + "/_manifest.json");
      ASSERT_FALSE(reference_fingerprint.empty());
    } else {
      ASSERT_EQ(ReadParts(ref, kPartitions), reference);
      ASSERT_EQ(ReadFile(ref + "/_manifest.json"), reference_manifest);
    }
    std::printf("clean run, %d rank(s): %.2fs; map from %.2fs, reduce from %.2fs, commit from %.2fs, exit from %.2fs\n",
                ranks, r.seconds, clean[ranks].begin[kMap], clean[ranks].begin[kReduce], clean[ranks].begin[kCommit],
                clean[ranks].begin[kExit]);
  }
  ASSERT_EQ(ListDir(scratch), std::vector<std::string>{});

  const char* env_seed = std::getenv("SLUICE_E2E_SEED");
  const uint64_t seed = env_seed ? std::strtoull(env_seed, nullptr, 10) : 20261201;
  std::printf("seed %llu (SLUICE_E2E_SEED=N to change)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  auto uniform = [&](double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(rng() % 1000000) / 1000000.0;
  };

  // The reader: whenever it looks during a pair, the output is absent (only
  // in a pair that began without one) or complete.
  std::mutex reader_mu;
  bool active = false, expect_present = false;
  std::atomic<bool> stop{false};
  long looks = 0, looked_complete = 0, replaced_while_looking = 0;
  std::vector<std::string> torn;
  int pair_now = -1;
  std::thread reader([&] {
    while (!stop) {
      {
        std::lock_guard<std::mutex> hold(reader_mu);
        if (active) {
          std::string why, ignored_fingerprint;
          const Seen seen = LookAtOutput(out, kPartitions, &ignored_fingerprint, &why);
          ++looks;
          if (seen == Seen::kComplete) ++looked_complete;
          if (seen == Seen::kReplacedWhileLooking) ++replaced_while_looking;
          const bool bad = seen == Seen::kIncomplete || (seen == Seen::kAbsent && expect_present);
          if (bad && torn.size() < 20) {
            torn.push_back("pair " + std::to_string(pair_now) + ": " +
                           (seen == Seen::kAbsent ? "no output while it was being replaced: " : "torn output: ") +
                           why);
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });

  const std::string host = HostName();
  int winners = 0, losers = 0, both_won = 0, losers_named_lock = 0, no_ops = 0, replacements = 0, bad_pairs = 0;
  std::array<int, kPhaseCount> hit{};
  std::array<int, kPhaseCount> targeted{};
  std::array<int, kPhaseCount> launched_in{};
  int unclassified = 0;
  for (int i = 0; i < kPairs; ++i) {
    const bool force = i % 3 == 2;  // the output exists (from the pair before): both replace it
    const int ranks_a = 1 + static_cast<int>(rng() % 2), ranks_b = 1 + static_cast<int>(rng() % 2);
    // Even pairs: B launched uniformly within 1.2x the clean run. Odd
    // pairs: B's lock attempt aimed at one phase of the clean run in turn
    // (commit, a few ms, thrice as often), launching B that much earlier than the
    // phase as B takes to reach the lock (its own clean run's first line).
    const Timeline& c = clean[ranks_a];
    double offset;
    if (i % 2 == 0) {
      offset = uniform(0, 1.2 * c.begin[kAfter]);
    } else {
      static constexpr Phase kAims[] = {kStart, kMap, kReduce, kCommit, kExit, kCommit, kAfter, kCommit};
      const Phase aim = kAims[(i / 2) % 8];
      ++targeted[aim];
      const double lo = c.begin[aim];
      const double hi = aim == kAfter ? 1.2 * c.begin[kAfter] : c.begin[aim + 1];
      offset = std::max(0.0, uniform(lo, std::max(hi, lo + 0.002)) - clean[ranks_b].begin[kMap]);
    }
    {
      std::lock_guard<std::mutex> hold(reader_mu);
      if (!force) {
        EXPECT_EQ(RunCommand("rm -rf " + Quoted(out)).exit_code, 0);
      }
      expect_present = force;
      active = true;
      pair_now = i;
    }
    CommandResult a, b;
    double launch_a = 0, launch_b = 0;
    const auto t0 = std::chrono::steady_clock::now();
    std::thread job_a([&] {
      launch_a = SecondsOfDay(std::chrono::system_clock::now());
      a = RunCommand(command(ranks_a, out, force));
    });
    std::thread job_b([&] {
      std::this_thread::sleep_until(t0 + std::chrono::microseconds(static_cast<long>(offset * 1e6)));
      launch_b = SecondsOfDay(std::chrono::system_clock::now());
      b = RunCommand(command(ranks_b, out, force));
    });
    job_a.join();
    job_b.join();
    {
      std::lock_guard<std::mutex> hold(reader_mu);
      active = false;
    }
    const double actual_offset = launch_b - launch_a;
    // Where B landed in A's run, from A's own log: when B was launched, and
    // when B's rank 0 went for the lock (its first log line: refused, or
    // "nothing to do", or the plan a little after the lock). If A lost or
    // did nothing, B had the lock first, while A was starting.
    const Timeline ta = TimelineOf(a, launch_a);
    const double b_attempt = FirstLogLineAt(b.output, launch_a);
    Phase phase = kStart;
    if (ta.ok) {
      phase = PhaseAt(ta, actual_offset);
      ++launched_in[phase];
      ++hit[PhaseAt(ta, b_attempt >= 0 ? b_attempt : actual_offset)];
    } else if (a.exit_code == 2) {
      ++launched_in[kStart];
      ++hit[kStart];
    } else {
      ++unclassified;  // A did nothing (B had committed already) or failed
    }

    char label[240];
    std::snprintf(label, sizeof label,
                  "pair %d (seed %llu): A %d rank(s), B %d rank(s) launched %.3fs after A (in A's %s), at the lock %.3fs "
                  "(in A's %s)%s",
                  i, static_cast<unsigned long long>(seed), ranks_a, ranks_b, actual_offset, kPhaseNames[phase],
                  b_attempt, ta.ok && b_attempt >= 0 ? kPhaseNames[PhaseAt(ta, b_attempt)] : "-",
                  force ? ", --force" : "");
    bool pair_ok = true;
    auto check = [&pair_ok](bool ok) {
      pair_ok = pair_ok && ok;
      return ok;
    };
    for (const CommandResult* r : {&a, &b}) {
      const char* who = r == &a ? "A" : "B";
      EXPECT_TRUE(check(r->exit_code == 0 || r->exit_code == 2))
          << label << ": " << who << " exit " << r->exit_code << "\n" << r->output;
      if (r->exit_code == 0) {
        ++winners;
        if (r->output.find("nothing to do") != npos) ++no_ops;
      }
      if (r->exit_code == 2) {
        ++losers;
        const bool names_lock = r->output.find("in use by another Sluice job") != npos &&
                                r->output.find(".out.sluice-lock") != npos && r->output.find(host) != npos &&
                                std::regex_search(r->output, std::regex("pid\\D{0,3}[0-9]+"));
        EXPECT_TRUE(check(names_lock)) << label << ": " << who
                                       << " exit 2 without naming the lock, its holder's pid and host (" << host
                                       << ")\n" << r->output;
        losers_named_lock += names_lock ? 1 : 0;
      }
    }
    EXPECT_TRUE(check(a.exit_code == 0 || b.exit_code == 0)) << label << ": neither job succeeded\nA:\n"
                                                             << a.output << "\nB:\n" << b.output;
    if (a.exit_code == 0 && b.exit_code == 0) ++both_won;
    if (force && a.exit_code == 0 && b.exit_code == 0) ++replacements;

    std::string why, ignored_fingerprint;
    const Seen seen = LookAtOutput(out, kPartitions, &ignored_fingerprint, &why);
    EXPECT_TRUE(check(seen == Seen::kComplete))
        << label << ": the output is not complete: " << why << "\nA:\n" << a.output << "\nB:\n" << b.output;
    if (seen == Seen::kComplete) {
      EXPECT_TRUE(check(ReadParts(out, kPartitions) == reference)) << label << ": the output differs from the reference";
      const std::string fingerprint = FingerprintLine(ReadFile(out + "/_SUCCESS"));
      EXPECT_TRUE(check(fingerprint == reference_fingerprint)) << label << ": " << fingerprint;
      EXPECT_TRUE(check(ReadFile(out + "/_manifest.json") == reference_manifest)) << label << ": manifest differs";
    }
    const auto beside = ListDir(parent);
    EXPECT_TRUE(check(beside == std::vector<std::string>{"out"}))
        << label << ": left beside the output: " << ::testing::PrintToString(beside);
    const auto scratch_left = ListDir(scratch);
    EXPECT_TRUE(check(scratch_left.empty())) << label << ": scratch left: " << ::testing::PrintToString(scratch_left);
    bad_pairs += pair_ok ? 0 : 1;
    std::printf("%s: A exit %d%s, B exit %d%s\n", label, a.exit_code,
                a.output.find("nothing to do") != npos ? " (no-op)" : "", b.exit_code,
                b.output.find("nothing to do") != npos ? " (no-op)" : "");
    std::fflush(stdout);
    // Past the first few failed pairs the rest only repeat them.
    if (bad_pairs >= 5) {
      ADD_FAILURE() << "stopping after 5 failed pairs";
      break;
    }
  }
  stop = true;
  reader.join();
  EXPECT_EQ(torn, std::vector<std::string>{}) << "what the reader saw";
  EXPECT_GT(looked_complete, 0) << "the reader never saw a complete output";

  std::string phases;
  for (int p = 0; p < kPhaseCount; ++p) {
    phases += std::string(p ? ", " : "") + kPhaseNames[p] + " " + std::to_string(hit[p]) + " (launched " +
              std::to_string(launched_in[p]) + ", aimed " + std::to_string(targeted[p]) + ")";
  }
  std::printf("pairs %d: winners %d (both jobs won: %d, of which --force replacements: %d; no-op runs: %d), "
              "losers naming the lock %d; B went for the lock in A's %s%s; reader: %ld looks, %ld complete, %ld on a directory "
              "replaced while it looked, %zu torn or missing\n",
              kPairs, winners, both_won, replacements, no_ops, losers_named_lock, phases.c_str(),
              unclassified ? (", " + std::to_string(unclassified) + " after A found nothing to do").c_str() : "",
              looks, looked_complete, replaced_while_looking, torn.size());
  std::printf("| FiftyPairsOnOneOutput | `sluice run wordcount --output p/out [--force]` twice, B +0..%.1fs after A, "
              "1 or 2 ranks each, x%d | %d exit 0, %d exit 2 (%d naming the lock) | after every pair: out complete "
              "and identical to the reference, nothing else in p/ or scratch; reader: %zu torn or missing | %s |\n",
              1.2 * std::max(clean[1].begin[kAfter], clean[2].begin[kAfter]), kPairs, winners, losers, losers_named_lock,
              torn.size(), ::testing::Test::HasFailure() ? "FAILED" : "ok");
}

}  // namespace
}  // namespace sluice::e2e
