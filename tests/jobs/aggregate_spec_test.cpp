// The aggregate job's parameters (jobs/aggregate/aggregate_spec.h): what
// parses and into what, every mistake refused naming its parameter; the
// CSV quoting of output fields; the group key's order and round trip; and
// merging accumulators (jobs/aggregate/accumulator.h) in any order.
#include "jobs/aggregate/aggregate_spec.h"

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <sluice/params.h>

#include "jobs/aggregate/accumulator.h"
#include "jobs/aggregate/group_key.h"
#include "shuffle/serde.h"

namespace sluice::aggregate {
namespace {

AggregateSpec Spec(const std::string& group_by, const std::string& aggregates, const std::string& where = "",
                   uint64_t avg_digits = 6) {
  return ParseSpec(group_by, aggregates, where, avg_digits);
}

// The message of the JobParamError that parsing throws ("" if none).
std::string Refusal(const std::string& group_by, const std::string& aggregates, const std::string& where = "",
                    uint64_t avg_digits = 6) {
  try {
    (void)ParseSpec(group_by, aggregates, where, avg_digits);
  } catch (const JobParamError& e) {
    return e.what();
  }
  return "";
}

TEST(AggregateSpec, ParsesGroupsAndAggregatesIntoAHeader) {
  const AggregateSpec s = Spec("country, day",
                               "count,sum:amount, avg:amount,min:amount,max:amount,"
                               "distinct:user,count:amount");
  ASSERT_EQ(s.group_by.size(), 2u);
  EXPECT_EQ(s.group_by[1].name, "day");
  ASSERT_EQ(s.aggregates.size(), 7u);
  EXPECT_EQ(s.aggregates[0].kind, AggregateKind::kCount);
  EXPECT_EQ(s.aggregates[1].kind, AggregateKind::kSum);
  EXPECT_EQ(s.aggregates[1].field.name, "amount");
  EXPECT_EQ(s.aggregates[5].kind, AggregateKind::kDistinct);
  EXPECT_EQ(s.aggregates[6].kind, AggregateKind::kCountField);
  EXPECT_EQ(s.header,
            "country,day,count,sum(amount),avg(amount),min(amount),max(amount),distinct(user),"
            "count(amount)\n");
  EXPECT_FALSE(s.where.has_value());
  EXPECT_EQ(s.avg_digits, 6);
}

TEST(AggregateSpec, NoGroupByIsOneGlobalRow) {
  const AggregateSpec s = Spec("", "count");
  EXPECT_TRUE(s.group_by.empty());
  EXPECT_EQ(s.header, "count\n");
  EXPECT_TRUE(Spec("  ", "count").group_by.empty());
}

TEST(AggregateSpec, DottedNamesAreJsonPaths) {
  const AggregateSpec s = Spec("user.address.country", "sum:order.total");
  EXPECT_EQ(s.group_by[0].path, (std::vector<std::string>{"user", "address", "country"}));
  EXPECT_EQ(s.aggregates[0].field.path, (std::vector<std::string>{"order", "total"}));
  EXPECT_EQ(s.header, "user.address.country,sum(order.total)\n");
}

TEST(AggregateSpec, HeaderNamesAreCsvQuoted) {
  EXPECT_EQ(Spec("say \"hi\"", "count").header, "\"say \"\"hi\"\"\",count\n");
}

TEST(AggregateSpec, RefusesMistakesNamingTheParameter) {
  struct Case {
    std::string group_by, aggregates, where;
    uint64_t avg_digits;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"", "median:x", "", 6, "parameter 'aggregates': 'median:x': unknown aggregate 'median'"},
      {"", "sum", "", 6, "parameter 'aggregates': 'sum' needs a field (sum:FIELD)"},
      {"", "countx", "", 6, "parameter 'aggregates': 'countx' is not an aggregate"},
      {"", "sum:", "", 6, "parameter 'aggregates': a field name is empty"},
      {"", "", "", 6, "parameter 'aggregates': is empty"},
      {"", "count,,sum:a", "", 6, "parameter 'aggregates': an empty item"},
      {"a,,b", "count", "", 6, "parameter 'group-by': a field name is empty"},
      {"a,a", "count", "", 6, "parameter 'group-by': field 'a' is named twice"},
      {"a..b", "count", "", 6, "parameter 'group-by': field 'a..b': an empty member name"},
      {"", "sum:.x", "", 6, "parameter 'aggregates': field '.x': an empty member name"},
      {"", "count", "amount", 6, "parameter 'where': 'amount' has no operator"},
      {"", "count", "amount!5", 6, "parameter 'where': 'amount!5': '!' is not an operator"},
      {"", "count", "=5", 6, "parameter 'where': a field name is empty"},
      {"", "count", "country=", 6, "parameter 'where': 'country=': the value is empty"},
      {"", "count", "country=\"\"", 6, "parameter 'where': 'country=\"\"': the value is empty"},
      {"", "count", "x>1e-30", 6,
       "parameter 'where': '1e-30' has more than 18 digits after the decimal point"},
      {"", "count", "", 19, "parameter 'avg-digits': 19 is more than 18"},
  };
  for (const Case& c : cases) {
    const std::string message = Refusal(c.group_by, c.aggregates, c.where, c.avg_digits);
    EXPECT_NE(message.find(c.expect), std::string::npos)
        << "group-by=" << c.group_by << " aggregates=" << c.aggregates << " where=" << c.where
        << "\n  got: " << message << "\n  expected to contain: " << c.expect;
  }
}

TEST(AggregateSpec, ParsesWhere) {
  auto where = [](const std::string& text) { return *Spec("", "count", text).where; };
  Condition c = where("amount>=100");
  EXPECT_EQ(c.field.name, "amount");
  EXPECT_EQ(c.op, CompareOp::kGe);
  EXPECT_TRUE(c.numeric);
  EXPECT_EQ(c.number.ToString(), "100");
  c = where(" amount < -1.5e1 ");
  EXPECT_EQ(c.op, CompareOp::kLt);
  EXPECT_EQ(c.number.ToString(), "-15");
  c = where("country=US");
  EXPECT_EQ(c.op, CompareOp::kEq);
  EXPECT_FALSE(c.numeric);
  EXPECT_EQ(c.text, "US");
  c = where("code=\"10\"");  // quoted: text, not a number
  EXPECT_FALSE(c.numeric);
  EXPECT_EQ(c.text, "10");
  EXPECT_EQ(where("a==1").op, CompareOp::kEq);
  EXPECT_EQ(where("a!=1").op, CompareOp::kNe);
  EXPECT_EQ(where("a<>1").op, CompareOp::kNe);
  EXPECT_EQ(where("a<=1").op, CompareOp::kLe);
  EXPECT_EQ(where("a>1").op, CompareOp::kGt);
  EXPECT_EQ(where("user.age>1").field.path, (std::vector<std::string>{"user", "age"}));
  c = where("name=a=b");  // the first operator splits
  EXPECT_EQ(c.field.name, "name");
  EXPECT_EQ(c.text, "a=b");

  const std::vector<std::tuple<CompareOp, bool, bool, bool>> table = {
      // op, holds for field < value, ==, >
      {CompareOp::kEq, false, true, false}, {CompareOp::kNe, true, false, true},
      {CompareOp::kLt, true, false, false}, {CompareOp::kLe, true, true, false},
      {CompareOp::kGt, false, false, true}, {CompareOp::kGe, false, true, true},
  };
  for (const auto& [op, lt, eq, gt] : table) {
    Condition x;
    x.op = op;
    EXPECT_EQ(x.Holds(-1), lt);
    EXPECT_EQ(x.Holds(0), eq);
    EXPECT_EQ(x.Holds(1), gt);
  }
}

std::string Csv(const std::string& field) {
  std::string out;
  AppendCsvField(field, &out);
  return out;
}

TEST(AggregateSpec, QuotesCsvFieldsOnlyWhenNeeded) {
  EXPECT_EQ(Csv("plain text"), "plain text");
  EXPECT_EQ(Csv(""), "");
  EXPECT_EQ(Csv("a,b"), "\"a,b\"");
  EXPECT_EQ(Csv("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(Csv("line\nbreak"), "\"line\nbreak\"");
  EXPECT_EQ(Csv("cr\r"), "\"cr\r\"");
}

std::string Key(const std::vector<std::string>& fields) {
  std::string key;
  for (size_t i = 0; i < fields.size(); ++i) AppendKeyField(fields[i], i == 0, &key);
  return key;
}

// Sorting keys bytewise sorts the tuples they encode, and every key decodes
// back to its fields, whatever bytes the fields hold.
TEST(AggregateGroupKey, SortsAsTuplesAndRoundTrips) {
  const std::string alphabet("\0\x01\x02,\"a\x1f\xff", 8);
  std::mt19937 rng(7);
  std::vector<std::vector<std::string>> tuples;
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::string> t(3);
    for (std::string& f : t) {
      const size_t len = rng() % 4;
      for (size_t j = 0; j < len; ++j) f.push_back(alphabet[rng() % alphabet.size()]);
    }
    tuples.push_back(t);
  }
  auto by_bytes = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](const std::string& x, const std::string& y) { return std::string_view(x).compare(y) < 0; });
  };
  std::vector<std::vector<std::string>> by_tuple = tuples;
  std::stable_sort(by_tuple.begin(), by_tuple.end(), by_bytes);
  std::vector<std::vector<std::string>> by_key = tuples;
  std::stable_sort(by_key.begin(), by_key.end(),
                   [](const auto& a, const auto& b) { return Key(a) < Key(b); });
  EXPECT_EQ(by_key, by_tuple);
  std::set<std::string> keys;
  std::set<std::vector<std::string>> distinct(tuples.begin(), tuples.end());
  for (const auto& t : tuples) keys.insert(Key(t));
  EXPECT_EQ(keys.size(), distinct.size());  // unambiguous

  std::string scratch, csv;
  AppendKeyAsCsv(Key({"a,b", "", std::string("x\0y", 3)}), 3, &scratch, &csv);
  EXPECT_EQ(csv, std::string("\"a,b\",,x\0y", 10));
  csv.clear();
  AppendKeyAsCsv(Key({""}), 1, &scratch, &csv);
  EXPECT_EQ(csv, "");
  EXPECT_THROW(AppendKeyAsCsv(Key({"a", "b"}), 3, &scratch, &csv), std::invalid_argument);
  EXPECT_THROW(AppendKeyAsCsv(Key({"a", "b"}), 1, &scratch, &csv), std::invalid_argument);
}

// One row's accumulator for the spec below: amount may be NULL.
Accumulator Row(const AggregateSpec& spec, const char* amount, const char* user) {
  Accumulator a;
  a.rows = 1;
  a.Shape(spec);
  for (size_t i = 0; i < spec.states.size(); ++i) {
    Slot& s = a.slot(i);
    const bool distinct = spec.states[i].kind == StateKind::kDistinct;
    const char* v = distinct ? user : amount;
    if (v == nullptr) continue;
    s.n = 1;
    if (distinct) {
      a.distinct(i).SetOne(v);
    } else if (spec.states[i].kind != StateKind::kCountField) {
      EXPECT_EQ(Decimal::Parse(v, &s.value), Decimal::ParseResult::kOk);
    }
  }
  return a;
}

std::string Results(const AggregateSpec& spec, const Accumulator& a) {
  std::string out;
  AppendResults(spec, a, true, &out);
  return out;
}

TEST(AggregateAccumulator, MergesInAnyOrderToOneResult) {
  const AggregateSpec spec =
      Spec("", "count,count:amount,sum:amount,min:amount,max:amount,avg:amount,distinct:user");
  std::vector<Accumulator> rows;
  const char* amounts[] = {"1.5", nullptr, "-2", "10", "0.25", nullptr, "3"};
  for (int i = 0; i < 700; ++i) {
    const std::string user = "u" + std::to_string(i % 37);
    rows.push_back(Row(spec, amounts[i % 7], i % 11 == 0 ? nullptr : user.c_str()));
  }
  std::string expected;
  std::mt19937 rng(3);
  for (int round = 0; round < 5; ++round) {
    // Fold into chunks (splits), then fold the chunks, as the engine does.
    std::vector<Accumulator> chunks;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i % (round + 3) == 0) {
        chunks.push_back(rows[i]);
      } else {
        Merge(spec, &chunks.back(), rows[i]);
      }
    }
    std::shuffle(chunks.begin(), chunks.end(), rng);
    // Through the shuffle encoding, as partial results travel.
    Accumulator total;
    for (size_t i = 0; i < chunks.size(); ++i) {
      std::string bytes;
      Encode(&bytes, chunks[i]);
      Accumulator decoded;
      ByteReader r{bytes.data(), bytes.data() + bytes.size()};
      ASSERT_TRUE(Decode(r, &decoded));
      if (i == 0) {
        total = std::move(decoded);
      } else {
        Merge(spec, &total, decoded);
      }
    }
    const std::string got = Results(spec, total);
    if (round == 0) expected = got;
    EXPECT_EQ(got, expected) << "round " << round;
    std::shuffle(rows.begin(), rows.end(), rng);
  }
  // 700 rows; amounts non-NULL in 5 of 7 (500 rows): 100 each of
  // 1.5, -2, 10, 0.25, 3 sum to 1275; avg 2.55; 37 users, some rows NULL.
  EXPECT_EQ(expected, "700,500,1275,-2,10,2.55,37");
}

// sum:x and avg:x share one state, and count:x the count of that sum;
// min:x has its own. Every aggregate still gets its own column.
TEST(AggregateSpec, AggregatesOfOneFieldShareAState) {
  const AggregateSpec spec = Spec("", "count,count:amount,sum:amount,avg:amount,min:amount,count:user");
  ASSERT_EQ(spec.states.size(), 3u);
  EXPECT_EQ(spec.states[0].kind, StateKind::kSum);
  EXPECT_EQ(spec.states[0].label, "sum(amount)");  // names the field where it is read as a number
  EXPECT_EQ(spec.states[1].kind, StateKind::kMin);
  EXPECT_EQ(spec.states[2].kind, StateKind::kCountField);
  EXPECT_EQ(spec.aggregates[0].state, kNoState);
  EXPECT_EQ(spec.aggregates[1].state, 0u);
  EXPECT_EQ(spec.aggregates[2].state, 0u);
  EXPECT_EQ(spec.aggregates[3].state, 0u);
  EXPECT_EQ(spec.aggregates[4].state, 1u);
  EXPECT_EQ(spec.aggregates[5].state, 2u);
  EXPECT_FALSE(spec.has_distinct);
}

// Up to Accumulator::kInline states the slots live inside the accumulator;
// the test above has more, and a distinct set (behind a pointer). Both
// travel through the shuffle encoding and merge alike.
TEST(AggregateAccumulator, InlineSlotsTravelAndMerge) {
  const AggregateSpec spec = Spec("", "count,sum:amount,avg:amount,count:amount");
  ASSERT_LE(spec.states.size(), Accumulator::kInline);
  Accumulator total = Row(spec, "1.25", nullptr);
  EXPECT_EQ(total.distinct_sets(), 0u);
  for (const char* amount : std::vector<const char*>{"2", "-0.25", nullptr, "7"}) {
    std::string bytes;
    Encode(&bytes, Row(spec, amount, nullptr));
    Accumulator decoded;
    ByteReader r{bytes.data(), bytes.data() + bytes.size()};
    ASSERT_TRUE(Decode(r, &decoded));
    ASSERT_EQ(decoded.size(), 1u);
    Merge(spec, &total, decoded);
  }
  EXPECT_EQ(Results(spec, total), "5,10,2.5,4");
  // A copy is deep: merging into it leaves the original as it was.
  Accumulator copy = total;
  Merge(spec, &copy, total);
  EXPECT_EQ(Results(spec, copy), "10,20,2.5,8");
  EXPECT_EQ(Results(spec, total), "5,10,2.5,4");
  // A value shaped for another spec is refused, not read past its end.
  EXPECT_THROW(Merge(Spec("", "count,sum:amount,distinct:user"), &total, total), std::invalid_argument);
}

// Distinct sets are deep-copied with the accumulator.
TEST(AggregateAccumulator, CopiesOwnTheirDistinctSets) {
  const AggregateSpec spec = Spec("", "count,distinct:user");
  Accumulator a = Row(spec, nullptr, "ann");
  Accumulator b = a;
  Merge(spec, &b, Row(spec, nullptr, "bob"));
  EXPECT_EQ(Results(spec, a), "1,1");
  EXPECT_EQ(Results(spec, b), "2,2");
  a = b;
  Merge(spec, &b, Row(spec, nullptr, "cy"));
  EXPECT_EQ(Results(spec, a), "2,2");
  EXPECT_EQ(Results(spec, b), "3,3");
}

// A slot count past any spec's is a malformed value, not an allocation
// (under ASan, allocating for 2^40 slots would abort the test).
TEST(AggregateAccumulator, DecodingRefusesAHugeSlotCount) {
  std::string body;
  Encode(&body, uint64_t{1});          // rows
  Encode(&body, uint64_t{1} << 40);    // slots
  Encode(&body, uint8_t{0});           // no distinct sets
  body += std::string(64, '\0');
  std::string bytes;
  PutVarint(&bytes, body.size());
  bytes += body;
  Accumulator decoded;
  ByteReader r{bytes.data(), bytes.data() + bytes.size()};
  EXPECT_FALSE(Decode(r, &decoded));
}

TEST(AggregateAccumulator, NullOnlyGroupsHaveEmptyResults) {
  const AggregateSpec spec =
      Spec("", "count,count:amount,sum:amount,min:amount,max:amount,avg:amount,distinct:user");
  Accumulator a = Row(spec, nullptr, nullptr);
  Merge(spec, &a, Row(spec, nullptr, nullptr));
  EXPECT_EQ(Results(spec, a), "2,0,,,,,0");
}

// A slot with no values (n == 0) may hold any value: it is ignored, not
// added (Map reuses one accumulator for every row).
TEST(AggregateAccumulator, IgnoresTheValueOfAnEmptySlot) {
  const AggregateSpec spec = Spec("", "sum:amount,min:amount,max:amount,avg:amount");
  Accumulator a = Row(spec, nullptr, nullptr);
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(Decimal::Parse("1000", &a.slot(i).value), Decimal::ParseResult::kOk);
  }
  Merge(spec, &a, Row(spec, "1", nullptr));
  Merge(spec, &a, Row(spec, "2", nullptr));
  EXPECT_EQ(Results(spec, a), "3,1,2,1.5");
}

TEST(AggregateAccumulator, RefusesASumPastTheRange) {
  const AggregateSpec spec = Spec("", "sum:amount");
  Accumulator a = Row(spec, "99999999999999999999999999999999999999", nullptr);
  try {
    Merge(spec, &a, Row(spec, "1", nullptr));
    FAIL() << "no overflow";
  } catch (const std::overflow_error& e) {
    EXPECT_NE(std::string(e.what()).find("sum(amount)"), std::string::npos) << e.what();
  }
}

TEST(AggregateDistinctSet, CountsLikeASet) {
  std::mt19937 rng(11);
  std::set<std::string> reference;
  DistinctSet set;
  for (int i = 0; i < 20000; ++i) {
    DistinctSet one;
    const std::string v = std::to_string(rng() % 5000);
    one.SetOne(v);
    reference.insert(v);
    if (i % 1000 == 999) {  // merge a bigger set now and then
      DistinctSet many;
      for (int j = 0; j < 300; ++j) {
        DistinctSet x;
        x.SetOne("m" + std::to_string(j * i % 997));
        reference.insert("m" + std::to_string(j * i % 997));
        many.Merge(x);
      }
      set.Merge(many);
    }
    set.Merge(one);
  }
  EXPECT_EQ(set.Count(), reference.size());
  EXPECT_EQ(set.Values(), std::vector<std::string>(reference.begin(), reference.end()));
}

}  // namespace
}  // namespace sluice::aggregate
