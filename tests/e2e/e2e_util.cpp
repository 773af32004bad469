#include "tests/e2e/e2e_util.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sluice::e2e {

CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  auto start = std::chrono::steady_clock::now();
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

std::string BinPath(const std::string& name) { return std::string(SLUICE_BIN_DIR) + "/" + name; }
std::string PluginPath(const std::string& file) { return std::string(SLUICE_PLUGIN_DIR) + "/" + file; }

std::string MpiLauncher(int ranks) {
  if (ranks <= 1) return "";
  // In sanitizer builds, leak checking stays on for plain-process runs
  // only: Open MPI dlcloses its components at MPI_Finalize, so the memory
  // they keep is reported from "<unknown module>" and no suppression can
  // name it. ASan's memory-error checks and UBSan stay on under mpirun.
  const char* asan = std::getenv("ASAN_OPTIONS");
  return "ASAN_OPTIONS='" + std::string(asan ? asan : "") + ":detect_leaks=0' " +
         std::string(SLUICE_MPIEXEC) + " --allow-run-as-root --oversubscribe -np " +
         std::to_string(ranks) + " ";
}

CommandResult RunSluice(int ranks, const std::string& args) {
  return RunCommand(MpiLauncher(ranks) + BinPath("sluice") + " " + args);
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/sluice-e2e-XXXXXX";
  char* d = mkdtemp(tmpl);
  if (d == nullptr) std::abort();
  path_ = d;
}

TempDir::~TempDir() { RunCommand("rm -rf '" + path_ + "'"); }

void WriteNumberedWords(const std::string& dir, int files) {
  ASSERT_EQ(RunCommand("mkdir -p '" + dir + "'").exit_code, 0);
  for (int f = 0; f < files; ++f) {
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "w" + std::to_string((i * 13 + f) % 7000) + " y\n";
    WriteFile(dir + "/f" + std::to_string(f) + ".txt", text);
  }
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream f(path, std::ios::binary);
  f << contents;
  ASSERT_TRUE(f.good()) << "cannot write " << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

nlohmann::json ReadJson(const std::string& path) {
  if (!Exists(path)) {
    ADD_FAILURE() << path << " does not exist";
    return nlohmann::json::object();
  }
  const std::string text = ReadFile(path);
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    ADD_FAILURE() << path << " is not JSON:\n" << text;
    return nlohmann::json::object();
  }
  return doc;
}

uint64_t ReportNumber(const std::string& out, const std::string& pointer) {
  const nlohmann::json report = ReadJson(out + "/_report.json");
  const nlohmann::json::json_pointer at(pointer);
  if (!report.contains(at) || !report[at].is_number_unsigned()) {
    ADD_FAILURE() << "no unsigned number at " << pointer << " in " << out << "/_report.json:\n"
                  << report.dump(2);
    return 0;
  }
  return report[at].get<uint64_t>();
}

uint64_t ReportCounter(const std::string& out, const std::string& name) {
  return ReportNumber(out, "/counters/" + name);
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> ReadParts(const std::string& output_dir, int partitions) {
  std::vector<std::string> parts;
  std::vector<std::string> expected_names = {"_SUCCESS", "_manifest.json", "_report.html", "_report.json"};
  for (int p = 0; p < partitions; ++p) {
    char name[32];
    std::snprintf(name, sizeof name, "part-%05d", p);
    expected_names.push_back(name);
    parts.push_back(ReadFile(output_dir + "/" + name));
  }
  // Present exactly when the job skipped records (--max-bad-records).
  if (Exists(output_dir + "/_bad_records")) expected_names.push_back("_bad_records");
  // Present exactly when the run was --incremental (its merge state).
  if (ReadFile(output_dir + "/_manifest.json").find("\"incremental\": {") != std::string::npos) {
    expected_names.push_back("_state");
  }
  std::sort(expected_names.begin(), expected_names.end());
  EXPECT_EQ(ListDir(output_dir), expected_names) << "unexpected files in " << output_dir;
  return parts;
}

std::map<std::string, uint64_t> ReferenceWordCount(const std::vector<std::string>& files) {
  std::map<std::string, uint64_t> counts;
  for (const std::string& path : files) {
    std::string text = ReadFile(path);
    std::string word;
    for (char c : text) {
      bool space = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
      if (space) {
        if (!word.empty()) ++counts[word];
        word.clear();
      } else {
        word.push_back(c);
      }
    }
    if (!word.empty()) ++counts[word];
  }
  return counts;
}

}  // namespace sluice::e2e
