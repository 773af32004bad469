// sluice-datagen: deterministic inputs for the library jobs weblog, grep,
// topk and distinct.
//
//   sluice-datagen KIND --output DIR [--files N] [--lines N] [--seed S]
//
// KIND (files are DIR/KIND-00000.EXT ...; --lines is per file):
//   weblog  Common Log Format hits over 3 days from 2026-11-20 00:00 UTC, in
//           no particular order: 300 clients and 200 paths, both Zipf-like
//           (a few are most of the hits), status 200/301/404/500, bytes or
//           "-", time zones +0000, +0100 and -0500. About 1 line in 400 is
//           malformed (truncated, bad status, month or bytes, junk, empty).
//   scores  "key\tscore\titem": 300 keys, Zipf-like; scores multiples of 5
//           in [-500, 1495], so equal scores are common; 5000 items. About 1
//           line in 500 is malformed (no tabs, one tab, score not an int64).
//   pairs   "key\tvalue": 1000 keys, Zipf-like; key i draws its values from
//           1 + i*13 % 300 different ones, so values repeat; 1 value in 50
//           holds a tab. About 1 line in 1000 has no tab.
//
// The bytes depend only on the arguments: randomness is splitmix64, one
// stream per file, and only integer arithmetic decides what is written.
//
// Exit codes: 0 ok, 2 usage error, 4 I/O error.
#include <cerrno>
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

#include "splitmix.h"

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitIo = 4;
constexpr const char* kProgram = "sluice-datagen";
constexpr const char* kUsage =
    "usage: sluice-datagen weblog|scores|pairs --output DIR [--files N] [--lines N] [--seed S]\n"
    "  --files N   files to write (default 4)\n"
    "  --lines N   lines per file (default 10000)\n"
    "  --seed S    64-bit seed (default 42)\n"
    "(the comment at the top of scripts/datagen.cpp describes each kind)\n";

struct Options {
  std::string kind;
  std::string output;
  uint64_t files = 4;
  uint64_t lines = 10000;  // per file
  uint64_t seed = 42;
};

class Random : public SplitMix64 {
 public:
  // Stream `stream` of `seed`: files get independent streams.
  Random(uint64_t seed, uint64_t stream) : SplitMix64(seed ^ (stream * 0xD1B54A32D192ED03ull)) {
    Next();
  }
  // In [0, n), rank r drawn with probability falling like r^(-2/3): the cube
  // of a uniform draw, in integers. Rank 0 is the most frequent.
  uint64_t Skewed(uint64_t n) {
    const uint64_t u = Next() >> 43;  // 21 bits: u^3 < 2^63
    return uint64_t((static_cast<unsigned __int128>(u * u * u) * n) >> 63);
  }
};

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
  if (o.kind != "weblog" && o.kind != "scores" && o.kind != "pairs") {
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
    if (flag == "--files") {
      o.files = n;
    } else if (flag == "--lines") {
      o.lines = n;
    } else if (flag == "--seed") {
      o.seed = n;
    } else {
      UsageError("unknown flag " + std::string(flag));
    }
  }
  if (o.output.empty()) UsageError("--output is required");
  if (o.files == 0 || o.files > 100000) UsageError("--files: must be in 1..100000");
  return o;
}

// ---------------------------------------------------------------- weblog

// "dd/Mon/yyyy:HH:MM:SS +zzzz" for epoch seconds `utc` shown in a zone
// `zone_minutes` east of UTC.
std::string ClfTime(int64_t utc, int zone_minutes) {
  using namespace std::chrono;
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_seconds local{seconds(utc + int64_t{zone_minutes} * 60)};
  const sys_days day = floor<days>(local);
  const year_month_day date{day};
  const int64_t second_of_day = (local - day).count();
  const int zone = zone_minutes < 0 ? -zone_minutes : zone_minutes;
  char text[64];
  std::snprintf(text, sizeof text, "%02u/%s/%04d:%02d:%02d:%02d %c%02d%02d", unsigned(date.day()),
                kMonths[unsigned(date.month()) - 1], int(date.year()), int(second_of_day / 3600),
                int(second_of_day / 60 % 60), int(second_of_day % 60), zone_minutes < 0 ? '-' : '+',
                zone / 60, zone % 60);
  return text;
}

std::string ClientName(uint64_t i) {
  if (i % 10 == 9) return "crawler" + std::to_string(i) + ".example.net";
  return "192.168." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
}

std::string PathName(uint64_t i) {
  static const char* kFixed[] = {"/",      "/index.html",  "/static/app.js", "/static/style.css",
                                 "/about", "/favicon.ico", "/login",         "/search?q=sluice"};
  if (i < 8) return kFixed[i];
  if (i % 3 == 0) return "/products/" + std::to_string(i * 7919 % 10007);
  if (i % 3 == 1) return "/api/v1/items/" + std::to_string(i) + "?page=" + std::to_string(i % 4);
  return "/blog/2026/post-" + std::to_string(i);
}

void WeblogLine(Random& rng, std::string* out) {
  constexpr int64_t kStart = 1795132800;  // 2026-11-20 00:00:00 UTC
  static const int kZones[] = {0, 0, 0, 0, 60, -300};
  static const char* kUsers[] = {"-", "-", "-", "-", "-", "-", "-", "alice", "bob", "carol"};
  const uint64_t dice = rng.Below(100);
  const char* method = dice < 85 ? "GET" : dice < 95 ? "POST" : "HEAD";
  const uint64_t roll = rng.Below(100);
  const int status = roll < 80 ? 200 : roll < 88 ? 301 : roll < 97 ? 404 : 500;
  std::string bytes;
  if (std::strcmp(method, "HEAD") == 0 || (status == 301 && rng.Below(2) == 0)) {
    bytes = "-";
  } else if (status == 200) {
    bytes = std::to_string(200 + rng.Below(60000));
  } else {
    bytes = std::to_string(rng.Below(600));
  }
  std::string line = ClientName(rng.Skewed(300)) + " - " + rng.Pick(kUsers) + " [" +
                     ClfTime(kStart + int64_t(rng.Below(3 * 86400)), rng.Pick(kZones)) + "] \"" +
                     method + " " + PathName(rng.Skewed(200)) +
                     (rng.Below(4) == 0 ? " HTTP/1.0\" " : " HTTP/1.1\" ") +
                     std::to_string(status) + " " + bytes;

  if (rng.Below(400) == 0) {
    const uint64_t form = rng.Below(6);
    if (form == 0) line.resize(rng.Below(line.rfind('"')));  // cut before the request ends
    if (form == 1) line.replace(line.rfind('"') + 2, 3, "2x0");
    if (form == 2) line.replace(line.find('[') + 4, 3, "Foo");
    if (form == 3) line += "k";  // bytes "123k" or "-k"
    if (form == 4) line = "GET " + PathName(rng.Below(200)) + " junk";
    if (form == 5) line.clear();
  }
  *out += line;
  *out += '\n';
}

// ---------------------------------------------------------------- scores, pairs

void ScoresLine(Random& rng, std::string* out) {
  const std::string key = "k" + std::to_string(rng.Skewed(300));
  const std::string score = std::to_string((int64_t(rng.Below(400)) - 100) * 5);
  const std::string item = "item" + std::to_string(rng.Below(5000));
  if (rng.Below(500) == 0) {
    static const char* kBad[] = {"no tabs here", "\t", "score\tnot a number\tx"};
    const uint64_t form = rng.Below(5);
    if (form == 0) *out += rng.Pick(kBad);
    if (form == 1) *out += key + "\t" + score;
    if (form == 2) *out += key + "\tx" + score + "\t" + item;
    if (form == 3) *out += key + "\t99999999999999999999\t" + item;  // past int64
    if (form == 4) *out += key + "\t\t" + item;
  } else {
    *out += key + "\t" + score + "\t" + item;
  }
  *out += '\n';
}

void PairsLine(Random& rng, std::string* out) {
  const uint64_t key = rng.Skewed(1000);
  if (rng.Below(1000) == 0) {
    *out += "k" + std::to_string(key) + " without a tab\n";
    return;
  }
  *out += "k" + std::to_string(key) + "\tv" + std::to_string(rng.Below(1 + key * 13 % 300));
  if (rng.Below(50) == 0) *out += "\twith a tab";
  *out += '\n';
}

// ---------------------------------------------------------------- writing

int Run(const Options& o) {
  std::error_code fs_error;
  std::filesystem::create_directories(o.output, fs_error);
  if (fs_error) {
    std::fprintf(stderr, "%s: %s: cannot create directory: %s\n", kProgram, o.output.c_str(),
                 fs_error.message().c_str());
    return kExitIo;
  }
  const char* extension = o.kind == "weblog" ? "log" : "tsv";
  auto* line = o.kind == "weblog" ? WeblogLine : o.kind == "scores" ? ScoresLine : PairsLine;
  std::string text;
  for (uint64_t f = 0; f < o.files; ++f) {
    Random rng(o.seed, f);
    text.clear();
    for (uint64_t i = 0; i < o.lines; ++i) line(rng, &text);
    char name[64];
    std::snprintf(name, sizeof name, "/%s-%05llu.%s", o.kind.c_str(),
                  static_cast<unsigned long long>(f), extension);
    const std::string path = o.output + name;
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr) {
      std::fprintf(stderr, "%s: %s: cannot create: %s\n", kProgram, path.c_str(),
                   std::strerror(errno));
      return kExitIo;
    }
    const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
    if (std::fclose(file) != 0 || !written) {
      std::fprintf(stderr, "%s: %s: write failed: %s\n", kProgram, path.c_str(),
                   std::strerror(errno));
      return kExitIo;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(ParseArguments(argc, argv)); }
