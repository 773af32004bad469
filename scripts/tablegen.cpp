// sluice-tablegen: writes a deterministic events table, as CSV (RFC 4180) or
// JSON Lines, for the data-format benchmarks (scripts/bench-formats) and the
// tests of CSV, JSON Lines and compressed input.
//
// Contract: the bytes written depend only on the arguments (not on the
// machine, the compiler, the thread count or the scheduling): randomness is
// splitmix64 and xoshiro256**, each file has its own stream seeded from
// (seed, file index), and only integer arithmetic decides what is written.
//
// Exit codes: 0 ok, 2 usage error, 4 I/O error.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "gen_flags.h"
#include "xoshiro.h"

namespace sluice {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitIo = 4;
constexpr const char* kProgram = "sluice-tablegen";

constexpr const char* kUsage = R"(usage: sluice-tablegen --format csv|jsonl --bytes SIZE [options]

Writes an events table of about SIZE bytes (at least SIZE, at most one row
more per file), to standard output or into DIR/events-00000.csv ... (or
.jsonl), one header row per CSV file. The bytes depend only on the
arguments: any machine, compiler or thread count gives identical output.

  --format csv|jsonl    the table's format (required)
  --bytes SIZE          total size; suffixes K, M, G are powers of 1024
  --seed N              64-bit seed (default 42)
  --output DIR          directory to write into (created if missing);
                        default, or -: standard output (then --files 1)
  --files N             number of files (default 1, at most 100000)
  --days N              days the timestamps span from 2024-01-01 (default
                        366: the year 2024; at most 3650)
  --quoted-newlines     CSV: 1 row in 8 has a quoted note, which may hold
                        commas, doubled quotes ("") and line breaks, and 1
                        in 64 a quoted country ("US"). JSON Lines: the same
                        notes, with \" \n \\ \u00e9 escapes. Without it no CSV
                        field is quoted and no note holds a comma, a quote
                        or a line break (plain `awk -F,` reads it right)
  --malformed RATE      a fraction (0 to 1) of the rows is broken: CSV, the
                        amount is not a number (n/a, 12.3.4, abc, ...); JSON
                        Lines, the line is cut short (truncated JSON)
  --crlf                end rows with \r\n instead of \n
  --threads N           writer threads, one file each (default: hardware
                        concurrency); does not change the output
  --help                this text

Columns (CSV header `ts,day,country,user_id,amount,status,note`):
  ts        ISO 8601 UTC date-time, 2024-03-09T13:45:12Z, uniform over --days
  day       the date of ts, 2024-03-09
  country   ISO 3166 alpha-2, 200 codes, Zipf 1.0: US 17%, CN 8.5%, ...,
            the 200th 0.085%
  user_id   integer 1 .. 1000000, uniform
  amount    decimal with 2 fraction digits: 0.01 .. 99999.99, mostly under
            100; 1 in 20 negative (refunds)
  status    HTTP-like integer: 200 (80%), 201, 204, 400, 402, 404, 409,
            500, 503
  note      0 to 6 words of free text (may be empty; some non-ASCII UTF-8)
JSON Lines rows nest user_id and country:
  {"ts":"...","day":"...","user":{"id":123,"country":"US"},"amount":-12.34,
   "status":200,"note":"..."}

Speed: about 200-400 MB/s per core.
)";

// ---------------------------------------------------------------- randomness

using gen::SplitMix64;
using gen::StreamSeed;
using gen::Xoshiro256;

// ---------------------------------------------------------------- vocabularies

// 200 ISO 3166 alpha-2 codes, most frequent first.
constexpr std::array<const char*, 200> kCountries = {
    "US", "CN", "IN", "DE", "GB", "BR", "JP", "FR", "CA", "IT", "KR", "ES", "MX", "ID", "AU", "RU",
    "NL", "TR", "SA", "CH", "PL", "SE", "BE", "AR", "TH", "IE", "AT", "NO", "IL", "NG", "AE", "ZA",
    "EG", "SG", "PH", "MY", "DK", "VN", "BD", "CO", "HK", "PK", "CL", "FI", "RO", "CZ", "PT", "NZ",
    "PE", "GR", "IQ", "KZ", "DZ", "QA", "HU", "UA", "KW", "MA", "ET", "SK", "EC", "KE", "DO", "GT",
    "OM", "LK", "LU", "BG", "UY", "PA", "CR", "HR", "UZ", "LT", "RS", "TZ", "CI", "GH", "AZ", "BY",
    "SI", "JO", "TN", "CM", "UG", "BH", "LV", "BO", "PY", "NP", "EE", "KH", "SV", "HN", "CY", "IS",
    "SN", "GE", "ZM", "PG", "BA", "TT", "AF", "ZW", "BW", "AL", "MZ", "JM", "MT", "GA", "MN", "AM",
    "BF", "ML", "MK", "NI", "BJ", "GN", "MD", "BS", "MG", "NA", "GQ", "RW", "TD", "BN", "KG", "NE",
    "MU", "TJ", "LA", "MW", "HT", "ME", "MR", "TG", "BB", "SR", "SZ", "FJ", "SL", "GY", "BI", "LS",
    "BT", "BZ", "CV", "LR", "DJ", "CF", "SC", "AG", "LC", "SB", "GD", "GM", "GW", "KM", "VC", "WS",
    "KN", "VU", "TO", "ST", "DM", "FM", "MH", "KI", "PW", "NR", "TV", "AD", "MC", "LI", "SM", "VA",
    "AW", "BM", "KY", "CW", "GL", "GU", "PR", "VI", "FO", "GI", "IM", "JE", "GG", "NC", "PF", "RE",
    "GP", "MQ", "GF", "YT", "PM", "WF", "AI", "MS"};

constexpr std::array<const char*, 48> kWords = {
    "order",   "shipped",  "late",    "refund",   "gift",    "express",  "priority", "returned",
    "damaged", "box",      "card",    "paid",     "pending", "customer", "called",   "again",
    "thanks",  "the",      "a",       "for",      "with",    "no",       "was",      "and",
    "coupon",  "discount", "invoice", "address",  "changed", "weekend",  "store",    "pickup",
    "café",    "naïve",    "größe",   "delivery", "missing", "item",     "replaced", "partial",
    "resent",  "fraud",    "check",   "ok",       "urgent",  "note",     "see",      "ticket"};

// Status codes with their weights out of 32: 200 is 26/32, about 80%.
constexpr std::array<int, 32> kStatus = {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,
                                         200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,
                                         200, 200, 200, 200, 201, 204, 400, 404, 500, 503};
constexpr std::array<int, 4> kRareStatus = {402, 409, 400, 201};

// Never a comma or a quote: a malformed amount must not shift the fields.
constexpr std::array<const char*, 6> kBadAmounts = {"n/a", "12.3.4", "abc", "--", "twelve", "1.5e"};

// Zipf 1.0 over the countries in integer arithmetic: cumulative weights
// 2^40 / (rank + 1).
class CountrySampler {
 public:
  CountrySampler() {
    uint64_t total = 0;
    for (size_t i = 0; i < kCountries.size(); ++i) {
      total += (uint64_t(1) << 40) / (i + 1);
      cumulative_[i] = total;
    }
  }

  uint32_t Sample(Xoshiro256& rng) const {
    const uint64_t total = cumulative_.back();
    const uint64_t u = uint64_t((static_cast<unsigned __int128>(rng.Next()) * total) >> 64);
    return uint32_t(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) -
                    cumulative_.begin());
  }

 private:
  std::array<uint64_t, kCountries.size()> cumulative_{};
};

// ---------------------------------------------------------------- options

enum class Format { kCsv, kJsonLines };

struct Options {
  Format format = Format::kCsv;
  uint64_t bytes = 0;
  uint64_t seed = 42;
  std::string output;  // "" or "-": standard output
  uint32_t files = 1;
  uint32_t days = 366;
  bool quoted_newlines = false;
  uint64_t malformed_q32 = 0;  // rows with Next() >> 32 below this are broken
  std::string malformed_text = "0";
  bool crlf = false;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
};

[[noreturn]] void UsageError(const std::string& message) { gen::UsageError(kProgram, message); }

uint64_t ParseInteger(std::string_view flag, std::string_view text, uint64_t min, uint64_t max) {
  return gen::ParseInteger(kProgram, flag, text, min, max);
}

uint64_t ParseSize(std::string_view flag, std::string_view text) { return gen::ParseSize(kProgram, flag, text); }

Options ParseArguments(int argc, char** argv) {
  Options options;
  bool have_format = false;
  bool have_bytes = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (flag == "--quoted-newlines") {
      options.quoted_newlines = true;
      continue;
    }
    if (flag == "--crlf") {
      options.crlf = true;
      continue;
    }
    if (i + 1 >= argc) UsageError(std::string(flag) + ": missing value");
    const std::string_view value = argv[++i];
    if (flag == "--format") {
      if (value == "csv") {
        options.format = Format::kCsv;
      } else if (value == "jsonl") {
        options.format = Format::kJsonLines;
      } else {
        UsageError("--format: expected csv or jsonl, got '" + std::string(value) + "'");
      }
      have_format = true;
    } else if (flag == "--bytes") {
      options.bytes = ParseSize(flag, value);
      have_bytes = true;
    } else if (flag == "--seed") {
      options.seed = ParseInteger(flag, value, 0, ~uint64_t(0));
    } else if (flag == "--output") {
      options.output = value;
    } else if (flag == "--files") {
      options.files = uint32_t(ParseInteger(flag, value, 1, 100000));
    } else if (flag == "--days") {
      options.days = uint32_t(ParseInteger(flag, value, 1, 3650));
    } else if (flag == "--malformed") {
      double rate = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), rate);
      if (value.empty() || error != std::errc() || end != value.data() + value.size() ||
          !(rate >= 0 && rate <= 1)) {
        UsageError("--malformed: expected a fraction in [0, 1], got '" + std::string(value) + "'");
      }
      // from_chars rounds correctly and a product by 2^32 is exact: the
      // threshold is the same everywhere.
      options.malformed_q32 = uint64_t(std::ldexp(rate, 32));
      options.malformed_text = value;
    } else if (flag == "--threads") {
      options.threads = unsigned(ParseInteger(flag, value, 1, 1024));
    } else {
      UsageError("unknown flag " + std::string(flag));
    }
  }
  if (!have_format) UsageError("--format is required");
  if (!have_bytes) UsageError("--bytes is required");
  if (options.output == "-") options.output.clear();
  if (options.output.empty() && options.files != 1) {
    UsageError("--files " + std::to_string(options.files) + " needs --output DIR");
  }
  return options;
}

// ---------------------------------------------------------------- formatting

// Appends the decimal digits of `value`.
inline char* PutUnsigned(char* out, uint64_t value) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = char('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) *out++ = digits[--n];
  return out;
}

inline char* PutTwoDigits(char* out, uint32_t value) {
  out[0] = char('0' + value / 10);
  out[1] = char('0' + value % 10);
  return out + 2;
}

inline char* PutString(char* out, std::string_view text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

// "2024-MM-DD" of day `index` from 2024-01-01 (proleptic Gregorian).
std::string DayText(uint32_t index) {
  // Days from 1970-01-01 to 2024-01-01: 19723.
  int64_t z = 19723 + int64_t(index) + 719468;  // Howard Hinnant's civil_from_days
  const int64_t era = z / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", int(y), int(m), int(d));
  return text;
}

// ---------------------------------------------------------------- rows

// Writes rows of one file or stream into a buffer and flushes it to a
// descriptor. One per writer thread.
class TableWriter {
 public:
  explicit TableWriter(const Options& options) : options_(options) {
    for (uint32_t d = 0; d < options.days; ++d) days_.push_back(DayText(d));
    buffer_.resize(kFlushBytes + kMaxRow);
  }

  struct Totals {
    uint64_t bytes = 0;
    uint64_t rows = 0;
    uint64_t malformed = 0;
  };

  // Writes at least `target` bytes (a header and whole rows) to `fd`, from
  // the stream of file `file_index`. Returns "" or an error naming `name`.
  std::string Write(int fd, const std::string& name, uint32_t file_index, uint64_t target,
                    Totals* totals) {
    Xoshiro256 rng(StreamSeed(options_.seed, uint64_t(file_index) + 1));
    char* const begin = buffer_.data();
    char* const flush_at = begin + kFlushBytes;
    char* out = begin;
    uint64_t flushed = 0;
    if (options_.format == Format::kCsv) {
      out = PutString(out, "ts,day,country,user_id,amount,status,note");
      out = LineEnd(out);
    }
    while (flushed + uint64_t(out - begin) < target) {
      if (out >= flush_at) {
        if (std::string error = Flush(fd, name, begin, out); !error.empty()) return error;
        flushed += uint64_t(out - begin);
        out = begin;
      }
      const bool malformed = (rng.Next() >> 32) < options_.malformed_q32;
      out = options_.format == Format::kCsv ? CsvRow(out, rng, malformed)
                                            : JsonRow(out, rng, malformed);
      ++totals->rows;
      totals->malformed += malformed ? 1 : 0;
    }
    if (std::string error = Flush(fd, name, begin, out); !error.empty()) return error;
    totals->bytes += flushed + uint64_t(out - begin);
    return "";
  }

 private:
  static constexpr size_t kFlushBytes = 8 << 20;
  static constexpr size_t kMaxRow = 4096;  // far above the longest row (about 300 bytes)

  // The fields every row draws, in one fixed order (the order of draws is
  // part of the output's definition).
  struct Fields {
    uint32_t day;
    uint32_t second;
    uint32_t country;
    bool quote_country;
    uint64_t user_id;
    int64_t cents;
    int status;
  };

  Fields Draw(Xoshiro256& rng) const {
    Fields f;
    f.day = rng.Below(options_.days);
    f.second = rng.Below(86400);
    f.country = sampler_.Sample(rng);
    f.quote_country = options_.quoted_newlines && rng.Below(64) == 0;
    f.user_id = 1 + rng.Below(1000000);
    // Magnitude: 70% under 100.00, 25% under 1000.00, 5% under 100000.00.
    const uint64_t bits = rng.Next();
    const uint32_t bucket = uint32_t(bits & 0xFF) * 100 / 256;
    const uint64_t limit = bucket < 70 ? 10000 : bucket < 95 ? 100000 : 10000000;
    int64_t cents = int64_t(1 + (((bits >> 32) * limit) >> 32) % (limit - 1));
    if (((bits >> 8) & 0xFF) < 13) cents = -cents;  // 13/256: about 1 in 20
    f.cents = cents;
    const uint32_t s = rng.Below(32 * 8);
    f.status = s < 8 ? kRareStatus[s % 4] : kStatus[s / 8];
    return f;
  }

  char* Timestamp(char* out, const Fields& f) const {
    out = PutString(out, days_[f.day]);
    *out++ = 'T';
    out = PutTwoDigits(out, f.second / 3600);
    *out++ = ':';
    out = PutTwoDigits(out, f.second / 60 % 60);
    *out++ = ':';
    out = PutTwoDigits(out, f.second % 60);
    *out++ = 'Z';
    return out;
  }

  static char* Amount(char* out, int64_t cents) {
    if (cents < 0) {
      *out++ = '-';
      cents = -cents;
    }
    out = PutUnsigned(out, uint64_t(cents) / 100);
    *out++ = '.';
    return PutTwoDigits(out, uint32_t(uint64_t(cents) % 100));
  }

  char* LineEnd(char* out) const {
    if (options_.crlf) *out++ = '\r';
    *out++ = '\n';
    return out;
  }

  // The note's text, unescaped, into note_. Plain notes: 0 to 6 words. With
  // --quoted-newlines, 1 in 8 is special: words with any nonempty mix of a
  // comma, a quoted phrase and a line break (and in JSON an escaped tab,
  // backslash or \u00e9). Returns whether it is special.
  bool Note(Xoshiro256& rng) {
    note_.clear();
    const uint64_t bits = rng.Next();
    const uint32_t words = uint32_t(bits % 7);
    uint32_t specials = 0;
    if (options_.quoted_newlines && ((bits >> 8) & 7) == 0) specials = 1 + uint32_t((bits >> 16) % 7);
    for (uint32_t w = 0; w < words; ++w) {
      if (w > 0) note_ += ' ';
      note_ += kWords[rng.Below(kWords.size())];
    }
    if (specials & 1) note_ += ", then";
    if (specials & 2) note_ += " said \"call me\"";
    if (specials & 4) note_ += (bits >> 24) & 1 ? "\nsecond line" : "\n\nafter a blank line,";
    return specials != 0;
  }

  char* CsvRow(char* out, Xoshiro256& rng, bool malformed) {
    const Fields f = Draw(rng);
    const bool quoted_note = Note(rng);
    const uint64_t bad = rng.Next();
    out = Timestamp(out, f);
    *out++ = ',';
    out = PutString(out, days_[f.day]);
    *out++ = ',';
    if (f.quote_country) *out++ = '"';
    out = PutString(out, kCountries[f.country]);
    if (f.quote_country) *out++ = '"';
    *out++ = ',';
    out = PutUnsigned(out, f.user_id);
    *out++ = ',';
    if (malformed) {
      out = PutString(out, kBadAmounts[bad % kBadAmounts.size()]);
    } else {
      out = Amount(out, f.cents);
    }
    *out++ = ',';
    out = PutUnsigned(out, uint64_t(f.status));
    *out++ = ',';
    if (quoted_note) {
      *out++ = '"';
      for (char c : note_) {
        if (c == '"') *out++ = '"';
        if (c == '\n' && options_.crlf) *out++ = '\r';
        *out++ = c;
      }
      *out++ = '"';
    } else {
      out = PutString(out, note_);
    }
    return LineEnd(out);
  }

  char* JsonRow(char* out, Xoshiro256& rng, bool malformed) {
    const Fields f = Draw(rng);
    const bool special = Note(rng);
    const uint64_t bad = rng.Next();
    char* const start = out;
    out = PutString(out, "{\"ts\":\"");
    out = Timestamp(out, f);
    out = PutString(out, "\",\"day\":\"");
    out = PutString(out, days_[f.day]);
    out = PutString(out, "\",\"user\":{\"id\":");
    out = PutUnsigned(out, f.user_id);
    out = PutString(out, ",\"country\":\"");
    out = PutString(out, kCountries[f.country]);
    out = PutString(out, "\"},\"amount\":");
    out = Amount(out, f.cents);
    out = PutString(out, ",\"status\":");
    out = PutUnsigned(out, uint64_t(f.status));
    out = PutString(out, ",\"note\":\"");
    for (char c : note_) {
      if (c == '"' || c == '\\') {
        *out++ = '\\';
        *out++ = c;
      } else if (c == '\n') {
        out = PutString(out, "\\n");
      } else {
        *out++ = c;
      }
    }
    if (special && (bad >> 40) % 3 == 0) out = PutString(out, "\\tcaf\\u00e9 C:\\\\tmp");
    out = PutString(out, "\"}");
    if (malformed) {
      // Cut anywhere before the closing brace (never valid JSON), but not
      // inside a UTF-8 sequence: the file stays valid UTF-8.
      const uint64_t length = uint64_t(out - start);
      out = start + 1 + bad % (length - 1);
      while ((static_cast<unsigned char>(*out) & 0xC0) == 0x80) --out;
    }
    return LineEnd(out);
  }

  static std::string Flush(int fd, const std::string& name, const char* data, const char* end) {
    while (data < end) {
      const ssize_t n = ::write(fd, data, size_t(end - data));
      if (n < 0) {
        if (errno == EINTR) continue;
        return name + ": write failed: " + std::strerror(errno);
      }
      data += n;
    }
    return "";
  }

  const Options& options_;
  const CountrySampler sampler_;
  std::vector<std::string> days_;
  std::string note_;
  std::vector<char> buffer_;
};

std::string FilePath(const Options& options, uint32_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "/events-%05u.%s", index,
                options.format == Format::kCsv ? "csv" : "jsonl");
  return options.output + name;
}

int Run(const Options& options) {
  const auto start = std::chrono::steady_clock::now();
  const uint32_t files = options.files;
  std::vector<std::string> errors(files);
  std::vector<TableWriter::Totals> totals(files);
  if (options.output.empty()) {
    TableWriter writer(options);
    errors[0] = writer.Write(STDOUT_FILENO, "standard output", 0, options.bytes, &totals[0]);
  } else {
    std::error_code fs_error;
    std::filesystem::create_directories(options.output, fs_error);
    if (fs_error) {
      std::fprintf(stderr, "%s: %s: cannot create directory: %s\n", kProgram,
                   options.output.c_str(), fs_error.message().c_str());
      return kExitIo;
    }
    std::atomic<uint32_t> next_file{0};
    std::atomic<bool> failed{false};
    auto worker = [&] {
      TableWriter writer(options);
      for (uint32_t i = next_file++; i < files && !failed; i = next_file++) {
        const uint64_t target = options.bytes / files + (i < options.bytes % files ? 1 : 0);
        const std::string path = FilePath(options, i);
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
          errors[i] = path + ": cannot create: " + std::strerror(errno);
        } else {
          errors[i] = writer.Write(fd, path, i, target, &totals[i]);
          if (::close(fd) != 0 && errors[i].empty()) {
            errors[i] = path + ": close failed: " + std::strerror(errno);
          }
        }
        if (!errors[i].empty()) failed = true;
      }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < std::min<unsigned>(options.threads, files); ++t) {
      threads.emplace_back(worker);
    }
    for (std::thread& t : threads) t.join();
  }
  for (const std::string& error : errors) {
    if (!error.empty()) {
      std::fprintf(stderr, "%s: %s\n", kProgram, error.c_str());
      return kExitIo;
    }
  }
  TableWriter::Totals all;
  for (const TableWriter::Totals& t : totals) {
    all.bytes += t.bytes;
    all.rows += t.rows;
    all.malformed += t.malformed;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr,
               "%s: wrote %llu bytes, %llu rows (%llu malformed) in %u file(s) to %s "
               "(seed %llu); %.2f s (%.0f MB/s)\n",
               kProgram, static_cast<unsigned long long>(all.bytes),
               static_cast<unsigned long long>(all.rows),
               static_cast<unsigned long long>(all.malformed), files,
               options.output.empty() ? "standard output" : options.output.c_str(),
               static_cast<unsigned long long>(options.seed), seconds,
               seconds > 0 ? double(all.bytes) / 1e6 / seconds : 0.0);
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) { return sluice::Run(sluice::ParseArguments(argc, argv)); }
