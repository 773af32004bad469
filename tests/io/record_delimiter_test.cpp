// Defends --record-delimiter: the spec's parsing (and its refusal of
// delimiters that overlap themselves), and DelimitedReader's promise that
// every record of a file is read by exactly one range, whole, wherever the
// split boundaries and buffer edges fall, the same records a plain
// std::string::find loop (or paragraph splitter) finds in the whole file.
#include "io/record_delimiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/detail/delimited_source.h>
#include <sluice/detail/record_source.h>
#include "tests/io/test_util.h"

namespace sluice {
namespace {

using iotest::TempDir;
using iotest::WriteFile;

static_assert(RecordSource<DelimitedSource>);

// ---------------------------------------------------------------- parsing

RecordDelimiter Parsed(std::string_view spec) {
  Result<RecordDelimiter> d = ParseRecordDelimiter(spec);
  EXPECT_TRUE(d.ok()) << "'" << spec << "': " << d.status().ToString();
  return d.ok() ? *d : RecordDelimiter{};
}

std::string Refusal(std::string_view spec) {
  Result<RecordDelimiter> d = ParseRecordDelimiter(spec);
  EXPECT_FALSE(d.ok()) << "'" << spec << "' was accepted";
  if (d.ok()) return "";
  EXPECT_EQ(d.status().code(), StatusCode::kUsage);
  return d.status().message();
}

TEST(RecordDelimiterParse, NewlineIsTheDefaultLines) {
  EXPECT_EQ(RecordDelimiter{}.kind, RecordDelimiter::kLine);
  EXPECT_EQ(RecordDelimiter{}.bytes, "\n");
  EXPECT_EQ(Parsed("\\n"), RecordDelimiter{});
  EXPECT_EQ(Parsed("\n"), RecordDelimiter{});
}

TEST(RecordDelimiterParse, SingleBytesLiteralOrEscaped) {
  const std::pair<std::string_view, std::string> cases[] = {
      {";", ";"},        {"|", "|"},        {"\\0", std::string(1, '\0')},
      {"\\t", "\t"},     {"\\r", "\r"},     {"\\x1e", "\x1e"},
      {"\\x1E", "\x1e"}, {"\\\\", "\\"},    {"\\x00", std::string(1, '\0')},
      {"\\xff", "\xff"}, {"\t", "\t"},
  };
  for (const auto& [spec, byte] : cases) {
    const RecordDelimiter d = Parsed(spec);
    EXPECT_EQ(d.kind, RecordDelimiter::kByte) << spec;
    EXPECT_EQ(d.bytes, byte) << spec;
  }
}

TEST(RecordDelimiterParse, ParagraphKeyword) {
  const RecordDelimiter d = Parsed("paragraph");
  EXPECT_EQ(d.kind, RecordDelimiter::kParagraph);
  EXPECT_EQ(d.bytes, "");
  // The bytes "paragraph" themselves, spelled with an escape.
  EXPECT_EQ(Parsed("\\x70aragraph"), (RecordDelimiter{RecordDelimiter::kString, "paragraph"}));
}

TEST(RecordDelimiterParse, StringsThatCannotOverlapThemselves) {
  const std::pair<std::string_view, std::string> cases[] = {
      {"<END>", "<END>"}, {"\\r\\n", "\r\n"}, {"\\x1e\\x1f", "\x1e\x1f"},
      {"aab", "aab"},     {"abac", "abac"},   {"\\0\\n", std::string("\0\n", 2)},
  };
  for (const auto& [spec, bytes] : cases) {
    EXPECT_EQ(Parsed(spec), (RecordDelimiter{RecordDelimiter::kString, bytes})) << spec;
  }
}

TEST(RecordDelimiterParse, RefusesEmpty) {
  EXPECT_NE(Refusal("").find("empty"), std::string::npos);
}

TEST(RecordDelimiterParse, RefusesSelfOverlappingStringsSayingWhy) {
  for (std::string_view spec : {"aa", "abab", "||", "aXa", "abcab", "\\n\\n", "\\r\\n\\r\\n"}) {
    const std::string msg = Refusal(spec);
    EXPECT_NE(msg.find("overlaps itself"), std::string::npos) << msg;
    EXPECT_NE(msg.find("split"), std::string::npos) << msg;
  }
  // The example shows two scans disagreeing.
  EXPECT_NE(Refusal("aa").find("in 'aaa' a scan from byte 0 and one from byte 1"),
            std::string::npos)
      << Refusal("aa");
  EXPECT_NE(Refusal("abab").find("'ababab'"), std::string::npos) << Refusal("abab");
  // Blank lines are what "\n\n" and "\r\n\r\n" are after: say so.
  EXPECT_NE(Refusal("\\n\\n").find("use 'paragraph'"), std::string::npos);
  EXPECT_NE(Refusal("\\r\\n\\r\\n").find("use 'paragraph'"), std::string::npos);
  EXPECT_EQ(Refusal("aa").find("paragraph"), std::string::npos);
}

TEST(RecordDelimiterParse, RefusesBadEscapes) {
  EXPECT_NE(Refusal("\\q").find("unknown escape '\\q'"), std::string::npos);
  EXPECT_NE(Refusal("ab\\").find("lone '\\'"), std::string::npos);
  EXPECT_NE(Refusal("\\x1").find("two hex digits"), std::string::npos);
  EXPECT_NE(Refusal("\\xg0").find("two hex digits"), std::string::npos);
  EXPECT_NE(Refusal("\\012").find("octal"), std::string::npos);
}

TEST(RecordDelimiterParse, SpecRoundTrips) {
  const RecordDelimiter cases[] = {
      {},
      {RecordDelimiter::kParagraph, ""},
      {RecordDelimiter::kByte, std::string(1, '\0')},
      {RecordDelimiter::kByte, "\\"},
      {RecordDelimiter::kByte, "\x7f"},
      {RecordDelimiter::kString, std::string("\0" "1", 2)},  // NUL before a digit
      {RecordDelimiter::kString, "<END>"},
      {RecordDelimiter::kString, "\r\n"},
      {RecordDelimiter::kString, "paragraph"},
      {RecordDelimiter::kString, "\xc2\xa7"},
  };
  for (const RecordDelimiter& d : cases) {
    const std::string spec = RecordDelimiterSpec(d);
    for (char c : spec) EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << spec;
    EXPECT_EQ(Parsed(spec), d) << spec;
  }
  EXPECT_EQ(RecordDelimiterSpec({RecordDelimiter::kByte, std::string(1, '\0')}), "\\0");
  EXPECT_EQ(RecordDelimiterSpec({RecordDelimiter::kByte, "\x1e"}), "\\x1e");
}

TEST(RecordDelimiterParse, CheckRefusesStructsTheParserCouldNotMake) {
  EXPECT_TRUE(CheckRecordDelimiter({}).ok());
  const RecordDelimiter bad[] = {
      {RecordDelimiter::kLine, ";"},       {RecordDelimiter::kByte, ""},
      {RecordDelimiter::kByte, "ab"},      {RecordDelimiter::kString, "a"},
      {RecordDelimiter::kString, "aa"},    {RecordDelimiter::kParagraph, "\n"},
  };
  for (const RecordDelimiter& d : bad) {
    const Status s = CheckRecordDelimiter(d);
    EXPECT_EQ(s.code(), StatusCode::kUsage) << RecordDelimiterSpec(d);
  }
}

TEST(RecordDelimiterSearch, FindDelimiterStringIsStdFindWhateverTheText) {
  // Text dense in the first byte (past 16 false starts: the memmem path)
  // and sparse in it (the memchr path), against std::string::find.
  std::mt19937_64 rng(7);
  for (const std::string d : {"ab", "aab", "<END>", "aaaab"}) {
    for (int iter = 0; iter < 300; ++iter) {
      const std::string alphabet = iter % 2 ? "aab" : "xyz<END>a";
      std::string text;
      const size_t n = std::uniform_int_distribution<size_t>(0, 200)(rng);
      for (size_t i = 0; i < n; ++i) text += alphabet[rng() % alphabet.size()];
      for (size_t from = 0; from <= text.size(); from += 1 + from / 8) {
        const char* hit =
            FindDelimiterString(text.data() + from, text.data() + text.size(), d.data(), d.size());
        const size_t want = text.find(d, from);
        ASSERT_EQ(hit == nullptr ? std::string::npos : static_cast<size_t>(hit - text.data()),
                  want)
            << "'" << text << "' from " << from << " for '" << d << "'";
      }
    }
  }
}

// ---------------------------------------------------------------- reading

// A file held in memory. Checks the promise that a decoded view of a
// compressed file needs: every read starts where the previous one ended or
// later (never backwards). With `unknown_size`, size() is UINT64_MAX as for
// such a view, so the reader learns the end only from a short read.
class MemoryFile final : public ReadableFile {
 public:
  explicit MemoryFile(std::string bytes, bool unknown_size = false)
      : bytes_(std::move(bytes)), unknown_size_(unknown_size) {}

  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* got) override {
    *got = 0;
    if (offset < next_) {
      ADD_FAILURE() << "read at " << offset << " after reading up to " << next_;
      return Status::IOError("read backwards");
    }
    requested += n;
    if (offset < bytes_.size()) {
      *got = std::min<uint64_t>(n, bytes_.size() - offset);
      std::memcpy(dst, bytes_.data() + offset, *got);
    }
    next_ = offset + *got;
    return Status::OK();
  }
  uint64_t size() const override { return unknown_size_ ? UINT64_MAX : bytes_.size(); }
  const std::string& path() const override { return path_; }

  uint64_t requested = 0;

 private:
  std::string path_ = "mem.txt";
  std::string bytes_;
  bool unknown_size_;
  uint64_t next_ = 0;
};

struct Rec {
  uint64_t offset;
  std::string text;
  bool operator==(const Rec&) const = default;
};
using Recs = std::vector<Rec>;

std::ostream& operator<<(std::ostream& os, const Rec& r) {
  return os << "{" << r.offset << ", '" << RecordDelimiterSpec({RecordDelimiter::kString, r.text})
            << "'}";
}

struct RangeRead {
  std::string raw;  // the chunks, concatenated
  Recs records;
  uint64_t bytes_read = 0;
  size_t chunks = 0;
};

// Reads [begin, end) of `content` through a fresh MemoryFile (or `file`),
// checking the chunk contract on the way: chunks lie where bytes_read()
// says, end with the delimiter but for the file's last, and every record
// starts in [begin, end).
RangeRead ReadRange(const std::string& content, uint64_t begin, uint64_t end,
                    const RecordDelimiter& d, size_t buffer_bytes, bool unknown_size = false,
                    std::string* storage = nullptr, ReadableFile* file = nullptr) {
  RangeRead out;
  MemoryFile mem(content, unknown_size);
  DelimitedReader reader(file != nullptr ? *file : mem, begin, end, d, buffer_bytes, storage);
  bool saw_unterminated = false;
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
    EXPECT_FALSE(saw_unterminated) << "chunk after one that ends without a delimiter";
    const uint64_t at = begin + reader.bytes_read() - chunk.size();
    EXPECT_EQ(content.substr(at, chunk.size()), chunk) << "chunk at " << at;
    if (d.kind != RecordDelimiter::kParagraph && !chunk.ends_with(d.bytes)) {
      saw_unterminated = true;
      EXPECT_EQ(at + chunk.size(), content.size()) << "only the file's last record lacks one";
    }
    ++out.chunks;
    out.raw.append(chunk);
    ForEachDelimited(chunk, d, [&](std::string_view record, size_t offset) {
      EXPECT_EQ(record.data(), chunk.data() + offset);
      const uint64_t record_at = at + offset;
      EXPECT_GE(record_at, begin);
      EXPECT_LT(record_at, end);
      out.records.push_back(Rec{record_at, std::string(record)});
    });
  }
  std::string_view chunk;
  Result<bool> again = reader.NextChunk(&chunk);  // exhausted readers stay exhausted
  EXPECT_TRUE(again.ok() && !*again && chunk.empty());
  out.bytes_read = reader.bytes_read();
  return out;
}

Recs WholeFile(const std::string& content, const RecordDelimiter& d, size_t buffer_bytes = 4096) {
  return ReadRange(content, 0, content.size(), d, buffer_bytes).records;
}

// The references: straightforward splitters of a whole string.
Recs ReferenceRecords(const std::string& content, const RecordDelimiter& d) {
  Recs out;
  if (d.kind == RecordDelimiter::kParagraph) {
    // Lines on '\n', one trailing '\r' dropped; runs of non-blank lines.
    size_t p = 0;
    bool open = false;
    while (p < content.size()) {
      size_t nl = content.find('\n', p);
      if (nl == std::string::npos) nl = content.size();
      size_t stop = nl;
      if (stop > p && content[stop - 1] == '\r') --stop;
      if (stop == p) {
        open = false;
      } else if (!open) {
        out.push_back(Rec{p, content.substr(p, stop - p)});
        open = true;
      } else {
        out.back().text = content.substr(out.back().offset, stop - out.back().offset);
      }
      p = nl + 1;
    }
    return out;
  }
  size_t p = 0;
  while (p < content.size()) {
    size_t hit = content.find(d.bytes, p);
    if (hit == std::string::npos) hit = content.size();
    std::string text = content.substr(p, hit - p);
    if (d.kind == RecordDelimiter::kLine && !text.empty() && text.back() == '\r') text.pop_back();
    out.push_back(Rec{p, std::move(text)});
    p = hit + d.bytes.size();
  }
  return out;
}

RecordDelimiter Str(std::string bytes) { return {RecordDelimiter::kString, std::move(bytes)}; }
RecordDelimiter Byte(char c) { return {RecordDelimiter::kByte, std::string(1, c)}; }
const RecordDelimiter kParagraph{RecordDelimiter::kParagraph, ""};

TEST(DelimitedReaderTest, EmptyFileHasNoRecords) {
  for (const RecordDelimiter& d : {RecordDelimiter{}, Byte(';'), Str("<END>"), kParagraph}) {
    RangeRead r = ReadRange("", 0, 0, d, 16);
    EXPECT_TRUE(r.records.empty());
    EXPECT_EQ(r.chunks, 0u);
    EXPECT_TRUE(ReadRange("", 0, 100, d, 16).records.empty());
    EXPECT_TRUE(ReadRange("", 0, UINT64_MAX, d, 16, /*unknown_size=*/true).records.empty());
  }
}

TEST(DelimitedReaderTest, DelimiterAtTheVeryStartAndEnd) {
  // Leading: an empty first record. Trailing: no empty last record.
  EXPECT_EQ(WholeFile(";a;b;", Byte(';')), (Recs{{0, ""}, {1, "a"}, {3, "b"}}));
  EXPECT_EQ(WholeFile(";", Byte(';')), (Recs{{0, ""}}));
  EXPECT_EQ(WholeFile(";;", Byte(';')), (Recs{{0, ""}, {1, ""}}));
  EXPECT_EQ(WholeFile("<END>x<END>", Str("<END>")), (Recs{{0, ""}, {5, "x"}}));
  EXPECT_EQ(WholeFile("<END>", Str("<END>")), (Recs{{0, ""}}));
  // A range that starts right after the file's final delimiter has nothing.
  EXPECT_TRUE(ReadRange("a;b;", 4, 10, Byte(';'), 4).records.empty());
  EXPECT_TRUE(ReadRange("a<END>", 6, 10, Str("<END>"), 4).records.empty());
  EXPECT_TRUE(ReadRange("a<END>", 3, 6, Str("<END>"), 4).records.empty());
}

TEST(DelimitedReaderTest, FileWithoutTrailingDelimiter) {
  EXPECT_EQ(WholeFile("a;bc", Byte(';')), (Recs{{0, "a"}, {2, "bc"}}));
  EXPECT_EQ(WholeFile("a<END>bc<EN", Str("<END>")), (Recs{{0, "a"}, {6, "bc<EN"}}));
  EXPECT_EQ(WholeFile("abc", Str("<END>")), (Recs{{0, "abc"}}));
  // The last range finishes the unterminated record the previous one began.
  EXPECT_EQ(ReadRange("a<END>bc<EN", 0, 7, Str("<END>"), 2).records,
            (Recs{{0, "a"}, {6, "bc<EN"}}));
  EXPECT_TRUE(ReadRange("a<END>bc<EN", 7, 11, Str("<END>"), 2).records.empty());
}

TEST(DelimitedReaderTest, RecordLongerThanSplitAndBuffer) {
  const std::string big(10000, 'x');
  const std::string content = "a<END>" + big + "<END>b";
  for (size_t buffer : {1, 2, 7, 64}) {
    // The long record starts in [0, 10): the first range reads all of it.
    RangeRead first = ReadRange(content, 0, 10, Str("<END>"), buffer);
    EXPECT_EQ(first.records, (Recs{{0, "a"}, {6, big}})) << buffer;
    RangeRead mid = ReadRange(content, 10, 5000, Str("<END>"), buffer);
    EXPECT_TRUE(mid.records.empty()) << buffer;
    RangeRead last = ReadRange(content, 5000, content.size(), Str("<END>"), buffer);
    EXPECT_EQ(last.records, (Recs{{content.size() - 1, "b"}})) << buffer;
  }
  std::string lent;
  RangeRead r = ReadRange(content, 0, content.size(), Byte('>'), 3, false, &lent);
  EXPECT_EQ(r.records, (Recs{{0, "a<END"}, {6, big + "<END"}, {content.size() - 1, "b"}}));
  EXPECT_LE(lent.size(), 6u) << "a buffer grown past twice its size is given back";
}

TEST(DelimitedReaderTest, NulSeparatedLikeFindPrint0) {
  // Paths may hold newlines, tabs and spaces; only NUL ends one.
  const std::string content =
      std::string("./a b\0./new\nline\0./tab\there\0./d/e.txt\0", 38);
  TempDir dir;
  const std::string path = dir.Sub("print0");
  WriteFile(path, content);
  Result<std::unique_ptr<ReadableFile>> file = FileSystem::Default()->OpenForRead(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const RecordDelimiter nul = Parsed("\\0");
  const Recs want{{0, "./a b"}, {6, "./new\nline"}, {17, "./tab\there"}, {28, "./d/e.txt"}};
  ASSERT_EQ(ReferenceRecords(content, nul), want);
  for (uint64_t cut = 0; cut <= content.size(); ++cut) {
    Recs got = ReadRange(content, 0, cut, nul, 4, false, nullptr, file->get()).records;
    const Recs rest =
        ReadRange(content, cut, content.size(), nul, 4, false, nullptr, file->get()).records;
    got.insert(got.end(), rest.begin(), rest.end());
    EXPECT_EQ(got, want) << "cut " << cut;
  }
}

TEST(DelimitedReaderTest, BlankLineParagraphsWithCrlf) {
  const std::string content =
      "\r\n\n"                      // leading blank lines: no record
      "first line\r\nsecond\r\n"    // one record of two lines
      "\r\n\r\n"                    // two blank lines
      "  indented\r\n"              // spaces are not blank
      " \r\n"                       // nor is a line of one space
      "\n"                          // LF blank line in a CRLF file
      "last\r\n"
      "\r\n\n\r";                   // trailing blank lines (a last "\r" too)
  const Recs want{{3, "first line\r\nsecond"}, {27, "  indented\r\n "}, {43, "last"}};
  EXPECT_EQ(ReferenceRecords(content, kParagraph), want);
  for (size_t buffer : {1, 2, 3, 4096}) {
    EXPECT_EQ(WholeFile(content, kParagraph, buffer), want) << buffer;
    for (uint64_t cut = 0; cut <= content.size(); ++cut) {
      RangeRead a = ReadRange(content, 0, cut, kParagraph, buffer);
      RangeRead b = ReadRange(content, cut, content.size(), kParagraph, buffer);
      EXPECT_EQ(a.raw + b.raw, content) << "cut " << cut;
      a.records.insert(a.records.end(), b.records.begin(), b.records.end());
      EXPECT_EQ(a.records, want) << "cut " << cut << " buffer " << buffer;
    }
  }
  // A record's trailing CR before end of file goes, as in ForEachLine.
  EXPECT_EQ(WholeFile("a\n\nb\r", kParagraph), (Recs{{0, "a"}, {3, "b"}}));
  EXPECT_TRUE(WholeFile("\n\r\n\n", kParagraph).empty());
  EXPECT_EQ(WholeFile("one", kParagraph), (Recs{{0, "one"}}));
}

TEST(DelimitedReaderTest, CrlfAsAStringDelimiterKeepsLoneNewlines) {
  EXPECT_EQ(WholeFile("a\nb\r\nc\r\n", Str("\r\n")), (Recs{{0, "a\nb"}, {5, "c"}}));
}

TEST(DelimitedReaderTest, LineKindIsLineReaderWithCrlf) {
  EXPECT_EQ(WholeFile("a\r\nb\n\nc\r", RecordDelimiter{}),
            (Recs{{0, "a"}, {3, "b"}, {5, ""}, {6, "c"}}));
}

TEST(DelimitedReaderTest, RangeEndingFarPastEndOfFile) {
  const std::string content = "a;b;c";
  for (bool unknown : {false, true}) {
    EXPECT_EQ(ReadRange(content, 0, UINT64_MAX, Byte(';'), 2, unknown).records,
              (Recs{{0, "a"}, {2, "b"}, {4, "c"}}));
    EXPECT_EQ(ReadRange(content, 3, UINT64_MAX, Byte(';'), 2, unknown).records,
              (Recs{{4, "c"}}));
    EXPECT_TRUE(ReadRange(content, 9, UINT64_MAX, Byte(';'), 2, unknown).records.empty());
  }
}

TEST(DelimitedReaderTest, DoesNotReadAWholeBufferPastTheRangeEnd) {
  for (const RecordDelimiter& d : {Byte(';'), Str("<END>"), kParagraph}) {
    const std::string sep = d.kind == RecordDelimiter::kParagraph ? "\n\n" : d.bytes;
    std::string content;
    while (content.size() < (8u << 20)) content += "a short record" + sep;
    MemoryFile file(content);
    const uint64_t end = 1 << 20;
    RangeRead r = ReadRange(content, 0, end, d, size_t{4} << 20, false, nullptr, &file);
    EXPECT_GE(r.raw.size(), end);
    EXPECT_LT(file.requested, end + (256u << 10)) << RecordDelimiterSpec(d);
  }
}

TEST(DelimitedReaderTest, ChunksHoldManyRecords) {
  std::string content;
  for (int i = 0; i < 2000; ++i) content += "record " + std::to_string(i) + "<END>";
  RangeRead r = ReadRange(content, 0, content.size(), Str("<END>"), 1000);
  EXPECT_EQ(r.records, ReferenceRecords(content, Str("<END>")));
  EXPECT_LT(r.chunks, content.size() / 500);  // whole buffers, not records
  EXPECT_EQ(r.bytes_read, content.size());
}

class FailingFile : public ReadableFile {
 public:
  Status ReadAt(uint64_t, size_t, char*, size_t* got) override {
    *got = 0;
    return Status::IOError("read 'failing': Input/output error");
  }
  uint64_t size() const override { return 100; }
  const std::string& path() const override { return path_; }

 private:
  std::string path_ = "failing";
};

TEST(DelimitedReaderTest, ReadErrorsAreReturned) {
  FailingFile f;
  for (const RecordDelimiter& d : {Byte(';'), Str("<END>"), kParagraph}) {
    for (uint64_t begin : {0, 10}) {
      DelimitedReader reader(f, begin, 50, d);
      std::string_view chunk;
      Result<bool> r = reader.NextChunk(&chunk);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kIOError);
    }
  }
}

TEST(DelimitedReaderTest, RefusesADelimiterThatOverlapsItself) {
  MemoryFile f("aaaa");
  DelimitedReader reader(f, 0, 4, Str("aa"));
  std::string_view chunk;
  Result<bool> r = reader.NextChunk(&chunk);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUsage);
  EXPECT_EQ(f.requested, 0u);
}

// ---------------------------------------------------------------- property

// Random text from a small alphabet rich in the delimiter's bytes and
// pieces of it (and newlines), so that delimiters, near-misses and long
// runs of newlines fall across every boundary.
std::string RandomContent(std::mt19937_64& rng, const RecordDelimiter& d, size_t max_tokens) {
  std::vector<std::string> tokens = {"x", "y", "\n", "\r", "\r\n"};
  if (d.kind == RecordDelimiter::kParagraph) {
    tokens.insert(tokens.end(), {"\n", "\n", "\n\n", "\r\n\r\n", "\n\n\n\n", " ", "\r"});
  } else {
    for (size_t i = 0; i < d.bytes.size(); ++i) {
      tokens.push_back(d.bytes.substr(i, 1));
      tokens.push_back(d.bytes.substr(0, i + 1));  // prefixes, the whole
      tokens.push_back(d.bytes.substr(i));         // suffixes
    }
    tokens.push_back(d.bytes);
    tokens.push_back(d.bytes + d.bytes);
  }
  std::uniform_int_distribution<size_t> count(0, max_tokens);
  std::uniform_int_distribution<size_t> pick(0, tokens.size() - 1);
  std::string content;
  const size_t n = count(rng);
  for (size_t i = 0; i < n; ++i) content += tokens[pick(rng)];
  return content;
}

const RecordDelimiter kPropertyDelimiters[] = {
    RecordDelimiter{},
    Byte(';'),
    Byte('\0'),
    Str("\r\n"),
    Str("<END>"),
    Str("aab"),   // "aaab": a near-miss straddles every match
    Str("abac"),
    kParagraph,
};

std::string Name(const RecordDelimiter& d) { return "delimiter '" + RecordDelimiterSpec(d) + "'"; }

// Reads the ranges [cuts[i], cuts[i+1]) and checks the whole-file
// promises: the chunks tile the file, the records are the reference's.
void CheckPartition(const std::string& content, const std::vector<uint64_t>& cuts,
                    const RecordDelimiter& d, size_t buffer, bool unknown_size,
                    const Recs& want, std::string* storage) {
  std::string raw;
  Recs got;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    RangeRead r = ReadRange(content, cuts[i], cuts[i + 1], d, buffer, unknown_size, storage);
    raw += r.raw;
    got.insert(got.end(), r.records.begin(), r.records.end());
  }
  std::string where = "cuts";
  for (uint64_t c : cuts) where += " " + std::to_string(c);
  ASSERT_EQ(raw, content) << where << ", buffer " << buffer;
  ASSERT_EQ(got, want) << where << ", buffer " << buffer;
}

TEST(DelimitedReaderProperty, WholeFileMatchesTheReferenceSplitter) {
  const uint64_t seed = 20250101;
  std::mt19937_64 rng(seed);
  for (const RecordDelimiter& d : kPropertyDelimiters) {
    SCOPED_TRACE(Name(d));
    for (int iter = 0; iter < 300; ++iter) {
      const std::string content = RandomContent(rng, d, 200);
      SCOPED_TRACE("iteration " + std::to_string(iter) + " of seed " + std::to_string(seed));
      const Recs want = ReferenceRecords(content, d);
      for (size_t buffer : {1, 2, 3, 5, 64, 4096}) {
        ASSERT_EQ(WholeFile(content, d, buffer), want) << "buffer " << buffer;
      }
    }
  }
}

TEST(DelimitedReaderProperty, EveryCutPointOfSmallFiles) {
  const uint64_t seed = 20250102;
  std::mt19937_64 rng(seed);
  std::string storage;  // lent, as the engine does, across all readers
  for (const RecordDelimiter& d : kPropertyDelimiters) {
    SCOPED_TRACE(Name(d));
    for (int iter = 0; iter < 120; ++iter) {
      const std::string content = RandomContent(rng, d, 60);
      SCOPED_TRACE("iteration " + std::to_string(iter) + " of seed " + std::to_string(seed));
      const Recs want = ReferenceRecords(content, d);
      for (uint64_t cut = 0; cut <= content.size(); ++cut) {
        for (size_t buffer : {1, 3, 64}) {
          const bool unknown = (cut + buffer) % 2 == 0;
          const uint64_t last = unknown ? UINT64_MAX : content.size();
          CheckPartition(content, {0, cut, last}, d, buffer, unknown, want,
                         buffer == 3 ? &storage : nullptr);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(DelimitedReaderProperty, RandomMultiCutSets) {
  const uint64_t seed = 20250103;
  std::mt19937_64 rng(seed);
  for (const RecordDelimiter& d : kPropertyDelimiters) {
    SCOPED_TRACE(Name(d));
    for (int iter = 0; iter < 400; ++iter) {
      const std::string content = RandomContent(rng, d, 150);
      SCOPED_TRACE("iteration " + std::to_string(iter) + " of seed " + std::to_string(seed));
      const Recs want = ReferenceRecords(content, d);
      const size_t ncuts = std::uniform_int_distribution<size_t>(1, 8)(rng);
      std::vector<uint64_t> cuts = {0};
      for (size_t i = 0; i < ncuts; ++i) {
        cuts.push_back(std::uniform_int_distribution<uint64_t>(0, content.size())(rng));
      }
      std::sort(cuts.begin() + 1, cuts.end());  // equal cuts make empty ranges
      const bool unknown = iter % 3 == 0;
      cuts.push_back(unknown ? UINT64_MAX : content.size());
      const size_t buffer = std::uniform_int_distribution<int>(0, 9)(rng) == 0
                                ? 4096
                                : std::uniform_int_distribution<size_t>(1, 16)(rng);
      CheckPartition(content, cuts, d, buffer, unknown, want, nullptr);
      if (HasFatalFailure()) return;
    }
  }
}

// ---------------------------------------------------------------- source

TEST(DelimitedSourceTest, HandsOutRecordsWithFileOffsets) {
  MemoryFile file("a<END>bb<END>ccc");
  std::string buffer;
  DelimitedSource source(file, 1, 16, Str("<END>"), 4, &buffer);
  ASSERT_TRUE(source.Start().ok());
  uint64_t bytes = source.TakeBytesRead();
  std::vector<std::pair<uint64_t, std::string>> seen;
  while (true) {
    Result<bool> more = source.NextChunk();
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    bytes += source.TakeBytesRead();
    if (!*more) break;
    ASSERT_TRUE(source.ForEachRecord([&](uint64_t offset, std::string_view record) {
                  seen.emplace_back(offset, std::string(record));
                }).ok());
  }
  EXPECT_EQ(seen, (std::vector<std::pair<uint64_t, std::string>>{{6, "bb"}, {13, "ccc"}}));
  EXPECT_EQ(bytes, 10u);  // the chunks: "bb<END>ccc"
  EXPECT_EQ(source.Where(6), "the record at byte 6 of 'mem.txt'");
  EXPECT_EQ(source.path(), "mem.txt");
}

TEST(DelimitedSourceTest, StartRefusesAnInvalidDelimiter) {
  MemoryFile file("abab");
  std::string buffer;
  FileRange range;
  range.end = 4;
  DelimitedSource source(file, range, Str("abab"), 4, &buffer);
  EXPECT_EQ(source.Start().code(), StatusCode::kUsage);
}

}  // namespace
}  // namespace sluice
