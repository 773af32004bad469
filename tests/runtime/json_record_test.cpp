// Defends what a JSON Lines job sees: nested access, arrays, missing fields
// and wrong types as BadRecords naming the field's path, text() of every
// kind of value, malformed lines reported (not thrown), and JsonSource:
// which lines a range hands out, blank ones not among them.
#include <gtest/gtest.h>
#include <sluice/bad_record.h>
#include <sluice/detail/json_source.h>
#include <sluice/detail/record_source.h>
#include <sluice/json_record.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/file_system.h"

namespace sluice {
namespace {

static_assert(RecordSource<JsonSource>);

template <class Fn>
std::string BadRecordMessage(Fn&& fn) {
  try {
    fn();
  } catch (const BadRecord& e) {
    return e.what();
  }
  return "(no BadRecord)";
}

class JsonRecordTest : public ::testing::Test {
 protected:
  const JsonRecord& Parse(std::string_view line) {
    const JsonRecord& rec = parser_.Parse(line);
    EXPECT_EQ(rec.parse_error(), nullptr) << line;
    return rec;
  }
  JsonParser parser_;
};

TEST_F(JsonRecordTest, NestedFields) {
  const JsonRecord& rec = Parse(
      R"({"user": {"id": 42, "name": "ann", "score": 2.5, "admin": false, "big": 18446744073709551615},)"
      R"( "n": -7, "note": null})");
  EXPECT_EQ(rec["user"]["id"].as<int64_t>(), 42);
  EXPECT_EQ(rec["user"]["id"].as<int32_t>(), 42);
  EXPECT_EQ(rec["user"]["id"].as<uint64_t>(), 42u);
  EXPECT_EQ(rec["user"]["id"].as<double>(), 42.0);  // integers convert to double
  EXPECT_EQ(rec["user"]["name"].as<std::string_view>(), "ann");
  EXPECT_EQ(rec["user"]["name"].as<std::string>(), "ann");
  EXPECT_EQ(rec["user"]["score"].as<double>(), 2.5);
  EXPECT_EQ(rec["user"]["score"].as<float>(), 2.5f);
  EXPECT_FALSE(rec["user"]["admin"].as<bool>());
  EXPECT_EQ(rec["user"]["big"].as<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(rec["n"].as<int64_t>(), -7);
  EXPECT_TRUE(rec["note"].is_null());
  EXPECT_TRUE(rec["note"].present());
  EXPECT_FALSE(rec["n"].is_null());
  EXPECT_TRUE(rec["user"].is_object());
  EXPECT_EQ(rec["user"].size(), 5u);
  EXPECT_EQ(rec.record().substr(0, 9), "{\"user\": ");
  // A value kept in a variable is as good as a chained one.
  const JsonValue user = rec["user"];
  const JsonValue id = user["id"];
  EXPECT_EQ(id.as<int64_t>(), 42);
  EXPECT_EQ(id.path(), "user.id");
}

TEST_F(JsonRecordTest, Arrays) {
  const JsonRecord& rec = Parse(R"({"tags": ["a", "b", "c"], "m": [[1, 2], [3]], "e": []})");
  EXPECT_TRUE(rec["tags"].is_array());
  EXPECT_EQ(rec["tags"].size(), 3u);
  EXPECT_EQ(rec["tags"][1].as<std::string_view>(), "b");
  EXPECT_EQ(rec["m"][1][0].as<int64_t>(), 3);
  EXPECT_FALSE(rec["tags"][3].present());
  std::vector<std::string> tags;
  for (JsonValue tag : rec["tags"]) tags.emplace_back(tag.as<std::string_view>());
  EXPECT_EQ(tags, (std::vector<std::string>{"a", "b", "c"}));
  int64_t sum = 0;
  for (JsonValue row : rec["m"]) {
    for (JsonValue x : row) sum += x.as<int64_t>();
  }
  EXPECT_EQ(sum, 6);
  size_t none = 0;
  for (JsonValue x : rec["e"]) none += x.present() ? 1 : 0;
  EXPECT_EQ(none, 0u);
  // A top-level array.
  const JsonRecord& top = Parse("[10, 20]");
  EXPECT_EQ(top[1].as<int64_t>(), 20);
  size_t count = 0;
  for (JsonValue x : top) count += x.as<int64_t>() > 0 ? 1 : 0;
  EXPECT_EQ(count, 2u);
}

TEST_F(JsonRecordTest, MissingFieldsArePresentFalseUntilConverted) {
  const JsonRecord& rec = Parse(R"({"user": {"id": 1}, "tags": ["x"]})");
  EXPECT_FALSE(rec["nope"].present());
  EXPECT_FALSE(rec["nope"].is_null());
  EXPECT_EQ(rec["nope"].text(), "");
  EXPECT_FALSE(rec["user"]["address"]["city"].present());  // missing all the way down
  EXPECT_EQ(BadRecordMessage([&] { rec["user"]["address"]["city"].as<std::string_view>(); }),
            "field 'user.address.city' is missing (expected string)");
  EXPECT_EQ(BadRecordMessage([&] { rec["nope"].as<int64_t>(); }),
            "field 'nope' is missing (expected int64)");
  EXPECT_EQ(BadRecordMessage([&] { rec["tags"][4].as<std::string>(); }),
            "field 'tags[4]' is missing (expected string)");
  EXPECT_EQ(BadRecordMessage([&] { rec["nope"][2]["k"].as<bool>(); }),
            "field 'nope[2].k' is missing (expected bool)");
  EXPECT_EQ(BadRecordMessage([&] { rec["nope"].size(); }),
            "field 'nope' is missing (expected array or object)");
  EXPECT_EQ(BadRecordMessage([&] {
              for (JsonValue v : rec["nope"]) (void)v;
            }),
            "field 'nope' is missing (expected array)");
}

TEST_F(JsonRecordTest, WrongTypesAreBadRecordsNamingThePath) {
  const JsonRecord& rec = Parse(
      R"({"user": {"id": "abc", "n": 3.0, "big": 5000000000, "neg": -1, "huge": 18446744073709551615}, "list": [{"v": true}]})");
  EXPECT_EQ(BadRecordMessage([&] { rec["user"]["id"].as<int64_t>(); }),
            "field 'user.id': expected int64, got string \"abc\"");
  EXPECT_EQ(BadRecordMessage([&] { rec["user"]["n"].as<int64_t>(); }),
            "field 'user.n': expected int64, got double 3");
  EXPECT_EQ(BadRecordMessage([&] { rec["user"]["big"].as<int32_t>(); }),
            "field 'user.big': expected int32, got int64 5000000000 (out of range)");
  EXPECT_EQ(BadRecordMessage([&] { rec["user"]["neg"].as<uint64_t>(); }),
            "field 'user.neg': expected uint64, got int64 -1 (out of range)");
  EXPECT_EQ(BadRecordMessage([&] { rec["user"]["huge"].as<int64_t>(); }),
            "field 'user.huge': expected int64, got uint64 18446744073709551615 (out of range)");
  EXPECT_EQ(BadRecordMessage([&] { rec["list"][0]["v"].as<std::string_view>(); }),
            "field 'list[0].v': expected string, got bool true");
  EXPECT_EQ(BadRecordMessage([&] { rec["user"].as<double>(); }),
            "field 'user': expected double, got object");
  EXPECT_EQ(BadRecordMessage([&] { rec["user"]["id"]["x"]; }),
            "field 'user.id': expected object, got string \"abc\"");
  EXPECT_EQ(BadRecordMessage([&] { rec["user"][0]; }), "field 'user': expected array, got object");
  EXPECT_EQ(BadRecordMessage([&] { rec[0]; }), "the record: expected array, got object");
  EXPECT_EQ(BadRecordMessage([&] { rec["list"].as<int64_t>(); }),
            "field 'list': expected int64, got array");
}

TEST_F(JsonRecordTest, TextOfEveryKind) {
  const JsonRecord& rec = Parse(
      R"({"s": "h\u00e9llo \ud83d\ude00 \"q\"", "i": -12, "u": 18446744073709551615, "d": 1.50, "e": 1e2,)"
      R"( "t": true, "f": false, "z": null, "o": {"a": [1, "x"]}, "k": "a\nb"})");
  const std::string_view s = rec["s"].text();
  const std::string_view i = rec["i"].text();
  const std::string_view u = rec["u"].text();
  const std::string_view d = rec["d"].text();
  const std::string_view e = rec["e"].text();
  const std::string_view o = rec["o"].text();
  // Every view stays valid while the record is: none overwrote another.
  EXPECT_EQ(s, "h\xC3\xA9llo \xF0\x9F\x98\x80 \"q\"");  // unicode escapes, a surrogate pair
  EXPECT_EQ(i, "-12");
  EXPECT_EQ(u, "18446744073709551615");
  EXPECT_EQ(d, "1.5");
  EXPECT_EQ(e, "100");
  EXPECT_EQ(rec["t"].text(), "true");
  EXPECT_EQ(rec["f"].text(), "false");
  EXPECT_EQ(rec["z"].text(), "null");
  EXPECT_EQ(o, R"({"a":[1,"x"]})");
  EXPECT_EQ(rec["k"].as<std::string_view>(), "a\nb");
  EXPECT_EQ(rec.text().substr(0, 5), "{\"s\":");
  // Many numbers' texts at once (more than one arena block).
  std::vector<std::string_view> texts;
  for (int n = 0; n < 500; ++n) texts.push_back(rec["u"].text());
  for (const std::string_view t : texts) ASSERT_EQ(t, "18446744073709551615");
}

TEST_F(JsonRecordTest, MalformedLinesReportAndDoNotThrow) {
  for (const std::string_view bad :
       {std::string_view("{\"a\": 1"), std::string_view("{\"a\": 1} x"), std::string_view("{a: 1}"),
        std::string_view("{\"s\": \"\xFF\"}"), std::string_view("[1,]"), std::string_view("")}) {
    const JsonRecord& rec = parser_.Parse(bad);
    EXPECT_NE(rec.parse_error(), nullptr) << bad;
    EXPECT_EQ(rec.record(), bad);
    EXPECT_THROW(rec["a"], BadRecord);
  }
  // The parser recovers for the next line.
  EXPECT_EQ(Parse(R"({"a": 5})")["a"].as<int64_t>(), 5);
  // Scalars are records too.
  EXPECT_EQ(Parse("17").as<int64_t>(), 17);
  EXPECT_EQ(Parse("\"x\"").as<std::string_view>(), "x");
  EXPECT_EQ(BadRecordMessage([&] { Parse("17")["a"]; }),
            "the record: expected object, got int64 17");
}

TEST_F(JsonRecordTest, LongLinesGrowTheBuffers) {
  std::string line = "{\"v\": [";
  for (int i = 0; i < 100000; ++i) line += std::to_string(i) + ",";
  line += "0], \"s\": \"" + std::string(1 << 20, 'x') + "\"}";
  const JsonRecord& rec = Parse(line);
  EXPECT_EQ(rec["v"].size(), 100001u);
  EXPECT_EQ(rec["s"].as<std::string_view>().size(), size_t{1} << 20);
  EXPECT_EQ(Parse("{\"small\": 1}")["small"].as<int64_t>(), 1);
}

// --- JsonSource ------------------------------------------------------------------

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
  std::string path_ = "in.jsonl";
};

struct Seen {
  uint64_t offset;
  std::string text;  // the value's text(), or the parse error
  bool operator==(const Seen&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{" << s.offset << ", " << s.text << "}";
}

std::vector<Seen> Drain(const std::string& data, uint64_t begin, uint64_t end,
                        uint64_t* bytes = nullptr) {
  MemoryFile file(data);
  std::string buffer;
  JsonSource source(file, begin, end, 16, &buffer);
  std::vector<Seen> seen;
  EXPECT_TRUE(source.Start().ok());
  uint64_t total = source.TakeBytesRead();
  while (true) {
    Result<bool> more = source.NextChunk();
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) break;
    total += source.TakeBytesRead();
    EXPECT_TRUE(source
                    .ForEachRecord([&](uint64_t offset, const JsonRecord& rec) {
                      seen.push_back({offset, rec.parse_error() != nullptr
                                                  ? "error"
                                                  : std::string(rec.text())});
                    })
                    .ok());
  }
  if (bytes != nullptr) *bytes = total;
  return seen;
}

TEST(JsonSource, OneRecordPerNonBlankLine) {
  const std::string data = "\xEF\xBB\xBF{\"a\":1}\r\n\n  \t\r\n[1, 2]\nnot json\n\"s\"";
  const size_t array_at = data.find('[');
  const std::vector<Seen> expected = {
      {0, R"({"a":1})"},
      {array_at, "[1,2]"},
      {data.find("not"), "error"},
      {data.size() - 3, "s"},
  };
  uint64_t bytes = 0;
  EXPECT_EQ(Drain(data, 0, data.size(), &bytes), expected);
  EXPECT_EQ(bytes, data.size());
  for (uint64_t p = 0; p <= data.size(); ++p) {
    std::vector<Seen> both = Drain(data, 0, p);
    const std::vector<Seen> rest = Drain(data, p, data.size());
    both.insert(both.end(), rest.begin(), rest.end());
    EXPECT_EQ(both, expected) << "split at " << p;
  }
}

TEST(JsonSource, WhereNamesTheLineAndTheFile) {
  MemoryFile file("{}\n");
  std::string buffer;
  JsonSource source(file, 0, 3, 16, &buffer);
  EXPECT_EQ(source.Where(40), "the JSON line at byte 40 of 'in.jsonl'");
  EXPECT_EQ(source.path(), "in.jsonl");
}

}  // namespace
}  // namespace sluice
