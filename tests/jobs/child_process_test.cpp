// ChildProcess (jobs/stream/child_process.h) against real commands: large
// data both ways, a child that writes before it reads, exits, signals, a
// command that does not exist, one that stops reading, one that hangs, and
// what the child inherits.
#include "jobs/stream/child_process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace sluice {
namespace {

using std::chrono::milliseconds;

struct ChildRun {
  std::string out, err;
  Status write_status;
  Result<ChildExit> exit = Status::Internal("not finished");
};

// Starts argv, writes `input` (all of it, in one call), finishes.
ChildRun RunChild(std::vector<std::string> argv, std::string_view input, milliseconds idle_timeout = milliseconds(0),
             std::string working_dir = "") {
  ChildRun run;
  ChildOptions options;
  options.argv = std::move(argv);
  options.working_dir = std::move(working_dir);
  options.idle_timeout = idle_timeout;
  auto child = ChildProcess::Start(
      options, [&](std::string_view b) { run.out.append(b); }, [&](std::string_view b) { run.err.append(b); });
  if (!child.ok()) {
    run.exit = child.status();
    return run;
  }
  run.write_status = (*child)->Write(input);
  run.exit = (*child)->Finish();
  return run;
}

std::string Pattern(size_t bytes) {
  std::string s(bytes, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (char& c : s) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

// Waits up to 5 s for `pid` to be gone (or a zombie no one has reaped yet);
// its last state ("gone", "Z", "S", ...).
std::string StateWhenGone(pid_t pid) {
  std::string state = "?";
  for (int tries = 0; tries < 500; ++tries) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string field, comm;
    if (!(stat >> field >> comm >> state)) state = "gone";
    if (state == "gone" || state == "Z") break;
    ::usleep(10000);
  }
  return state;
}

TEST(ChildProcess, CatReturnsSixteenMegabytesUnchanged) {
  const std::string input = Pattern(16 << 20);
  ChildRun r = RunChild({"cat"}, input);
  ASSERT_TRUE(r.write_status.ok()) << r.write_status.ToString();
  ASSERT_TRUE(r.exit.ok()) << r.exit.status().ToString();
  EXPECT_TRUE(r.exit->ok()) << r.exit->Describe(milliseconds(0));
  EXPECT_EQ(r.out.size(), input.size());
  EXPECT_TRUE(r.out == input);
  EXPECT_EQ(r.err, "");
}

// Both pipes fill if either side waits for the other: the child writes 8 MB
// before reading a byte while we write 8 MB before reading.
TEST(ChildProcess, AChildThatWritesBeforeItReadsDoesNotDeadlock) {
  const std::string input = Pattern(8 << 20);
  ChildRun r = RunChild({"sh", "-c", "head -c 8000000 /dev/zero; wc -c"}, input);
  ASSERT_TRUE(r.write_status.ok()) << r.write_status.ToString();
  ASSERT_TRUE(r.exit.ok() && r.exit->ok());
  ASSERT_EQ(r.out.size(), 8000000u + std::to_string(input.size()).size() + 1);
  EXPECT_EQ(r.out.substr(8000000), std::to_string(input.size()) + "\n");
}

TEST(ChildProcess, StdoutAndStderrArriveApart) {
  ChildRun r = RunChild({"sh", "-c", "echo out; echo err >&2; echo out2"}, "");
  ASSERT_TRUE(r.exit.ok() && r.exit->ok());
  EXPECT_EQ(r.out, "out\nout2\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(ChildProcess, TheEnvironmentIsOursWithTheGivenEntriesOverIt) {
  setenv("SLUICE_CHILD_TEST_KEPT", "kept", 1);
  setenv("SLUICE_CHILD_TEST_SET", "ours", 1);
  ChildOptions options;
  options.argv = {"sh", "-c", "echo $SLUICE_CHILD_TEST_KEPT $SLUICE_CHILD_TEST_SET; env | grep -c SLUICE_CHILD_TEST_SET="};
  options.env = {"SLUICE_CHILD_TEST_SET=given"};
  std::string out;
  auto child = ChildProcess::Start(options, [&](std::string_view b) { out.append(b); }, [](std::string_view) {});
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  auto exit = (*child)->Finish();
  ASSERT_TRUE(exit.ok() && exit->ok());
  EXPECT_EQ(out, "kept given\n1\n") << "set once, over ours";
}

TEST(ChildProcess, ExitStatusAndSignalAreReported) {
  ChildRun exited = RunChild({"sh", "-c", "exit 3"}, "");
  ASSERT_TRUE(exited.exit.ok());
  EXPECT_FALSE(exited.exit->signaled);
  EXPECT_EQ(exited.exit->code, 3);
  EXPECT_EQ(exited.exit->Describe(milliseconds(0)), "exit status 3");

  ChildRun killed = RunChild({"sh", "-c", "kill -SEGV $$"}, "");
  ASSERT_TRUE(killed.exit.ok());
  EXPECT_TRUE(killed.exit->signaled);
  EXPECT_EQ(killed.exit->code, SIGSEGV);
  EXPECT_NE(killed.exit->Describe(milliseconds(0)).find("killed by signal 11"), std::string::npos);
  EXPECT_FALSE(killed.exit->ok());
}

TEST(ChildProcess, AMissingCommandIsAUsageErrorNamingIt) {
  ChildRun r = RunChild({"sluice-no-such-command-xyz", "--flag"}, "");
  ASSERT_FALSE(r.exit.ok());
  EXPECT_EQ(r.exit.status().code(), StatusCode::kUsage);
  EXPECT_NE(r.exit.status().message().find("sluice-no-such-command-xyz --flag"), std::string::npos)
      << r.exit.status().message();
  EXPECT_NE(r.exit.status().message().find("No such file"), std::string::npos) << r.exit.status().message();
}

// head reads a few KiB and exits 0: its output covers only what it read, so
// the exit is not ok, and says how much it left.
TEST(ChildProcess, AChildThatExitsZeroWithInputUnreadIsNotOk) {
  ChildRun r = RunChild({"sh", "-c", "head -c 10 >/dev/null; sleep 0.2"}, Pattern(20000));
  ASSERT_TRUE(r.exit.ok()) << r.exit.status().ToString();
  EXPECT_EQ(r.exit->code, 0);
  EXPECT_FALSE(r.write_status.ok() && r.exit->ok()) << "20000 bytes given, a few read: not ok";
  if (r.write_status.ok()) {
    EXPECT_GT(r.exit->unread_input, 0u);
    EXPECT_NE(r.exit->Describe(milliseconds(0)).find("bytes of its input unread"), std::string::npos)
        << r.exit->Describe(milliseconds(0));
  }
  // Every byte read: ok, however little it printed.
  ChildRun all = RunChild({"sh", "-c", "cat >/dev/null"}, Pattern(20000));
  ASSERT_TRUE(all.exit.ok());
  EXPECT_TRUE(all.exit->ok()) << all.exit->Describe(milliseconds(0));
}

// `true` never reads: writing to it must fail with a message, not kill us
// with SIGPIPE, and the child's own exit status stays readable.
TEST(ChildProcess, AChildThatStopsReadingFailsTheWriteNotTheProcess) {
  ChildRun r = RunChild({"true"}, Pattern(16 << 20));
  ASSERT_FALSE(r.write_status.ok());
  EXPECT_EQ(r.write_status.code(), StatusCode::kUserCode);
  EXPECT_NE(r.write_status.message().find("stopped reading its standard input"), std::string::npos)
      << r.write_status.message();
  ASSERT_TRUE(r.exit.ok()) << r.exit.status().ToString();
  EXPECT_EQ(r.exit->code, 0);
}

// A hung command is killed after the idle timeout, and so is what it
// started: the sleep in the background is in its process group.
TEST(ChildProcess, AnIdleChildAndItsChildrenAreKilledAfterTheTimeout) {
  ChildRun r = RunChild({"sh", "-c", "sleep 60 & echo $!; wait"}, "", milliseconds(300));
  ASSERT_TRUE(r.exit.ok()) << r.exit.status().ToString();
  EXPECT_TRUE(r.exit->timed_out);
  EXPECT_FALSE(r.exit->ok());
  EXPECT_NE(r.exit->Describe(milliseconds(300)).find("killed after 0.3 s"), std::string::npos);
  const pid_t sleeper = std::atoi(r.out.c_str());
  ASSERT_GT(sleeper, 0) << r.out;
  // Gone, or a zombie waiting for init to reap it: not sleeping on. SIGKILL
  // is delivered asynchronously, so allow it a moment to take effect.
  const std::string state = StateWhenGone(sleeper);
  EXPECT_TRUE(state == "gone" || state == "Z") << "the background sleep survived the kill: state " << state;
}

// A child that closes its pipes but keeps running is also bounded.
TEST(ChildProcess, AChildThatClosesItsPipesButRunsOnIsKilledAfterTheTimeout) {
  ChildRun r = RunChild({"sh", "-c", "exec >&- 2>&- <&-; sleep 60"}, "", milliseconds(300));
  ASSERT_TRUE(r.exit.ok()) << r.exit.status().ToString();
  EXPECT_TRUE(r.exit->timed_out);
}

TEST(ChildProcess, AnIdleTimeoutDoesNotCutABusyChild) {
  // Writes a line every 50 ms for 1 s: never idle for 300 ms.
  ChildRun r = RunChild({"sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo $i; sleep 0.05; done"},
                   "", milliseconds(300));
  ASSERT_TRUE(r.exit.ok());
  EXPECT_TRUE(r.exit->ok()) << r.exit->Describe(milliseconds(300));
  EXPECT_EQ(r.out.substr(r.out.size() - 3), "20\n");
}

TEST(ChildProcess, RunsInItsWorkingDirectoryWithOnlyThreeDescriptors) {
  char dir_template[] = "/tmp/sluice-child-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  // A descriptor of ours without O_CLOEXEC must still not reach the child.
  const int ours = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(ours, 3);
  ChildRun r = RunChild({"sh", "-c", "pwd; test -e /proc/$$/fd/" + std::to_string(ours) + " && echo leaked || echo closed"},
                   "", milliseconds(0), dir);
  ::close(ours);
  ASSERT_TRUE(r.exit.ok() && r.exit->ok());
  EXPECT_EQ(r.out, dir + "\nclosed\n");

  ChildRun missing = RunChild({"pwd"}, "", milliseconds(0), dir + "/absent");
  ASSERT_FALSE(missing.exit.ok());
  EXPECT_NE(missing.exit.status().message().find(dir + "/absent"), std::string::npos) << missing.exit.status().message();
  ::rmdir(dir.c_str());
}

// A private directory: made for the command under the given parent, gone
// when it ends, whether it exits or we kill it.
TEST(ChildProcess, APrivateDirectoryIsMadeForTheCommandAndRemovedAfter) {
  char parent_template[] = "/tmp/sluice-child-XXXXXX";
  ASSERT_NE(::mkdtemp(parent_template), nullptr);
  const std::string parent = parent_template;
  for (bool kill_it : {false, true}) {
    ChildOptions options;
    options.argv = {"sh", "-c", "pwd > ../where; touch made-here; mkdir -p sub/deeper; " +
                                    std::string(kill_it ? "exec sleep 60" : "exit 0")};
    options.private_dir_under = parent;
    auto child = ChildProcess::Start(options, [](std::string_view) {}, [](std::string_view) {});
    ASSERT_TRUE(child.ok()) << child.status().ToString();
    if (!kill_it) {
      auto exit = (*child)->Finish();
      ASSERT_TRUE(exit.ok() && exit->ok());
    }
    std::string dir;
    for (int tries = 0; tries < 500 && dir.empty(); ++tries) {
      std::ifstream where(parent + "/where");
      std::getline(where, dir);
      if (kill_it && !dir.empty() && ::access((dir + "/sub/deeper").c_str(), F_OK) != 0) dir.clear();
      if (dir.empty()) ::usleep(10000);
    }
    ASSERT_FALSE(dir.empty());
    EXPECT_EQ(dir.rfind(parent + "/sluice-stream-", 0), 0u) << dir;
    if (kill_it) child->reset();  // killed: the destructor
    EXPECT_NE(::access(dir.c_str(), F_OK), 0) << dir << " outlived its command (killed: " << kill_it << ")";
    ::unlink((parent + "/where").c_str());
  }
  EXPECT_EQ(::rmdir(parent.c_str()), 0) << "something was left in " << parent;
}

// What a command leaves running when it exits (a `sleep &` holding its
// stdout) is killed with it: Finish neither waits for it nor leaves it.
TEST(ChildProcess, WhatACommandLeftRunningDiesWhenItExits) {
  const auto start = std::chrono::steady_clock::now();
  ChildRun r = RunChild({"sh", "-c", "sleep 60 & echo $!"}, "");
  ASSERT_TRUE(r.exit.ok()) << r.exit.status().ToString();
  EXPECT_TRUE(r.exit->ok()) << r.exit->Describe(milliseconds(0));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  const pid_t sleeper = std::atoi(r.out.c_str());
  ASSERT_GT(sleeper, 0) << r.out;
  const std::string state = StateWhenGone(sleeper);
  EXPECT_TRUE(state == "gone" || state == "Z") << "the background sleep outlived its command: state " << state;
}

// Even a process that left the command's group and session (setsid, as a
// daemon does) goes when the command exits: it is still below the guard.
TEST(ChildProcess, WhatACommandLeftInASessionOfItsOwnDiesWhenItExits) {
  const auto start = std::chrono::steady_clock::now();
  ChildRun r = RunChild({"sh", "-c", "setsid sleep 60 & echo $!"}, "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30)) << "it held our pipes open";
  ASSERT_TRUE(r.exit.ok()) << r.exit.status().ToString();
  EXPECT_TRUE(r.exit->ok()) << r.exit->Describe(milliseconds(0));
  const pid_t sleeper = std::atoi(r.out.c_str());
  ASSERT_GT(sleeper, 0) << r.out;
  const std::string state = StateWhenGone(sleeper);
  EXPECT_TRUE(state == "gone" || state == "Z") << "the setsid sleep outlived its command: state " << state;
}

// A process killed outright (SIGKILL: no cleanup of its own runs) takes
// its command and everything the command started with it. The "rank" here
// is a forked copy of this test that starts the command and is killed.
TEST(ChildProcess, ACommandDiesWithTheProcessThatStartedIt) {
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t rank = ::fork();
  ASSERT_GE(rank, 0);
  if (rank == 0) {
    ::close(report[0]);
    ChildOptions options;
    options.argv = {"sh", "-c", "sleep 600 & echo $! $$; exec sleep 601"};
    const int to = report[1];
    auto child = ChildProcess::Start(
        options, [to](std::string_view b) { (void)!::write(to, b.data(), b.size()); }, [](std::string_view) {});
    if (!child.ok()) ::_exit(2);
    (void)(*child)->Write("");
    for (;;) (void)(*child)->Finish();  // blocks: the command runs 600 s
  }
  ::close(report[1]);
  char buf[64] = {};
  ssize_t got = 0;
  while (got < static_cast<ssize_t>(sizeof buf) - 1) {
    const ssize_t n = ::read(report[0], buf + got, sizeof buf - 1 - static_cast<size_t>(got));
    if (n <= 0 || std::memchr(buf, '\n', static_cast<size_t>(got + n)) != nullptr) {
      got += n > 0 ? n : 0;
      break;
    }
    got += n;
  }
  ::close(report[0]);
  pid_t background = 0, command = 0;
  ASSERT_EQ(std::sscanf(buf, "%d %d", &background, &command), 2) << buf;
  ::kill(rank, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(rank, &status, 0), rank);
  for (pid_t pid : {background, command}) {
    const std::string state = StateWhenGone(pid);
    EXPECT_TRUE(state == "gone" || state == "Z") << "pid " << pid << " outlived the killed process: " << state;
  }
}

}  // namespace
}  // namespace sluice
