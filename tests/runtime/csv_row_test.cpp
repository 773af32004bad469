// Defends what a CSV job sees: how a record splits into fields (RFC 4180
// quoting), what a malformed record reports, typed access and its error
// messages, columns by header name, and CsvSource / ReadCsvHeader: which
// records a range hands out, at which offsets, header and blank lines not
// among them.
#include <gtest/gtest.h>
#include <sluice/bad_record.h>
#include <sluice/csv_row.h>
#include <sluice/detail/csv_source.h>
#include <sluice/detail/record_source.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "io/csv_reader.h"
#include "io/file_system.h"

namespace sluice {
namespace {

static_assert(RecordSource<CsvSource>);

using Strings = std::vector<std::string>;

class MemoryFile : public ReadableFile {
 public:
  explicit MemoryFile(std::string data) : data_(std::move(data)) {}
  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) override {
    *got = 0;
    if (offset < data_.size()) {
      *got = static_cast<size_t>(std::min<uint64_t>(n, data_.size() - offset));
      std::copy_n(data_.data() + offset, *got, dst);
    }
    return Status::OK();
  }
  uint64_t size() const override { return data_.size(); }
  const std::string& path() const override { return path_; }

 private:
  std::string data_;
  std::string path_ = "in.csv";
};

Strings Fields(const CsvRow& row) {
  Strings out;
  for (size_t i = 0; i < row.size(); ++i) out.emplace_back(row[i].text());
  return out;
}

Strings Parse(std::string_view record, char delimiter = ',', char quote = '"') {
  CsvParser parser(delimiter, quote, nullptr);
  const CsvRow& row = parser.Parse(record);
  EXPECT_EQ(row.parse_error(), nullptr) << record;
  return Fields(row);
}

std::string ParseError(std::string_view record) {
  CsvParser parser(',', '"', nullptr);
  const CsvRow& row = parser.Parse(record);
  EXPECT_EQ(row.size(), 0u);
  EXPECT_EQ(row.record(), record);
  return row.parse_error() != nullptr ? row.parse_error() : "(parsed)";
}

// The message of the BadRecord `fn` throws.
template <class Fn>
std::string BadRecordMessage(Fn&& fn) {
  try {
    fn();
  } catch (const BadRecord& e) {
    return e.what();
  }
  return "(no BadRecord)";
}

// --- Splitting into fields -------------------------------------------------

TEST(CsvParser, SplitsAtDelimitersOutsideQuotes) {
  EXPECT_EQ(Parse("a,b,c"), (Strings{"a", "b", "c"}));
  EXPECT_EQ(Parse("\"a,b\",c"), (Strings{"a,b", "c"}));
  EXPECT_EQ(Parse("x,\"line1\nline2\r\nline3\""), (Strings{"x", "line1\nline2\r\nline3"}));
}

TEST(CsvParser, DoubledQuotesAreOneQuote) {
  EXPECT_EQ(Parse("\"say \"\"hi\"\"\",x"), (Strings{"say \"hi\"", "x"}));
  // Several unescaped fields in one row: each view stays valid.
  EXPECT_EQ(Parse("\"a\"\"\",\"b\"\"\"\"c\",\"\"\"\",plain,\"q\"\"\""),
            (Strings{"a\"", "b\"\"c", "\"", "plain", "q\""}));
}

TEST(CsvParser, EmptyFields) {
  EXPECT_EQ(Parse(",,"), (Strings{"", "", ""}));
  EXPECT_EQ(Parse("a,"), (Strings{"a", ""}));        // a trailing delimiter: an empty last field
  EXPECT_EQ(Parse("\"\",\"\""), (Strings{"", ""}));  // quoted empties
  EXPECT_EQ(Parse("a,\"\""), (Strings{"a", ""}));
  // A record of no bytes is one empty field (CsvSource skips such lines).
  EXPECT_EQ(Parse(""), (Strings{""}));
}

TEST(CsvParser, SpacesAreData) {
  EXPECT_EQ(Parse(" a , b "), (Strings{" a ", " b "}));
  EXPECT_EQ(ParseError("a, \"b\""),
            "a quote inside an unquoted field (quote the field and double the quote)");
}

TEST(CsvParser, OtherDelimitersAndNoQuoting) {
  EXPECT_EQ(Parse("a;\"b;c\";d", ';'), (Strings{"a", "b;c", "d"}));
  // Plain TSV: quotes are data.
  EXPECT_EQ(Parse("a\"b\t\"c\"\t", '\t', 0), (Strings{"a\"b", "\"c\"", ""}));
  EXPECT_EQ(Parse("x\ty", '\t'), (Strings{"x", "y"}));
}

TEST(CsvParser, MalformedRecordsSayWhy) {
  EXPECT_EQ(ParseError("a,\"bc"), "unbalanced quote: a quoted field is not closed");
  EXPECT_EQ(ParseError("\"a\"\"b"), "unbalanced quote: a quoted field is not closed");
  EXPECT_EQ(ParseError("ab\"c,d"),
            "a quote inside an unquoted field (quote the field and double the quote)");
  EXPECT_EQ(ParseError("\"ab\"c,d"),
            "text after a closing quote (a quoted field must end at a delimiter)");
  EXPECT_EQ(ParseError("\"ab\" ,d"),
            "text after a closing quote (a quoted field must end at a delimiter)");
}

TEST(CsvParser, AParserIsReusedAcrossRecords) {
  CsvParser parser(',', '"', nullptr);
  EXPECT_EQ(Fields(parser.Parse("\"a\"\"\",b,c,d")), (Strings{"a\"", "b", "c", "d"}));
  EXPECT_EQ(parser.Parse("x\"").parse_error() != nullptr, true);
  EXPECT_EQ(Fields(parser.Parse("\"long \"\" field with a quote\"")),
            (Strings{"long \" field with a quote"}));
  EXPECT_EQ(Fields(parser.Parse("1")), (Strings{"1"}));
}

// Random rows of random fields, written the way a CSV writer would (quoted
// when needed or at random, quotes doubled): the parser gets the fields back.
TEST(CsvParser, WrittenFieldsParseBack) {
  std::mt19937_64 rng(3);
  const std::string alphabet = "ab ,\"\n\r\t\xC3\xA9";
  CsvParser parser(',', '"', nullptr);
  for (int n = 0; n < 5000; ++n) {
    Strings fields(1 + rng() % 6);
    std::string record;
    for (size_t f = 0; f < fields.size(); ++f) {
      for (size_t len = rng() % 10; len > 0; --len) fields[f] += alphabet[rng() % alphabet.size()];
      const bool needs = fields[f].find_first_of(",\"\n\r") != std::string::npos;
      if (f > 0) record += ',';
      if (needs || rng() % 3 == 0) {
        record += '"';
        for (const char c : fields[f]) record += c == '"' ? std::string("\"\"") : std::string(1, c);
        record += '"';
      } else {
        record += fields[f];
      }
    }
    const CsvRow& row = parser.Parse(record);
    ASSERT_EQ(row.parse_error(), nullptr) << record;
    ASSERT_EQ(Fields(row), fields) << record;
  }
}

// Records with no quote take a one-pass split (16 bytes at a time); a
// quote anywhere, even past the first 16 bytes, sends the record to the
// general parser from its start. Every length and delimiter position
// around the 16-byte steps, NUL bytes as data (quote 0 must not read them
// as quotes), against a plain split.
TEST(CsvParser, UnquotedRecordsSplitAtEveryDelimiterPosition) {
  std::mt19937_64 rng(9);
  for (const char quote : {'"', '\0'}) {
    CsvParser parser(',', quote, nullptr);
    for (int n = 0; n < 20000; ++n) {
      std::string record(rng() % 70, 'x');
      for (char& c : record) c = "ab,,\0\xff"[rng() % 6];
      Strings expected(1);
      for (const char c : record) {
        if (c == ',') {
          expected.emplace_back();
        } else {
          expected.back() += c;
        }
      }
      const CsvRow& row = parser.Parse(record);
      ASSERT_EQ(row.parse_error(), nullptr);
      ASSERT_EQ(Fields(row), expected) << "length " << record.size();
    }
  }
  const std::string head(20, 'a');
  EXPECT_EQ(Parse(head + ",\"b,c\",d"), (Strings{head, "b,c", "d"}));
  EXPECT_EQ(ParseError(head + "," + head + ",b\"c"),
            "a quote inside an unquoted field (quote the field and double the quote)");
  EXPECT_EQ(Parse(head + ",b\"c", ',', 0), (Strings{head, "b\"c"}));
}

// --- Typed access ------------------------------------------------------------

class CsvRowTest : public ::testing::Test {
 protected:
  CsvHeader header_{Strings{"id", "name", "amount", "ok", "ratio"}};
  CsvParser parser_{',', '"', &header_};
};

TEST_F(CsvRowTest, FieldsByNameAndIndex) {
  const CsvRow& row = parser_.Parse("7,\"Smith, J\",-12,true,0.25");
  EXPECT_EQ(row.header(), &header_);
  EXPECT_EQ(row["name"].as<std::string_view>(), "Smith, J");
  EXPECT_EQ(row["name"].as<std::string>(), "Smith, J");
  EXPECT_EQ(row[1].text(), "Smith, J");
  EXPECT_EQ(row["id"].as<int64_t>(), 7);
  EXPECT_EQ(row["id"].as<uint32_t>(), 7u);
  EXPECT_EQ(row["amount"].as<int32_t>(), -12);
  EXPECT_EQ(row["amount"].as<double>(), -12.0);
  EXPECT_TRUE(row["ok"].as<bool>());
  EXPECT_EQ(row["ratio"].as<double>(), 0.25);
  EXPECT_EQ(row["ratio"].as<float>(), 0.25f);
  EXPECT_EQ(row.record(), "7,\"Smith, J\",-12,true,0.25");
}

TEST_F(CsvRowTest, NumbersAndBools) {
  const CsvRow& row = parser_.Parse("18446744073709551615,-9223372036854775808,1e3,0,1");
  EXPECT_EQ(row[0].as<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(row[1].as<int64_t>(), INT64_MIN);
  EXPECT_EQ(row[2].as<double>(), 1000.0);
  EXPECT_FALSE(row[3].as<bool>());
  EXPECT_TRUE(row[4].as<bool>());
}

TEST_F(CsvRowTest, ConversionErrorsAreBadRecordsNamingTheColumn) {
  const CsvRow& row = parser_.Parse("abc, 12,99999999999,yes,1.5x");
  EXPECT_EQ(BadRecordMessage([&] { row["id"].as<int64_t>(); }),
            "column 'id' (0): 'abc' is not an int64");
  // Spaces are not trimmed.
  EXPECT_EQ(BadRecordMessage([&] { row["name"].as<int64_t>(); }),
            "column 'name' (1): ' 12' is not an int64");
  EXPECT_EQ(BadRecordMessage([&] { row["amount"].as<int32_t>(); }),
            "column 'amount' (2): '99999999999' is out of range for an int32");
  EXPECT_EQ(row["amount"].as<int64_t>(), 99999999999);
  EXPECT_EQ(BadRecordMessage([&] { row["ok"].as<bool>(); }),
            "column 'ok' (3): 'yes' is not a bool (true, false, 1 or 0)");
  EXPECT_EQ(BadRecordMessage([&] { row["ratio"].as<double>(); }),
            "column 'ratio' (4): '1.5x' is not a double");
  EXPECT_EQ(BadRecordMessage([&] { row["id"].as<uint64_t>(); }),
            "column 'id' (0): 'abc' is not a uint64");
}

TEST_F(CsvRowTest, MoreConversionErrors) {
  const CsvRow& row = parser_.Parse("-1,,1e999,+5,18446744073709551616");
  EXPECT_EQ(BadRecordMessage([&] { row[0].as<uint32_t>(); }),
            "column 'id' (0): '-1' is not a uint32");
  EXPECT_EQ(BadRecordMessage([&] { row[1].as<double>(); }),
            "column 'name' (1): '' is not a double");
  EXPECT_EQ(row[1].as<std::string_view>(), "");
  EXPECT_EQ(BadRecordMessage([&] { row[2].as<double>(); }),
            "column 'amount' (2): '1e999' is out of range for a double");
  EXPECT_EQ(BadRecordMessage([&] { row[3].as<int64_t>(); }),
            "column 'ok' (3): '+5' is not an int64");
  EXPECT_EQ(BadRecordMessage([&] { row[4].as<uint64_t>(); }),
            "column 'ratio' (4): '18446744073709551616' is out of range for a uint64");
  // A column past the header: its index alone.
  const CsvRow& wide = parser_.Parse("1,2,3,4,5,x");
  EXPECT_EQ(BadRecordMessage([&] { wide[5].as<int64_t>(); }), "column 5: 'x' is not an int64");
  // Long values are cut.
  const std::string zs(100, 'z');  // the record outlives the row
  const CsvRow& long_row = parser_.Parse(zs);
  EXPECT_EQ(BadRecordMessage([&] { long_row[0].as<int64_t>(); }),
            "column 'id' (0): '" + std::string(64, 'z') + "...' is not an int64");
}

TEST_F(CsvRowTest, MissingFieldsOfAShortRow) {
  const CsvRow& row = parser_.Parse("1,bob");
  EXPECT_EQ(row.size(), 2u);
  EXPECT_FALSE(row["amount"].present());
  EXPECT_EQ(row["amount"].text(), "");
  EXPECT_TRUE(row["name"].present());
  EXPECT_EQ(BadRecordMessage([&] { row["amount"].as<int64_t>(); }),
            "row has 2 columns, column 'amount' (2) is missing (expected int64)");
  EXPECT_EQ(BadRecordMessage([&] { row[7].as<std::string_view>(); }),
            "row has 2 columns, column 7 is missing (expected string)");
}

TEST_F(CsvRowTest, AnUnknownColumnNameIsAJobBug) {
  const CsvRow& row = parser_.Parse("1,bob");
  try {
    row["amuont"];
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(
        std::string(e.what()),
        "CSV column 'amuont' is not in the file's header: 'id', 'name', 'amount', 'ok', 'ratio'");
  }
  CsvParser headless(',', '"', nullptr);
  const CsvRow& bare = headless.Parse("1,bob");
  EXPECT_THROW(bare["id"], std::invalid_argument);
  EXPECT_EQ(bare.header(), nullptr);
  EXPECT_EQ(bare[1].text(), "bob");
}

// --- ReadCsvHeader -------------------------------------------------------------

// Jobs cache column indexes per header serial: two headers never share
// one, even when one is built where the other was; copies share it.
TEST(CsvHeader, SerialsTellHeadersApart) {
  std::optional<CsvHeader> slot;
  slot.emplace(Strings{"a", "b"});
  const uint64_t first = slot->serial();
  const CsvHeader copy = *slot;
  EXPECT_EQ(copy.serial(), first);
  slot.emplace(Strings{"b", "a"});  // the same address, another file's order
  EXPECT_NE(slot->serial(), first);
  EXPECT_NE(CsvHeader().serial(), CsvHeader().serial());
}

TEST(ReadCsvHeader, TheFirstRecordNamesTheColumns) {
  MemoryFile file("\xEF\xBB\xBFid,\"full\nname\",\"a \"\"b\"\"\"\r\n1,2,3\n");
  Result<CsvHeader> header = ReadCsvHeader(file, CsvOptions{});
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  ASSERT_EQ(header->size(), 3u);
  EXPECT_EQ(header->name(0), "id");  // without the byte order mark
  EXPECT_EQ(header->name(1), "full\nname");
  EXPECT_EQ(header->name(2), "a \"b\"");
  EXPECT_EQ(header->find("a \"b\""), 2u);
  EXPECT_EQ(header->find("nope"), CsvHeader::npos);
}

TEST(ReadCsvHeader, EmptyFileEmptyHeader) {
  MemoryFile file("");
  Result<CsvHeader> header = ReadCsvHeader(file, CsvOptions{});
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->size(), 0u);
}

TEST(ReadCsvHeader, BadHeadersAreBadInputNamingTheFile) {
  MemoryFile unparsable("a,\"b\"c\n1,2\n");
  Result<CsvHeader> bad = ReadCsvHeader(unparsable, CsvOptions{});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kBadInput);
  EXPECT_NE(bad.status().message().find("'in.csv'"), std::string::npos) << bad.status().message();

  MemoryFile duplicate("a,b,,,a\n");
  Result<CsvHeader> dup = ReadCsvHeader(duplicate, CsvOptions{});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kBadInput);
  EXPECT_EQ(dup.status().message(),
            "the CSV header of 'in.csv' names column 'a' twice (columns 0 and 4)");

  Result<CsvHeader> options = ReadCsvHeader(duplicate, CsvOptions{',', ',', true});
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.status().code(), StatusCode::kUsage);
}

TEST(ReadCsvHeader, TsvWithoutQuoting) {
  MemoryFile file("x\t\"y\n1\t2\n");
  Result<CsvHeader> header = ReadCsvHeader(file, CsvOptions{'\t', 0, true});
  ASSERT_TRUE(header.ok());
  ASSERT_EQ(header->size(), 2u);
  EXPECT_EQ(header->name(1), "\"y");
}

// --- CsvSource --------------------------------------------------------------------

struct Seen {
  uint64_t offset;
  Strings fields;
  std::string error;
  bool operator==(const Seen&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Seen& s) {
  os << "{" << s.offset << ",";
  for (const std::string& f : s.fields) os << " [" << f << "]";
  return os << (s.error.empty() ? "" : " error: " + s.error) << "}";
}

// Everything a source hands out for [begin, end) of `data`, as the map loop
// drives it, each range given its quote parity as the engine's census does.
std::vector<Seen> Drain(const std::string& data, uint64_t begin, uint64_t end,
                        const CsvOptions& options, uint64_t* bytes = nullptr) {
  MemoryFile file(data);
  Result<CsvHeader> header = ReadCsvHeader(file, options);
  EXPECT_TRUE(header.ok()) << header.status().ToString();
  Result<uint64_t> quotes = CountQuotes(file, 0, begin, options.quote);
  EXPECT_TRUE(quotes.ok());
  std::string buffer;
  CsvSource source(file, begin, end, (*quotes & 1) != 0, options,
                   options.header ? &*header : nullptr, 16, &buffer);
  std::vector<Seen> seen;
  EXPECT_TRUE(source.Start().ok());
  uint64_t total = source.TakeBytesRead();
  while (true) {
    Result<bool> more = source.NextChunk();
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) break;
    total += source.TakeBytesRead();
    EXPECT_TRUE(
        source
            .ForEachRecord([&](uint64_t offset, const CsvRow& row) {
              EXPECT_EQ(row.header(), options.header ? &*header : nullptr);
              seen.push_back({offset, Fields(row), row.parse_error() ? row.parse_error() : ""});
            })
            .ok());
  }
  if (bytes != nullptr) *bytes = total;
  return seen;
}

TEST(CsvSource, HeaderAndBlankLinesAreNotRecords) {
  const std::string data = "id,note\r\n\r\n1,\"a\nb\"\r\n\n2,\"x\"\"y\"\n3,\"open\n";
  const std::vector<Seen> expected = {
      {11, {"1", "a\nb"}, ""},
      {21, {"2", "x\"y"}, ""},
      {30, {}, "unbalanced quote: a quoted field is not closed"},
  };
  uint64_t bytes = 0;
  EXPECT_EQ(Drain(data, 0, data.size(), CsvOptions{}, &bytes), expected);
  EXPECT_EQ(bytes, data.size());
  // Every split point: the same records, each once.
  for (uint64_t p = 0; p <= data.size(); ++p) {
    std::vector<Seen> both = Drain(data, 0, p, CsvOptions{});
    const std::vector<Seen> rest = Drain(data, p, data.size(), CsvOptions{});
    both.insert(both.end(), rest.begin(), rest.end());
    EXPECT_EQ(both, expected) << "split at " << p;
  }
}

TEST(CsvSource, WithoutAHeaderTheFirstRecordIsData) {
  const std::string data = "\xEF\xBB\xBFid,n\n1,2";
  const std::vector<Seen> expected = {{0, {"id", "n"}, ""}, {8, {"1", "2"}, ""}};
  EXPECT_EQ(Drain(data, 0, data.size(), CsvOptions{',', '"', false}), expected);
}

TEST(CsvSource, PlainTsv) {
  const std::string data = "a\tb\n\"x\t\"y\n";
  const std::vector<Seen> expected = {{4, {"\"x", "\"y"}, ""}};
  EXPECT_EQ(Drain(data, 0, data.size(), CsvOptions{'\t', 0, true}), expected);
  EXPECT_EQ(Drain(data, 5, data.size(), CsvOptions{'\t', 0, true}), std::vector<Seen>{});
}

TEST(CsvSource, WhereNamesTheRecordAndTheFile) {
  MemoryFile file("a\n");
  std::string buffer;
  CsvSource source(file, 0, 2, false, CsvOptions{}, nullptr, 16, &buffer);
  EXPECT_EQ(source.Where(12), "the CSV record at byte 12 of 'in.csv'");
  EXPECT_EQ(source.path(), "in.csv");
  CsvSource bad(file, 0, 2, false, CsvOptions{'"', '"', true}, nullptr, 16, &buffer);
  EXPECT_EQ(bad.Start().code(), StatusCode::kUsage);
}

}  // namespace
}  // namespace sluice
