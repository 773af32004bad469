// DailyStats: per-day totals of the sessions that sessionize wrote, step two
// of the weblog pipeline (scripts/pipeline-weblog).
//
//   sluice run sessionize LOGS SESSIONS
//   sluice run dailystats SESSIONS DAILY
//
// Output: one line per day (the UTC day a session started),
//   day\tsessions\thits\tbytes\tmean_duration\tunique_clients
// mean_duration in whole seconds, rounded down.
//
// Secondary sort counts unique clients without a set per day: the key is
// (day, client) grouped on the day, so one client's sessions of a day arrive
// side by side and each change of client is a new one.
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include <sluice/job.h>

namespace {

// What sessionize.cpp writes: client, start (epoch seconds), duration
// (seconds), hits, bytes. Change both together.
using Session = std::tuple<std::string, int64_t, int64_t, uint64_t, uint64_t>;

// duration, hits, bytes of one session
using Totals = std::tuple<int64_t, uint64_t, uint64_t>;

class DailyStats : public sluice::Job<DailyStats, std::pair<std::string, std::string>, Totals> {
 public:
  using Input = sluice::KeyValueInput<std::string, Session>;
  static constexpr size_t kGroupFields = 1;

  void Map(std::string_view day, const Session& session, Emitter& emit) {
    const auto& [client, start, duration, hits, bytes] = session;
    key_.first.assign(day);
    key_.second.assign(client);
    emit(key_, Totals{duration, hits, bytes});
  }

  void Reduce(const Key& key, Values& sessions, Output& out) {
    uint64_t count = 0, clients = 0, hits = 0, bytes = 0;
    int64_t duration = 0;
    for (const auto& [full_key, totals] : sessions.with_keys()) {
      const std::string& client = full_key.second;
      if (count == 0 || client != last_client_) {
        ++clients;
        last_client_ = client;
      }
      ++count;
      duration += std::get<0>(totals);
      hits += std::get<1>(totals);
      bytes += std::get<2>(totals);
    }
    const int64_t mean_duration = duration / static_cast<int64_t>(count);  // durations are >= 0
    out(key.first, std::make_tuple(count, hits, bytes, mean_duration, clients));
  }

 private:
  Key key_;
  std::string last_client_;
};

}  // namespace

SLUICE_JOB(DailyStats, "dailystats",
           "Per-day sessions, hits, bytes, mean duration and unique clients from sessionize")
