#include <sluice/text_output.h>

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include <sluice/kv_output.h>
#include <sluice/record_output.h>

namespace sluice {
namespace {

template <class T>
std::string Text(const T& v) {
  std::string s;
  AppendText(&s, v);
  return s;
}

TEST(AppendText, FormatsPlainTypes) {
  EXPECT_EQ(Text(std::string("abc")), "abc");
  EXPECT_EQ(Text(std::string_view("x y")), "x y");
  EXPECT_EQ(Text(uint64_t{18446744073709551615u}), "18446744073709551615");
  EXPECT_EQ(Text(-42), "-42");
  EXPECT_EQ(Text(0.1), "0.1");  // shortest form that reads back exactly
  EXPECT_EQ(Text(true), "true");
  EXPECT_EQ(Text(std::make_pair(std::string("k"), 3)), "k\t3");
  EXPECT_EQ(Text(std::make_tuple(1, 2.5, std::string("z"))), "1\t2.5\tz");
}

// A part file in memory.
class StringFile final : public WritableFile {
 public:
  explicit StringFile(std::string* bytes) : bytes_(bytes) {}
  Status Append(std::string_view data) override {
    bytes_->append(data);
    return Status::OK();
  }
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  const std::string& path() const override { return path_; }

 private:
  std::string* bytes_;
  std::string path_ = "part-00003";
};

// A TextOutput over an in-memory part; Close() puts the bytes in text().
struct Part {
  explicit Part(OutputFormat format, std::vector<std::string> columns = {}) {
    TextOutputOptions options;
    options.format = format;
    options.columns = std::move(columns);
    options.part = "partition 3";
    output = std::make_unique<TextOutput>(&writer, std::move(options));
  }
  Status Close() {
    Status finished = output->Finish();
    Status closed = writer.Close();
    return finished.ok() ? closed : finished;
  }
  std::string bytes;
  BufferedWriter writer{std::make_unique<StringFile>(&bytes)};
  std::unique_ptr<TextOutput> output;
};

TEST(TextOutputText, WritesKeyTabValueLines) {
  Part part(OutputFormat::kText);
  (*part.output)(std::string_view("apple"), uint64_t{3});
  (*part.output)(std::make_pair(std::string("k"), 2), std::make_tuple(1.5, std::string("x")));
  (*part.output)(std::string("one value"), std::string("may hold\ta tab"));
  // A pair value's field may hold tabs too: the value is the rest of the line.
  (*part.output)(std::string("joined"), std::make_pair(std::string("user\tcity"), 1));
  ASSERT_TRUE(part.Close().ok());
  EXPECT_EQ(part.bytes, "apple\t3\nk\t2\t1.5\tx\n" "one value\tmay hold\ta tab\n" "joined\tuser\tcity\t1\n");
  EXPECT_EQ(part.output->records(), 4u);
}

// What a reader could not split back into the same record is refused: the
// first such record ends the part (nothing after it is written) and
// Finish() names it.
TEST(TextOutputText, RefusesWhatTextCannotShowUnambiguously) {
  struct Case {
    std::function<void(TextOutput&)> write;
    std::string why;
  };
  const std::vector<Case> cases = {
      {[](TextOutput& o) { o(std::string("a\tb"), 1); }, "its key holds a tab"},
      {[](TextOutput& o) { o(std::string("a\nb"), 1); }, "its key holds a line break"},
      {[](TextOutput& o) { o(std::string("a\rb"), 1); }, "its key holds a carriage return"},
      {[](TextOutput& o) { o(std::make_pair(std::string("x"), std::string("y\tz")), 1); },
       "its key holds a tab"},
      {[](TextOutput& o) { o(std::string("k"), std::string("two\nlines")); }, "its value holds a line break"},
      {[](TextOutput& o) { o(std::string("k"), std::string("crlf\r")); },
       "its value ends with a carriage return"},
      {[](TextOutput& o) { o('\t', 1); }, "its key holds a tab"},
  };
  for (const Case& c : cases) {
    Part part(OutputFormat::kText);
    (*part.output)(std::string("fine"), 1);
    c.write(*part.output);
    (*part.output)(std::string("after"), 2);
    Status s = part.Close();
    EXPECT_EQ(s.code(), StatusCode::kUserCode) << c.why;
    EXPECT_NE(s.message().find(c.why), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("output record 2 of partition 3 (key \""), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("--output-format csv"), std::string::npos) << s.message();
    EXPECT_EQ(part.bytes, "fine\t1\n") << c.why;
  }
}

TEST(TextOutputText, ShowsTheRefusedKeyEscapedAndCut) {
  Part part(OutputFormat::kText);
  (*part.output)(std::string("tab\there \xff\x01") + std::string(200, 'x'), 1);
  Status s = part.Close();
  EXPECT_NE(s.message().find("(key \"tab\\there \\xff\\x01xxxx"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("xxx...\")"), std::string::npos) << s.message();
  EXPECT_LT(s.message().size(), 400u);
}

TEST(TextOutputCsv, QuotesOnlyWhatNeedsItAndWritesAHeader) {
  Part part(OutputFormat::kCsv);
  (*part.output)(std::string("plain"), 1);
  (*part.output)(std::string("a,b"), 2);
  (*part.output)(std::string("say \"hi\""), 3);
  (*part.output)(std::string("two\nlines\r"), 4);
  (*part.output)(std::string("tab\there"), 5);
  (*part.output)(std::string(""), -1.5);
  ASSERT_TRUE(part.Close().ok());
  EXPECT_EQ(part.bytes,
            "key,value\n"
            "plain,1\n"
            "\"a,b\",2\n"
            "\"say \"\"hi\"\"\",3\n"
            "\"two\nlines\r\",4\n"
            "tab\there,5\n"
            ",-1.5\n");
}

TEST(TextOutputCsv, TuplesAreColumns) {
  Part part(OutputFormat::kCsv);
  (*part.output)(std::make_pair(std::string("2024-01-01"), std::string("x,y")),
                 std::make_tuple(uint64_t{7}, 0.25, true));
  ASSERT_TRUE(part.Close().ok());
  EXPECT_EQ(part.bytes, "key_1,key_2,value_1,value_2,value_3\n2024-01-01,\"x,y\",7,0.25,true\n");
}

TEST(TextOutputCsv, NamedColumnsHeadEvenAnEmptyPart) {
  Part empty(OutputFormat::kCsv, {"word", "count"});
  ASSERT_TRUE(empty.Close().ok());
  EXPECT_EQ(empty.bytes, "word,count\n");
  Part unnamed(OutputFormat::kCsv);
  ASSERT_TRUE(unnamed.Close().ok());
  EXPECT_EQ(unnamed.bytes, "") << "without column names, a part with no record has no header to write";
}

TEST(TextOutputCsv, EveryRowHasTheSameColumns) {
  Part part(OutputFormat::kCsv, {"word", "count"});
  (*part.output)(std::string("a"), 1);
  (*part.output)(std::string("b"), std::make_pair(1, 2));
  Status s = part.Close();
  EXPECT_EQ(s.code(), StatusCode::kUserCode);
  EXPECT_NE(s.message().find("output record 2 of partition 3 has 3 fields"), std::string::npos) << s.message();
  EXPECT_EQ(part.bytes, "word,count\na,1\n");
}

TEST(TextOutputJsonl, EscapesStringsAndKeepsNumbersBare) {
  Part part(OutputFormat::kJsonl);
  (*part.output)(std::string("quote\" back\\ tab\t nl\n cr\r bell\x07 del\x7f caf\xc3\xa9 \xf0\x9f\x98\x80"),
                 uint64_t{18446744073709551615u});
  (*part.output)(std::string("x"), -0.5);
  (*part.output)(std::string("y"), std::make_tuple(true, std::string("s"), 3));
  (*part.output)(std::make_pair(std::string("k"), 1), std::numeric_limits<double>::infinity());
  (*part.output)('c', std::numeric_limits<double>::quiet_NaN());
  Status closed = part.Close();
  ASSERT_TRUE(closed.ok()) << closed.ToString();
  EXPECT_EQ(part.bytes,
            "{\"key\":\"quote\\\" back\\\\ tab\\t nl\\n cr\\r bell\\u0007 del\x7f caf\xc3\xa9 \xf0\x9f\x98\x80\","
            "\"value\":18446744073709551615}\n"
            "{\"key\":\"x\",\"value\":-0.5}\n"
            "{\"key\":\"y\",\"value\":[true,\"s\",3]}\n"
            "{\"key\":[\"k\",1],\"value\":\"inf\"}\n"
            "{\"key\":\"c\",\"value\":\"nan\"}\n");
}

TEST(TextOutputJsonl, NamedColumnsAreMembers) {
  Part part(OutputFormat::kJsonl, {"day", "user", "visits"});
  (*part.output)(std::make_pair(std::string("mon"), std::string("ann")), 4);
  ASSERT_TRUE(part.Close().ok());
  EXPECT_EQ(part.bytes, "{\"day\":\"mon\",\"user\":\"ann\",\"visits\":4}\n");
}

// JSON strings are Unicode: bytes that are not UTF-8 cannot be carried, and
// replacing them would make two keys one.
TEST(TextOutputJsonl, RefusesStringsThatAreNotUtf8) {
  for (std::string bad : {std::string("\xff"), std::string("caf\xe9"), std::string("\xc0\xaf"),
                          std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"), std::string("\xe2\x82")}) {
    Part part(OutputFormat::kJsonl);
    (*part.output)(std::string("ok"), 1);
    (*part.output)(std::string("k"), bad);
    Status s = part.Close();
    EXPECT_EQ(s.code(), StatusCode::kUserCode) << text_output_detail::VisibleText(bad);
    EXPECT_NE(s.message().find("its value holds"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("not UTF-8"), std::string::npos) << s.message();
    EXPECT_EQ(part.bytes, "{\"key\":\"ok\",\"value\":1}\n");
  }
}

// The job's kOutputColumns reach the output through MakeOutput.
struct WithColumns {
  static constexpr std::array<std::string_view, 2> kOutputColumns = {"word", "n"};
};
struct WithoutColumns {};

TEST(MakeOutput, TextOutputTakesTheFormatAndTheJobsColumns) {
  std::string bytes;
  BufferedWriter writer(std::make_unique<StringFile>(&bytes));
  JobSettings settings;
  settings.output_format = OutputFormat::kCsv;
  TextOutput out = MakeOutput<WithColumns, TextOutput>(&writer, settings, "partition 0");
  out(std::string("a"), 1);
  ASSERT_TRUE(out.Finish().ok());
  ASSERT_TRUE(writer.Close().ok());
  EXPECT_EQ(bytes, "word,n\na,1\n");
}

// Another Output cannot take a text format, and key-value files cannot be
// compressed: the writer fails, so the task does.
TEST(MakeOutput, RefusesSettingsAnotherOutputCannotHonour) {
  {
    std::string bytes;
    BufferedWriter writer(std::make_unique<StringFile>(&bytes));
    JobSettings settings;
    settings.output_format = OutputFormat::kJsonl;
    RecordOutput out = MakeOutput<WithoutColumns, RecordOutput>(&writer, settings, "split 0");
    out("k", "v");
    Status s = writer.Close();
    EXPECT_EQ(s.code(), StatusCode::kUsage);
    EXPECT_NE(s.message().find("--output-format jsonl applies only to jobs whose Output is TextOutput"),
              std::string::npos)
        << s.message();
    EXPECT_EQ(bytes, "");
  }
  {
    std::string bytes;
    BufferedWriter writer(std::make_unique<StringFile>(&bytes));
    JobSettings settings;
    settings.output_compression = OutputCompression::kZstd;
    using Kv = KeyValueOutput<std::string, uint64_t>;
    Kv out = MakeOutput<WithoutColumns, Kv>(&writer, settings, "partition 0");
    out(std::string("k"), uint64_t{1});
    EXPECT_EQ(out.Finish().code(), StatusCode::kUsage);
    Status s = writer.Close();
    EXPECT_NE(s.message().find("--output-compression zstd: this job writes Sluice key-value files"),
              std::string::npos)
        << s.message();
  }
  {  // compression alone is fine for RecordOutput (the driver compresses)
    std::string bytes;
    BufferedWriter writer(std::make_unique<StringFile>(&bytes));
    JobSettings settings;
    settings.output_compression = OutputCompression::kGzip;
    RecordOutput out = MakeOutput<WithoutColumns, RecordOutput>(&writer, settings, "split 0");
    out("k", "v");
    EXPECT_TRUE(writer.Close().ok());
    EXPECT_EQ(bytes, "kv");
  }
}

}  // namespace
}  // namespace sluice
