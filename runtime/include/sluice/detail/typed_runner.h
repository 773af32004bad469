// TypedRunner<J>: the engine for job type J. Header-only on purpose: it is
// instantiated in the job's own translation unit, so the user's Map, Combine
// and Reduce are inlined into the loops below, in a plugin as in a binary.
#pragma once

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <sluice/bad_record.h>
#include <sluice/params.h>
#include <sluice/text_output.h>
#include <sluice/detail/array_groups.h>
#include <sluice/detail/csv_source.h>
#include <sluice/detail/delimited_source.h>
#include <sluice/detail/fixed_record_source.h>
#include <sluice/detail/job_runner.h>
#include <sluice/detail/job_traits.h>
#include <sluice/detail/json_source.h>
#include <sluice/detail/kv_record_source.h>
#include <sluice/detail/line_block_source.h>
#include <sluice/detail/line_source.h>
#include <sluice/detail/map_emitter.h>
#include <sluice/detail/merged_groups.h>
#include <sluice/detail/record_source.h>
#include <sluice/detail/reduce_groups.h>
#include <sluice/detail/row_source.h>
#include <sluice/detail/step_times.h>
#include <sluice/value_range.h>
#include "io/compression.h"
#include "io/csv_reader.h"
#include "io/decoded_file.h"
#include "io/record_delimiter.h"
#include "shuffle/run_merge.h"
#include "shuffle/serde.h"
#include "shuffle/shuffle_store.h"
#include "shuffle/string_combine_table.h"

namespace sluice {

// A record that may have failed to parse (CsvRow, JsonRecord).
template <class R>
concept ParsedRecord = requires(const R& r) {
  { r.parse_error() } -> std::convertible_to<const char*>;
};

template <class J>
class TypedRunner final : public JobRunner {
 public:
  using K = typename J::Key;
  using V = typename J::Value;
  using Record = ReduceRecord<K, V>;
  using Input = typename J::Input;
  using Output = typename J::Output;

  // A signature the engine cannot call is an error naming the one it can
  // (job_traits.h), never a silently map-only job or a skipped Combine.
  static_assert(JobContract<J>::kChecked);
  static_assert(!(GroupFields<J>() > 0 && HasCombiner<J>),
                "secondary sort (kGroupFields) and Combine do not mix: a combiner folds whole keys");
  static_assert(!(GroupFields<J>() > 0 && RangePartitioned<J>()),
                "range partitioning cuts on whole keys; it cannot keep a kGroupFields group together");
  static_assert(!HasPartitionBytes<J> || (std::is_same_v<K, std::string> && !HasCombiner<J> &&
                                          GroupFields<J>() == 0 && !RangePartitioned<J>()),
                "PartitionBytes is for string keys, without Combine, kGroupFields or kRangePartitioned");

  JobTraits traits() const override {
    JobTraits t;
    t.input = Input::kKind;
    t.record_bytes = Input::kRecordBytes;
    t.map_only = !HasReduce<J>;
    t.range_partitioned = RangePartitioned<J>();
    t.mergeable = Mergeable<J>();
    if constexpr (HasReduce<J>) {
      // A piece boundary could split what PartitionBytes keeps together.
      t.cuttable_partitions =
          std::is_same_v<Output, TextOutput> && GroupFields<J>() == 0 && !HasPartitionBytes<J>;
    }
    return t;
  }

  // A job that may run map-only (RunsMapOnly) says so for these parameters;
  // parameters that do not parse leave traits() (CheckParams names them).
  JobTraits TraitsFor(const JobParamList& given) override {
    JobTraits t = traits();
    if constexpr (MayRunMapOnly<J>) {
      JobParams params;
      std::optional<J> job;
      if (MakeParams(given, &params).ok() && Construct(&job, &params).ok() && job->RunsMapOnly()) {
        t.map_only = true;
        t.cuttable_partitions = false;
      }
    }
    return t;
  }

  // Every --param against the job's kParams table, then the job's own
  // constructor (which may refuse a missing required value).
  Status CheckParams(const JobParamList& given) override {
    JobParams params;
    SLUICE_RETURN_IF_ERROR(MakeParams(given, &params));
    std::optional<J> job;
    return Construct(&job, &params);
  }

  // The kParams table; no job object is made.
  std::string ParamsHelp() override {
    std::string out;
    for (const auto& d : DeclaredParams<J>()) {
      out += "  --param " + d.name + "=" + d.type + "  (default " +
             (d.default_text.empty() ? "\"\"" : d.default_text) + "): " + d.help + "\n";
    }
    return out;
  }

  Status Setup(const JobSettings& settings, BlockTransport* transport, FileSystem* fs) override {
    settings_ = settings;
    SLUICE_RETURN_IF_ERROR(MakeParams(settings.params, &params_));
    SLUICE_RETURN_IF_ERROR(Construct(&job_, &params_));
    emitter_ = std::make_unique<MapEmitter<J>>(&*job_, settings_, transport, &counters_);
    transport_ = transport;
    fs_ = fs;
    store_ = std::make_unique<ShuffleStore<K, V>>(
        StoreSettings{settings_.partitions, settings_.store_bytes, settings_.sort_bytes, settings_.merge_factor,
                      settings_.spill_block_bytes, settings_.compression_level, settings_.scratch_dir},
        fs, SpillCounters{&counters_.spill_runs, &counters_.spill_records, &counters_.spill_bytes,
                          &counters_.merge_passes});
    bad_ = std::make_unique<BadRecordLog>(settings_.max_bad_records);
    job_->SetBadRecordLog(bad_.get(), &counters_.bad_records);
    if constexpr (MayRunMapOnly<J>) map_only_ = job_->RunsMapOnly();
    transport->SetReceiver(store_.get());
    if (!settings_.record_delimiter.empty()) {
      SLUICE_ASSIGN_OR_RETURN(delimiter_, ParseRecordDelimiter(settings_.record_delimiter));
      lines_ = delimiter_.kind == RecordDelimiter::kLine;
    }
    csv_.delimiter = settings_.csv_delimiter;
    csv_.quote = settings_.csv_quote;
    csv_.header = settings_.csv_header;
    table_formats_.assign(0, TableFormat::kAuto);
    return Status::OK();
  }

  Result<uint64_t> CountQuotes(const std::vector<InputFile>& files, const FileRange& range,
                               FileSystem& fs) override {
    if constexpr (Input::kKind == InputKind::kCsv || Input::kKind == InputKind::kTable) {
      const InputFile& input = files[range.file_index];
      if (csv_.quote == 0) return uint64_t{0};
      if constexpr (Input::kKind == InputKind::kTable) {
        SLUICE_ASSIGN_OR_RETURN(const TableFormat format, FormatOf(range.file_index, input, fs));
        if (format != TableFormat::kCsv) return uint64_t{0};
      }
      const bool compressed = input.compression != Compression::kNone;
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file,
                              OpenText(fs, input, compressed ? range.decode_from : MemberStart{}));
      return sluice::CountQuotes(*file, compressed ? range.data_begin : range.begin,
                                 compressed ? range.data_end : range.end, csv_.quote);
    } else {
      (void)files, (void)range, (void)fs;
      return uint64_t{0};
    }
  }

  Status SampleKeys(const MapTask& task, size_t max_records, std::vector<std::string>* keys,
                    uint64_t* input_bytes) override {
    // A job object of its own, so that sampling leaves no trace in the real
    // job's counters or state.
    JobParams params;  // outlives the job object that reads it
    SLUICE_RETURN_IF_ERROR(MakeParams(settings_.params, &params));
    std::optional<J> sampler;
    SLUICE_RETURN_IF_ERROR(Construct(&sampler, &params));
    TaskCounters ignored;
    MapEmitter<J> emit(&*sampler, settings_, transport_, &ignored);
    const size_t start = keys->size();
    emit.SampleInto(keys);
    BadRecordLog unlimited(UINT64_MAX);  // the real map task will meet them
    sampler->SetBadRecordLog(&unlimited, &ignored.bad_records);
    // A chunk of input is mapped whole before stop() is asked, so sampling
    // reads small chunks: it maps about max_records records, not 4 MiB of
    // them (which cost a 64 MiB WordCount a fifth of its time).
    struct RestoreReadBuffer {
      uint64_t* bytes;
      uint64_t full;
      ~RestoreReadBuffer() { *bytes = full; }
    } restore{&settings_.read_buffer_bytes, settings_.read_buffer_bytes};
    settings_.read_buffer_bytes = std::min<uint64_t>(restore.full, kSampleReadBytes);
    // The sampling pass is a map task cut short: the job's task hooks run
    // around it too (the stream job starts its mapper in them).
    if constexpr (requires(J& j) { j.BeginMapTask(); }) {
      SLUICE_RETURN_IF_ERROR(MapTaskHook(task, "BeginMapTask", [&] { sampler->BeginMapTask(); }));
    }
    // Bytes too: a job keyed by whole long lines would otherwise gather
    // gigabytes of keys at rank 0.
    Status s = ReadSplit(task, *sampler, emit, ignored, unlimited, [&] {
      return keys->size() - start >= max_records || emit.sample_bytes() >= kSampleBytesPerSplit;
    });
    if constexpr (requires(J& j) { j.EndMapTask(emit); }) {
      if (s.ok()) s = MapTaskHook(task, "EndMapTask", [&] { sampler->EndMapTask(emit); });
    }
    // Every record of the chunks read is kept (a chunk is mapped whole), so
    // the sample stands for exactly `input_bytes` of input.
    *input_bytes = ignored.input_bytes;
    return s;
  }

  Result<std::vector<std::string>> ChooseCuts(std::vector<std::string> samples,
                                              uint32_t partitions) override {
    std::vector<K> keys;
    keys.reserve(samples.size());
    for (const std::string& bytes : samples) {
      K key;
      ByteReader r{bytes.data(), bytes.data() + bytes.size()};
      if (!Decode(r, &key)) return Status::Internal("malformed sampled key");
      keys.push_back(std::move(key));
    }
    std::sort(keys.begin(), keys.end(), KeyOrder());
    std::vector<std::string> cuts;
    if (keys.empty()) return cuts;  // no input: every record (none) goes to partition 0
    for (uint32_t i = 1; i < partitions; ++i) {
      cuts.emplace_back();
      Encode(&cuts.back(), keys[keys.size() * i / partitions]);
    }
    return cuts;
  }

  Result<std::vector<SampledKeys>> WeighSampledKeys(const std::vector<std::vector<std::string>>& per_split,
                                                   uint32_t partitions) override {
    std::vector<std::vector<std::pair<K, uint64_t>>> typed(partitions);
    std::unordered_set<std::string_view> seen;  // keys already counted in this split
    for (const std::vector<std::string>& records : per_split) {
      seen.clear();
      for (const std::string& bytes : records) {
        K key;
        ByteReader r{bytes.data(), bytes.data() + bytes.size()};
        if (!Decode(r, &key)) return Status::Internal("malformed sampled key");
        const size_t key_bytes = static_cast<size_t>(r.p - bytes.data());
        uint64_t value_bytes = 0;
        if (!Decode(r, &value_bytes)) return Status::Internal("malformed sampled record");
        if constexpr (HasCombiner<J>) {
          if (!seen.insert(std::string_view(bytes.data(), key_bytes)).second) continue;
        }
        const uint32_t p = emitter_->PartitionOfKey(key);
        if (p >= partitions) return Status::Internal("sampled key outside the partitions");
        typed[p].emplace_back(std::move(key), key_bytes + value_bytes);
      }
    }
    std::vector<SampledKeys> out(partitions);
    for (uint32_t p = 0; p < partitions; ++p) {
      auto& keys = typed[p];
      std::stable_sort(keys.begin(), keys.end(),
                       [](const auto& a, const auto& b) { return KeyOrder()(a.first, b.first); });
      for (size_t i = 0; i < keys.size(); ++i) {
        if (i > 0 && !KeyOrder()(keys[i - 1].first, keys[i].first)) {
          out[p].back().second += keys[i].second;  // the same key again
          continue;
        }
        out[p].emplace_back(std::string(), keys[i].second);
        Encode(&out[p].back().first, keys[i].first);
      }
    }
    return out;
  }

  Status SetReduceTasks(const std::vector<std::vector<std::string>>& piece_cuts) override {
    std::vector<std::vector<K>> cuts(piece_cuts.size());
    uint32_t tasks = 0;
    for (size_t p = 0; p < piece_cuts.size(); ++p) {
      for (const std::string& bytes : piece_cuts[p]) {
        K key;
        ByteReader r{bytes.data(), bytes.data() + bytes.size()};
        if (!Decode(r, &key) || r.p != r.end) return Status::Internal("malformed reduce task cut");
        if (!cuts[p].empty() && !KeyOrder()(cuts[p].back(), key)) {
          return Status::Internal("reduce task cuts out of order");
        }
        cuts[p].push_back(std::move(key));
      }
      tasks += static_cast<uint32_t>(cuts[p].size()) + 1;
    }
    emitter_->SetReduceTasks(std::move(cuts));
    store_->SetPartitionCount(tasks);
    return Status::OK();
  }

  void SetOwners(const std::vector<int>& owners) override { emitter_->SetOwners(owners); }

  Status SetRangeCuts(const std::vector<std::string>& encoded) override {
    std::vector<K> cuts;
    for (const std::string& bytes : encoded) {
      K key;
      ByteReader r{bytes.data(), bytes.data() + bytes.size()};
      if (!Decode(r, &key)) return Status::Internal("malformed range cut");
      cuts.push_back(std::move(key));
    }
    emitter_->SetRangeCuts(std::move(cuts));
    return Status::OK();
  }

  Status RunMapTask(const MapTask& task) override {
    emitter_->BeginSplit(task.split->index, task.split->bytes());
    if constexpr (requires(J& j) { j.BeginMapTask(); }) {
      SLUICE_RETURN_IF_ERROR(MapTaskHook(task, "BeginMapTask", [&] { job_->BeginMapTask(); }));
    }
    if constexpr (!HasReduce<J>) {
      return RunDirectMapTask(task);
    } else {
      if constexpr (MayRunMapOnly<J>) {
        if (map_only_) return RunDirectMapTask(task);
      }
      SLUICE_RETURN_IF_ERROR(ReadSplit(task, *job_, *emitter_, counters_, *bad_, [] { return false; }));
      SLUICE_RETURN_IF_ERROR(EndMapTask(task));
      SLUICE_RETURN_IF_ERROR(bad_->status());  // EndMapTask may report bad records
      // EndSplit drains the combiner: the job's Combine runs here too.
      try {
        return emitter_->EndSplit();
      } catch (const std::exception& e) {
        if (!emitter_->combine_threw()) throw;
        return Status::UserCode("combine() threw in the map phase, flushing the combiner of split " +
                                std::to_string(task.split->index) + " (" + SplitFiles(task) +
                                "): " + e.what());
      }
    }
  }

  Status ReceiveStatus() const override { return store_->status(); }
  uint64_t ReceivedBytes() const override { return store_->received_bytes(); }

  using JobRunner::RunReduceTask;
  Status RunReduceTask(uint32_t partition, BufferedWriter* out, BufferedWriter* state,
                       const std::string& label, bool continues_part) override {
    if constexpr (!HasReduce<J>) {
      return Status::Internal("reduce task for a map-only job");
    } else {
      task_label_ = label;
      // --incremental: the task's merge state, written as its keys are reduced.
      MergeStateWriter state_writer;
      if (state != nullptr) {
        if constexpr (Mergeable<J>()) {
          state_writer.emplace(state, settings_.compression_level);
          merge_state_ = &*state_writer;
        } else {
          return Status::Internal("merge state asked of a job that is not kMergeable");
        }
      }
      struct ClearState {
        TypedRunner* runner;
        ~ClearState() { runner->merge_state_ = nullptr; }
      } clear_state{this};
      JobSettings settings = settings_;
      settings.continues_part = continues_part;
      Output output = MakeOutput<J, Output>(out, settings, label);
      // A job's first line of every part (aggregate's CSV header).
      if constexpr (requires(const J& j) { j.OutputHeader(); }) {
        if (!continues_part) (void)out->Append(job_->OutputHeader());
      }
      if constexpr (requires(J& j) { j.BeginReduceTask(output); }) {
        SLUICE_RETURN_IF_ERROR(ReduceTaskHook("BeginReduceTask", [&] { job_->BeginReduceTask(output); }));
      }
      auto& part = store_->partition(partition);
      if (part.runs.empty() && part.decoded_bytes <= settings_.sort_bytes) {
        SLUICE_RETURN_IF_ERROR(ReduceInMemory(partition, output));
      } else {
        SLUICE_RETURN_IF_ERROR(ReduceMerged(partition, output));
      }
      StepTimer finishing(&steps().reduce_ns);
      if constexpr (requires(J& j) { j.EndReduceTask(output); }) {
        SLUICE_RETURN_IF_ERROR(ReduceTaskHook("EndReduceTask", [&] { job_->EndReduceTask(output); }));
      }
      SLUICE_RETURN_IF_ERROR(output.Finish());
      counters_.output_records += output.records();
      if constexpr (Mergeable<J>()) {
        if (state_writer) SLUICE_RETURN_IF_ERROR(state_writer->Finish());
      }
      return Status::OK();
    }
  }

  void RemoveScratch() override {
    if (store_) store_->RemoveScratch();
  }

  void AddSavedCounters(const TaskCounters& saved,
                        const std::vector<std::pair<std::string, uint64_t>>& user,
                        const std::vector<BadRecordInfo>& bad) override {
    for (auto field : TaskCounters::kFields) counters_.*field += saved.*field;
    for (const auto& [name, value] : user) job_->user_counters_.Get(name).Add(value);
    for (const BadRecordInfo& r : bad) bad_->Add(r.file, r.offset, r.reason.c_str());
  }
  const std::vector<BadRecordInfo>& bad_records() const override { return bad_->entries(); }
  Status BadRecordStatus() const override { return bad_->status(); }

  const TaskCounters& counters() const override { return counters_; }
  EngineStepTimes step_times() const override { return emitter_ ? emitter_->step_times() : EngineStepTimes{}; }
  std::vector<std::pair<std::string, uint64_t>> user_counters() const override {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const auto& [name, c] : job_->user_counters().all()) out.emplace_back(name, c.value());
    return out;
  }

 private:
  using CombineTable = StringCombineTable<V, CombineWith<J>>;
  EngineStepTimes& steps() { return emitter_->step_times(); }
  static constexpr uint64_t kSampleReadBytes = 64 << 10;
  static constexpr uint64_t kSampleBytesPerSplit = 1 << 20;
  static constexpr bool kFoldsOnReduceSide = HasCombiner<J> && std::is_same_v<K, std::string>;
  // A mergeable job's Reduce sees one value per key, the fold of its values
  // (job.h, kMergeable), whatever the key type: so a run that folded the
  // previous output's state in writes what a full run writes.
  static constexpr bool kFoldsSortedGroups = Mergeable<J>() && !kFoldsOnReduceSide;
  using MergeState = std::conditional_t<Mergeable<J>(), TypedKvFileWriter<K, V>, NoMergeState>;
  using MergeStateWriter = std::conditional_t<Mergeable<J>(), std::optional<TypedKvFileWriter<K, V>>, bool>;
  std::string task_label_;  // the reduce task running, as errors name it

  // The job's parameter values: its kParams table with `given` applied.
  static Status MakeParams(const JobParamList& given, JobParams* params) {
    try {
      *params = JobParams(DeclaredParams<J>(), given);
    } catch (const JobParamError& e) {
      return Status::Usage(e.what());
    }
    return Status::OK();
  }

  // Constructs J reading `params` (which must outlive it).
  static Status Construct(std::optional<J>* job, const JobParams* params) {
    JobParams::Pending() = params;
    Status s;
    try {
      job->emplace();
    } catch (const JobParamError& e) {
      s = Status::Usage(e.what());
    } catch (const std::exception& e) {
      s = Status::UserCode(std::string("job constructor threw: ") + e.what());
    }
    JobParams::Pending() = nullptr;
    return s;
  }

  // ---- the job's optional task hooks (job.h) ----

  // Runs a map task's hook; what it throws fails the task (exit 6) naming
  // the hook and the split.
  template <class F>
  Status MapTaskHook(const MapTask& task, const char* hook, F&& f) {
    try {
      f();
      return Status::OK();
    } catch (const std::exception& e) {
      return Status::UserCode(std::string(hook) + "() threw on split " + std::to_string(task.split->index) +
                              " (" + SplitFiles(task) + "): " + e.what());
    }
  }
  // A map-only task (kMapOnly, or RunsMapOnly this run): emit() writes the
  // split's part file.
  Status RunDirectMapTask(const MapTask& task) {
    Output out = MakeOutput<J, Output>(task.output, settings_, "split " + std::to_string(task.split->index));
    emitter_->WriteTo(&out);
    Status s = ReadSplit(task, *job_, *emitter_, counters_, *bad_, [] { return false; });
    if (s.ok()) s = EndMapTask(task);
    if (s.ok()) s = bad_->status();
    emitter_->WriteTo(nullptr);
    SLUICE_RETURN_IF_ERROR(s);
    SLUICE_RETURN_IF_ERROR(out.Finish());
    counters_.output_records += out.records();
    return Status::OK();
  }
  Status EndMapTask(const MapTask& task) {
    if constexpr (requires(J& j, MapEmitter<J>& e) { j.EndMapTask(e); }) {
      return MapTaskHook(task, "EndMapTask", [&] { job_->EndMapTask(*emitter_); });
    } else {
      return Status::OK();
    }
  }
  template <class F>
  Status ReduceTaskHook(const char* hook, F&& f) {
    try {
      f();
      return Status::OK();
    } catch (const std::exception& e) {
      return Status::UserCode(std::string(hook) + "() threw in " + task_label_ + ": " + e.what());
    }
  }

  // ---- map side ----

  // Reads the records of task's split (or, while stop() stays false, a
  // prefix of them: sampling) and calls job.Map on each.
  template <class Stop>
  Status ReadSplit(const MapTask& task, J& job, MapEmitter<J>& emit, TaskCounters& counters,
                   BadRecordLog& bad, Stop&& stop) {
    for (const FileRange& range : task.split->ranges) {
      const InputFile& input = (*task.files)[range.file_index];
      if (input.input_index == kMergeStateInput) {
        SLUICE_RETURN_IF_ERROR(MapMergeState(input, range, *task.fs, emit, counters, bad, stop));
        if (stop()) break;
        continue;
      }
      job.SetCurrentInput(input.input_index, input.path);
      if constexpr (Input::kKind == InputKind::kGeneratedRows) {
        RowSource<Input::kRecordBytes> rows(input, range);
        SLUICE_RETURN_IF_ERROR(MapRecords(rows, job, emit, counters, bad, stop));
      } else if constexpr (ReadsText(Input::kKind)) {
        SLUICE_RETURN_IF_ERROR(MapTextRange(input, range, *task.fs, job, emit, counters, bad, stop));
      } else {
        SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, OpenInput(*task.fs, input));
        if constexpr (Input::kKind == InputKind::kFixedRecords) {
          FixedRecordSource<Input::kRecordBytes> records(*file, range, settings_.read_buffer_bytes,
                                                         &read_buffer_);
          SLUICE_RETURN_IF_ERROR(MapRecords(records, job, emit, counters, bad, stop));
        } else {
          using Source = KvRecordSource<typename Input::Key, typename Input::Value>;
          Source records(std::move(file), range);
          SLUICE_RETURN_IF_ERROR(MapRecords(records, job, emit, counters, bad, stop));
        }
      }
      if (stop()) break;
    }
    return Status::OK();
  }

  // --incremental: a range of the previous output's merge state, each
  // (key, folded value) emitted as it is, without map(), so that the
  // reduce folds the new records into it (kMergeable jobs only).
  template <class Stop>
  Status MapMergeState(const InputFile& input, const FileRange& range, FileSystem& fs, MapEmitter<J>& emit,
                       TaskCounters& counters, BadRecordLog& bad, Stop& stop) {
    if constexpr (Mergeable<J>()) {
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, OpenInput(fs, input));
      KvRecordSource<K, V> source(std::move(file), range);
      SLUICE_RETURN_IF_ERROR(source.Start());
      counters.input_bytes += source.TakeBytesRead();
      for (;;) {
        SLUICE_ASSIGN_OR_RETURN(const bool more, source.NextChunk());
        if (!more) break;
        counters.input_bytes += source.TakeBytesRead();
        uint64_t offset = 0;
        Status decoded;
        try {  // once per block
          decoded = source.ForEachRecord([&](uint64_t at, const auto& key, const auto& value) {
            offset = at;
            ++counters.state_records;
            emit(key, value);
          });
        } catch (const std::exception& e) {
          if (emit.send_threw()) throw;
          return MapThrew(emit, e, source.Where(offset) + " (the previous output's merge state)");
        }
        SLUICE_RETURN_IF_ERROR(decoded);
        SLUICE_RETURN_IF_ERROR(AfterChunk(bad, emit));
        if (stop()) break;
      }
      return Status::OK();
    } else {
      (void)range, (void)fs, (void)emit, (void)counters, (void)bad, (void)stop;
      return Status::Internal("'" + input.path + "' is merge state, but the job is not kMergeable");
    }
  }

  // Opens a text input for reading from `from`: the file itself, or for a
  // compressed file its decoded bytes (whose offsets are decoded offsets).
  static Result<std::unique_ptr<ReadableFile>> OpenText(FileSystem& fs, const InputFile& input,
                                                        MemberStart from) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, OpenInput(fs, input));
    if (input.compression == Compression::kNone) return file;
    return OpenDecoded(std::move(file), input.compression, from);
  }

  // One range of a text-like input through the source its kind (and, for
  // TableInput, the file) calls for. A compressed range counts its
  // compressed bytes toward input_bytes once read, so that the bytes read
  // still add up to the bytes planned.
  template <class Stop>
  Status MapTextRange(const InputFile& input, const FileRange& range, FileSystem& fs, J& job,
                      MapEmitter<J>& emit, TaskCounters& counters, BadRecordLog& bad, Stop& stop) {
    const bool compressed = input.compression != Compression::kNone;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file,
                            OpenText(fs, input, compressed ? range.decode_from : MemberStart{}));
    const uint64_t begin = compressed ? range.data_begin : range.begin;
    const uint64_t end = compressed ? range.data_end : range.end;
    const size_t buffer = settings_.read_buffer_bytes;
    const bool count = !compressed;
    auto run = [&](auto& source) { return MapRecords(source, job, emit, counters, bad, stop, count); };
    Status s;
    if constexpr (Input::kKind == InputKind::kLines || Input::kKind == InputKind::kLineBlocks) {
      if (!lines_) {  // --record-delimiter: one record a call, lines or blocks (input_formats.h)
        DelimitedSource source(*file, begin, end, delimiter_, buffer, &read_buffer_);
        s = run(source);
      } else if constexpr (Input::kKind == InputKind::kLines) {
        LineSource source(*file, begin, end, buffer, &read_buffer_);
        s = run(source);
      } else {
        LineBlockSource source(*file, begin, end, buffer, &read_buffer_);
        s = run(source);
      }
    } else if constexpr (Input::kKind == InputKind::kJsonLines) {
      JsonSource source(*file, begin, end, buffer, &read_buffer_);
      s = run(source);
    } else if constexpr (Input::kKind == InputKind::kCsv) {
      s = MapCsvRange(*file, input, range, begin, end, fs, run);
    } else {
      SLUICE_ASSIGN_OR_RETURN(const TableFormat format, FormatOf(range.file_index, input, fs));
      if (format == TableFormat::kJsonLines) {
        JsonSource source(*file, begin, end, buffer, &read_buffer_);
        s = run(source);
      } else {
        s = MapCsvRange(*file, input, range, begin, end, fs, run);
      }
    }
    if (s.ok() && compressed) counters.input_bytes += range.end - range.begin;
    return s;
  }

  template <class Run>
  Status MapCsvRange(ReadableFile& file, const InputFile& input, const FileRange& range,
                     uint64_t begin, uint64_t end, FileSystem& fs, Run& run) {
    std::optional<CsvHeader> header;
    if (csv_.header) {
      // The file's own header, whichever range this is: files may order
      // their columns differently.
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> head, OpenText(fs, input, MemberStart{}));
      SLUICE_ASSIGN_OR_RETURN(CsvHeader h, ReadCsvHeader(*head, csv_));
      header.emplace(std::move(h));
    }
    CsvSource source(file, begin, end, range.starts_in_quotes, csv_, header ? &*header : nullptr,
                     settings_.read_buffer_bytes, &read_buffer_);
    return run(source);
  }

  // How a TableInput file is read (input_formats.h), decided once per file.
  Result<TableFormat> FormatOf(uint32_t file_index, const InputFile& input, FileSystem& fs) {
    if (table_formats_.size() <= file_index) table_formats_.resize(file_index + 1, TableFormat::kAuto);
    TableFormat& known = table_formats_[file_index];
    if (known != TableFormat::kAuto) return known;
    if constexpr (requires(const J& j) { { j.table_format() } -> std::same_as<TableFormat>; }) {
      known = job_->table_format();
    }
    if (known == TableFormat::kAuto) known = FormatByName(input.path);
    if (known == TableFormat::kAuto) {
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> head, OpenText(fs, input, MemberStart{}));
      char bytes[4096];
      size_t got = 0;
      SLUICE_RETURN_IF_ERROR(head->ReadAt(0, sizeof bytes, bytes, &got));
      known = TableFormat::kCsv;
      for (size_t i = 0; i < got; ++i) {
        const char c = bytes[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        if (c == '{' || c == '[') known = TableFormat::kJsonLines;
        break;
      }
    }
    return known;
  }

  static TableFormat FormatByName(std::string_view path) {
    for (std::string_view z : {".gz", ".bgz", ".zst", ".zstd", ".bz2", ".xz"}) {
      if (path.ends_with(z)) {
        path.remove_suffix(z.size());
        break;
      }
    }
    for (std::string_view csv : {".csv", ".tsv", ".CSV", ".TSV"}) {
      if (path.ends_with(csv)) return TableFormat::kCsv;
    }
    for (std::string_view json : {".jsonl", ".ndjson", ".json", ".JSONL", ".JSON"}) {
      if (path.ends_with(json)) return TableFormat::kJsonLines;
    }
    return TableFormat::kAuto;
  }

  // The map loop of every input kind: each record of `source` counted and
  // given to job.Map; between chunks, the bad-record limit, the shuffle and
  // stop() get their turn. count_bytes: whether the source's bytes are the
  // input's (false for decoded bytes: MapTextRange counts those).
  template <RecordSource Source, class Stop>
  Status MapRecords(Source& source, J& job, MapEmitter<J>& emit, TaskCounters& counters,
                    BadRecordLog& bad, Stop& stop, bool count_bytes = true) {
    SLUICE_RETURN_IF_ERROR(source.Start());
    if (count_bytes) counters.input_bytes += source.TakeBytesRead();
    const std::string& path = source.path();
    EngineStepTimes& steps = emit.step_times();
    for (;;) {
      uint64_t clock = StepClockNs();
      SLUICE_ASSIGN_OR_RETURN(const bool more, source.NextChunk());
      uint64_t now = StepClockNs();
      steps.read_ns += now - clock;
      if (!more) break;
      const uint64_t read = source.TakeBytesRead();
      if (count_bytes) counters.input_bytes += read;
      uint64_t offset = 0;  // of the record in Map, for the message if it throws
      Status decoded;
      clock = now;
      const uint64_t flushed_before = emit.flush_ns();
      // The chunk's time less the flushes inside it, which count as theirs.
      struct MapTime {
        EngineStepTimes& steps;
        MapEmitter<J>& emit;
        uint64_t clock, flushed_before;
        ~MapTime() {
          const uint64_t took = StepClockNs() - clock, flushed = emit.flush_ns() - flushed_before;
          steps.map_ns += took > flushed ? took - flushed : 0;
        }
      };
      {
      MapTime map_time{steps, emit, clock, flushed_before};
      try {  // once per chunk, not per record
        decoded = source.ForEachRecord([&](uint64_t at, const auto&... record) {
          offset = at;
          if constexpr (Source::kInFile) job.record_offset_ = at;
          ++counters.input_records;
          MapOne(job, emit, counters, bad, path, at, record...);
        });
      } catch (const std::exception& e) {
        if (emit.send_threw()) throw;  // the shuffle store's own failure, not the job's
        return MapThrew(emit, e, source.Where(offset));
      }
      }
      if constexpr (requires { source.TakeExtraRecords(); }) {
        counters.input_records += source.TakeExtraRecords();
      }
      SLUICE_RETURN_IF_ERROR(decoded);
      SLUICE_RETURN_IF_ERROR(AfterChunk(bad, emit));
      if (stop()) break;
    }
    return Status::OK();
  }

  // Opens an input as planned, or says how it changed since: a file that
  // vanished or changed size under a running job would otherwise surface
  // as a bare "No such file" or as counters that fail to reconcile.
  static Result<std::unique_ptr<ReadableFile>> OpenInput(FileSystem& fs, const InputFile& input) {
    auto file = fs.OpenForRead(input.path);
    if (!file.ok()) {
      if (!fs.Exists(input.path)) {
        return Status::BadInput("input file '" + input.path + "' was removed while the job ran");
      }
      return file.status();
    }
    if ((*file)->size() != input.size) {
      return Status::BadInput("input file '" + input.path + "' changed while the job ran: " +
                              std::to_string(input.size) + " bytes when planned, " +
                              std::to_string((*file)->size()) + " now");
    }
    return file;
  }

  // One record to job.Map: a BadRecord it throws is counted and logged
  // against (file, offset) instead of propagating; anything else does. A
  // record that did not parse (CSV, JSON: parse_error()) is a bad record
  // without calling Map.
  template <class... Record>
  static void MapOne(J& job, MapEmitter<J>& emit, TaskCounters& counters, BadRecordLog& bad,
                     const std::string& file, uint64_t offset, const Record&... record) {
    if constexpr (sizeof...(Record) == 1 && (ParsedRecord<Record> && ...)) {
      if (const char* why = (record.parse_error(), ...)) {
        ++counters.bad_records;
        bad.Add(file, offset, why);
        return;
      }
    }
    try {
      job.Map(record..., emit);
    } catch (const BadRecord& e) {
      if (emit.combine_threw()) throw;  // Combine failing is a bug, never a skippable record
      ++counters.bad_records;
      bad.Add(file, offset, e.what());
    }
  }

  // What Map (or the Combine that emit() ran inside it) threw, on the
  // record `where` names ("the line at byte 12 of 'a.txt'"). A Combine may
  // fold a record queued a few emits earlier, so its message says "near".
  static Status MapThrew(const MapEmitter<J>& emit, const std::exception& e,
                         const std::string& where) {
    if (emit.combine_threw()) {
      return Status::UserCode("combine() threw in the map phase, near " + where + ": " + e.what());
    }
    return Status::UserCode("map() threw on " + where + ": " + e.what());
  }

  // The files of a split, for messages: "'a.txt'" or "'a.txt' and 2 more".
  static std::string SplitFiles(const MapTask& task) {
    const auto& ranges = task.split->ranges;
    if (ranges.empty()) return "no files";
    std::string out = "'" + (*task.files)[ranges.front().file_index].path + "'";
    if (ranges.size() > 1) out += " and " + std::to_string(ranges.size() - 1) + " more";
    return out;
  }

  // Between chunks of every input kind: a bad-record limit passed or a
  // failed send ends the task, and the shuffle gets its turn to progress.
  Status AfterChunk(const BadRecordLog& bad, MapEmitter<J>& emit) {
    SLUICE_RETURN_IF_ERROR(bad.status());
    SLUICE_RETURN_IF_ERROR(emit.status());
    StepTimer exchanging(&emit.step_times().send_ns);  // blocks from peers land in the store
    transport_->Poll();
    return Status::OK();
  }

  // ---- reduce side ----

  // The partition fits in sort_bytes: decode it whole, in input order.
  Status ReduceInMemory(uint32_t partition, Output& output) {
    std::optional<StepTimer> step(&steps().decode_ns);
    std::vector<std::string> frames = store_->TakeFrames(partition);
    SLUICE_RETURN_IF_ERROR(store_->SortInInputOrder(partition, &frames));
    std::vector<Record>& records = records_;  // its capacity outlives the partition
    records.clear();
    if constexpr (kFoldsOnReduceSide) {
      // Fold each key's values with Combine while decoding, in input order,
      // so only distinct keys are sorted and reduce() gets one value per key.
      // One table for every partition: cleared, it keeps its grown slots,
      // so later partitions fold without regrowing (and re-zeroing) it.
      if (!fold_table_) fold_table_.emplace(CombineWith<J>{&*job_, &reduce_in_combine_});
      CombineTable& table = *fold_table_;
      table.Clear();
      try {  // once per partition: Combine runs in Add and Drain
        SLUICE_RETURN_IF_ERROR(store_->DecodeBlocks(
            partition, frames.data(), frames.data() + frames.size(), [&](Record&& rec) {
              ++counters_.reduce_input_records;
              table.Add(rec.key, CombineTable::Hash(rec.key), V(rec.value));
            }));
        table.Drain();  // the table holds its own copies of the keys
      } catch (const std::exception& e) {
        if (!reduce_in_combine_) throw;
        return CombineThrewInReduce(task_label_, e);
      }
      records.reserve(table.size());
      table.ForEach([&](std::string_view key, uint64_t, const V& value) {
        records.push_back(Record{key, ViewOfT<V>(value), 0});
      });
      step.emplace(&steps().sort_ns);
      store_->SortByKeyStable(&records);  // keys are distinct: stable costs nothing
      step.emplace(&steps().reduce_ns);
      return ReduceSorted(records, output);  // while the table holds the keys
    } else {
      SLUICE_RETURN_IF_ERROR(store_->DecodeBlocks(
          partition, frames.data(), frames.data() + frames.size(), [&](Record&& rec) {
            ++counters_.reduce_input_records;
            records.push_back(std::move(rec));
          }));
      step.emplace(&steps().sort_ns);
      store_->SortByKeyStable(&records);
      step.emplace(&steps().reduce_ns);
      return ReduceSorted(records, output);
    }
  }

  // Calls Reduce once per group of `records` (sorted).
  Status ReduceSorted(const std::vector<Record>& records, Output& output) {
    ArrayGroups<K, V, SameGroup<J>> groups(records.data(), records.data() + records.size());
    return ReduceGroups<kFoldsSortedGroups>(*job_, groups, output, task_label_, counters_,
                                            &reduce_in_combine_, merge_state_);
  }

  // Some of the partition is in spill runs: merge them (in several passes if
  // there are more than merge_factor) with what is still in memory.
  Status ReduceMerged(uint32_t partition, Output& output) {
    auto& part = store_->partition(partition);
    std::vector<Record>& in_memory = records_;
    in_memory.clear();
    std::optional<StepTimer> step;
    if (part.decoded_bytes > settings_.sort_bytes) {
      step.emplace(&steps().merge_ns);
      SLUICE_RETURN_IF_ERROR(store_->Spill(partition));
    } else if (!part.frames.empty()) {
      step.emplace(&steps().decode_ns);
      std::vector<std::string> frames = store_->TakeFrames(partition);
      SLUICE_RETURN_IF_ERROR(store_->SortInInputOrder(partition, &frames));
      SLUICE_RETURN_IF_ERROR(store_->DecodeBlocks(
          partition, frames.data(), frames.data() + frames.size(),
          [&](Record&& rec) { in_memory.push_back(std::move(rec)); }));
      step.emplace(&steps().sort_ns);
      store_->SortByKeyStable(&in_memory);
    }
    step.emplace(&steps().merge_ns);
    const size_t file_slots = settings_.merge_factor - (in_memory.empty() ? 0 : 1);
    SLUICE_RETURN_IF_ERROR(store_->MergeDown(partition, file_slots));
    std::vector<std::unique_ptr<RunCursor<K, V>>> cursors;
    for (const RunInfo& run : part.runs) {
      SLUICE_ASSIGN_OR_RETURN(auto cursor, (RunCursor<K, V>::OpenFile(*fs_, run)));
      cursors.push_back(std::move(cursor));
    }
    if (!in_memory.empty()) {
      cursors.push_back(RunCursor<K, V>::OverArray(in_memory.data(), in_memory.data() + in_memory.size()));
    }
    RunMerger<K, V> merger(std::move(cursors));
    SLUICE_RETURN_IF_ERROR(merger.Start());
    // The last merge is read as the groups go to reduce(): one step.
    step.emplace(&steps().reduce_ns);
    MergedGroups<K, V, SameGroup<J>> groups(&merger, &counters_);
    SLUICE_RETURN_IF_ERROR((ReduceGroups<kFoldsOnReduceSide || kFoldsSortedGroups>(
        *job_, groups, output, task_label_, counters_, &reduce_in_combine_, merge_state_)));
    step.emplace(&steps().merge_ns);
    for (const RunInfo& run : part.runs) SLUICE_RETURN_IF_ERROR(fs_->RemoveFile(run.path));
    part.runs.clear();
    return Status::OK();
  }

  JobSettings settings_;
  JobParams params_;  // what job_ reads its parameters from
  std::optional<J> job_;
  std::unique_ptr<MapEmitter<J>> emitter_;
  BlockTransport* transport_ = nullptr;
  std::unique_ptr<ShuffleStore<K, V>> store_;
  FileSystem* fs_ = nullptr;  // where spill runs live
  TaskCounters counters_;
  std::unique_ptr<BadRecordLog> bad_;  // records map() threw BadRecord for
  bool map_only_ = false;              // MayRunMapOnly: this run skips reduce
  // Input buffer of every map task: allocated (and its pages faulted in)
  // once per rank, not once per split.
  std::string read_buffer_;
  // A partition's records while it is reduced in memory (views into the
  // store's decode arena); kept so later partitions do not regrow it.
  std::vector<Record> records_;
  // Reduce-side folding; only jobs that fold instantiate a table type.
  std::conditional_t<kFoldsOnReduceSide, std::optional<CombineTable>, std::monostate> fold_table_;
  bool reduce_in_combine_ = false;  // CombineWith::running on the reduce side
  MergeState* merge_state_ = nullptr;  // the reduce task's, while one runs with --incremental
  // Text inputs: --record-delimiter (lines_ unless one is given) and the
  // CSV dialect; TableInput: each file's format once known.
  RecordDelimiter delimiter_;
  bool lines_ = true;
  CsvOptions csv_;
  std::vector<TableFormat> table_formats_;
};

}  // namespace sluice
