// RunnerByParam: one registered job whose engine a parameter picks
// (sluice::JobVariants, registration.h).
//
// A job's Input is a type (input_formats.h), so the engine that reads it
// is chosen when the job is compiled. The stream job reads lines or CSV
// records as its `input` parameter says; it is compiled once per Input,
// and this runner stands in front of those engines, forwarding every call
// to the one the parameters choose. It chooses again whenever it is given
// parameters (TraitsFor, CheckParams, Setup), so traits() and everything
// after Setup are the chosen engine's; before any, the default's. Calls
// cross it per task, never per record.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sluice/detail/job_runner.h>

namespace sluice {

class RunnerByParam final : public JobRunner {
 public:
  using Make = std::function<JobRunner*()>;
  // `choices`: parameter value -> the engine for it; a value not listed
  // (or the parameter not given) picks `default_value`'s, whose job
  // refuses a value it does not know in CheckParams.
  RunnerByParam(std::string param, std::string default_value, std::vector<std::pair<std::string, Make>> choices)
      : param_(std::move(param)), default_(std::move(default_value)), choices_(std::move(choices)) {
    Choose(default_);
  }

  JobTraits traits() const override { return runner_->traits(); }
  JobTraits TraitsFor(const std::vector<std::pair<std::string, std::string>>& params) override {
    return For(params).TraitsFor(params);
  }
  Status CheckParams(const std::vector<std::pair<std::string, std::string>>& params) override {
    return For(params).CheckParams(params);
  }
  std::string ParamsHelp() override { return runner_->ParamsHelp(); }
  Status Setup(const JobSettings& settings, BlockTransport* transport, FileSystem* fs) override {
    JobRunner& chosen = For(settings.params);
    set_up_ = true;
    return chosen.Setup(settings, transport, fs);
  }

  Status SampleKeys(const MapTask& task, size_t max_records, std::vector<std::string>* records,
                    uint64_t* input_bytes) override {
    return runner_->SampleKeys(task, max_records, records, input_bytes);
  }
  Result<std::vector<std::string>> ChooseCuts(std::vector<std::string> samples, uint32_t partitions) override {
    return runner_->ChooseCuts(std::move(samples), partitions);
  }
  Status SetRangeCuts(const std::vector<std::string>& cuts) override { return runner_->SetRangeCuts(cuts); }
  Result<std::vector<SampledKeys>> WeighSampledKeys(const std::vector<std::vector<std::string>>& per_split,
                                                    uint32_t partitions) override {
    return runner_->WeighSampledKeys(per_split, partitions);
  }
  Status SetReduceTasks(const std::vector<std::vector<std::string>>& piece_cuts) override {
    return runner_->SetReduceTasks(piece_cuts);
  }
  void SetOwners(const std::vector<int>& owners) override { runner_->SetOwners(owners); }
  Result<uint64_t> CountQuotes(const std::vector<InputFile>& files, const FileRange& range,
                               FileSystem& fs) override {
    return runner_->CountQuotes(files, range, fs);
  }
  Status RunMapTask(const MapTask& task) override { return runner_->RunMapTask(task); }
  Status ReceiveStatus() const override { return runner_->ReceiveStatus(); }
  uint64_t ReceivedBytes() const override { return runner_->ReceivedBytes(); }
  using JobRunner::RunReduceTask;
  Status RunReduceTask(uint32_t task, BufferedWriter* out, BufferedWriter* state, const std::string& label,
                       bool continues_part) override {
    return runner_->RunReduceTask(task, out, state, label, continues_part);
  }
  void RemoveScratch() override { runner_->RemoveScratch(); }
  void AddSavedCounters(const TaskCounters& counters, const std::vector<std::pair<std::string, uint64_t>>& user,
                        const std::vector<BadRecordInfo>& bad) override {
    runner_->AddSavedCounters(counters, user, bad);
  }
  const std::vector<BadRecordInfo>& bad_records() const override { return runner_->bad_records(); }
  Status BadRecordStatus() const override { return runner_->BadRecordStatus(); }
  const TaskCounters& counters() const override { return runner_->counters(); }
  EngineStepTimes step_times() const override { return runner_->step_times(); }
  std::vector<std::pair<std::string, uint64_t>> user_counters() const override { return runner_->user_counters(); }

 private:
  // The engine for these parameters (the last value given wins, as it
  // does for the job's own parameters).
  JobRunner& For(const std::vector<std::pair<std::string, std::string>>& params) {
    std::string value = default_;
    for (const auto& [name, text] : params) {
      if (name == param_) value = text;
    }
    if (!set_up_) Choose(value);  // the engine that was set up stays
    return *runner_;
  }
  void Choose(const std::string& value) {
    const std::pair<std::string, Make>* chosen = nullptr;
    const std::pair<std::string, Make>* fallback = nullptr;
    for (const auto& choice : choices_) {
      if (choice.first == value) chosen = &choice;
      if (choice.first == default_) fallback = &choice;
    }
    if (chosen == nullptr) chosen = fallback;
    if (chosen == nullptr) throw std::logic_error("RunnerByParam: the default '" + default_ + "' is not a choice");
    if (runner_ && chosen->first == chosen_) return;
    runner_.reset(chosen->second());
    chosen_ = chosen->first;
  }

  std::string param_;
  std::string default_;
  std::vector<std::pair<std::string, Make>> choices_;
  std::string chosen_;
  std::unique_ptr<JobRunner> runner_;
  bool set_up_ = false;
};

}  // namespace sluice
