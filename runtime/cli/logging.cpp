#include "runtime/cli/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <vector>

namespace sluice {

Status SetupLogging(int rank, const std::string& level, bool quiet, const std::string& log_dir) {
  const auto chosen = spdlog::level::from_str(level);
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  sinks.back()->set_level(quiet ? spdlog::level::err : chosen);
  Status status;
  if (!log_dir.empty()) {
    const std::string path = log_dir + "/rank-" + std::to_string(rank) + ".log";
    try {
      // The file gets every line of this rank at the chosen level, whatever
      // --quiet does to the terminal.
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/true);
      file->set_level(chosen);
      sinks.push_back(file);
    } catch (const spdlog::spdlog_ex& e) {
      status = Status::Usage("flag --log-dir: cannot write '" + path + "': " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("sluice", sinks.begin(), sinks.end());
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("[%H:%M:%S.%e] [rank " + std::to_string(rank) + "] [%^%l%$] %v");
  spdlog::set_level(quiet && log_dir.empty() ? spdlog::level::err : chosen);
  spdlog::flush_on(spdlog::level::info);
  return status;
}

}  // namespace sluice
