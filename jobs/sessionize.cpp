// Sessionize: cuts web server logs into per-client sessions, step one of the
// weblog pipeline (scripts/pipeline-weblog; step two is dailystats.cpp).
//
//   sluice run sessionize [--param gap_seconds=1800] LOGS SESSIONS
//
// Reads Common Log Format lines:
//   host ident user [dd/Mon/yyyy:HH:MM:SS +zzzz] "GET /path HTTP/1.1" status bytes
// A client is the host field. A client's hits, in time order, belong to one
// session until a pause longer than gap_seconds; the next hit starts a new
// one. Writes Sluice key-value files: key = the UTC day "YYYY-MM-DD" the
// session started, value = Session below. A line that does not parse is a
// bad record (skipped up to --max-bad-records, listed in OUTPUT/_bad_records).
//
// Secondary sort orders each client's hits by time: the key is
// (client, epoch seconds), grouped on the client.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "jobs/clf.h"
#include <sluice/job.h>

namespace {

// client, start (epoch seconds), duration (last hit - first, seconds), hits,
// bytes. dailystats.cpp reads this type back: change both together.
using Session = std::tuple<std::string, int64_t, int64_t, uint64_t, uint64_t>;

std::string DayOf(int64_t epoch) {
  using namespace std::chrono;
  const year_month_day date{floor<days>(sys_seconds(seconds(epoch)))};
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

class Sessionize : public sluice::Job<Sessionize, std::pair<std::string, int64_t>, uint64_t> {
 public:
  using Output = sluice::KeyValueOutput<std::string, Session>;
  static constexpr size_t kGroupFields = 1;
  static constexpr sluice::Param<int64_t> kGapSeconds{
      "gap_seconds", 1800, "a pause longer than this many seconds ends a session"};
  static constexpr auto kParams = sluice::ParamTable(kGapSeconds);

  // Emits (client, time) -> bytes sent ("-" counts as 0).
  void Map(std::string_view line, Emitter& emit) {
    const size_t space = line.find(' ');
    const size_t open = line.find('[');
    const size_t close = line.find(']');
    const size_t last_space = line.rfind(' ');
    uint64_t bytes = 0;
    if (space == 0 || space == std::string_view::npos || open == std::string_view::npos ||
        close == std::string_view::npos || open > close || last_space < close ||
        !clf::ParseClfTime(line.substr(open + 1, close - open - 1), &key_.second) ||
        (line.substr(last_space + 1) != "-" &&
         !clf::ParseNumber(line.substr(last_space + 1), &bytes))) {
      throw sluice::BadRecord("not a Common Log Format line");
    }
    key_.first.assign(line.substr(0, space));
    emit(key_, bytes);
  }

  void Reduce(const Key& key, Values& hits, Output& out) {
    int64_t start = 0;
    int64_t last = 0;
    uint64_t count = 0;
    uint64_t bytes = 0;
    auto write = [&] { out(DayOf(start), Session{key.first, start, last - start, count, bytes}); };
    for (const auto& [full_key, sent] : hits.with_keys()) {
      const int64_t time = full_key.second;
      if (count > 0 && time - last > gap_seconds_) {
        write();
        count = bytes = 0;
      }
      if (count == 0) start = time;
      last = time;
      ++count;
      bytes += sent;
    }
    write();
  }

 private:
  const int64_t gap_seconds_ = param(kGapSeconds);
  Key key_;
};

}  // namespace

SLUICE_JOB(Sessionize, "sessionize",
           "Cuts Common Log Format hits into per-client sessions (key-value output by day)")
