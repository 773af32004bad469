// Losing nothing on a shared machine (issue 10): inputs named with glob
// characters are read as named, the JSON beside the output stays valid
// whatever the file names, a closed stderr pipe does not kill the job, and
// a Combine that throws is the job's failure (exit 6), not Sluice's.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kPartitions = 4;
constexpr int kUserCode = 6;

// word -> count from a wordcount output directory.
std::map<std::string, uint64_t> ReadCounts(const std::string& out) {
  std::map<std::string, uint64_t> counts;
  for (const std::string& part : ReadParts(out, kPartitions)) {
    size_t begin = 0;
    for (size_t nl; (nl = part.find('\n', begin)) != std::string::npos; begin = nl + 1) {
      const std::string line = part.substr(begin, nl - begin);
      const size_t tab = line.rfind('\t');
      EXPECT_NE(tab, std::string::npos) << line;
      if (tab == std::string::npos) continue;
      counts[line.substr(0, tab)] = std::stoull(line.substr(tab + 1));
    }
    EXPECT_EQ(begin, part.size()) << "part does not end in a newline";
  }
  return counts;
}

// A spec that exists is a path, not a pattern: 'a[1].txt' is that file even
// beside a1.txt, which the glob a[1].txt would match.
TEST(RobustnessE2E, InputNamedWithGlobCharactersIsReadLiterally) {
  TempDir dir;
  ASSERT_EQ(RunCommand("mkdir -p '" + (dir / "in") + "'").exit_code, 0);
  WriteFile(dir / "in/a[1].txt", "apple banana apple\ncherry apple\n");
  WriteFile(dir / "in/a1.txt", "decoy decoy banana\n");
  const auto want = ReferenceWordCount({dir / "in/a[1].txt"});
  ASSERT_EQ(want.count("decoy"), 0u);
  for (int ranks : {1, 2}) {
    const std::string out = dir / ("out" + std::to_string(ranks));
    CommandResult r = RunSluice(ranks, "run wordcount --partitions " + std::to_string(kPartitions) +
                                           " --input '" + (dir / "in/a[1].txt") + "' --output '" +
                                           out + "'");
    ASSERT_EQ(r.exit_code, 0) << "ranks=" << ranks << "\n" << r.output;
    EXPECT_EQ(ReadCounts(out), want) << "ranks=" << ranks;
  }
  // With no such file the same spelling is still a glob.
  const std::string out = dir / "out-glob";
  CommandResult r = RunSluice(1, "run wordcount --partitions " + std::to_string(kPartitions) +
                                     " --input '" + (dir / "in/a[12].txt") + "' --output '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadCounts(out), ReferenceWordCount({dir / "in/a1.txt"}));
}

// Checks the manifest and report of OUT (argv[1]) for inputs read from
// IN (argv[2]) plus the spec argv[3]: both parse as JSON (python3's json
// refuses invalid UTF-8 and raw control characters), and every input path
// comes back byte for byte, from "path" or, for a name that is not UTF-8,
// from "path_hex".
constexpr char kCheckJson[] = R"PY(
import json, os, sys
out, indir, extra = sys.argv[1], os.fsencode(sys.argv[2]), os.fsencode(sys.argv[3])
manifest = json.load(open(os.path.join(out, '_manifest.json'), encoding='utf-8'))
report = json.load(open(os.path.join(out, '_report.json'), encoding='utf-8'))
copy = json.load(open(sys.argv[4], encoding='utf-8'))
assert copy == report, 'the --report copy differs'
def raw(entry, key):
    return bytes.fromhex(entry[key + '_hex']) if key + '_hex' in entry else entry[key].encode('utf-8')
got = sorted(raw(e, 'path') for e in manifest['inputs'])
want = sorted(os.path.join(indir, name) for name in os.listdir(indir))
assert got == want, (got, want)
hexed = [e for e in manifest['inputs'] if 'path_hex' in e]
assert len(hexed) == 1 and '\ufffd' in hexed[0]['path'], hexed
for config in (manifest['config'], report['config']):
    specs, hexes = config['inputs'], config['inputs_hex']
    assert [bytes.fromhex(h) if h is not None else s.encode() for s, h in zip(specs, hexes)] == [indir, extra]
    assert hexes[0] is None and '\ufffd' in specs[1]
print('json ok')
)PY";

TEST(RobustnessE2E, ManifestAndReportStayValidJsonWhateverTheFileNames) {
  TempDir dir;
  ASSERT_EQ(RunCommand("mkdir -p '" + (dir / "in") + "'").exit_code, 0);
  const std::vector<std::string> names = {
      "new\nline.txt", "tab\there.txt", "quote\"d.txt", "back\\slash.txt",
      std::string("ctl\x01.txt"), std::string("del\x7f.txt"), std::string("bad\xff.txt"),
      "caf\xc3\xa9.txt"};
  std::vector<std::string> files;
  for (size_t i = 0; i < names.size(); ++i) {
    files.push_back(dir / ("in/" + names[i]));
    WriteFile(files.back(), "word" + std::to_string(i) + " shared\nshared\n");
  }
  WriteFile(dir / "check.py", kCheckJson);
  const std::string bad_spec = dir / "in/bad\xff.txt";  // named again: listed once
  const auto want = ReferenceWordCount(files);
  for (int ranks : {1, 2}) {
    const std::string out = dir / ("out" + std::to_string(ranks));
    const std::string report = dir / ("report" + std::to_string(ranks) + ".json");
    CommandResult r = RunSluice(ranks, "run wordcount --partitions " + std::to_string(kPartitions) +
                                           " --input '" + (dir / "in") + "' --input '" + bad_spec +
                                           "' --report '" + report + "' --output '" + out + "'");
    ASSERT_EQ(r.exit_code, 0) << "ranks=" << ranks << "\n" << r.output;
    EXPECT_EQ(ReadCounts(out), want) << "ranks=" << ranks;
    for (const char* file : {"_manifest.json", "_report.json"}) {
      CommandResult parse = RunCommand("python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '" +
                                       out + "/" + file + "'");
      EXPECT_EQ(parse.exit_code, 0) << file << " ranks=" << ranks << "\n" << parse.output;
    }
    CommandResult check = RunCommand("python3 '" + (dir / "check.py") + "' '" + out + "' '" +
                                     (dir / "in") + "' '" + bad_spec + "' '" + report + "'");
    EXPECT_EQ(check.exit_code, 0) << "ranks=" << ranks << "\n" << check.output;
  }
}

// Runs `command` under /bin/sh with stdout and stderr on a pipe whose read
// end is closed before the command starts (a `| head -c0` that has already
// exited), SIGPIPE at its default, as a shell would leave it. Returns the
// wait status.
int RunWithClosedStdoutAndStderr(const std::string& command) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  close(fds[0]);  // no reader, ever: the first write gets SIGPIPE or EPIPE
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[1]);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  int status = -1;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

TEST(RobustnessE2E, ClosedStderrPipeDoesNotKillTheJob) {
  TempDir dir;
  ASSERT_EQ(RunCommand("mkdir -p '" + (dir / "in") + "'").exit_code, 0);
  std::vector<std::string> files;
  for (int i = 0; i < 3; ++i) {
    files.push_back(dir / ("in/f" + std::to_string(i) + ".txt"));
    std::string text;
    for (int j = 0; j < 2000; ++j) text += "w" + std::to_string((i * 31 + j) % 97) + " x\n";
    WriteFile(files.back(), text);
  }
  const auto want = ReferenceWordCount(files);
  for (int ranks : {1, 2}) {
    const std::string out = dir / ("out" + std::to_string(ranks));
    // Under mpirun the ranks write to pipes that mpirun reads, never to the
    // dead pipe: it is mpirun that writes there. Open MPI's mpirun (4.1)
    // catches SIGPIPE itself (a `trap '' PIPE` in the shell does not hold)
    // and aborts the job at the eleventh failed write, then crashes in
    // PMIx_Finalize (exit 139), before or after the commit depending on how
    // much the job logs. No code in the ranks can prevent that, so the
    // README's advice is to give mpirun a file, as here; the plain process
    // (ranks == 1) and the job binary below are the runs that fail without
    // Sluice ignoring SIGPIPE.
    const std::string log = dir / ("mpirun" + std::to_string(ranks) + ".log");
    const std::string launcher = ranks > 1 ? "exec > '" + log + "' 2>&1; " + MpiLauncher(ranks) : "";
    // Debug logging, progress and the summary all write to the dead pipe.
    const int status = RunWithClosedStdoutAndStderr(
        launcher + BinPath("sluice") + " run wordcount --log-level debug --partitions " +
        std::to_string(kPartitions) + " --split-size 8K --input '" + (dir / "in") + "' --output '" +
        out + "'");
    ASSERT_TRUE(WIFEXITED(status)) << "ranks=" << ranks << ": killed by signal "
                                   << (WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    EXPECT_EQ(WEXITSTATUS(status), 0) << "ranks=" << ranks << " (the shell reports death by signal N "
                                      << "as 128+N: 141 is SIGPIPE)";
    EXPECT_EQ(ReadCounts(out), want) << "ranks=" << ranks;
    EXPECT_FALSE(Exists(dir / (".out" + std::to_string(ranks) + ".sluice-staging")));
  }
  // The job binary's main too.
  const std::string out = dir / "out-binary";
  const int status = RunWithClosedStdoutAndStderr(BinPath("wordcount") + " --partitions " +
                                                  std::to_string(kPartitions) + " '" + (dir / "in") +
                                                  "' '" + out + "'");
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : -1);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "141 is death by SIGPIPE";
  EXPECT_EQ(ReadCounts(out), want);
}

// A Combine that throws is the job's code failing: exit 6 naming Combine,
// nothing published, no staging left; on the map side (two bombs in one
// split) and on the reduce side (one bomb in each of two splits, folded
// before Reduce).
TEST(RobustnessE2E, ThrowingCombineExitsSixOnEitherSideOfTheShuffle) {
  TempDir dir;
  ASSERT_EQ(RunCommand("mkdir -p '" + (dir / "map-side") + "' '" + (dir / "reduce-side") + "'").exit_code, 0);
  std::string filler;
  for (int j = 0; j < 100; ++j) filler += "w" + std::to_string(j) + " x\n";  // 500+ bytes
  WriteFile(dir / "map-side/one.txt", filler + "bomb here\nand bomb again\n");
  // Each file over half of --split-size 1K: never grouped into one split.
  WriteFile(dir / "reduce-side/a.txt", filler + "bomb\n");
  WriteFile(dir / "reduce-side/b.txt", filler + "bomb\n");
  struct Case {
    const char* input;
    const char* phase;
    const char* names;  // what the message must name
  };
  for (const Case& c : {Case{"map-side", "combine() threw in the map phase", "one.txt"},
                        Case{"reduce-side", "combine() threw in the reduce phase", "partition"}}) {
    for (int ranks : {1, 2}) {
      const std::string name = std::string(c.input) + std::to_string(ranks);
      const std::string out = dir / ("out-" + name);
      CommandResult r = RunSluice(ranks, "run --plugin " + PluginPath("test/librobust_throwing_combine.so") +
                                             " --split-size 1K --partitions " + std::to_string(kPartitions) +
                                             " --input '" + (dir / c.input) + "' --output '" + out + "'");
      EXPECT_EQ(r.exit_code, kUserCode) << name << "\n" << r.output;
      EXPECT_NE(r.output.find(c.phase), std::string::npos) << name << "\n" << r.output;
      EXPECT_NE(r.output.find(c.names), std::string::npos) << name << "\n" << r.output;
      EXPECT_NE(r.output.find("combine met two bombs"), std::string::npos) << name << "\n" << r.output;
      EXPECT_EQ(r.output.find("internal error"), std::string::npos) << name << "\n" << r.output;
      EXPECT_FALSE(Exists(out)) << name << ": no output may be published";
      EXPECT_FALSE(Exists(dir / (".out-" + name + ".sluice-staging"))) << name << ": staging left";
    }
  }
}

// --report PATH on a full disk: the copy is written before the output is
// published, so the job fails with an I/O error and publishes nothing (it
// used to publish first and then fail). The full disk is a tiny tmpfs in a
// private mount namespace (needs root, as in CI).
TEST(RobustnessE2E, ReportToAFullDiskPublishesNothing) {
  TempDir dir;
  WriteFile(dir / "in.txt", "alpha beta\nbeta\n");
  ASSERT_EQ(RunCommand("mkdir " + dir / "full").exit_code, 0);
  const std::string full = dir / "full";
  const std::string mount = "mount -t tmpfs -o size=16k tmpfs '" + full + "' && "
                            "{ dd if=/dev/zero of='" + full + "/fill' bs=1k 2>/dev/null; true; } && ";
  if (RunCommand("unshare -m sh -c \"" + mount + "true\"").exit_code != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  }
  CommandResult r = RunCommand("unshare -m sh -c \"" + mount + BinPath("sluice") +
                               " run wordcount --input '" + (dir / "in.txt") + "' --output '" +
                               (dir / "out") + "' --report '" + full + "/report.json'\"");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find(full + "/report.json"), std::string::npos) << r.output;
  EXPECT_FALSE(Exists(dir / "out")) << "the output was published although its report failed";
  // Saved map tasks stay for a resume (README); no staging, no lock.
  EXPECT_EQ(ListDir(dir.path()), (std::vector<std::string>{".out.sluice-work", "full", "in.txt"}))
      << r.output;
}

// A full disk while a map task is being saved for resume: the job fails
// with an I/O error naming the file (exit 4), publishes nothing, and
// leaves no partial task file behind (it used to keep it until the next
// run, holding the space the user needs back). One rank, so the rank that
// fails is the only one (a peer killed by the abort leaves its partial
// file to the next run's clean-up). 1 MiB tmpfs; about 2.5 MB of saved
// shuffle frames from 330,000 distinct random words.
TEST(RobustnessE2E, FullDiskWhileSavingAMapTaskLeavesNoPartialFile) {
  TempDir dir;
  std::mt19937_64 rng(5);
  std::string text;
  while (text.size() < (size_t{4} << 20)) {
    for (int i = 0; i < 12; ++i) text += static_cast<char>('a' + rng() % 26);
    text += (text.size() % 80 < 13) ? '\n' : ' ';
  }
  WriteFile(dir / "in.txt", text);
  ASSERT_EQ(RunCommand("mkdir " + dir / "full").exit_code, 0);
  const std::string full = dir / "full";
  const std::string mount = "mount -t tmpfs -o size=1m tmpfs '" + full + "' && ";
  if (RunCommand("unshare -m sh -c \"" + mount + "true\"").exit_code != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  }
  // The listing runs inside the namespace, while the tmpfs is mounted.
  CommandResult r = RunCommand("unshare -m sh -c \"" + mount + BinPath("sluice") +
                               " run wordcount --input '" + (dir / "in.txt") + "' --output '" + full +
                               "/out'; echo exit=\\$?; find '" + full + "' -name '*.tmp' | sed 's/^/left: /'; "
                               "test -e '" + full + "/out' && echo published\"");
  EXPECT_NE(r.output.find("exit=4\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(".sluice-work"), std::string::npos) << "the message names the file\n" << r.output;
  EXPECT_EQ(r.output.find("left: "), std::string::npos) << "a partial task file was left\n" << r.output;
  EXPECT_EQ(r.output.find("published"), std::string::npos) << "output was published\n" << r.output;
}

// --split-size far too small for the input says so (it used to cut 100 KB
// into 100,000 tasks without a word).
TEST(RobustnessE2E, TinySplitSizeIsWarnedAbout) {
  TempDir dir;
  std::string text;
  while (text.size() < 10500) text += "word" + std::to_string(text.size() % 97) + "\n";
  WriteFile(dir / "in.txt", text);
  CommandResult r = RunSluice(1, "run wordcount --split-size 1 --input '" + (dir / "in.txt") +
                                     "' --output '" + (dir / "out") + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--split-size 1 cuts"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("map tasks"), std::string::npos) << r.output;
  CommandResult fine = RunSluice(1, "run wordcount --input '" + (dir / "in.txt") + "' --output '" +
                                        (dir / "out2") + "'");
  EXPECT_EQ(fine.output.find("--split-size"), std::string::npos) << fine.output;
}

// Found by the Slurm test: --report into a folder that does not exist
// failed the job after all its work (exit 3, nothing published). It is a
// usage error, refused before anything runs, under mpirun too.
TEST(RobustnessE2E, ReportIntoAMissingFolderIsRefusedBeforeAnyWork) {
  TempDir dir;
  WriteFile(dir / "in.txt", "a b a\n");
  for (int ranks : {1, 2}) {
    CommandResult r = RunSluice(ranks, "run wordcount --input '" + (dir / "in.txt") + "' --output '" +
                                           (dir / "out") + "' --report '" + (dir / "reports/r.json") + "'");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("flag --report: folder '" + (dir / "reports") + "'"), std::string::npos) << r.output;
    EXPECT_FALSE(Exists(dir / "out"));
    EXPECT_EQ(ListDir(dir.path()), std::vector<std::string>{"in.txt"});
  }
}

}  // namespace
}  // namespace sluice::e2e
