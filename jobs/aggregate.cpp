// Aggregate: SQL's GROUP BY over CSV and JSON Lines files, without writing
// C++.
//
//   sluice run aggregate --input events.csv.gz --output out
//       --param group-by=country,day --param aggregates=count,sum:amount,avg:amount
//       --param 'where=amount>0'        (one command line)
//
// Parameters (each mistake is exit 2, naming the parameter):
//   group-by    comma-separated fields; none: one row for the whole input
//   aggregates  comma-separated, in output order (default count):
//                 count       rows (COUNT(*))
//                 count:F     rows where F is not NULL
//                 sum:F min:F max:F avg:F   of F's non-NULL values, as exact decimals
//                 distinct:F  the number of distinct non-NULL values of F, as text
//   where       FIELD<OP>VALUE, OP one of = != < <= > >= (== and <> too):
//               only rows that satisfy it count
//   format      auto (by the file's name, then its first byte), csv or jsonl
//   avg-digits  digits after the point of averages (default 6)
// A field is a CSV column, by its name in the file's header (files may
// order columns differently; --csv-header no is not supported), or a JSON
// member: `user.id` is member id of member user.
//
// NULL: a field is NULL when it is missing (a JSON member absent, a CSV row
// shorter than its header), JSON null, or empty text (an empty CSV field, a
// JSON ""). NULLs are skipped by count:F, sum, min, max, avg and distinct,
// fail every where comparison (!= included, as in SQL), and group as an
// empty field: NULL and "" are one group. A JSON path through a missing or
// null member is NULL; through a member of another type (or a line that is
// not an object) it is a bad record.
//
// Numbers are exact decimals (jobs/aggregate/decimal.h): up to 38
// significant digits, at most 18 after the point; an optional sign, '.',
// and exponent (1.5e3); no spaces, thousands separators, inf or nan. A
// value of sum/min/max/avg (or of a numeric where) that is not such a
// number is a bad record (skipped up to --max-bad-records, listed in
// OUTPUT/_bad_records), named with its field. A JSON number is read as the
// text simdjson prints for it: integers exactly, other numbers as the
// shortest decimal that reads back as the same double, which is the number
// as written whenever it has at most 15 significant digits; for more, write
// it as a JSON string ("12345678901234567.89"), which is read exactly. Sums
// are exact, so the output is byte-identical at any rank count; a sum
// past 38 significant digits fails the job (exit 6) instead of rounding.
// Printed numbers are canonical: no exponent, no trailing zeros after the
// point, "0" for zero. avg is the exact sum over the non-NULL count,
// rounded half to even at avg-digits digits. The sum, min, max or avg of
// no values is an empty field (NULL).
//
// where: a VALUE that reads as a number compares numerically (the field's
// value must then be a number: a bad record otherwise); any other VALUE, or
// one in double quotes ("10"), compares bytewise as text.
//
// Output: CSV (RFC 4180), a header row first in every part file, so each
// part is a whole CSV file and a folder of them reads as one table in
// DuckDB, Spark or pandas. Columns: the group-by fields, then the
// aggregates named as given: country,day,count,sum(amount),avg(amount).
// Rows are sorted by the group values (bytewise, field by field) within
// each part. An input with no rows gives headers only, even without
// group-by. distinct:F keeps every distinct value of a group in memory
// (outside the --memory budget): mind high-cardinality fields.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/csv_row.h>
#include <sluice/job.h>
#include <sluice/json_record.h>

#include "jobs/aggregate/accumulator.h"
#include "jobs/aggregate/aggregate_spec.h"
#include "jobs/aggregate/decimal.h"
#include "jobs/aggregate/group_key.h"

namespace {

using sluice::aggregate::Accumulator;
using sluice::aggregate::StateKind;
using sluice::aggregate::AggregateSpec;
using sluice::aggregate::Condition;
using sluice::aggregate::Decimal;
using sluice::aggregate::FieldRef;

// Writes the lines Reduce formats, whole; the header comes from the job's
// OutputHeader(), written by the engine at the start of every part.
class CsvLinesOutput {
 public:
  explicit CsvLinesOutput(sluice::BufferedWriter* writer) : writer_(writer) {}

  // `line` ends in '\n'.
  void operator()(std::string_view line) {
    // The writer keeps its first error; the engine checks it once per task.
    (void)writer_->Append(line);
    ++records_;
  }
  uint64_t records() const { return records_; }
  sluice::Status Finish() { return sluice::Status::OK(); }

 private:
  sluice::BufferedWriter* writer_;
  uint64_t records_ = 0;
};

// A field's value in one row.
struct FieldValue {
  std::string_view text;
  bool null = true;
};

sluice::TableFormat ParseFormat(const std::string& format) {
  if (format == "auto") return sluice::TableFormat::kAuto;
  if (format == "csv") return sluice::TableFormat::kCsv;
  if (format == "jsonl" || format == "json") return sluice::TableFormat::kJsonLines;
  throw sluice::JobParamError("parameter 'format': '" + format + "' is not auto, csv or jsonl");
}

// "'abc'" for a message, long values cut.
std::string Shown(std::string_view text) {
  constexpr size_t kShown = 64;
  return "'" + std::string(text.substr(0, kShown)) + (text.size() > kShown ? "...'" : "'");
}

class Aggregate : public sluice::Job<Aggregate, std::string, Accumulator> {
 public:
  using Input = sluice::TableInput;
  using Output = CsvLinesOutput;

  static constexpr sluice::Param<std::string> kGroupBy{
      "group-by", "", "comma-separated fields to group on (none: one row for all the input)"};
  static constexpr sluice::Param<std::string> kAggregates{
      "aggregates", "count",
      "comma-separated count, count:F, sum:F, min:F, max:F, avg:F, distinct:F (output columns in this "
      "order)"};
  static constexpr sluice::Param<std::string> kWhere{
      "where", "", "keep only rows where FIELD<OP>VALUE holds, OP one of = != < <= > >="};
  static constexpr sluice::Param<std::string> kFormat{
      "format", "auto", "auto, csv or jsonl: how input files are read (auto: by name, then by content)"};
  static constexpr sluice::Param<uint64_t> kAvgDigits{
      "avg-digits", 6, "digits after the point of averages, rounded half to even (0..18)"};
  static constexpr auto kParams = sluice::ParamTable(kGroupBy, kAggregates, kWhere, kFormat, kAvgDigits);

  Aggregate()
      : spec_(sluice::aggregate::ParseSpec(param(kGroupBy), param(kAggregates), param(kWhere),
                                           param(kAvgDigits))),
        format_(ParseFormat(param(kFormat))) {
    for (const FieldRef& f : spec_.group_by) group_cells_.push_back(CellOf(f));
    for (const sluice::aggregate::State& state : spec_.states) state_cells_.push_back(CellOf(state.field));
    if (spec_.where) {
      where_cell_ = CellOf(spec_.where->field);
      where_label_ = "where " + spec_.where->source + ": field '" + spec_.where->field.name + "'";
    }
    row_.Shape(spec_);
  }

  // Engine hooks: how TableInput reads each file, and each part's first line.
  sluice::TableFormat table_format() const { return format_; }
  const std::string& OutputHeader() const { return spec_.header; }

  // Called with a sluice::CsvRow for CSV files, a sluice::JsonRecord for
  // JSON Lines files. Reads the where field first, then the group-by
  // fields, then the aggregates' fields in order: the first problem met
  // decides whether a row is filtered out or a bad record.
  template <class Row>
  void Map(const Row& row, Emitter& emit) {
    ++row_serial_;
    if (spec_.where && !Satisfies(row, *spec_.where)) {
      rows_filtered_.Add();
      return;
    }
    key_.clear();
    for (size_t i = 0; i < group_cells_.size(); ++i) {
      const FieldValue& v = Value(row, group_cells_[i]);
      sluice::aggregate::AppendKeyField(v.null ? std::string_view() : v.text, i == 0, &key_);
    }
    row_.rows = 1;
    for (size_t i = 0; i < spec_.states.size(); ++i) {
      const sluice::aggregate::State& state = spec_.states[i];
      sluice::aggregate::Slot& slot = row_.slot(i);
      const FieldValue& v = Value(row, state_cells_[i]);
      slot.n = v.null ? 0 : 1;
      if (state.kind == StateKind::kDistinct) {
        if (v.null) {
          row_.distinct(i).Clear();
        } else {
          row_.distinct(i).SetOne(v.text);
        }
      } else if (state.kind != StateKind::kCountField && !v.null) {
        slot.value = Number(row, state_cells_[i], state.label);
      }
    }
    emit(key_, row_);
  }

  // Sums (a best-k list, exact aggregates) fold in any order and Reduce
  // reads only the fold: --incremental may build on the previous result.
  static constexpr bool kMergeable = true;

  Accumulator Combine(const Accumulator& a, const Accumulator& b) {
    Accumulator out = a;
    sluice::aggregate::Merge(spec_, &out, b);
    return out;
  }
  // What the engine's combiner tables call: merging in place keeps a
  // group's distinct set from being copied once per row (quadratic time)
  // and its accumulator from being copied twice per row.
  void CombineInto(Accumulator& into, const Accumulator& from) { sluice::aggregate::Merge(spec_, &into, from); }

  void Reduce(std::string_view key, Values& values, Output& out) {
    bool first = true;
    for (Accumulator v : values) {  // one value: the engine folds with Combine first
      if (first) {
        total_ = std::move(v);
        first = false;
      } else {
        sluice::aggregate::Merge(spec_, &total_, v);
      }
    }
    line_.clear();
    sluice::aggregate::AppendKeyAsCsv(key, spec_.group_by.size(), &scratch_, &line_);
    sluice::aggregate::AppendResults(spec_, total_, spec_.group_by.empty(), &line_);
    // A row of one empty field would be a blank line, which CSV readers skip.
    if (line_.empty()) line_ = "\"\"";
    line_.push_back('\n');
    out(line_);
  }

 private:
  static constexpr size_t kNoCell = static_cast<size_t>(-1);

  // A distinct field of the spec as read from the current row: each is
  // looked up, and read as a number, at most once per row however many
  // aggregates name it (sum:x,avg:x,min:x,max:x read x once).
  // CSV: a field's column in the header of one serial (0: none yet).
  struct ColumnCache {
    size_t column = 0;
    uint64_t header_serial = 0;
  };

  struct Cell {
    FieldRef field;
    ColumnCache column;  // CSV: its index in the last header seen
    uint64_t read_at = 0;            // the row_serial_ `value` is of
    FieldValue value;
    uint64_t parsed_at = 0;  // the row_serial_ `parsed` and `number` are of
    Decimal::ParseResult parsed = Decimal::ParseResult::kOk;
    Decimal number;
  };

  size_t CellOf(const FieldRef& field) {
    for (size_t i = 0; i < cells_.size(); ++i) {
      if (cells_[i].field.name == field.name) return i;
    }
    cells_.emplace_back();
    cells_.back().field = field;
    return cells_.size() - 1;
  }

  template <class Row>
  const FieldValue& Value(const Row& row, size_t cell) {
    Cell& c = cells_[cell];
    if (c.read_at != row_serial_) {
      c.value = Lookup(row, c.field, &c.column);
      c.read_at = row_serial_;
    }
    return c.value;
  }

  // The cell's (non-NULL) value as a number; a bad record naming `what`
  // when it is not one.
  template <class Row>
  const Decimal& Number(const Row& row, size_t cell, const std::string& what) {
    Cell& c = cells_[cell];
    const FieldValue& v = Value(row, cell);
    if (c.parsed_at != row_serial_) {
      c.parsed = Decimal::Parse(v.text, &c.number);
      c.parsed_at = row_serial_;
    }
    if (c.parsed != Decimal::ParseResult::kOk) {
      throw sluice::BadRecord(what + ": " + Shown(v.text) + " " + Decimal::Describe(c.parsed));
    }
    return c.number;
  }

  // A CSV column, by the file's header. The cache holds its index in the
  // header of that serial (files may order columns differently: each file
  // has its own header). A name the header lacks throws
  // std::invalid_argument (the job fails, exit 6).
  static FieldValue Lookup(const sluice::CsvRow& row, const FieldRef& field, ColumnCache* cache) {
    const sluice::CsvHeader* header = row.header();
    if (header == nullptr || header->serial() != cache->header_serial) {
      cache->column = row[std::string_view(field.name)].index();  // throws without a header
      cache->header_serial = header->serial();
    }
    const sluice::Field f = row[cache->column];
    return FieldValue{f.text(), !f.present() || f.text().empty()};
  }

  // A JSON member, through nested objects along the path: NULL when a
  // member on the way is missing or null; a bad record when one is another
  // type (or the record is not an object).
  static FieldValue Lookup(const sluice::JsonRecord& rec, const FieldRef& field, ColumnCache*) {
    sluice::JsonValue v = rec[std::string_view(field.path[0])];
    for (size_t i = 1; i < field.path.size(); ++i) {
      if (!v.present() || v.is_null()) return FieldValue{};
      v = v[std::string_view(field.path[i])];
    }
    if (!v.present() || v.is_null()) return FieldValue{};
    const std::string_view text = v.text();
    return FieldValue{text, text.empty()};
  }

  template <class Row>
  bool Satisfies(const Row& row, const Condition& where) {
    const FieldValue& v = Value(row, where_cell_);
    if (v.null) return false;
    if (!where.numeric) {
      const int cmp = v.text.compare(where.text);
      return where.Holds(cmp < 0 ? -1 : (cmp > 0 ? 1 : 0));
    }
    const Decimal& number = Number(row, where_cell_, where_label_);
    return where.Holds(Decimal::Compare(number, where.number));
  }

  const AggregateSpec spec_;
  const sluice::TableFormat format_;
  // The fields, and which of them each part of the spec reads.
  std::vector<Cell> cells_;
  std::vector<size_t> group_cells_;
  std::vector<size_t> state_cells_;
  size_t where_cell_ = kNoCell;
  std::string where_label_;  // names the where field in messages
  uint64_t row_serial_ = 0;  // Map calls so far
  // Reused per row: no allocation per record once grown.
  std::string key_;
  Accumulator row_;
  // Reduce's.
  Accumulator total_;
  std::string line_;
  std::string scratch_;
  sluice::Counter& rows_filtered_ = counter("rows_filtered");
};

}  // namespace

SLUICE_JOB(Aggregate, "aggregate",
           "GROUP BY over CSV or JSON Lines: count, sum, min, max, avg, distinct per group, as CSV")
