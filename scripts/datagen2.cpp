// sluice-datagen2: deterministic inputs for the library jobs join,
// invertedindex and sessionize -> dailystats.
//
//   sluice-datagen2 KIND --output DIR [--files N] [--lines N] [--seed S] [options]
//
// KIND (files are DIR/KIND-00000.EXT ...; --lines is per file):
//   users   `user_id\tname\tcountry`, ids u0 .. u<files*lines-1> in shuffled
//           order, each once
//   events  `user_id\ttimestamp\taction`, timestamps unordered; ids drawn
//           skewed from u0 .. u<U-1> (--users U, default 10000), and one
//           event in ten from u<U> .. u<U+U/10-1>: users that do not exist
//   docs    text: mixed-case words of letters and digits with punctuation,
//           empty lines, repeated words, now and then a non-ASCII byte
//   clf     Common Log Format hits over the 3 days from 2024-03-09 UTC, time
//           ordered, each file a stretch of time: --clients C (default 300)
//           clients visiting in bursts separated by pauses shorter than,
//           exactly, and longer than 30 minutes; about 1 line in 300 is
//           malformed. files*lines hits shared among the clients, fewer
//           where a client's visits run past the 3 days (at about 250 hits).
//
// The bytes depend only on the arguments: randomness is splitmix64, and only
// integer arithmetic decides what is written.
//
// Exit codes: 0 ok, 2 usage error, 4 I/O error.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

#include "splitmix.h"

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitIo = 4;
constexpr const char* kProgram = "sluice-datagen2";
constexpr const char* kUsage =
    "usage: sluice-datagen2 users|events|docs|clf --output DIR [--files N] [--lines N]\n"
    "                       [--seed S] [--users U] [--clients C]\n"
    "(the comment at the top of scripts/datagen2.cpp describes each kind)\n";

struct Options {
  std::string kind;
  std::string output;
  uint64_t files = 4;
  uint64_t lines = 10000;  // per file
  uint64_t seed = 42;
  uint64_t users = 10000;  // events: how many users exist
  uint64_t clients = 300;  // clf
};

using Random = SplitMix64;

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n%s", kProgram, message.c_str(), kUsage);
  std::exit(kExitUsage);
}

Options ParseArguments(int argc, char** argv) {
  Options o;
  if (argc < 2) UsageError("missing KIND");
  o.kind = argv[1];
  if (o.kind == "--help" || o.kind == "-h") {
    std::fputs(kUsage, stdout);
    std::exit(0);
  }
  if (o.kind != "users" && o.kind != "events" && o.kind != "docs" && o.kind != "clf") {
    UsageError("unknown KIND '" + o.kind + "'");
  }
  for (int i = 2; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) UsageError(std::string(flag) + ": missing value");
    const std::string_view value = argv[i + 1];
    if (flag == "--output") {
      o.output = value;
      continue;
    }
    uint64_t n = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || error != std::errc() || end != value.data() + value.size()) {
      UsageError(std::string(flag) + ": expected an integer, got '" + std::string(value) + "'");
    }
    if (flag == "--files")
      o.files = n;
    else if (flag == "--lines")
      o.lines = n;
    else if (flag == "--seed")
      o.seed = n;
    else if (flag == "--users")
      o.users = n;
    else if (flag == "--clients")
      o.clients = n;
    else
      UsageError("unknown flag " + std::string(flag));
  }
  if (o.output.empty()) UsageError("--output is required");
  if (o.files == 0 || o.users == 0 || o.clients == 0) UsageError("counts must be positive");
  return o;
}

// Writes `lines` (each ending in '\n') into DIR/KIND-NNNNN.EXT, splitting
// them into Options::files files of about equal line counts.
bool WriteFiles(const Options& o, const char* extension, const std::vector<std::string>& lines) {
  size_t next = 0;
  for (uint64_t f = 0; f < o.files; ++f) {
    char name[64];
    std::snprintf(name, sizeof name, "/%s-%05llu.%s", o.kind.c_str(),
                  static_cast<unsigned long long>(f), extension);
    const std::string path = o.output + name;
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr) {
      std::fprintf(stderr, "%s: %s: cannot create: %s\n", kProgram, path.c_str(),
                   std::strerror(errno));
      return false;
    }
    const size_t end = lines.size() * (f + 1) / o.files;
    for (; next < end; ++next) std::fwrite(lines[next].data(), 1, lines[next].size(), file);
    if (std::fclose(file) != 0) {
      std::fprintf(stderr, "%s: %s: write failed: %s\n", kProgram, path.c_str(),
                   std::strerror(errno));
      return false;
    }
  }
  return true;
}

// A pronounceable lowercase word of 2 to 4 syllables.
std::string Word(Random& rng) {
  static const char* kSyllables[] = {"ka",  "lo",  "mi", "ra", "ne",  "to",  "su", "vi", "den",
                                     "mar", "tel", "os", "qu", "bra", "zin", "ph", "el", "an"};
  std::string w;
  for (uint64_t n = rng.Between(2, 4); n > 0; --n) w += rng.Pick(kSyllables);
  return w;
}

std::vector<std::string> Users(const Options& o, Random& rng) {
  static const char* kCountries[] = {"DE", "FR", "US", "JP", "BR", "IN", "NG", "SE", "CA", "AU"};
  std::vector<uint64_t> ids(o.files * o.lines);
  for (uint64_t i = 0; i < ids.size(); ++i) ids[i] = i;
  for (uint64_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[rng.Below(i)]);
  std::vector<std::string> lines;
  for (uint64_t id : ids) {
    std::string name = Word(rng);
    name[0] = static_cast<char>(name[0] - 'a' + 'A');
    lines.push_back("u" + std::to_string(id) + "\t" + name + " " + Word(rng) + "\t" +
                    rng.Pick(kCountries) + "\n");
  }
  return lines;
}

std::vector<std::string> Events(const Options& o, Random& rng) {
  static const char* kActions[] = {"view",  "view",   "view", "click",
                                   "click", "search", "cart", "buy"};
  std::vector<std::string> lines;
  for (uint64_t i = 0; i < o.files * o.lines; ++i) {
    // min of two draws: low ids are the busy users
    uint64_t id = std::min(rng.Below(o.users), rng.Below(o.users));
    if (rng.Below(10) == 0) id = o.users + rng.Below(o.users / 10 + 1);
    const uint64_t time = 1700000000 + rng.Below(30 * 86400);
    lines.push_back("u" + std::to_string(id) + "\t" + std::to_string(time) + "\t" +
                    rng.Pick(kActions) + "\n");
  }
  return lines;
}

std::vector<std::string> Docs(const Options& o, Random& rng) {
  static const char* kSeparators[] = {" ",   " ",  " ",  " ",  ", ", ". ",
                                      " - ", "; ", "\t", " (", ") "};
  std::vector<std::string> vocabulary;
  for (int i = 0; i < 3000; ++i) {
    vocabulary.push_back(Word(rng) + (i % 7 == 0 ? std::to_string(i % 100) : ""));
  }
  std::vector<std::string> lines;
  for (uint64_t i = 0; i < o.files * o.lines; ++i) {
    std::string line;
    const uint64_t words = rng.Below(20) == 0 ? 0 : rng.Between(1, 16);
    std::string previous;
    for (uint64_t w = 0; w < words; ++w) {
      // min of two draws: a skewed vocabulary, so frequent words span docs
      std::string word =
          vocabulary[std::min(rng.Below(vocabulary.size()), rng.Below(vocabulary.size()))];
      if (!previous.empty() && rng.Below(8) == 0) word = previous;  // a repeat within the line
      previous = word;
      const uint64_t shape = rng.Below(50);
      if (shape < 5) word[0] = static_cast<char>(word[0] - 'a' + 'A');
      if (shape == 5) std::transform(word.begin(), word.end(), word.begin(), ::toupper);
      if (shape == 6) word += "\xc3\xa9";  // é: ends the ASCII word
      if (w > 0) line += rng.Pick(kSeparators);
      line += word;
    }
    lines.push_back(line + (rng.Below(100) == 0 ? "\r\n" : "\n"));
  }
  return lines;
}

std::string ClfTime(int64_t epoch) {
  using namespace std::chrono;
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_seconds t{seconds(epoch)};
  const year_month_day date{floor<days>(t)};
  const hh_mm_ss clock{t - floor<days>(t)};
  char text[64];
  std::snprintf(text, sizeof text, "%02u/%s/%04d:%02d:%02d:%02d +0000",
                static_cast<unsigned>(date.day()), kMonths[static_cast<unsigned>(date.month()) - 1],
                static_cast<int>(date.year()), static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return text;
}

std::vector<std::string> Clf(const Options& o, Random& rng) {
  constexpr int64_t kStart = 1709942400;  // 2024-03-09 00:00:00 UTC
  constexpr int64_t kEnd = kStart + 3 * 86400;
  static const char* kPaths[] = {
      "/",     "/index.html",      "/about",        "/products",    "/products/42",
      "/cart", "/search?q=sluice", "/img/logo.png", "/api/v1/items"};
  static const char* kUsers[] = {"-", "-", "-", "alice", "bob"};
  static const char* kStatuses[] = {"200", "200", "200", "200", "304", "404"};
  struct Hit {
    int64_t time;
    uint64_t client;
    std::string line;
  };
  std::vector<Hit> hits;
  const uint64_t total = o.files * o.lines;
  for (uint64_t c = 0; c < o.clients; ++c) {
    const std::string host =
        c % 5 == 0 ? "crawler" + std::to_string(c) + ".example.net"
                   : "10.0." + std::to_string(c / 256) + "." + std::to_string(c % 256);
    int64_t t = kStart + static_cast<int64_t>(rng.Below(2 * 86400));  // visits need time to unfold
    for (uint64_t n = total / o.clients + (c < total % o.clients ? 1 : 0); n > 0 && t < kEnd;) {
      const uint64_t burst = rng.Between(1, 12);
      int64_t last = t;
      for (uint64_t b = 0; b < burst && n > 0 && t < kEnd; ++b, --n) {
        const std::string status = rng.Pick(kStatuses);
        const std::string bytes = status == "304" ? "-" : std::to_string(rng.Below(50000));
        hits.push_back({t, c,
                        host + " - " + rng.Pick(kUsers) + " [" + ClfTime(t) + "] \"GET " +
                            rng.Pick(kPaths) + " HTTP/1.1\" " + status + " " + bytes + "\n"});
        last = t;
        t += static_cast<int64_t>(rng.Between(1, 120));
      }
      const uint64_t pause = rng.Below(100);
      t = last + static_cast<int64_t>(pause < 45   ? rng.Between(60, 1799)
                                      : pause < 50 ? 1800  // still the same session
                                                   : rng.Between(1801, 4 * 3600));
    }
  }
  std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return std::tie(a.time, a.client) < std::tie(b.time, b.client);
  });
  static const char* kMalformed[] = {
      "not a log line at all\n",
      "10.9.9.9 - - [09/Foo/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 200 12\n",
      "10.9.9.9 - - [09/Mar/2024:10:00\n",
      "10.9.9.9 - - [10/Mar/2024:25:00:00 +0000] \"GET / HTTP/1.1\" 200 12\n",
      "10.9.9.9 - - [10/Mar/2024:11:00:00 +0000] \"GET / HTTP/1.1\" 200 lots\n",
      "\n"};
  std::vector<std::string> lines;
  for (Hit& hit : hits) {
    if (rng.Below(300) == 0) lines.push_back(rng.Pick(kMalformed));
    lines.push_back(std::move(hit.line));
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArguments(argc, argv);
  std::error_code error;
  std::filesystem::create_directories(o.output, error);
  if (error) {
    std::fprintf(stderr, "%s: %s: cannot create directory: %s\n", kProgram, o.output.c_str(),
                 error.message().c_str());
    return kExitIo;
  }
  Random rng(o.seed);
  bool ok = false;
  if (o.kind == "users") ok = WriteFiles(o, "tsv", Users(o, rng));
  if (o.kind == "events") ok = WriteFiles(o, "tsv", Events(o, rng));
  if (o.kind == "docs") ok = WriteFiles(o, "txt", Docs(o, rng));
  if (o.kind == "clf") ok = WriteFiles(o, "log", Clf(o, rng));
  return ok ? 0 : kExitIo;
}
