// Sharing a machine with another user (issue 10): root runs real jobs next
// to an unprivileged attacker (`nobody`, through setpriv) who plants
// directories, files and symlinks under the output's hidden names, in a
// shared 1777 scratch root, or next to a job that is spilling. Also: what
// --overwrite may replace (only a Sluice output, never one that is or holds
// an input, never /, $HOME or the current directory), stale and live output
// locks, leftovers of crashed runs, and what a reader sees while an output is
// replaced. Each case prints one row of the adversarial table:
//   | case | command | exit | what is left on disk | verdict |
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"
#include "tests/e2e/output_look.h"

namespace sluice::e2e {
namespace {

constexpr int kParts = 4;
constexpr size_t npos = std::string::npos;

// Single-quoted for sh, whatever the text holds.
std::string Q(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// `script` run by sh as the unprivileged attacker.
CommandResult AsNobody(const std::string& script) {
  return RunCommand("setpriv --reuid=nobody --regid=nogroup --clear-groups -- sh -c " + Q("cd / && " + script));
}

// All a job must not change in a tree it does not own: names, types, modes,
// owners, link targets, mtimes, and file sizes and contents. `min_depth` 1
// leaves out the directory itself (a root others may add to).
std::string Snapshot(const std::string& path, int min_depth = 0) {
  const std::string find = "find " + Q(path) + " -mindepth " + std::to_string(min_depth);
  return RunCommand(find + " -printf '%p %y %m %U %G [%l] %T@\\n' | sort; " + find +
                    " -type f -printf '%p %s ' -exec md5sum {} \\; | sort")
      .output;
}

std::string Describe(const std::vector<std::string>& names) {
  if (names.empty()) return "nothing";
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::vector<std::string> Without(std::vector<std::string> names, const std::set<std::string>& drop) {
  std::vector<std::string> kept;
  for (std::string& n : names) {
    if (drop.count(n) == 0) kept.push_back(std::move(n));
  }
  return kept;
}

std::vector<std::string> SluiceEntries(const std::string& dir) {
  std::vector<std::string> found;
  for (const std::string& n : ListDir(dir)) {
    if (n.rfind("sluice-", 0) == 0) found.push_back(n);
  }
  return found;
}

uid_t OwnerOf(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 ? st.st_uid : static_cast<uid_t>(-1);
}

std::string HostName() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

// "<name>\t<value>" from _SUCCESS, or -1.
long long SuccessCounter(const std::string& out, const std::string& name) {
  const std::string text = ReadFile(out + "/_SUCCESS");
  const size_t at = text.find("\n" + name + "\t");
  return at == npos ? -1 : std::atoll(text.c_str() + at + name.size() + 2);
}

std::string FingerprintLine(const std::string& out) {
  const std::string text = ReadFile(out + "/_SUCCESS");
  const size_t at = text.find("fingerprint\t");
  if (at == npos) return "";
  return text.substr(at, text.find('\n', at) - at);
}

// One row of the adversarial table.
void Row(const std::string& test_case, const std::string& command, int exit_code, const std::string& left,
         bool ok) {
  std::printf("| %s | `%s` | %d | %s | %s |\n", test_case.c_str(), command.c_str(), exit_code, left.c_str(),
              ok ? "ok" : "FAILED");
  std::fflush(stdout);
}

// Failures recorded so far in the running test: a row's verdict is whether
// its own checks added none.
int Failures() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
}

bool Ok() { return !::testing::Test::HasFailure(); }

class ShareMachineE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    // mkdtemp made the root 0700: let the attacker reach the shared places.
    ASSERT_EQ(chmod(root_.path().c_str(), 0755), 0);
    shared_ = root_ / "shared";
    ASSERT_EQ(mkdir(shared_.c_str(), 0755), 0);
    ASSERT_EQ(chmod(shared_.c_str(), 01777), 0);
    victim_ = root_ / "victim";
    ASSERT_EQ(RunCommand("mkdir -p " + Q(victim_ + "/sub")).exit_code, 0);
    WriteFile(victim_ + "/secret.txt", "precious\n");
    WriteFile(victim_ + "/sub/keep.txt", "keep me\n");
    in_ = root_ / "in";
    ASSERT_NO_FATAL_FAILURE(WriteWords(in_, "w"));
    victim_before_ = Snapshot(victim_);
  }

  static void WriteWords(const std::string& dir, const std::string& prefix) {
    ASSERT_EQ(RunCommand("mkdir -p " + Q(dir)).exit_code, 0);
    for (int f = 0; f < 3; ++f) {
      std::string text;
      for (int i = 0; i < 12000; ++i) text += prefix + std::to_string((i * 7 + f) % 3000) + " common\n";
      WriteFile(dir + "/f" + std::to_string(f) + ".txt", text);
    }
  }

  std::string Out() const { return shared_ + "/out"; }

  // `sluice run wordcount` on `in` into `out`.
  static CommandResult WordCount(int ranks, const std::string& in, const std::string& out,
                                 const std::string& extra = "", const std::string& env = "") {
    return RunCommand(env + (env.empty() ? "" : " ") + MpiLauncher(ranks) + BinPath("sluice") +
                      " run wordcount --split-size 32K --partitions " + std::to_string(kParts) + " " + extra +
                      " --input " + Q(in) + " --output " + Q(out));
  }

  // Parts of an undisturbed run on `in`.
  std::vector<std::string> Reference(const std::string& in) {
    const std::string ref = root_ / ("ref-" + std::to_string(refs_++));
    CommandResult r = WordCount(1, in, ref);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return ReadParts(ref, kParts);
  }

  std::string VictimState() { return Snapshot(victim_) == victim_before_ ? "victim unchanged" : "VICTIM CHANGED"; }

  void ExpectVictimUnchanged() {
    EXPECT_EQ(Snapshot(victim_), victim_before_) << "the attacker's victim was changed";
  }

  // The attacker plants `name` (a directory of its own, or a symlink to the
  // victim directory) beside the output; root's job must refuse, with
  // `want` in the message, and change nothing there or in the victim.
  void RefusesPlanted(const std::string& test_case, const std::string& name, bool symlink,
                      const std::string& want) {
    const std::string planted = shared_ + "/" + name;
    const std::string plant =
        symlink ? "ln -s " + Q(victim_) + " " + Q(planted)
                : "mkdir " + Q(planted) + " && echo mine > " + Q(planted + "/note") + " && ln -s " + Q(victim_) +
                      " " + Q(planted + "/link") + " && ln -s " + Q(victim_ + "/secret.txt") + " " +
                      Q(planted + "/secret");
    CommandResult planted_by_nobody = AsNobody(plant);
    ASSERT_EQ(planted_by_nobody.exit_code, 0) << planted_by_nobody.output;
    ASSERT_EQ(OwnerOf(planted), 65534u);
    const std::string planted_before = Snapshot(planted);

    CommandResult r = WordCount(2, in_, Out());
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(want), npos) << "wanted \"" << want << "\"\n" << r.output;
    ExpectVictimUnchanged();
    // The other user's directory is theirs: refused, so left as it was. (A
    // symlink in the staging's or work directory's place may be removed.)
    if (!symlink) {
      EXPECT_EQ(Snapshot(planted), planted_before) << "root's job changed the other user's " << name;
    }
    EXPECT_FALSE(Exists(Out()));
    const auto left = ListDir(shared_);
    EXPECT_EQ(Without(left, {name}), std::vector<std::string>{}) << "left beside the output";
    Row(test_case, "mpirun -np 2 sluice run wordcount --output shared/out (" + name + " planted by nobody)",
        r.exit_code, Describe(left) + "; " + VictimState(), Ok());
  }

  TempDir root_;
  std::string shared_, victim_, in_, victim_before_;
  int refs_ = 0;
};

// ---------------------------------------------------------------------------
// Hidden directories beside the output, planted by another user.

TEST_F(ShareMachineE2E, WorkDirOwnedByAnotherUser) {
  RefusesPlanted("WorkDirOwnedByAnotherUser", ".out.sluice-work", false, "owned by uid");
}

TEST_F(ShareMachineE2E, WorkDirIsASymlink) {
  RefusesPlanted("WorkDirIsASymlink", ".out.sluice-work", true, "is a symlink");
}

TEST_F(ShareMachineE2E, StagingIsASymlink) {
  RefusesPlanted("StagingIsASymlink", ".out.sluice-staging", true, "is a symlink");
}

TEST_F(ShareMachineE2E, StagingOwnedByAnotherUser) {
  RefusesPlanted("StagingOwnedByAnotherUser", ".out.sluice-staging", false, "owned by uid");
}

// ---------------------------------------------------------------------------
// The output lock.

TEST_F(ShareMachineE2E, LockFileOwnedByAnotherUser) {
  const std::string lock = shared_ + "/.out.sluice-lock";
  CommandResult planted = AsNobody("echo 'elsewhere pid 1 started 2020-01-01 00:00:00' > " + Q(lock) +
                                   " && chmod 644 " + Q(lock));
  ASSERT_EQ(planted.exit_code, 0) << planted.output;
  const std::string lock_before = Snapshot(lock);
  CommandResult r = WordCount(2, in_, Out());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("owned by uid"), npos) << r.output;
  EXPECT_EQ(Snapshot(lock), lock_before) << "root's job changed the other user's lock file";
  EXPECT_FALSE(Exists(Out()));
  const auto left = ListDir(shared_);
  EXPECT_EQ(left, std::vector<std::string>{".out.sluice-lock"});
  Row("LockFileOwnedByAnotherUser", "mpirun -np 2 sluice run wordcount --output shared/out (.out.sluice-lock owned by nobody)",
      r.exit_code, Describe(left) + " (nobody's, unchanged)", Ok());
}

TEST_F(ShareMachineE2E, LockFileIsASymlink) {
  const std::string lock = shared_ + "/.out.sluice-lock";
  // To a file root can write, and dangling into a directory only root can write.
  for (const std::string& target : {victim_ + "/secret.txt", victim_ + "/created-by-sluice"}) {
    const int failures = Failures();
    CommandResult planted = AsNobody("ln -s " + Q(target) + " " + Q(lock));
    ASSERT_EQ(planted.exit_code, 0) << planted.output;
    CommandResult r = WordCount(2, in_, Out());
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("is a symlink"), npos) << r.output;
    ExpectVictimUnchanged();
    EXPECT_FALSE(Exists(Out()));
    const auto left = ListDir(shared_);
    EXPECT_EQ(Without(left, {".out.sluice-lock"}), std::vector<std::string>{});
    Row("LockFileIsASymlink",
        "mpirun -np 2 sluice run wordcount --output shared/out (.out.sluice-lock -> " +
            target.substr(root_.path().size() + 1) + ", by nobody)",
        r.exit_code, Describe(left) + "; " + VictimState(), Failures() == failures);
    ASSERT_EQ(RunCommand("rm -rf " + Q(lock)).exit_code, 0);
  }
}

// A lock file nobody holds is taken over: left by a SIGKILLed job, or a
// plain file (empty, or describing some other process) that holds no lock.
TEST_F(ShareMachineE2E, StaleLockIsTakenOver) {
  const auto reference = Reference(in_);
  const std::string lock = shared_ + "/.out.sluice-lock";
  int failures = Failures();
  CommandResult killed = WordCount(2, in_, Out(), "", "SLUICE_FAULT=after_map_task@0:crash");
  EXPECT_EQ(killed.exit_code, 137) << killed.output;
  EXPECT_TRUE(Exists(lock)) << "a SIGKILLed job leaves its lock file: the case this test is about";
  const std::string after_kill = Describe(ListDir(shared_));
  CommandResult r = WordCount(2, in_, Out());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  if (r.exit_code == 0) {
    EXPECT_EQ(ReadParts(Out(), kParts), reference);
  }
  EXPECT_EQ(ListDir(shared_), std::vector<std::string>{"out"});
  Row("StaleLockIsTakenOver (SIGKILLed holder)",
      "SLUICE_FAULT=after_map_task@0:crash mpirun -np 2 sluice run wordcount, then the same without the fault",
      r.exit_code, "after the kill: " + after_kill + "; after the re-run: " + Describe(ListDir(shared_)),
      Failures() == failures);

  const std::vector<std::pair<std::string, std::string>> plain = {
      {"empty lock file owned by root", ""},
      {"root-owned lock file naming another host's process", "otherhost pid 4242 started 2020-01-01 00:00:00\n"}};
  for (const auto& [what, contents] : plain) {
    failures = Failures();
    ASSERT_EQ(RunCommand("rm -rf " + Q(Out())).exit_code, 0);
    WriteFile(lock, contents);
    ASSERT_EQ(chmod(lock.c_str(), 0644), 0);
    CommandResult again = WordCount(2, in_, Out());
    EXPECT_EQ(again.exit_code, 0) << what << "\n" << again.output;
    if (again.exit_code == 0) {
      EXPECT_EQ(ReadParts(Out(), kParts), reference) << what;
    }
    EXPECT_EQ(ListDir(shared_), std::vector<std::string>{"out"}) << what;
    Row("StaleLockIsTakenOver (" + what + ")", "mpirun -np 2 sluice run wordcount --output shared/out",
        again.exit_code, Describe(ListDir(shared_)), Failures() == failures);
  }
}

// A second job on a held output is refused at once, naming the lock and its
// holder (pid and host); the refused job leaves the holder's lock alone, so
// a third is refused too; the holder finishes normally.
TEST_F(ShareMachineE2E, LiveLockNamesTheHolder) {
  const std::string big = root_ / "big";
  CommandResult gen = RunCommand(BinPath("sluice-textgen") + " --output " + Q(big) +
                                 " --bytes 32M --files 8 --vocab 200000 --seed 5");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const std::string lock = shared_ + "/.out.sluice-lock";
  std::atomic<bool> holder_done{false};
  CommandResult holder;
  std::thread t([&] {
    holder = RunCommand("sh -c " + Q("echo holder-pid $$; exec " + BinPath("sluice") +
                                     " run wordcount --quiet --split-size 64K --compression-level 6 --partitions " +
                                     std::to_string(kParts) + " --input " + Q(big) + " --output " + Q(Out())));
    holder_done = true;
  });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!Exists(lock) && !holder_done && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CommandResult second = WordCount(1, in_, Out());
  const bool held_during_second = !holder_done;
  const bool lock_kept = Exists(lock);
  CommandResult third = WordCount(1, in_, Out());
  const bool held_during_third = !holder_done;
  t.join();
  ASSERT_TRUE(held_during_second && held_during_third)
      << "the holder finished before the other jobs ran: the test needs a longer job\n" << holder.output;
  const std::string pid = holder.output.substr(0, holder.output.find('\n')).substr(std::strlen("holder-pid "));
  for (const CommandResult* r : {&second, &third}) {
    EXPECT_EQ(r->exit_code, 2) << r->output;
    EXPECT_NE(r->output.find("in use by another Sluice job"), npos) << r->output;
    EXPECT_NE(r->output.find(".out.sluice-lock"), npos) << "the message names the lock file\n" << r->output;
    EXPECT_NE(r->output.find(HostName()), npos) << "the message names the holder's host\n" << r->output;
    EXPECT_TRUE(std::regex_search(r->output, std::regex("pid\\D{0,3}" + pid + "\\b")))
        << "the message names the holder's pid " << pid << "\n" << r->output;
    EXPECT_LT(r->seconds, 10.0) << "refused, but not at once";
  }
  EXPECT_TRUE(lock_kept) << "the refused job removed the holder's lock file";
  EXPECT_EQ(holder.exit_code, 0) << holder.output;
  EXPECT_EQ(ListDir(shared_), std::vector<std::string>{"out"});
  Row("LiveLockNamesTheHolder", "sluice run wordcount --output shared/out, twice, while another job holds it",
      second.exit_code, "the holder's lock kept while it ran; after it: " + Describe(ListDir(shared_)), Ok());
}

// ---------------------------------------------------------------------------
// Scratch (spill runs) in a shared 1777 root.

class ShareMachineScratch : public ShareMachineE2E {
 protected:
  void SetUp() override {
    ShareMachineE2E::SetUp();
    if (HasFatalFailure()) return;
    scratch_ = root_ / "scratch";
    ASSERT_EQ(mkdir(scratch_.c_str(), 0755), 0);
    ASSERT_EQ(chmod(scratch_.c_str(), 01777), 0);
  }

  static void Teragen(long rows, const std::string& dir) {
    CommandResult r = RunCommand(BinPath("sluice") + " run teragen " + std::to_string(rows) + " " + Q(dir) +
                                 " --quiet --split-size 1M");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  // TeraSort within 4M per rank: it spills.
  static std::string Terasort(int ranks, const std::string& in, const std::string& out,
                              const std::string& scratch) {
    return MpiLauncher(ranks) + BinPath("sluice") + " run terasort --quiet --memory 4M --split-size 1M --partitions " +
           std::to_string(kParts) + " --scratch " + Q(scratch) + " " + Q(in) + " " + Q(out);
  }

  std::vector<std::string> TerasortReference(const std::string& in) {
    const std::string ref = root_ / ("tref-" + std::to_string(refs_++));
    CommandResult r = RunCommand(BinPath("sluice") + " run terasort --quiet --split-size 1M --partitions " +
                                 std::to_string(kParts) + " " + Q(in) + " " + Q(ref));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(SuccessCounter(ref, "spill_runs"), 0);
    return ReadParts(ref, kParts);
  }

  std::string scratch_;
};

// The attacker fills the shared scratch root with sluice-* names: symlinks
// to the victim (under the names the old scheme derived from the output
// path, and 100 random mkdtemp-like ones) and a directory of its own (as
// another user's running job would have). Root's spilling job must write
// through none of them, remove none of them, and still be right.
TEST_F(ShareMachineScratch, PlantedScratchSymlinksAreNotFollowed) {
  const std::string in = root_ / "tin";
  ASSERT_NO_FATAL_FAILURE(Teragen(100000, in));
  const auto reference = TerasortReference(in);
  std::string plant;
  const std::string out = Out();
  for (int rank = 0; rank < 2; ++rank) {
    char name[64];
    std::snprintf(name, sizeof name, "sluice-%016llx-r%d",
                  static_cast<unsigned long long>(XXH3_64bits(out.data(), out.size())), rank);
    plant += "ln -s " + Q(victim_) + " " + Q(scratch_ + "/" + name) + " && ";
  }
  std::mt19937_64 rng(10);
  const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  for (int i = 0; i < 100; ++i) {
    std::string name = "sluice-";
    for (int c = 0; c < 6; ++c) name += kChars[rng() % 62];
    plant += "ln -sf " + Q(i % 2 ? victim_ : victim_ + "/secret.txt") + " " + Q(scratch_ + "/" + name) + " && ";
  }
  plant += "mkdir " + Q(scratch_ + "/sluice-nobodys") + " && echo run > " + Q(scratch_ + "/sluice-nobodys/p0-run");
  CommandResult planted = AsNobody(plant);
  ASSERT_EQ(planted.exit_code, 0) << planted.output;
  const std::string scratch_before = Snapshot(scratch_, 1);

  CommandResult r = RunCommand(Terasort(2, in, out, scratch_));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  if (r.exit_code == 0) {
    EXPECT_EQ(ReadParts(out, kParts), reference);
    EXPECT_GT(SuccessCounter(out, "spill_runs"), 0) << "the job did not spill: the test tests nothing";
  }
  ExpectVictimUnchanged();
  EXPECT_EQ(Snapshot(scratch_, 1), scratch_before) << "root's job changed or left entries in the shared scratch root";
  Row("PlantedScratchSymlinksAreNotFollowed",
      "mpirun -np 2 sluice run terasort --memory 4M --scratch S (S: 102 sluice-* symlinks and a directory by nobody)",
      r.exit_code,
      "S: the attacker's " + std::to_string(ListDir(scratch_).size()) + " entries" +
          (Snapshot(scratch_, 1) == scratch_before ? " as planted" : " CHANGED") + ", nothing else; " + VictimState(),
      Ok());
}

// While a job spills, its scratch directory in the shared root is a real
// directory named sluice-XXXXXX, owned by root, mode 0700: nobody can list
// it, read a run or add a file. Its staging and work directories are 0700
// too. Everything is gone when the job ends.
TEST_F(ShareMachineScratch, ScratchIsPrivateWhileSpilling) {
  const std::string in = root_ / "tin";
  ASSERT_NO_FATAL_FAILURE(Teragen(300000, in));
  std::atomic<bool> done{false};
  CommandResult r;
  std::thread job([&] {
    r = RunCommand(Terasort(1, in, Out(), scratch_));
    done = true;
  });
  const std::regex random_name("sluice-[0-9a-f]{16}");  // 64 random bits
  std::set<std::string> seen_dirs, tried_dirs;
  std::vector<std::string> bad;
  int nobody_checks = 0, looks = 0, private_hidden_dirs = 0;
  while (!done) {
    ++looks;
    for (const std::string& hidden : {std::string(".out.sluice-staging"), std::string(".out.sluice-work")}) {
      struct stat st;
      if (lstat((shared_ + "/" + hidden).c_str(), &st) != 0) continue;
      if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 07777) != 0700) {
        char b[160];
        std::snprintf(b, sizeof b, "%s: mode %o uid %d", hidden.c_str(), st.st_mode & 07777,
                      static_cast<int>(st.st_uid));
        bad.push_back(b);
      } else {
        ++private_hidden_dirs;
      }
    }
    for (const std::string& name : ListDir(scratch_)) {
      const std::string dir = scratch_ + "/" + name;
      struct stat st;
      if (lstat(dir.c_str(), &st) != 0) continue;
      if (seen_dirs.insert(name).second) {
        if (!std::regex_match(name, random_name)) bad.push_back(name + ": not named sluice-<16 hex digits>");
        if (!S_ISDIR(st.st_mode)) bad.push_back(name + ": not a directory");
        if (st.st_uid != 0) bad.push_back(name + ": not owned by root");
        if ((st.st_mode & 07777) != 0700) {
          char b[64];
          std::snprintf(b, sizeof b, ": mode %o", st.st_mode & 07777);
          bad.push_back(name + b);
        }
      }
      // Once per directory that holds a run (three at most): the attacker tries it.
      const auto runs = ListDir(dir);
      if (runs.empty() || nobody_checks >= 3 || !tried_dirs.insert(name).second) continue;
      CommandResult tried = AsNobody("ls " + Q(dir) + "; cat " + Q(dir + "/" + runs[0]) + " > /dev/null; touch " +
                                     Q(dir + "/planted"));
      struct stat after;
      // Conclusive only if the directory was still there: a vanished one
      // also makes these fail.
      if (lstat(dir.c_str(), &after) == 0 && after.st_ino == st.st_ino) {
        ++nobody_checks;
        size_t denied = 0;
        for (size_t at = tried.output.find("Permission denied"); at != npos;
             at = tried.output.find("Permission denied", at + 1)) {
          ++denied;
        }
        if (denied < 3) bad.push_back(name + ": nobody got in: " + tried.output);
        if (Exists(dir + "/planted")) bad.push_back(name + ": nobody created a file in it");
      } else {
        tried_dirs.erase(name);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  job.join();
  EXPECT_EQ(r.exit_code, 0) << r.output;
  if (r.exit_code == 0) {
    EXPECT_GT(SuccessCounter(Out(), "spill_runs"), 0);
  }
  EXPECT_GT(nobody_checks, 0) << "never saw a scratch directory holding a run (looked " << looks
                              << " times): the test tests nothing";
  EXPECT_GT(private_hidden_dirs, 0) << "never saw the staging or work directory while the job ran";
  EXPECT_EQ(bad, std::vector<std::string>{});
  EXPECT_EQ(ListDir(scratch_), std::vector<std::string>{}) << "scratch left after the job";
  EXPECT_EQ(ListDir(shared_), std::vector<std::string>{"out"});
  Row("ScratchIsPrivateWhileSpilling",
      "sluice run terasort --memory 4M --scratch S (S 1777); meanwhile nobody: ls, cat a run, touch in its scratch dir",
      r.exit_code,
      std::to_string(seen_dirs.size()) + " scratch dir(s) seen, " + std::to_string(nobody_checks) + " tried by nobody, " +
          std::to_string(bad.size()) + " problem(s); after the job: S " + Describe(ListDir(scratch_)),
      Ok());
}

// Two jobs, each `--output out` in its own folder, the same --scratch, at
// once: neither touches the other's spill runs.
TEST_F(ShareMachineScratch, TwoOutputsNamedOutShareNoScratch) {
  const std::string d1 = root_ / "d1", d2 = root_ / "d2";
  ASSERT_EQ(RunCommand("mkdir " + Q(d1) + " " + Q(d2)).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(Teragen(120000, d1 + "/in"));
  ASSERT_NO_FATAL_FAILURE(Teragen(90000, d2 + "/in"));
  const auto ref1 = TerasortReference(d1 + "/in");
  const auto ref2 = TerasortReference(d2 + "/in");
  CommandResult r1, r2;
  std::thread t1([&] { r1 = RunCommand("cd " + Q(d1) + " && " + Terasort(2, "in", "out", scratch_)); });
  std::thread t2([&] { r2 = RunCommand("cd " + Q(d2) + " && " + Terasort(2, "in", "out", scratch_)); });
  t1.join();
  t2.join();
  EXPECT_EQ(r1.exit_code, 0) << r1.output;
  EXPECT_EQ(r2.exit_code, 0) << r2.output;
  if (r1.exit_code == 0) {
    EXPECT_EQ(ReadParts(d1 + "/out", kParts), ref1);
    EXPECT_GT(SuccessCounter(d1 + "/out", "spill_runs"), 0);
  }
  if (r2.exit_code == 0) {
    EXPECT_EQ(ReadParts(d2 + "/out", kParts), ref2);
    EXPECT_GT(SuccessCounter(d2 + "/out", "spill_runs"), 0);
  }
  EXPECT_EQ(ListDir(scratch_), std::vector<std::string>{});
  Row("TwoOutputsNamedOutShareNoScratch",
      "(cd d1; mpirun -np 2 sluice run terasort --memory 4M --scratch S in out) & (cd d2; the same)",
      r1.exit_code == 0 ? r2.exit_code : r1.exit_code,
      "exits " + std::to_string(r1.exit_code) + " and " + std::to_string(r2.exit_code) + "; S: " +
          Describe(ListDir(scratch_)),
      Ok());
}

// Killed mid-spill at 4 ranks (rank 3 SIGKILLed: it cleans nothing), re-run
// at 1 rank: the re-run removes the killed ranks' scratch.
TEST_F(ShareMachineScratch, ScratchOfKilledRanksRemovedByRerun) {
  const std::string in = root_ / "tin";
  ASSERT_NO_FATAL_FAILURE(Teragen(120000, in));
  const auto reference = TerasortReference(in);
  const std::string scratch = root_ / "private-scratch";
  ASSERT_EQ(mkdir(scratch.c_str(), 0700), 0);
  CommandResult killed = RunCommand("SLUICE_FAULT=during_spill@3:crash " + Terasort(4, in, Out(), scratch));
  EXPECT_EQ(killed.exit_code, 137) << killed.output;
  const auto left_by_kill = ListDir(scratch);
  CommandResult r = RunCommand(Terasort(1, in, Out(), scratch));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  if (r.exit_code == 0) {
    EXPECT_EQ(ReadParts(Out(), kParts), reference);
  }
  EXPECT_EQ(SluiceEntries(scratch), std::vector<std::string>{}) << "the killed run's scratch outlived the re-run";
  EXPECT_EQ(ListDir(shared_), std::vector<std::string>{"out"});
  Row("ScratchOfKilledRanksRemovedByRerun",
      "SLUICE_FAULT=during_spill@3:crash mpirun -np 4 sluice run terasort --memory 4M --scratch S, then 1 rank",
      r.exit_code,
      "after the kill (exit " + std::to_string(killed.exit_code) + "), S: " + Describe(left_by_kill) +
          "; after the re-run: " + Describe(ListDir(scratch)),
      Ok());
}

// ---------------------------------------------------------------------------
// What --overwrite (and --force) may replace.

TEST_F(ShareMachineE2E, OverwriteRefusesNonSluiceDir) {
  const std::string out = Out();
  ASSERT_EQ(RunCommand("mkdir -p " + Q(out + "/chapters")).exit_code, 0);
  WriteFile(out + "/thesis.tex", "years of work\n");
  WriteFile(out + "/chapters/one.tex", "chapter one\n");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--overwrite", "a directory of the user's files"},
      {"--force", "a directory of the user's files"},
      {"--overwrite", "the same with an empty _SUCCESS (not Sluice's)"}};
  for (const auto& [flag, what] : cases) {
    const int failures = Failures();
    if (what.find("_SUCCESS") != npos) WriteFile(out + "/_SUCCESS", "");
    const std::string before = Snapshot(out);
    // The first case under mpirun, the others as a plain process (a refusal
    // under mpirun takes ~2 s).
    const int ranks = flag == "--overwrite" && what.find("_SUCCESS") == npos ? 2 : 1;
    CommandResult r = WordCount(ranks, in_, out, flag);
    EXPECT_EQ(r.exit_code, 2) << flag << ", " << what << "\n" << r.output;
    EXPECT_NE(r.output.find("is not a Sluice output"), npos) << r.output;
    EXPECT_EQ(Snapshot(out), before) << "the refused directory was changed";
    EXPECT_EQ(ListDir(shared_), std::vector<std::string>{"out"});
    Row("OverwriteRefusesNonSluiceDir (" + what + ")",
        (ranks == 2 ? "mpirun -np 2 " : "") + std::string("sluice run wordcount --output shared/out ") + flag,
        r.exit_code, Snapshot(out) == before ? "out untouched, nothing beside it" : "OUT CHANGED",
        Failures() == failures);
  }
}

TEST_F(ShareMachineE2E, OverwriteRefusesOutputContainingInput) {
  const std::string proj = shared_ + "/proj";
  ASSERT_EQ(symlink(proj.c_str(), (shared_ + "/alias").c_str()), 0);
  struct Case {
    bool sluice_output;  // proj holds a committed Sluice output besides proj/in
    std::string input, output, flag;
    std::vector<std::string> messages;  // any one of these
  };
  const std::vector<std::string> contains = {"contains the input", "is the input"};
  const std::vector<Case> cases = {
      {true, proj + "/in", proj, "--overwrite", {"contains the input"}},
      {true, proj + "/in", proj, "--force", {"contains the input"}},
      {true, proj + "/in/f0.txt", proj, "--overwrite", {"contains the input"}},
      {true, proj, proj, "--overwrite", contains},
      {true, shared_ + "/alias/in", proj, "--overwrite", contains},
      {true, proj + "/in", shared_ + "/./proj/", "--overwrite", contains},
      {false, proj + "/in", proj, "--overwrite", {"contains the input", "is not a Sluice output"}},
  };
  for (const Case& c : cases) {
    const int failures = Failures();
    ASSERT_EQ(RunCommand("rm -rf " + Q(proj)).exit_code, 0);
    if (c.sluice_output) {
      CommandResult made = WordCount(1, in_, proj);
      ASSERT_EQ(made.exit_code, 0) << made.output;
    } else {
      ASSERT_EQ(mkdir(proj.c_str(), 0755), 0);
    }
    ASSERT_NO_FATAL_FAILURE(WriteWords(proj + "/in", "mine"));
    const std::string before = Snapshot(proj);
    CommandResult r = WordCount(1, c.input, c.output, c.flag);
    const std::string shown = "--input " + c.input.substr(shared_.size() - 6) + " --output " +
                              c.output.substr(shared_.size() - 6) + " " + c.flag;
    EXPECT_EQ(r.exit_code, 2) << shown << "\n" << r.output;
    bool named = false;
    for (const std::string& m : c.messages) named = named || r.output.find(m) != npos;
    EXPECT_TRUE(named) << shown << ": wanted \"" << c.messages[0] << "\"\n" << r.output;
    EXPECT_EQ(Snapshot(proj), before) << shown << ": the refused output (holding the input) was changed";
    EXPECT_EQ(ListDir(shared_), (std::vector<std::string>{"alias", "proj"})) << shown;
    Row(std::string("OverwriteRefusesOutputContainingInput") + (c.sluice_output ? "" : " (proj not a Sluice output)"),
        "sluice run wordcount " + shown, r.exit_code,
        Snapshot(proj) == before ? "proj and proj/in untouched" : "PROJ CHANGED", Failures() == failures);
  }
}

TEST_F(ShareMachineE2E, OverwriteRefusesInputFileInsideOutput) {
  const std::string out = Out();
  CommandResult made = WordCount(1, in_, out);
  ASSERT_EQ(made.exit_code, 0) << made.output;
  for (const std::string& input : {out + "/part-00000", out + "/part-0000*", out}) {
    for (const std::string flag : {"--overwrite", "--force"}) {
      const int failures = Failures();
      const std::string before = Snapshot(out);
      const int ranks = std::string(flag) == "--overwrite" ? 2 : 1;  // a refusal under mpirun takes ~2 s
      CommandResult r = WordCount(ranks, input, out, flag);
      const std::string shown = "--input " + input.substr(shared_.size() + 1) + " --output out " + flag;
      EXPECT_EQ(r.exit_code, 2) << shown << "\n" << r.output;
      EXPECT_TRUE(r.output.find("contains the input") != npos || r.output.find("is the input") != npos)
          << shown << "\n" << r.output;
      EXPECT_EQ(Snapshot(out), before) << shown << ": the output was changed";
      EXPECT_EQ(ListDir(shared_), std::vector<std::string>{"out"}) << shown;
      Row("OverwriteRefusesInputFileInsideOutput",
          (ranks == 2 ? "mpirun -np 2 " : "") + std::string("sluice run wordcount ") + shown, r.exit_code,
          Snapshot(out) == before ? "out untouched" : "OUT CHANGED", Failures() == failures);
    }
  }
}

// Never /, $HOME or the current directory, even when they hold a Sluice
// output (here they do: the worst case).
TEST_F(ShareMachineE2E, OverwriteRefusesRootHomeCwd) {
  const std::string home = root_ / "home";
  const std::string cwd = root_ / "cwd";
  for (const std::string& dir : {home, cwd}) {
    CommandResult made = WordCount(1, in_, dir);
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }
  const auto root_before = ListDir("/");
  struct Case {
    std::string shown, output, env, cwd, flag;
  };
  const std::vector<Case> cases = {
      {"--output /", "/", "", "", "--overwrite"},
      {"--output //", "//", "", "", "--force"},
      {"--output \"$HOME\"", home, "HOME=" + Q(home), "", "--overwrite"},
      {"--output \"$HOME/\"", home + "/", "HOME=" + Q(home), "", "--force"},
      {"--output . (in the cwd)", ".", "", cwd, "--overwrite"},
      {"--output \"$PWD\" (in the cwd)", cwd, "", cwd, "--overwrite"},
      {"--output ../cwd (in the cwd)", "../cwd", "", cwd, "--force"},
  };
  for (const Case& c : cases) {
    const int failures = Failures();
    const std::string home_before = Snapshot(home), cwd_before = Snapshot(cwd);
    const auto siblings_before = ListDir(root_.path());
    CommandResult r = RunCommand((c.cwd.empty() ? "" : "cd " + Q(c.cwd) + " && ") + "timeout 60 env " +
                                 (c.env.empty() ? "" : c.env + " ") + BinPath("sluice") +
                                 " run wordcount --partitions 4 --input " + Q(in_) + " --output " + Q(c.output) +
                                 " " + c.flag);
    EXPECT_EQ(r.exit_code, 2) << c.shown << "\n" << r.output;
    EXPECT_EQ(Snapshot(home), home_before) << c.shown;
    EXPECT_EQ(Snapshot(cwd), cwd_before) << c.shown;
    EXPECT_EQ(ListDir(root_.path()), siblings_before) << c.shown << ": left something beside the output";
    EXPECT_EQ(ListDir("/"), root_before) << c.shown << ": changed /";
    const bool ok = Failures() == failures;
    Row("OverwriteRefusesRootHomeCwd", "sluice run wordcount " + c.shown + " " + c.flag, r.exit_code,
        ok ? "nothing changed in /, $HOME or the cwd, nothing beside them"
           : "see the failure above (cwd " + std::string(Snapshot(cwd) == cwd_before ? "unchanged" : "CHANGED") +
                 ", $HOME " + (Snapshot(home) == home_before ? "unchanged" : "CHANGED") + ")",
        ok);
  }
}

// ---------------------------------------------------------------------------
// Replacing an output: crashes and readers.

TEST_F(ShareMachineE2E, NoOldDirAfterCrashBetweenCommitSteps) {
  const std::string in_y = root_ / "in-y";
  ASSERT_NO_FATAL_FAILURE(WriteWords(in_y, "y"));
  const auto old_parts = Reference(in_);
  const auto new_parts = Reference(in_y);
  CommandResult first = WordCount(2, in_, Out());
  ASSERT_EQ(first.exit_code, 0) << first.output;

  CommandResult crashed =
      WordCount(2, in_y, Out(), "--overwrite", "SLUICE_FAULT=between_commit_renames@0:crash");
  EXPECT_EQ(crashed.exit_code, 137) << crashed.output;
  // A reader never sees the output missing or partial, a crash included.
  std::string fingerprint, why;
  const Seen seen = LookAtOutput(Out(), kParts, &fingerprint, &why);
  EXPECT_EQ(seen, Seen::kComplete) << "after the crash: " << why;
  std::string which = "MISSING OR PARTIAL";
  if (seen == Seen::kComplete) {
    const auto parts = ReadParts(Out(), kParts);
    which = parts == old_parts ? "the old output" : parts == new_parts ? "the new output" : "A MIX";
    EXPECT_TRUE(parts == old_parts || parts == new_parts) << "after the crash the output is neither old nor new";
  }
  const std::string after_crash = Describe(ListDir(shared_));

  CommandResult r = WordCount(2, in_y, Out(), "--overwrite");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  if (r.exit_code == 0) {
    EXPECT_EQ(ReadParts(Out(), kParts), new_parts);
  }
  for (const char* name : {".out.sluice-old", ".out.sluice-staging", ".out.sluice-lock"}) {
    EXPECT_FALSE(Exists(shared_ + "/" + name)) << name << ": left by the crash and kept by the re-run";
  }
  // Beyond the old directory: README, "The work directory is removed once
  // the job commits"; the crashed run had committed (or the re-run did).
  EXPECT_FALSE(Exists(shared_ + "/.out.sluice-work"))
      << ".out.sluice-work: the crashed run's saved map tasks outlived the re-run (which "
      << (r.output.find("nothing to do") != npos ? "found nothing to do" : "ran") << ")";
  EXPECT_EQ(ListDir(shared_), std::vector<std::string>{"out"});
  Row("NoOldDirAfterCrashBetweenCommitSteps",
      "SLUICE_FAULT=between_commit_renames@0:crash mpirun -np 2 sluice run wordcount --overwrite, then without the fault",
      r.exit_code,
      "after the crash (exit " + std::to_string(crashed.exit_code) + "): " + after_crash + ", out = " + which +
          "; after the re-run: " + Describe(ListDir(shared_)),
      Ok());
}

// A reader polling the output while it is replaced again and again
// (--overwrite with another input, --force with the same) sees the old
// complete output or the new complete one, never none, never a part missing.
// The reader spins (one core, for a few seconds): the gap a two-rename
// replacement leaves is a few microseconds.
TEST_F(ShareMachineE2E, OverwriteIsAtomicForAReader) {
  const std::string in_y = root_ / "in-y";
  ASSERT_NO_FATAL_FAILURE(WriteWords(in_y, "y"));
  const std::string ref_x = root_ / "ref-x", ref_y = root_ / "ref-y";
  ASSERT_EQ(WordCount(1, in_, ref_x).exit_code, 0);
  ASSERT_EQ(WordCount(1, in_y, ref_y).exit_code, 0);
  const std::string fp_x = FingerprintLine(ref_x), fp_y = FingerprintLine(ref_y);
  ASSERT_FALSE(fp_x.empty());
  ASSERT_NE(fp_x, fp_y);
  const std::string out = Out();
  CommandResult first = WordCount(1, in_, out);
  ASSERT_EQ(first.exit_code, 0) << first.output;

  std::atomic<bool> stop{false};
  long looks = 0, complete = 0, replaced_while_looking = 0, saw_x = 0, saw_y = 0, quick_looks = 0;
  std::vector<std::string> violations;
  const std::string success = out + "/_SUCCESS";
  std::thread reader([&] {
    while (!stop) {
      // Mostly a quick stat of out/_SUCCESS, so that even a window of
      // microseconds without an output is seen; every 64th look, all of it.
      if (++quick_looks % 64 != 0) {
        struct stat st;
        if (stat(success.c_str(), &st) != 0 && violations.size() < 10) {
          violations.push_back("no " + success + ": " + std::strerror(errno));
        }
        continue;
      }
      std::string fingerprint, why;
      const Seen seen = LookAtOutput(out, kParts, &fingerprint, &why);
      ++looks;
      if (seen == Seen::kComplete) {
        ++complete;
        if (fingerprint == fp_x) {
          ++saw_x;
        } else if (fingerprint == fp_y) {
          ++saw_y;
        } else if (violations.size() < 10) {
          violations.push_back("unknown fingerprint: " + fingerprint);
        }
      } else if (seen == Seen::kReplacedWhileLooking) {
        ++replaced_while_looking;
      } else if (violations.size() < 10) {
        violations.push_back(std::string(seen == Seen::kAbsent ? "no output: " : "partial output: ") + why);
      }
    }
  });
  struct Step {
    const std::string* in;
    const char* flag;
    int ranks;
    const std::string* ref;
  };
  std::vector<Step> steps;
  for (int round = 0; round < 4; ++round) {
    const int ranks = round == 3 ? 2 : 1;
    steps.push_back({&in_y, "--overwrite", ranks, &ref_y});
    steps.push_back({&in_y, "--force", ranks, &ref_y});
    steps.push_back({&in_, "--overwrite", ranks, &ref_x});
    steps.push_back({&in_, "--force", ranks, &ref_x});
  }
  int failed_steps = 0;
  for (const Step& s : steps) {
    CommandResult r = WordCount(s.ranks, *s.in, out, s.flag);
    EXPECT_EQ(r.exit_code, 0) << s.flag << "\n" << r.output;
    if (r.exit_code == 0) {
      EXPECT_EQ(ReadParts(out, kParts), ReadParts(*s.ref, kParts)) << s.flag;
    } else {
      ++failed_steps;
    }
  }
  stop = true;
  reader.join();
  EXPECT_EQ(violations, std::vector<std::string>{});
  EXPECT_GT(saw_x, 0);
  EXPECT_GT(saw_y, 0);
  EXPECT_EQ(ListDir(shared_), std::vector<std::string>{"out"});
  std::printf("reader: %ld quick looks (stat of _SUCCESS), %ld full looks, %ld complete (%ld of input x, %ld of input y), %ld on a directory replaced while "
              "it looked, %zu violation(s)\n",
              quick_looks, looks, complete, saw_x, saw_y, replaced_while_looking, violations.size());
  Row("OverwriteIsAtomicForAReader",
      "16 re-runs into shared/out (--overwrite with the other input, --force), 1 and 2 ranks, a reader polling",
      failed_steps == 0 ? 0 : 1,
      std::to_string(quick_looks + looks) + " looks, " + std::to_string(violations.size()) + " saw no or a partial output; " +
          Describe(ListDir(shared_)) + " left",
      Ok());
}

// A scratch root that another user owns, or that anyone may write and is not
// sticky, would let them rename a job's private scratch away and put their
// own in its place: refused before anything spills there.
TEST_F(ShareMachineScratch, ScratchRootAnotherUserControlsIsRefused) {
  const std::string in = root_ / "tin";
  ASSERT_NO_FATAL_FAILURE(Teragen(20000, in));
  const std::string theirs = root_ / "theirs";
  ASSERT_EQ(mkdir(theirs.c_str(), 0755), 0);
  ASSERT_EQ(RunCommand("chown nobody:nogroup " + Q(theirs)).exit_code, 0);
  const std::string open_dir = root_ / "open";
  ASSERT_EQ(mkdir(open_dir.c_str(), 0755), 0);
  ASSERT_EQ(chmod(open_dir.c_str(), 0777), 0);
  struct Case {
    std::string scratch, says;
  };
  for (const Case& c : {Case{theirs, "belongs to uid"}, Case{open_dir, "writable by everyone and not sticky"}}) {
    const int before = Failures();
    const std::string out = root_ / "sout";
    CommandResult r = RunCommand(Terasort(2, in, out, c.scratch));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(c.says), std::string::npos) << r.output;
    EXPECT_FALSE(Exists(out));
    EXPECT_EQ(RunCommand("ls -A " + Q(c.scratch)).output, "") << "nothing may be made in " << c.scratch;
    Row("ScratchRootAnotherUserControlsIsRefused",
        "mpirun -np 2 sluice run terasort --scratch " + std::string(c.scratch == theirs ? "(nobody's 0755 folder)" : "(a 0777 folder)"),
        r.exit_code, Exists(out) ? "an output" : "nothing", Failures() == before);
  }
}

// The output's folder writable by everyone and not sticky: anyone could
// rename staging or the output itself away. Refused before any work.
TEST_F(ShareMachineE2E, OutputInAWorldWritableNonStickyFolderIsRefused) {
  const std::string open_dir = root_ / "open";
  ASSERT_EQ(mkdir(open_dir.c_str(), 0755), 0);
  ASSERT_EQ(chmod(open_dir.c_str(), 0777), 0);
  CommandResult r = WordCount(2, in_, open_dir + "/out");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("writable by everyone and not sticky"), std::string::npos) << r.output;
  EXPECT_EQ(ListDir(open_dir), std::vector<std::string>{});
  Row("OutputInAWorldWritableNonStickyFolderIsRefused", "mpirun -np 2 sluice run wordcount --output open/out (open: 0777)",
      r.exit_code, ListDir(open_dir).empty() ? "nothing" : "something", !HasFailure());
}

}  // namespace
}  // namespace sluice::e2e
