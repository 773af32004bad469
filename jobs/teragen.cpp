// TeraGen: writes N TeraSort records (tera_record.h), generated in parallel:
// each map task makes one range of rows and writes it as one part file.
//
//   mpirun -np 2 sluice run teragen 10000000 tera-in     # 1 GB
//   sluice run teragen --param seed=42 1000 small-in
#include <cstdint>
#include <string>
#include <string_view>

#include "jobs/tera_record.h"
#include <sluice/job.h>

namespace {

class TeraGen : public sluice::Job<TeraGen, std::string, std::string> {
 public:
  using Input = sluice::GeneratedRows<tera::kRecordBytes>;
  using Output = sluice::RecordOutput;
  static constexpr bool kMapOnly = true;  // the records are written as generated
  static constexpr sluice::Param<uint64_t> kSeed{"seed", 0x5eed, "random seed of the keys"};
  static constexpr auto kParams = sluice::ParamTable(kSeed);

  void Map(uint64_t row, Emitter& emit) {
    tera::MakeRecord(seed_, row, record_);
    emit(std::string_view(record_, tera::kKeyBytes),
         std::string_view(record_ + tera::kKeyBytes, tera::kRecordBytes - tera::kKeyBytes));
  }

 private:
  const uint64_t seed_ = param(kSeed);
  char record_[tera::kRecordBytes];
};

}  // namespace

SLUICE_JOB(TeraGen, "teragen", "Generates N 100-byte TeraSort records (INPUT is the row count)")
