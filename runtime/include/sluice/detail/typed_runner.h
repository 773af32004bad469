// TypedRunner<J>: the engine for job type J. Header-only on purpose: it is
// instantiated in the job's own translation unit, so the user's Map, Combine
// and Reduce are inlined into the loops below, in a plugin as in a binary.
#pragma once

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/fixed_record_reader.h"
#include "io/line_reader.h"
#include <sluice/bad_record.h>
#include <sluice/params.h>
#include <sluice/detail/job_runner.h>
#include <sluice/detail/map_emitter.h>
#include <sluice/detail/run_merge.h>
#include <sluice/detail/shuffle_store.h>
#include <sluice/value_range.h>
#include "shuffle/kv_file.h"
#include "shuffle/serde.h"
#include "shuffle/string_combine_table.h"

namespace sluice {

template <class J>
class TypedRunner final : public JobRunner {
 public:
  using K = typename J::Key;
  using V = typename J::Value;
  using Record = ReduceRecord<K, V>;
  using Input = typename J::Input;
  using Output = typename J::Output;

  static_assert(!(GroupFields<J>() > 0 && HasCombiner<J>),
                "secondary sort (kGroupFields) and Combine do not mix: a combiner folds whole keys");
  static_assert(!(GroupFields<J>() > 0 && RangePartitioned<J>()),
                "range partitioning cuts on whole keys; it cannot keep a kGroupFields group together");

  JobTraits traits() const override {
    JobTraits t;
    t.input = Input::kKind;
    t.record_bytes = Input::kRecordBytes;
    t.map_only = !HasReduce<J>;
    t.range_partitioned = RangePartitioned<J>();
    return t;
  }

  Status CheckParams(const JobParamList& given) override {
    JobParams params(given);
    std::optional<J> job;
    SLUICE_RETURN_IF_ERROR(Construct(&job, &params));
    if (std::string unknown = params.Undeclared(); !unknown.empty()) {
      std::string known;
      for (const auto& d : params.declared()) known += (known.empty() ? "" : ", ") + d.name;
      return Status::Usage("unknown job parameter(s): " + unknown + " (this job takes: " +
                           (known.empty() ? "none" : known) + ")");
    }
    return Status::OK();
  }

  std::string ParamsHelp() override {
    JobParams params;
    std::optional<J> job;
    // A job may refuse to construct without a required parameter; what it
    // declared before refusing is still its parameter list.
    (void)Construct(&job, &params);
    std::string out;
    for (const auto& d : params.declared()) {
      out += "  --param " + d.name + "=" + d.type + "  (default " +
             (d.default_text.empty() ? "\"\"" : d.default_text) + "): " + d.help + "\n";
    }
    return out;
  }

  Status Setup(const JobSettings& settings, BlockTransport* transport, FileSystem* fs) override {
    settings_ = settings;
    params_ = JobParams(settings.params);
    SLUICE_RETURN_IF_ERROR(Construct(&job_, &params_));
    emitter_ = std::make_unique<MapEmitter<J>>(&*job_, settings_, transport, &counters_);
    transport_ = transport;
    fs_ = fs;
    store_ = std::make_unique<ShuffleStore<K, V>>(settings_, fs, &counters_);
    bad_ = std::make_unique<BadRecordLog>(settings_.max_bad_records);
    transport->SetReceiver(store_.get());
    return Status::OK();
  }

  Status SampleKeys(const MapTask& task, size_t max_keys, std::vector<std::string>* keys) override {
    // A job object of its own, so that sampling leaves no trace in the real
    // job's counters or state.
    std::optional<J> sampler;
    JobParams params(settings_.params);
    SLUICE_RETURN_IF_ERROR(Construct(&sampler, &params));
    TaskCounters ignored;
    MapEmitter<J> emit(&*sampler, settings_, transport_, &ignored);
    const size_t start = keys->size();
    emit.SampleInto(keys);
    BadRecordLog unlimited(UINT64_MAX);  // the real map task will meet them
    Status s = ReadSplit(task, *sampler, emit, ignored, unlimited,
                         [&] { return keys->size() - start >= max_keys; });
    if (keys->size() - start > max_keys) keys->resize(start + max_keys);
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
    std::sort(keys.begin(), keys.end());
    std::vector<std::string> cuts;
    if (keys.empty()) return cuts;  // no input: every record (none) goes to partition 0
    for (uint32_t i = 1; i < partitions; ++i) {
      cuts.emplace_back();
      Encode(&cuts.back(), keys[keys.size() * i / partitions]);
    }
    return cuts;
  }

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
    emitter_->BeginSplit(task.split->index);
    if constexpr (!HasReduce<J>) {
      Output out(task.output);
      emitter_->WriteTo(&out);
      Status s = ReadSplit(task, *job_, *emitter_, counters_, *bad_, [] { return false; });
      emitter_->WriteTo(nullptr);
      SLUICE_RETURN_IF_ERROR(s);
      SLUICE_RETURN_IF_ERROR(out.Finish());
      counters_.output_records += out.records();
      return Status::OK();
    } else {
      SLUICE_RETURN_IF_ERROR(ReadSplit(task, *job_, *emitter_, counters_, *bad_, [] { return false; }));
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

  Status RunReduceTask(uint32_t partition, BufferedWriter* out) override {
    if constexpr (!HasReduce<J>) {
      return Status::Internal("reduce task for a map-only job");
    } else {
      Output output(out);
      auto& part = store_->partition(partition);
      if (part.runs.empty() && part.decoded_bytes <= settings_.sort_bytes) {
        SLUICE_RETURN_IF_ERROR(ReduceInMemory(partition, output));
      } else {
        SLUICE_RETURN_IF_ERROR(ReduceMerged(partition, output));
      }
      SLUICE_RETURN_IF_ERROR(output.Finish());
      counters_.output_records += output.records();
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
  std::vector<std::pair<std::string, uint64_t>> user_counters() const override {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const auto& [name, c] : job_->user_counters().all()) out.emplace_back(name, c.value());
    return out;
  }

 private:
  using CombineTable = StringCombineTable<V, CombineWith<J>>;
  using KeyView = ViewOfT<K>;
  static constexpr bool kFoldsOnReduceSide = HasCombiner<J> && std::is_same_v<K, std::string>;

  // Constructs J reading `params` (which must outlive it).
  static Status Construct(std::optional<J>* job, JobParams* params) {
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

  // ---- map side ----

  // Reads the records of task's split (or, while stop() stays false, a
  // prefix of them: sampling) and calls job.Map on each.
  template <class Stop>
  Status ReadSplit(const MapTask& task, J& job, MapEmitter<J>& emit, TaskCounters& counters,
                   BadRecordLog& bad,
                   Stop&& stop) {
    for (const FileRange& range : task.split->ranges) {
      const InputFile& input = (*task.files)[range.file_index];
      job.SetCurrentInput(input.input_index, input.path);
      if constexpr (Input::kKind == InputKind::kGeneratedRows) {
        SLUICE_RETURN_IF_ERROR(ReadRows(range, input, job, emit, counters, bad, stop));
      } else {
        SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, OpenInput(*task.fs, input));
        if constexpr (Input::kKind == InputKind::kLines) {
          SLUICE_RETURN_IF_ERROR(ReadLines(*file, range, job, emit, counters, bad, stop));
        } else if constexpr (Input::kKind == InputKind::kFixedRecords) {
          SLUICE_RETURN_IF_ERROR(ReadFixed(*file, range, job, emit, counters, bad, stop));
        } else {
          SLUICE_RETURN_IF_ERROR(ReadKeyValues(*task.fs, input, range, job, emit, counters, bad, stop));
        }
      }
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
  // against (file, offset) instead of propagating; anything else does.
  template <class... Record>
  static void MapOne(J& job, MapEmitter<J>& emit, TaskCounters& counters, BadRecordLog& bad,
                     const std::string& file, uint64_t offset, const Record&... record) {
    try {
      job.Map(record..., emit);
    } catch (const BadRecord& e) {
      if (emit.combine_threw()) throw;  // Combine failing is a bug, never a skippable record
      ++counters.bad_records;
      bad.Add(file, offset, e.what());
    }
  }

  // What Map (or the Combine that emit() ran inside it) threw, for the
  // record at `offset` of `path`. A Combine may fold a record queued a few
  // emits earlier, so its message says "near".
  static Status MapThrew(const MapEmitter<J>& emit, const std::exception& e, std::string_view what,
                         uint64_t offset, const std::string& path) {
    if (emit.combine_threw()) {
      return Status::UserCode("combine() threw in the map phase, near the " + std::string(what) +
                              " at byte " + std::to_string(offset) + " of '" + path + "': " + e.what());
    }
    return Status::UserCode("map() threw on the " + std::string(what) + " at byte " +
                            std::to_string(offset) + " of '" + path + "': " + e.what());
  }

  // The files of a split, for messages: "'a.txt'" or "'a.txt' and 2 more".
  static std::string SplitFiles(const MapTask& task) {
    const auto& ranges = task.split->ranges;
    if (ranges.empty()) return "no files";
    std::string out = "'" + (*task.files)[ranges.front().file_index].path + "'";
    if (ranges.size() > 1) out += " and " + std::to_string(ranges.size() - 1) + " more";
    return out;
  }

  template <class Stop>
  Status ReadLines(ReadableFile& file, const FileRange& range, J& job, MapEmitter<J>& emit,
                   TaskCounters& counters, BadRecordLog& bad, Stop& stop) {
    LineReader reader(file, range.begin, range.end, settings_.read_buffer_bytes, &read_buffer_);
    std::string_view chunk;
    for (;;) {
      SLUICE_ASSIGN_OR_RETURN(bool more, reader.NextChunk(&chunk));
      if (!more) break;
      counters.input_bytes += chunk.size();
      const char* line_start = chunk.data();
      const uint64_t chunk_offset = range.begin + reader.bytes_read() - chunk.size();
      try {
        ForEachLine(chunk, [&](std::string_view line) {
          line_start = line.data();
          job.record_offset_ = chunk_offset + static_cast<uint64_t>(line.data() - chunk.data());
          ++counters.input_records;
          MapOne(job, emit, counters, bad, file.path(), job.record_offset_, line);
        });
      } catch (const std::exception& e) {
        uint64_t offset = chunk_offset + static_cast<uint64_t>(line_start - chunk.data());
        return MapThrew(emit, e, "line", offset, file.path());
      }
      SLUICE_RETURN_IF_ERROR(AfterChunk(bad, emit));
      if (stop()) break;
    }
    return Status::OK();
  }

  // Between chunks of every input kind: a bad-record limit passed or a
  // failed send ends the task, and the shuffle gets its turn to progress.
  Status AfterChunk(const BadRecordLog& bad, const MapEmitter<J>& emit) {
    SLUICE_RETURN_IF_ERROR(bad.status());
    SLUICE_RETURN_IF_ERROR(emit.status());
    transport_->Poll();
    return Status::OK();
  }

  template <class Stop>
  Status ReadFixed(ReadableFile& file, const FileRange& range, J& job, MapEmitter<J>& emit,
                   TaskCounters& counters, BadRecordLog& bad, Stop& stop) {
    constexpr uint32_t n = Input::kRecordBytes;
    SLUICE_RETURN_IF_ERROR(FixedRecordReader::CheckFile(file, n));
    FixedRecordReader reader(file, range.begin, range.end, n, settings_.read_buffer_bytes,
                             &read_buffer_);
    std::string_view chunk;
    for (;;) {
      SLUICE_ASSIGN_OR_RETURN(bool more, reader.NextChunk(&chunk));
      if (!more) break;
      counters.input_bytes += chunk.size();
      counters.input_records += chunk.size() / n;
      size_t at = 0;
      try {
        for (; at < chunk.size(); at += n) {
          job.record_offset_ = reader.chunk_offset() + at;
          MapOne(job, emit, counters, bad, file.path(), job.record_offset_, chunk.substr(at, n));
        }
      } catch (const std::exception& e) {
        return MapThrew(emit, e, "record", reader.chunk_offset() + at, file.path());
      }
      SLUICE_RETURN_IF_ERROR(AfterChunk(bad, emit));
      if (stop()) break;
    }
    return Status::OK();
  }

  template <class Stop>
  Status ReadRows(const FileRange& range, const InputFile& input, J& job, MapEmitter<J>& emit,
                  TaskCounters& counters, BadRecordLog& bad, Stop& stop) {
    constexpr uint64_t n = Input::kRecordBytes;
    const uint64_t rows = input.size / n;
    const uint64_t first = std::min((range.begin + n - 1) / n, rows);
    const uint64_t last = std::min((range.end + n - 1) / n, rows);
    constexpr uint64_t kRowsPerPoll = 4096;
    for (uint64_t row = first; row < last;) {
      const uint64_t batch_begin = row;
      const uint64_t batch_end = std::min(last, row + kRowsPerPoll);
      try {
        for (; row < batch_end; ++row) MapOne(job, emit, counters, bad, input.path, row * n, row);
      } catch (const std::exception& e) {
        if (emit.combine_threw()) {
          return Status::UserCode("combine() threw in the map phase, near row " + std::to_string(row) +
                                  ": " + e.what());
        }
        return Status::UserCode("map() threw on row " + std::to_string(row) + ": " + e.what());
      }
      counters.input_records += batch_end - batch_begin;
      counters.input_bytes += (batch_end - batch_begin) * n;
      SLUICE_RETURN_IF_ERROR(AfterChunk(bad, emit));
      if (stop()) break;
    }
    return Status::OK();
  }

  template <class Stop>
  Status ReadKeyValues(FileSystem& fs, const InputFile& input, const FileRange& range, J& job,
                       MapEmitter<J>& emit, TaskCounters& counters, BadRecordLog& bad, Stop& stop) {
    if constexpr (Input::kKind != InputKind::kKeyValue) {
      return Status::Internal("not a key-value input");
    } else {
      using InK = typename Input::Key;
      using InV = typename Input::Value;
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<KvFileReader> reader, KvFileReader::Open(fs, input.path));
      SLUICE_RETURN_IF_ERROR((CheckKvTypes<InK, InV>(*reader)));
      counters.input_bytes += reader->BytesOwnedBy(range.begin, range.end);
      const auto [first, last] = reader->BlocksStartingIn(range.begin, range.end);
      std::string raw;
      for (size_t b = first; b < last; ++b) {
        SLUICE_RETURN_IF_ERROR(reader->ReadBlock(b, &raw));
        ByteReader r{raw.data(), raw.data() + raw.size()};
        const uint32_t records = reader->blocks()[b].records;
        for (uint32_t i = 0; i < records; ++i) {
          ViewOfT<InK> key;
          ViewOfT<InV> value;
          if (!Decode(r, &key) || !Decode(r, &value)) {
            return Status::Corruption("malformed record " + std::to_string(i) + " in block " +
                                      std::to_string(b) + " at offset " +
                                      std::to_string(reader->blocks()[b].offset) +
                                      " of key-value file '" + input.path + "'");
          }
          ++counters.input_records;
          job.record_offset_ = reader->blocks()[b].offset;
          try {
            MapOne(job, emit, counters, bad, input.path, job.record_offset_, key, value);
          } catch (const std::exception& e) {
            return MapThrew(emit, e, "record " + std::to_string(i) + " of the block",
                            reader->blocks()[b].offset, input.path);
          }
        }
        SLUICE_RETURN_IF_ERROR(AfterChunk(bad, emit));
        if (stop()) break;
      }
      return Status::OK();
    }
  }

  // ---- reduce side ----

  // The partition fits in sort_bytes: decode it whole, in input order.
  Status ReduceInMemory(uint32_t partition, Output& output) {
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
        return CombineThrewInReduce(partition, e);
      }
      records.reserve(table.size());
      table.ForEach([&](std::string_view key, uint64_t, const V& value) {
        records.push_back(Record{key, ViewOfT<V>(value), 0});
      });
      store_->SortByKeyStable(&records);  // keys are distinct: stable costs nothing
      return ReduceSorted(partition, records, output);  // while the table holds the keys
    } else {
      SLUICE_RETURN_IF_ERROR(store_->DecodeBlocks(
          partition, frames.data(), frames.data() + frames.size(), [&](Record&& rec) {
            ++counters_.reduce_input_records;
            records.push_back(std::move(rec));
          }));
      store_->SortByKeyStable(&records);
      return ReduceSorted(partition, records, output);
    }
  }

  // Calls Reduce once per group of `records` (sorted).
  Status ReduceSorted(uint32_t partition, const std::vector<Record>& records, Output& output) {
    const Record* end = records.data() + records.size();
    for (const Record* group = records.data(); group != end;) {
      const Record* next = group + 1;
      while (next != end && SameGroup(group->key, next->key)) ++next;
      ++counters_.reduce_input_groups;
      typename J::Values values(group, next);
      try {
        job_->Reduce(group->key, values, output);
      } catch (const std::exception& e) {
        return ReduceThrew(partition, e);
      }
      group = next;
    }
    return Status::OK();
  }

  // Some of the partition is in spill runs: merge them (in several passes if
  // there are more than merge_factor) with what is still in memory.
  Status ReduceMerged(uint32_t partition, Output& output) {
    auto& part = store_->partition(partition);
    std::vector<Record>& in_memory = records_;
    in_memory.clear();
    if (part.decoded_bytes > settings_.sort_bytes) {
      SLUICE_RETURN_IF_ERROR(store_->Spill(partition));
    } else if (!part.frames.empty()) {
      std::vector<std::string> frames = store_->TakeFrames(partition);
      SLUICE_RETURN_IF_ERROR(store_->SortInInputOrder(partition, &frames));
      SLUICE_RETURN_IF_ERROR(store_->DecodeBlocks(
          partition, frames.data(), frames.data() + frames.size(),
          [&](Record&& rec) { in_memory.push_back(std::move(rec)); }));
      store_->SortByKeyStable(&in_memory);
    }
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
    SLUICE_RETURN_IF_ERROR(ReduceStream(partition, merger, output));
    for (const RunInfo& run : part.runs) SLUICE_RETURN_IF_ERROR(fs_->RemoveFile(run.path));
    part.runs.clear();
    return Status::OK();
  }

  // One group of a merged stream, as ValueRange's refill source.
  struct StreamGroup {
    RunMerger<K, V>* merger;
    TaskCounters* counters;
    std::string key_bytes;  // owns the group's key: merging moves past its block
    KeyView key{};
    Status status;

    void SetKey(const KeyView& k) {
      if constexpr (std::is_same_v<K, std::string>) {
        key_bytes.assign(k);
        key = key_bytes;
      } else {
        key = k;
      }
    }
    static bool Refill(void* self, const Record** cur, const Record** end) {
      auto* g = static_cast<StreamGroup*>(self);
      Status s = g->merger->Advance();
      if (!s.ok()) {
        g->status = s;
        return false;
      }
      const Record* r = g->merger->current();
      if (r == nullptr || !SameGroup(g->key, r->key)) return false;
      ++g->counters->reduce_input_records;
      *cur = r;
      *end = r + 1;
      return true;
    }
  };

  Status ReduceStream(uint32_t partition, RunMerger<K, V>& merger, Output& output) {
    StreamGroup group{&merger, &counters_, {}, {}, Status::OK()};
    while (const Record* first = merger.current()) {
      ++counters_.reduce_input_records;
      ++counters_.reduce_input_groups;
      group.SetKey(first->key);
      if constexpr (kFoldsOnReduceSide) {
        const CombineWith<J> combine{&*job_, &reduce_in_combine_};
        V folded(first->value);
        try {  // once per key, not per value
          for (;;) {
            SLUICE_RETURN_IF_ERROR(merger.Advance());
            const Record* r = merger.current();
            if (r == nullptr || !SameGroup(group.key, r->key)) break;
            ++counters_.reduce_input_records;
            folded = combine(folded, V(r->value));
          }
        } catch (const std::exception& e) {
          if (!reduce_in_combine_) throw;
          return CombineThrewInReduce(partition, e);
        }
        Record one{group.key, ViewOfT<V>(folded), 0};
        typename J::Values values(&one, &one + 1);
        try {
          job_->Reduce(group.key, values, output);
        } catch (const std::exception& e) {
          return ReduceThrew(partition, e);
        }
      } else {
        typename J::Values values(first, first + 1, &StreamGroup::Refill, &group);
        try {
          job_->Reduce(group.key, values, output);
        } catch (const std::exception& e) {
          return ReduceThrew(partition, e);
        }
        values.SkipRest();
        SLUICE_RETURN_IF_ERROR(group.status);
      }
    }
    return Status::OK();
  }

  // b follows a in sorted order: same group unless a < b (on the group's
  // fields, with secondary sort).
  static bool SameGroup(const KeyView& a, const KeyView& b) {
    if constexpr (GroupFields<J>() > 0) {
      return !(GroupPrefix<GroupFields<J>()>(a) < GroupPrefix<GroupFields<J>()>(b));
    } else if constexpr (std::is_same_v<K, std::string>) {
      return SameKeyBytes(a, b);  // sorted, so "not less" is "equal"
    } else {
      return !(a < b);
    }
  }

  static Status ReduceThrew(uint32_t partition, const std::exception& e) {
    return Status::UserCode("reduce() threw in partition " + std::to_string(partition) + ": " +
                            e.what());
  }
  // Combine folding a partition's values before Reduce (string keys).
  static Status CombineThrewInReduce(uint32_t partition, const std::exception& e) {
    return Status::UserCode("combine() threw in the reduce phase, folding partition " +
                            std::to_string(partition) + ": " + e.what());
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
  // Input buffer of every map task: allocated (and its pages faulted in)
  // once per rank, not once per split.
  std::string read_buffer_;
  // A partition's records while it is reduced in memory (views into the
  // store's decode arena); kept so later partitions do not regrow it.
  std::vector<Record> records_;
  // Reduce-side folding; only jobs that fold instantiate a table type.
  std::conditional_t<kFoldsOnReduceSide, std::optional<CombineTable>, std::monostate> fold_table_;
  bool reduce_in_combine_ = false;  // CombineWith::running on the reduce side
};

}  // namespace sluice
