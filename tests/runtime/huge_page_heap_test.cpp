// StartWithHugePageHeap (runtime/cli/huge_page_heap.h), through a probe
// program started as a job binary is: it restarts once as the same process
// (same pid, arguments and name) with glibc's huge-page tunable, so fresh
// heap memory gets 2 MiB pages, and then hands its children the environment
// the user gave it; it leaves alone a user's explicit choice either way, and
// a program started through the loader by hand.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#ifndef SLUICE_HUGE_PAGE_PROBE
#error "tests/runtime/CMakeLists.txt passes SLUICE_HUGE_PAGE_PROBE (the probe program)"
#endif

namespace {

struct ProbeRun {
  pid_t pid = -1;
  int status = -1;
  std::multimap<std::string, std::string> lines;  // "key=value" lines, split
  std::string Get(const std::string& key) const {
    auto it = lines.find(key);
    return it == lines.end() ? "(missing)" : it->second;
  }
};

constexpr char kLoader[] = "/lib64/ld-linux-x86-64.so.2";

// Runs the probe with exactly `env` as its environment; `loader`: started
// through the dynamic loader by hand.
ProbeRun RunProbe(const std::vector<std::string>& env, bool loader = false) {
  ProbeRun run;
  int out[2];
  if (pipe(out) != 0) return run;
  std::vector<std::string> args = {SLUICE_HUGE_PAGE_PROBE, "two words", "--flag=x"};
  if (loader) args.insert(args.begin(), kLoader);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_copy = env;
  std::vector<char*> envp;
  for (auto& e : env_copy) envp.push_back(e.data());
  envp.push_back(nullptr);
  run.pid = fork();
  if (run.pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(out[0]);
  waitpid(run.pid, &run.status, 0);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const size_t eq = line.find('=');
    if (eq != std::string::npos) run.lines.emplace(line.substr(0, eq), line.substr(eq + 1));
    start = end + 1;
  }
  return run;
}

std::string ThpMode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(in, modes);
  const size_t open = modes.find('[');
  const size_t close = modes.find(']');
  if (open == std::string::npos || close == std::string::npos) return "absent";
  return modes.substr(open + 1, close - open - 1);
}

bool Sanitized() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#else
  return false;
#endif
}

std::vector<std::string> Args(const ProbeRun& run) {
  std::vector<std::string> args;
  auto [first, last] = run.lines.equal_range("arg");
  for (auto it = first; it != last; ++it) args.push_back(it->second);
  return args;
}

bool Restarted(const ProbeRun& run) { return run.Get("execfn") == "/proc/self/exe"; }

TEST(HugePageHeap, StartsAgainAsTheSameProcessWithHugePages) {
  if (Sanitized()) GTEST_SKIP() << "sanitizer builds keep their own allocator";
  if (ThpMode() != "madvise" && ThpMode() != "always") GTEST_SKIP() << "no transparent huge pages here";
  const ProbeRun run = RunProbe({"PATH=/usr/bin:/bin"});
  ASSERT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.status;
  EXPECT_TRUE(Restarted(run)) << run.Get("execfn");
  EXPECT_EQ(run.Get("pid"), std::to_string(run.pid));  // exec, not a child
  EXPECT_EQ(Args(run), (std::vector<std::string>{"two words", "--flag=x"}));
  // Its own name, cut at the kernel's 15 characters, not "exe": what ps
  // shows and pgrep -x and pkill match.
  EXPECT_EQ(run.Get("comm"), "huge_page_heap_");
  // 64 MiB written: 16,384 faults with 4 KiB pages, 32 with 2 MiB ones. The
  // kernel may fall back to small pages for some, not for most, with memory
  // free.
  EXPECT_LT(std::stol(run.Get("faults")), 4096);
  // What its children get: the user's environment, nothing added.
  EXPECT_EQ(run.Get("GLIBC_TUNABLES"), "(unset)");
  EXPECT_EQ(run.Get("SLUICE_HUGE_PAGE_HEAP"), "(unset)");
  EXPECT_EQ(run.Get("SLUICE_HUGE_PAGE_HEAP_NAME"), "(unset)");
}

TEST(HugePageHeap, KeepsTheUsersOtherTunables) {
  if (Sanitized()) GTEST_SKIP() << "sanitizer builds keep their own allocator";
  if (ThpMode() != "madvise" && ThpMode() != "always") GTEST_SKIP() << "no transparent huge pages here";
  const ProbeRun run = RunProbe({"PATH=/usr/bin:/bin", "GLIBC_TUNABLES=glibc.malloc.arena_max=2"});
  EXPECT_TRUE(Restarted(run)) << run.Get("execfn");
  EXPECT_LT(std::stol(run.Get("faults")), 4096);
  EXPECT_EQ(run.Get("GLIBC_TUNABLES"), "glibc.malloc.arena_max=2");
}

// There /proc/self/exe is the loader: starting it again would hand the
// loader the job's first flag as the program to run.
TEST(HugePageHeap, StartedThroughTheLoaderGoesOnAsStarted) {
  if (access(kLoader, X_OK) != 0) GTEST_SKIP() << kLoader << " is not here";
  const ProbeRun run = RunProbe({"PATH=/usr/bin:/bin"}, /*loader=*/true);
  ASSERT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.status;
  EXPECT_FALSE(Restarted(run));
  EXPECT_EQ(Args(run), (std::vector<std::string>{"two words", "--flag=x"}));
  EXPECT_EQ(run.Get("GLIBC_TUNABLES"), "(unset)");
  EXPECT_EQ(run.Get("SLUICE_HUGE_PAGE_HEAP"), "(unset)");
}

TEST(HugePageHeap, LeavesAnExplicitChoiceAlone) {
  const ProbeRun own = RunProbe({"PATH=/usr/bin:/bin", "GLIBC_TUNABLES=glibc.malloc.hugetlb=0"});
  EXPECT_FALSE(Restarted(own));
  EXPECT_EQ(own.Get("GLIBC_TUNABLES"), "glibc.malloc.hugetlb=0");
  EXPECT_EQ(own.Get("SLUICE_HUGE_PAGE_HEAP"), "(unset)");

  const ProbeRun off = RunProbe({"PATH=/usr/bin:/bin", "SLUICE_HUGE_PAGE_HEAP=0"});
  ASSERT_TRUE(WIFEXITED(off.status) && WEXITSTATUS(off.status) == 0) << off.status;
  EXPECT_FALSE(Restarted(off));
  EXPECT_EQ(off.Get("GLIBC_TUNABLES"), "(unset)");
  EXPECT_EQ(off.Get("SLUICE_HUGE_PAGE_HEAP"), "0");
  // Without the tunable, under "madvise" fresh heap memory gets 4 KiB pages:
  // what the restart is for.
  if (ThpMode() == "madvise" && !Sanitized()) {
    EXPECT_GE(std::stol(off.Get("faults")), 16384);
  }
}

}  // namespace
