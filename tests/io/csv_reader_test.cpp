// Defends CsvReader's promise: every CSV record of a file is read, whole, by
// exactly one range, wherever the split points and buffer edges fall, even
// when quoted fields hold newlines, and even in malformed files, given each
// range the quote parity of the bytes before it (CountQuotes).
#include "io/csv_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "io/line_reader.h"

namespace sluice {
namespace {

// A file in memory. `streaming` makes it behave like the decoded view of a
// compressed file: its size is unknown (UINT64_MAX) and a read before the
// end of the previous one fails the test. `fail_from`: reads that reach
// that offset fail with an I/O error.
class MemoryFile : public ReadableFile {
 public:
  explicit MemoryFile(std::string_view data, bool streaming = false,
                      uint64_t fail_from = UINT64_MAX)
      : data_(data), streaming_(streaming), fail_from_(fail_from) {}

  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) override {
    if (streaming_) {
      EXPECT_GE(offset, next_) << "read backwards in a stream";
    }
    if (n > 0 && offset + n > fail_from_) return Status::IOError("injected read error");
    *got = 0;
    if (offset < data_.size()) {
      *got = static_cast<size_t>(std::min<uint64_t>(n, data_.size() - offset));
      std::copy_n(data_.data() + offset, *got, dst);
    }
    next_ = offset + *got;
    return Status::OK();
  }
  uint64_t size() const override { return streaming_ ? UINT64_MAX : data_.size(); }
  const std::string& path() const override { return path_; }

 private:
  std::string_view data_;
  bool streaming_;
  uint64_t fail_from_;
  uint64_t next_ = 0;
  std::string path_ = "mem.csv";
};

// A record as read: its first byte's offset in the file and its text.
struct Rec {
  uint64_t offset;
  std::string text;
  bool operator==(const Rec&) const = default;
};

std::string Escaped(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const Rec& r) {
  return os << "{" << r.offset << ", \"" << Escaped(r.text) << "\"}";
}

// Reads [begin, end) of `file`, checking the chunk contract on the way.
std::vector<Rec> ReadRange(ReadableFile& file, uint64_t begin, uint64_t end, bool in_quotes,
                           char quote, size_t buffer_bytes, std::string* storage = nullptr) {
  std::vector<Rec> out;
  CsvReader reader(file, begin, end, in_quotes, quote, buffer_bytes, storage);
  while (true) {
    std::string_view chunk = "garbage";
    Result<bool> more = reader.NextChunk(&chunk);
    if (!more.ok()) {
      ADD_FAILURE() << more.status().ToString();
      break;
    }
    if (!*more) {
      EXPECT_TRUE(chunk.empty());
      break;
    }
    EXPECT_FALSE(chunk.empty());
    const uint64_t chunk_offset = begin + reader.bytes_read() - chunk.size();
    ForEachCsvRecord(chunk, quote, [&](std::string_view record, size_t at) {
      out.push_back({chunk_offset + at, std::string(record)});
    });
  }
  std::string_view chunk;
  Result<bool> again = reader.NextChunk(&chunk);
  EXPECT_TRUE(again.ok() && !*again) << "an exhausted reader yielded more";
  return out;
}

bool InQuotesAt(ReadableFile& file, uint64_t offset, char quote) {
  Result<uint64_t> quotes = CountQuotes(file, 0, offset, quote);
  EXPECT_TRUE(quotes.ok()) << quotes.status().ToString();
  return quotes.ok() && (*quotes & 1) != 0;
}

// Reads `data` as ranges cut at `cuts` (sorted; repeats make empty ranges),
// each range given its parity by the census, and concatenates the records.
std::vector<Rec> ReadSplit(std::string_view data, const std::vector<uint64_t>& cuts, char quote,
                           size_t buffer_bytes, bool streaming = false) {
  std::vector<uint64_t> bounds = {0};
  bounds.insert(bounds.end(), cuts.begin(), cuts.end());
  bounds.push_back(data.size());
  MemoryFile census(data);
  std::vector<Rec> out;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    MemoryFile file(data, streaming);  // a stream per range, as the engine opens them
    const bool in_quotes = InQuotesAt(census, bounds[i], quote);
    std::vector<Rec> part =
        ReadRange(file, bounds[i], bounds[i + 1], in_quotes, quote, buffer_bytes);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::vector<Rec> ReadWhole(std::string_view data, char quote = '"', size_t buffer_bytes = 1 << 20) {
  return ReadSplit(data, {}, quote, buffer_bytes);
}

// Emits [start, stop) as a record, less one '\r' before its end unless that
// '\r' is inside quotes (a file that ends in an open quote).
void Emit(std::string_view data, size_t start, size_t stop, bool cr_is_data,
          std::vector<Rec>* out) {
  if (!cr_is_data && stop > start && data[stop - 1] == '\r') --stop;
  out->push_back({start, std::string(data.substr(start, stop - start))});
}

// Reference 1: RFC 4180's grammar as a byte-at-a-time state machine, for
// well-formed data. Written from the RFC, not from the parity rule.
std::vector<Rec> RfcRecords(std::string_view data, char delim = ',', char quote = '"') {
  enum { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted } state = kFieldStart;
  std::vector<Rec> out;
  size_t start = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    switch (state) {
      case kFieldStart:
      case kUnquoted:
      case kQuoteInQuoted:
        if (state == kQuoteInQuoted && c == quote) {
          state = kQuoted;  // "" inside a quoted field
        } else if (c == '\n') {
          Emit(data, start, i, false, &out);
          start = i + 1;
          state = kFieldStart;
        } else if (c == delim) {
          state = kFieldStart;
        } else if (state == kFieldStart && c == quote) {
          state = kQuoted;
        } else {
          state = kUnquoted;
        }
        break;
      case kQuoted:
        if (c == quote) state = kQuoteInQuoted;
        break;
    }
  }
  if (start < data.size()) Emit(data, start, data.size(), state == kQuoted, &out);
  return out;
}

// Reference 2, for any bytes: the parity rule itself, a byte at a time.
std::vector<Rec> ParityRecords(std::string_view data, char quote = '"') {
  std::vector<Rec> out;
  bool inside = false;
  size_t start = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == quote) inside = !inside;
    if (data[i] == '\n' && !inside) {
      Emit(data, start, i, false, &out);
      start = i + 1;
    }
  }
  if (start < data.size()) Emit(data, start, data.size(), inside, &out);
  return out;
}

// A random well-formed CSV file and its records, known by construction.
struct Generated {
  std::string data;
  std::vector<Rec> records;
};

std::string Pick(std::mt19937_64& rng, const std::vector<std::string>& from, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += from[rng() % from.size()];
  return out;
}

Generated RandomCsv(std::mt19937_64& rng, size_t rows, size_t max_quoted = 12) {
  static const std::vector<std::string> kPlain = {"a", "b", "z", "0",       "7",
                                                  " ", "-", ".", "\xC3\xA9"};
  static const std::vector<std::string> kQuoted = {
      "a", "b", " ", ",", "\n", "\r\n", "\"\"", "\"\"\"\"", "\xC3\xA9", "\t", "\r"};
  Generated g;
  for (size_t r = 0; r < rows; ++r) {
    const size_t start = g.data.size();
    if (rng() % 16 != 0) {  // else a blank line
      const size_t fields = 1 + rng() % 5;
      for (size_t f = 0; f < fields; ++f) {
        if (f > 0) g.data += ',';
        switch (rng() % 6) {
          case 0:
            break;  // empty
          case 1:
            g.data += Pick(rng, kPlain, 1 + rng() % 8);
            break;
          case 5:
            g.data += '"' + Pick(rng, kQuoted, rng() % (max_quoted * 8)) + '"';
            break;
          default:
            g.data += '"' + Pick(rng, kQuoted, rng() % max_quoted) + '"';
            break;
        }
      }
    }
    g.records.push_back({start, g.data.substr(start)});
    const bool last = r + 1 == rows;
    const uint64_t end_kind = rng() % 8;
    if (last && end_kind == 0 && g.data.size() > start) {
      // no line ending at the end of the file
    } else if (last && end_kind == 1) {
      g.data += '\r';  // a CRLF file cut after its '\r'
    } else {
      g.data += rng() % 2 == 0 ? "\n" : "\r\n";
    }
  }
  return g;
}

// Buffer sizes from absurdly small (every record grows the buffer, every
// read is a refill) to roomy.
constexpr size_t kBuffers[] = {1, 7, 64, 4096};

std::vector<uint64_t> RandomCuts(std::mt19937_64& rng, uint64_t size) {
  std::vector<uint64_t> cuts(2 + rng() % 6);
  for (uint64_t& c : cuts) c = rng() % (size + 1);
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

// --- Records of one chunk -------------------------------------------------

std::vector<std::string> Records(std::string_view chunk, char quote = '"') {
  std::vector<std::string> out;
  ForEachCsvRecord(chunk, quote, [&](std::string_view r, size_t) { out.emplace_back(r); });
  return out;
}

using Strings = std::vector<std::string>;

TEST(ForEachCsvRecord, NewlinesInsideQuotesDoNotEndARecord) {
  EXPECT_EQ(Records("a,b\n\"x\ny\",z\nlast"), (Strings{"a,b", "\"x\ny\",z", "last"}));
  EXPECT_EQ(Records("\"a\"\"\n\"\"b\"\n"), (Strings{"\"a\"\"\n\"\"b\""}));
}

TEST(ForEachCsvRecord, CrlfEndingsLoseTheirCrButQuotedCrsStay) {
  EXPECT_EQ(Records("a\r\nb\r\n"), (Strings{"a", "b"}));
  EXPECT_EQ(Records("\"x\r\ny\"\r\nz\r"), (Strings{"\"x\r\ny\"", "z"}));
  EXPECT_EQ(Records("a\r\r\n"), (Strings{"a\r"}));  // one '\r' only
}

TEST(ForEachCsvRecord, EmptyLinesAreEmptyRecords) {
  EXPECT_EQ(Records("a\n\nb\n\r\n"), (Strings{"a", "", "b", ""}));
  EXPECT_EQ(Records(""), Strings{});
}

TEST(ForEachCsvRecord, AnOpenQuoteRunsToTheEndOfTheData) {
  EXPECT_EQ(Records("a\n\"b\nc\r"), (Strings{"a", "\"b\nc\r"}));
}

TEST(ForEachCsvRecord, WithoutQuotingRecordsAreLines) {
  EXPECT_EQ(Records("a\"b\tc\n\"d\n", 0), (Strings{"a\"b\tc", "\"d"}));
}

TEST(ForEachCsvRecord, OffsetsAreRecordStarts) {
  std::vector<size_t> at;
  ForEachCsvRecord("ab\n\"c\nd\"\r\ne", '"',
                   [&](std::string_view, size_t offset) { at.push_back(offset); });
  EXPECT_EQ(at, (std::vector<size_t>{0, 3, 10}));
}

// --- CountQuotes and options ------------------------------------------------

TEST(CountQuotes, CountsTheQuoteBytesOfTheRange) {
  std::string data(3 << 20, 'x');  // more than one read piece
  for (size_t i = 0; i < data.size(); i += 1001) data[i] = '"';
  MemoryFile file(data);
  const uint64_t expected = static_cast<uint64_t>(std::count(data.begin(), data.end(), '"'));
  EXPECT_EQ(CountQuotes(file, 0, data.size(), '"').value(), expected);
  EXPECT_EQ(CountQuotes(file, 1, 1002, '"').value(), 1u);
  EXPECT_EQ(CountQuotes(file, 1, 1001, '"').value(), 0u);
  EXPECT_EQ(CountQuotes(file, 0, data.size() + 100, '"').value(), expected);  // data ends first
  EXPECT_EQ(CountQuotes(file, 5, 5, '"').value(), 0u);
  EXPECT_EQ(CountQuotes(file, 0, data.size(), 0).value(), 0u);  // no quoting: nothing read
  EXPECT_EQ(CountQuotes(file, 0, data.size(), 'x').value(), data.size() - expected);
}

TEST(CountQuotes, ReadErrorsAreReturned) {
  MemoryFile file("a\"b\"c", false, 3);
  Result<uint64_t> count = CountQuotes(file, 0, 5, '"');
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), StatusCode::kIOError);
}

TEST(CsvOptions, LineBreaksAndClashingCharactersAreRefused) {
  EXPECT_TRUE(ValidateCsvOptions(CsvOptions{}).ok());
  EXPECT_TRUE(ValidateCsvOptions(CsvOptions{'\t', 0, false}).ok());
  EXPECT_EQ(ValidateCsvOptions(CsvOptions{'\n', '"', true}).code(), StatusCode::kUsage);
  EXPECT_EQ(ValidateCsvOptions(CsvOptions{',', '\r', true}).code(), StatusCode::kUsage);
  const Status same = ValidateCsvOptions(CsvOptions{';', ';', true});
  EXPECT_EQ(same.code(), StatusCode::kUsage);
  EXPECT_NE(same.message().find("';'"), std::string::npos) << same.message();
}

// --- CsvReader: examples ------------------------------------------------------

TEST(CsvReader, ARangeStartingInsideAQuotedFieldSkipsToTheNextRecord) {
  //                          0123 4567 89012345
  const std::string data = "a,\"x\ny\nz\"\nb\nc";
  MemoryFile file(data);
  // Byte 5 ('y') is inside quotes; the next record starts at 10 ("b").
  EXPECT_EQ(ReadRange(file, 5, 11, true, '"', 64), (std::vector<Rec>{{10, "b"}}));
  // Byte 5 follows a '\n' but the '\n' is inside quotes: no record starts there.
  EXPECT_EQ(ReadRange(file, 5, 9, true, '"', 64), std::vector<Rec>{});
  // Without the census the same range would wrongly start a record at 5.
  EXPECT_EQ(ReadRange(file, 5, 6, false, '"', 64), (std::vector<Rec>{{5, "y"}}));
  // The first range owns the whole multi-line record.
  EXPECT_EQ(ReadRange(file, 0, 1, false, '"', 64), (std::vector<Rec>{{0, "a,\"x\ny\nz\""}}));
}

TEST(CsvReader, RecordsLongerThanTheBufferGrowIt) {
  const std::string big = "\"" + std::string(100000, '\n') + "\"";
  const std::string data = "a\n" + big + "\nb\n";
  MemoryFile file(data);
  std::string storage;
  EXPECT_EQ(ReadRange(file, 0, data.size(), false, '"', 16, &storage),
            (std::vector<Rec>{{0, "a"}, {2, big}, {data.size() - 2, "b"}}));
  // A lent buffer grown far past its size is given back.
  EXPECT_LT(storage.capacity(), size_t{1000});
  // A range that starts inside the long record skips all of it.
  EXPECT_EQ(ReadRange(file, 50000, data.size(), true, '"', 16),
            (std::vector<Rec>{{data.size() - 2, "b"}}));
}

TEST(CsvReader, ALentBufferServesManyRanges) {
  const std::string data = "x,\"1\n2\"\ny,3\nz,4\n";
  MemoryFile file(data);
  std::string storage;
  std::vector<Rec> all;
  for (uint64_t b = 0; b < data.size(); b += 3) {
    const uint64_t e = std::min<uint64_t>(b + 3, data.size());
    std::vector<Rec> part = ReadRange(file, b, e, InQuotesAt(file, b, '"'), '"', 4, &storage);
    all.insert(all.end(), part.begin(), part.end());
  }
  EXPECT_EQ(all, ReadWhole(data));
}

TEST(CsvReader, NeverReadsBackwardsAndNeedsNoSize) {
  std::mt19937_64 rng(7);
  const Generated g = RandomCsv(rng, 40);
  for (uint64_t p = 0; p <= g.data.size(); p += 5) {
    ASSERT_EQ(ReadSplit(g.data, {p}, '"', 16, /*streaming=*/true), g.records) << "split at " << p;
  }
}

TEST(CsvReader, ReadErrorsAreReturned) {
  const std::string data = "a,b\nc,d\ne,f\n";
  for (uint64_t fail_from = 0; fail_from < data.size(); ++fail_from) {
    MemoryFile file(data, false, fail_from);
    CsvReader reader(file, 0, data.size(), false, '"', 2);
    Status status;
    std::string_view chunk;
    while (status.ok()) {
      Result<bool> more = reader.NextChunk(&chunk);
      if (!more.ok()) status = more.status();
      if (more.ok() && !*more) break;
    }
    EXPECT_EQ(status.code(), StatusCode::kIOError) << "failing from " << fail_from;
  }
}

TEST(CsvReader, EmptyAndOutOfFileRangesYieldNothing) {
  MemoryFile file("a\nb\n");
  EXPECT_TRUE(ReadRange(file, 2, 2, false, '"', 8).empty());
  EXPECT_TRUE(ReadRange(file, 4, 9, false, '"', 8).empty());
  EXPECT_TRUE(ReadRange(file, 9, 12, false, '"', 8).empty());
  MemoryFile empty("");
  EXPECT_TRUE(ReadRange(empty, 0, 0, false, '"', 8).empty());
}

// --- The property ---------------------------------------------------------------

// Many random files full of quoted fields holding newlines, CRLFs, doubled
// quotes and delimiters. For every split point (and many random sets of
// cuts), the ranges together read exactly the records of the file, in order,
// at their offsets: the ones the generator wrote, which the RFC state
// machine and a whole-file read also find.
TEST(CsvReaderProperty, EverySplitPointReadsEachRecordOnce) {
  std::mt19937_64 rng(20240611);
  size_t splits = 0;
  for (int n = 0; n < 160; ++n) {
    const Generated g = RandomCsv(rng, 1 + rng() % 12);
    const size_t buffer = kBuffers[n % 4];
    ASSERT_EQ(RfcRecords(g.data), g.records) << Escaped(g.data);
    ASSERT_EQ(ParityRecords(g.data), g.records) << Escaped(g.data);
    ASSERT_EQ(ReadWhole(g.data), g.records) << Escaped(g.data);
    for (uint64_t p = 0; p <= g.data.size(); ++p, ++splits) {
      ASSERT_EQ(ReadSplit(g.data, {p}, '"', buffer), g.records)
          << "split at " << p << ", buffer " << buffer << ", file \"" << Escaped(g.data) << "\"";
    }
    for (int k = 0; k < 40; ++k, ++splits) {
      const std::vector<uint64_t> cuts = RandomCuts(rng, g.data.size());
      ASSERT_EQ(ReadSplit(g.data, cuts, '"', buffer), g.records)
          << "cuts " << ::testing::PrintToString(cuts) << ", file \"" << Escaped(g.data) << "\"";
    }
  }
  EXPECT_GT(splits, size_t{50000});
}

// Bytes with unbalanced quotes, quotes inside unquoted fields, text after
// closing quotes, stray '\r's: records are whatever the parity rule makes
// of them, but each is still read exactly once, whole, wherever the cuts.
TEST(CsvReaderProperty, MalformedFilesStillReadEachRecordOnce) {
  std::mt19937_64 rng(99);
  static const std::vector<std::string> kBytes = {"a", "a", "a", ",", "\"", "\"", "\n", "\n", "\r"};
  for (int n = 0; n < 200; ++n) {
    const std::string data = Pick(rng, kBytes, rng() % 200);
    const std::vector<Rec> expected = ParityRecords(data);
    const size_t buffer = kBuffers[n % 4];
    ASSERT_EQ(ReadWhole(data), expected) << Escaped(data);
    for (uint64_t p = 0; p <= data.size(); ++p) {
      ASSERT_EQ(ReadSplit(data, {p}, '"', buffer), expected)
          << "split at " << p << ", file \"" << Escaped(data) << "\"";
    }
    for (int k = 0; k < 20; ++k) {
      const std::vector<uint64_t> cuts = RandomCuts(rng, data.size());
      ASSERT_EQ(ReadSplit(data, cuts, '"', buffer), expected)
          << "cuts " << ::testing::PrintToString(cuts) << ", file \"" << Escaped(data) << "\"";
    }
  }
}

// A bigger file (records far longer than the buffer, thousands of them):
// a dense sample of split points, including both sides of record starts.
TEST(CsvReaderProperty, ABigFileSplitsAnywhere) {
  std::mt19937_64 rng(4242);
  const Generated g = RandomCsv(rng, 2000, 60);
  ASSERT_GT(g.data.size(), size_t{300000});
  ASSERT_EQ(ReadWhole(g.data), g.records);
  std::vector<uint64_t> points;
  for (int i = 0; i < 100; ++i) points.push_back(rng() % (g.data.size() + 1));
  for (int i = 0; i < 30; ++i) {
    const uint64_t start = g.records[rng() % g.records.size()].offset;
    for (uint64_t d = 0; d < 3; ++d) {
      if (start + d >= 1) points.push_back(start + d - 1);
    }
  }
  for (const uint64_t p : points) {
    ASSERT_EQ(ReadSplit(g.data, {p}, '"', 1024), g.records) << "split at " << p;
  }
  for (int k = 0; k < 20; ++k) {
    std::vector<uint64_t> cuts(2 + rng() % 30);
    for (uint64_t& c : cuts) c = rng() % (g.data.size() + 1);
    std::sort(cuts.begin(), cuts.end());
    ASSERT_EQ(ReadSplit(g.data, cuts, '"', 1 + rng() % 5000, k % 2 == 0), g.records)
        << "cuts " << ::testing::PrintToString(cuts);
  }
}

// With quote 0 (plain TSV) the reader is LineReader: same lines, same
// offsets, at every split point, quotes or not.
TEST(CsvReaderProperty, WithoutQuotingItSplitsExactlyAsLines) {
  std::mt19937_64 rng(5);
  static const std::vector<std::string> kBytes = {"a", "b", "\t", "\"", "\n", "\r\n", "\r"};
  for (int n = 0; n < 100; ++n) {
    const std::string data = Pick(rng, kBytes, rng() % 120);
    MemoryFile file(data);
    for (uint64_t p = 0; p <= data.size(); ++p) {
      std::vector<Rec> lines;
      for (const auto& [b, e] : {std::pair<uint64_t, uint64_t>{0, p}, {p, data.size()}}) {
        LineReader reader(file, b, e, 8);
        std::string_view chunk;
        while (reader.NextChunk(&chunk).value()) {
          const uint64_t at = b + reader.bytes_read() - chunk.size();
          ForEachLine(chunk, [&](std::string_view line) {
            lines.push_back(
                {at + static_cast<uint64_t>(line.data() - chunk.data()), std::string(line)});
          });
        }
      }
      ASSERT_EQ(ReadSplit(data, {p}, 0, kBuffers[n % 4]), lines)
          << "split at " << p << ", file \"" << Escaped(data) << "\"";
    }
  }
}

}  // namespace
}  // namespace sluice
