// Helpers for end-to-end tests: temp dirs, running the real binaries (as a
// plain process or under mpirun), and reading a job's output.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sluice::e2e {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
  double seconds = 0;
};

// Runs a shell command, capturing its output and exit code.
CommandResult RunCommand(const std::string& command);

// The command prefix that starts `ranks` MPI ranks on this machine (root
// allowed, oversubscribed), with sanitizer settings fit for MPI; empty for
// ranks == 1 (a plain process needs no launcher).
std::string MpiLauncher(int ranks);

// `sluice ARGS` as one plain process (ranks == 1) or under mpirun (ranks > 1,
// with --allow-run-as-root --oversubscribe so it works as root on 2 cores).
CommandResult RunSluice(int ranks, const std::string& args);

// The path of a built binary / plugin.
std::string BinPath(const std::string& name);
std::string PluginPath(const std::string& file);

// A fresh directory under /tmp, removed with its contents by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& contents);
// DIR/f0.txt .. f{files-1}.txt, ~160 KB each: 20,000 lines "wN y", N =
// (line * 13 + file) % 7000, so 7,000 words repeat across files and splits.
void WriteNumberedWords(const std::string& dir, int files);
std::string ReadFile(const std::string& path);
bool Exists(const std::string& path);
// Sorted entry names of a directory (empty if it does not exist).
std::vector<std::string> ListDir(const std::string& path);

// The JSON document at `path` (a job's _report.json or _manifest.json),
// parsed. When the file is missing or is not JSON (nlohmann::json refuses
// invalid UTF-8 too) it fails the test and returns an empty object, so that
// lookups that follow report what is missing instead of throwing.
nlohmann::json ReadJson(const std::string& path);

// The unsigned number at `pointer` (RFC 6901: "/resume/map_tasks_reused")
// in OUT/_report.json; fails the test and returns 0 when there is none.
uint64_t ReportNumber(const std::string& out, const std::string& pointer);
// A built-in counter of OUT/_report.json ("spill_runs": its "counters").
uint64_t ReportCounter(const std::string& out, const std::string& name);

// Contents of part-00000 .. part-{n-1}, in order; fails the test if a part is
// missing or there are other files (beside _SUCCESS, the manifest, the report
// and _bad_records, and the merge state _state/ of an --incremental run).
std::vector<std::string> ReadParts(const std::string& output_dir, int partitions);

// Word counts computed independently of Sluice: the reference.
std::map<std::string, uint64_t> ReferenceWordCount(const std::vector<std::string>& files);

}  // namespace sluice::e2e
