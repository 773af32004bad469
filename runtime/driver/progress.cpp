#include "runtime/driver/progress.h"

#include <unistd.h>

#include <cstdlib>

#include <spdlog/spdlog.h>

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

std::string Duration(double seconds) {
  char buf[32];
  const long s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s / 60 % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

std::chrono::milliseconds ProgressIntervalFromEnv() {
  if (const char* v = std::getenv("SLUICE_PROGRESS_SECONDS")) {
    const double s = std::atof(v);
    if (s > 0) return std::chrono::milliseconds(static_cast<long>(s * 1000));
  }
  return std::chrono::seconds(10);
}

ProgressReporter::ProgressReporter(bool enabled, std::chrono::milliseconds interval)
    : enabled_(enabled),
      tty_(isatty(STDERR_FILENO) == 1),
      interval_(tty_ ? std::chrono::milliseconds(250) : interval),
      start_(Clock::now()),
      last_(start_) {}

std::string ProgressReporter::Render(const ProgressSample& s, double seconds) const {
  const double mb = static_cast<double>(s.done_bytes) / 1e6;
  const double mbps = seconds > 0 ? mb / seconds : 0;
  const double records_per_byte =
      s.own_bytes > 0 ? static_cast<double>(s.own_records) / static_cast<double>(s.own_bytes) : 0;
  const double pct = s.total_bytes > 0
                         ? 100.0 * static_cast<double>(s.done_bytes) / static_cast<double>(s.total_bytes)
                         : 100.0;
  char buf[256];
  if (s.parts_total > 0) {
    std::snprintf(buf, sizeof buf, "%s: partition %u/%u (rank 0) | %s elapsed | spills %llu",
                  s.phase, s.parts_done, s.parts_total, Duration(seconds).c_str(),
                  static_cast<unsigned long long>(s.spills));
  } else {
    const double left = mbps > 0 ? (static_cast<double>(s.total_bytes - s.done_bytes) / 1e6) / mbps : 0;
    std::snprintf(buf, sizeof buf,
                  "%s: %5.1f%% of %.0f MB | %.1f MB/s | ~%.0fk records/s | ETA %s | spills %llu",
                  s.phase, pct, static_cast<double>(s.total_bytes) / 1e6, mbps,
                  mbps * 1e6 * records_per_byte / 1e3, Duration(left).c_str(),
                  static_cast<unsigned long long>(s.spills));
  }
  return buf;
}

void ProgressReporter::Update(const ProgressSample& s) {
  if (!enabled_) return;
  const auto now = Clock::now();
  if (now - last_ < interval_) return;
  last_ = now;
  const std::string line = Render(s, std::chrono::duration<double>(now - start_).count());
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    drawn_ = true;
  } else {
    spdlog::info("progress: {}", line);
  }
}

void ProgressReporter::Finish() {
  if (enabled_ && tty_ && drawn_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace sluice
