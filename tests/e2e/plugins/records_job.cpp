// Echoes the records the engine hands to Map, one output line per record:
// its offset (record_offset()) and its bytes escaped, so that a test can
// compare the records of a split run with an independent reading of the
// file. Map-only: part files follow the split plan.
//
//   records (LineInput):  --record-delimiter decides what a record is
//   rows (TableInput):    CSV fields joined by '|' / JSON "id" and
//                         "user.name" (typed access; a wrong type is a
//                         bad record)
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <sluice/job.h>

namespace {

// Backslash escapes for the bytes that would make the text output
// ambiguous, and for '|' (the field separator here).
void AppendEscaped(std::string* out, std::string_view s) {
  for (const char c : s) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '|': out->append("\\|"); break;
      case '\0': out->append("\\0"); break;
      default: out->push_back(c);
    }
  }
}

std::string Offset(uint64_t offset) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%012llu", static_cast<unsigned long long>(offset));
  return buf;
}

#ifdef SLUICE_ROWS_JOB
class RowsJob : public sluice::Job<RowsJob, std::string, std::string> {
 public:
  using Input = sluice::TableInput;
  static constexpr bool kMapOnly = true;

  void Map(const sluice::CsvRow& row, Emitter& emit) {
    value_.clear();
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) value_.push_back('|');
      AppendEscaped(&value_, row[i].text());
    }
    emit(Offset(record_offset()), value_);
  }

  void Map(const sluice::JsonRecord& rec, Emitter& emit) {
    value_ = std::to_string(rec["id"].as<int64_t>());
    value_.push_back('|');
    const auto name = rec["user"]["name"];
    if (name.present()) {
      AppendEscaped(&value_, name.as<std::string_view>());
    } else {
      value_.push_back('-');
    }
    emit(Offset(record_offset()), value_);
  }

 private:
  std::string value_;
};
SLUICE_JOB(RowsJob, "rows", "Echoes each CSV row's fields or each JSON record's id and user.name (test job)")
#else
class RecordsJob : public sluice::Job<RecordsJob, std::string, std::string> {
 public:
  static constexpr bool kMapOnly = true;

  void Map(std::string_view record, Emitter& emit) {
    value_.clear();
    AppendEscaped(&value_, record);
    emit(Offset(record_offset()), value_);
  }

 private:
  std::string value_;
};
SLUICE_JOB(RecordsJob, "records", "Echoes each record with its offset (test job)")
#endif

}  // namespace
