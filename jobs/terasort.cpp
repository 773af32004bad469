// TeraSort: sorts 100-byte records by their 10-byte key (bytes compared
// unsigned). Range-partitioned, so the part files concatenated in name order
// are one sorted file; records with equal keys keep their input order.
//
//   mpirun -np 2 sluice run terasort --memory 1G tera-in tera-out
#include <string>
#include <string_view>

#include "jobs/tera_record.h"
#include <sluice/job.h>

namespace {

class TeraSort : public sluice::Job<TeraSort, std::string, std::string> {
 public:
  using Input = sluice::FixedRecords<tera::kRecordBytes>;
  using Output = sluice::RecordOutput;
  static constexpr bool kRangePartitioned = true;

  void Map(std::string_view record, Emitter& emit) {
    emit(record.substr(0, tera::kKeyBytes), record.substr(tera::kKeyBytes));
  }

  void Reduce(std::string_view key, Values& rest, Output& out) {
    for (std::string_view r : rest) out(key, r);
  }
};

}  // namespace

SLUICE_JOB(TeraSort, "terasort", "Sorts 100-byte records by their 10-byte key, globally across parts")
