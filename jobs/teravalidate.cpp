// TeraValidate: checks that 100-byte records are in key order across all
// input files (taken in name order: part-00000, part-00001, ...), and
// summarizes them with an order-independent checksum, so that the checksum
// of terasort's output can be compared with that of its input.
//
// Output (text): records, checksum (sum of each record's xxh3, hex),
// misordered (adjacent pairs out of order; 0 when sorted), first and last key.
//
//   sluice run teravalidate tera-out tera-check
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "jobs/tera_record.h"
#include <sluice/job.h>

namespace {

// A summary of a run of consecutive records. Merging two adjacent runs is
// associative (not commutative): Sluice combines values in input order, so
// the per-split summaries fold into one for the whole input, in order.
struct TeraSummary {
  char first[tera::kKeyBytes] = {};
  char last[tera::kKeyBytes] = {};
  uint64_t records = 0;
  uint64_t checksum = 0;
  uint64_t misordered = 0;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(first, last, records, checksum, misordered);
  }
};

class TeraValidate : public sluice::Job<TeraValidate, std::string, TeraSummary> {
 public:
  using Input = sluice::FixedRecords<tera::kRecordBytes>;

  void Map(std::string_view record, Emitter& emit) {
    TeraSummary s;
    std::memcpy(s.first, record.data(), tera::kKeyBytes);
    std::memcpy(s.last, record.data(), tera::kKeyBytes);
    s.records = 1;
    s.checksum = XXH3_64bits(record.data(), record.size());
    emit("summary", s);
  }

  TeraSummary Combine(const TeraSummary& a, const TeraSummary& b) {
    TeraSummary s = a;
    std::memcpy(s.last, b.last, tera::kKeyBytes);
    s.records += b.records;
    s.checksum += b.checksum;
    s.misordered += b.misordered + (std::memcmp(a.last, b.first, tera::kKeyBytes) > 0 ? 1 : 0);
    return s;
  }

  void Reduce(std::string_view, Values& values, Output& out) {
    const TeraSummary& s = values.front();
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(s.checksum));
    out(std::string_view("records"), s.records);
    out(std::string_view("checksum"), std::string_view(hex));
    out(std::string_view("misordered"), s.misordered);
    out(std::string_view("first_key"), std::string_view(s.first, tera::kKeyBytes));
    out(std::string_view("last_key"), std::string_view(s.last, tera::kKeyBytes));
  }
};

}  // namespace

SLUICE_JOB(TeraValidate, "teravalidate",
           "Checks global key order of 100-byte records; prints count and checksum")
