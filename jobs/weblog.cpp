// Weblog: the usual traffic report from web server access logs.
//
//   sluice run weblog --input logs/ --output report/
//
// Reads Common Log Format lines:
//   host ident authuser [dd/Mon/yyyy:HH:MM:SS +zzzz] "METHOD /path HTTP/1.1" status bytes
// and writes "dimension\tvalue\tcount" lines:
//   status\t404\tN       hits per HTTP status
//   path\t/index.html\tN hits per request path (the query string included)
//   hour\t2026-11-22T13\tN hits per hour, in UTC
//   client\t10.0.0.7\tN  hits per client (the host field)
//   bytes\ttotal\tN      bytes sent, all hits ("-" counts as 0)
// User counter: unique_clients (distinct hosts). A line that does not parse
// is a bad record (skipped up to --max-bad-records, listed in
// OUTPUT/_bad_records).
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include "jobs/clf.h"
#include <sluice/job.h>

namespace {

// The UTC hour "yyyy-mm-ddTHH" of a CLF timestamp.
bool ParseHour(std::string_view t, char (&hour_text)[32]) {
  int64_t epoch = 0;
  if (!clf::ParseClfTime(t, &epoch)) return false;
  using namespace std::chrono;
  const sys_seconds utc{seconds(epoch)};
  const sys_days utc_day = floor<days>(utc);
  const year_month_day date{utc_day};
  std::snprintf(hour_text, sizeof hour_text, "%04d-%02u-%02uT%02d", int(date.year()),
                unsigned(date.month()), unsigned(date.day()),
                int(duration_cast<hours>(utc - utc_day).count()));
  return true;
}

// The fields of one log line that the report uses; views into the line.
struct Hit {
  std::string_view client;
  std::string_view path;
  std::string_view status;
  char hour[32];  // "yyyy-mm-ddTHH"; larger, so snprintf provably fits
  uint64_t bytes = 0;
};

// host ident authuser [time] "METHOD path protocol" status bytes
bool ParseClf(std::string_view line, Hit* hit) {
  constexpr size_t npos = std::string_view::npos;
  const size_t space = line.find(' ');
  const size_t open = line.find('[');
  const size_t close = line.find(']');
  const size_t quote = line.rfind('"');  // the request's closing quote
  if (space == 0 || space == npos || open == npos || close == npos || open > close ||
      line.substr(close, 3) != "] \"" || quote == npos || quote < close + 3 ||
      !ParseHour(line.substr(open + 1, close - open - 1), hit->hour)) {
    return false;
  }
  hit->client = line.substr(0, space);

  const std::string_view request = line.substr(close + 3, quote - close - 3);
  const size_t path_start = request.find(' ');
  if (path_start == 0 || path_start == npos) return false;
  hit->path = request.substr(path_start + 1);
  hit->path = hit->path.substr(0, hit->path.find(' '));

  // " status bytes"
  const std::string_view tail = line.substr(quote + 1);
  unsigned code = 0;
  if (tail.size() < 6 || tail[0] != ' ' || tail[4] != ' ' ||
      !clf::ParseNumber(tail.substr(1, 3), &code) || code < 100) {
    return false;
  }
  hit->status = tail.substr(1, 3);
  const std::string_view bytes = tail.substr(5);
  return !hit->path.empty() && (bytes == "-" || clf::ParseNumber(bytes, &hit->bytes));
}

class Weblog : public sluice::Job<Weblog, std::string, uint64_t> {
 public:
  void Map(std::string_view line, Emitter& emit) {
    Hit hit;
    if (!ParseClf(line, &hit)) throw sluice::BadRecord("not a Common Log Format line");
    Emit(emit, "status\t", hit.status, 1);
    Emit(emit, "path\t", hit.path, 1);
    Emit(emit, "hour\t", hit.hour, 1);
    Emit(emit, "client\t", hit.client, 1);
    emit("bytes\ttotal", hit.bytes);
  }

  // Sums (a best-k list, exact aggregates) fold in any order and Reduce
  // reads only the fold: --incremental may build on the previous result.
  static constexpr bool kMergeable = true;

  uint64_t Combine(uint64_t a, uint64_t b) { return a + b; }

  void Reduce(std::string_view key, Values& counts, Output& out) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    if (key.starts_with("client\t")) unique_clients_.Add();
    // Written as two key columns, "dimension<TAB>value<TAB>total": a key
    // holding a tab is refused by the text output (it could not be told
    // from the key/value separator), a pair's fields are joined by one.
    const size_t tab = key.find('\t');
    out(std::make_pair(key.substr(0, tab), key.substr(tab + 1)), total);
  }

 private:
  // emit("dimension\tvalue", n) without a string per line: key_ keeps its
  // capacity.
  void Emit(Emitter& emit, std::string_view dimension, std::string_view value, uint64_t n) {
    key_.assign(dimension);
    key_.append(value);
    emit(key_, n);
  }

  std::string key_;
  sluice::Counter& unique_clients_ = counter("unique_clients");
};

}  // namespace

SLUICE_JOB(Weblog, "weblog",
           "Hits per status, path, hour and client, and bytes sent, from Common Log Format lines")
