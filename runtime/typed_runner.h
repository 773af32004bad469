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

#include "io/line_reader.h"
#include "runtime/job_runner.h"
#include "runtime/map_emitter.h"
#include "runtime/text_output.h"
#include "runtime/value_range.h"
#include "shuffle/block_codec.h"
#include "shuffle/serde.h"
#include "shuffle/string_combine_table.h"

namespace sluice {

template <class J>
class TypedRunner final : public JobRunner {
 public:
  using K = typename J::Key;
  using V = typename J::Value;
  using Record = ReduceRecord<K, V>;

  Status Setup(const JobSettings& settings, BlockTransport* transport) override {
    settings_ = settings;
    try {
      job_.emplace();
    } catch (const std::exception& e) {
      return Status::UserCode(std::string("job constructor threw: ") + e.what());
    }
    emitter_ = std::make_unique<MapEmitter<J>>(&*job_, settings_, transport, &counters_);
    transport_ = transport;
    return Status::OK();
  }

  Status RunMapTask(const MapTask& task) override {
    emitter_->BeginSplit(task.split->index);
    for (const FileRange& range : task.split->ranges) {
      const InputFile& input = (*task.files)[range.file_index];
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, task.fs->OpenForRead(input.path));
      LineReader reader(*file, range.begin, range.end, settings_.read_buffer_bytes);
      std::string_view chunk;
      for (;;) {
        SLUICE_ASSIGN_OR_RETURN(bool more, reader.NextChunk(&chunk));
        if (!more) break;
        counters_.input_bytes += chunk.size();
        const char* line_start = chunk.data();
        try {
          ForEachLine(chunk, [&](std::string_view line) {
            line_start = line.data();
            ++counters_.input_records;
            job_->Map(line, *emitter_);
          });
        } catch (const std::exception& e) {
          uint64_t offset =
              range.begin + reader.bytes_read() - chunk.size() + (line_start - chunk.data());
          return Status::UserCode("map() threw on the line at byte " + std::to_string(offset) +
                                  " of '" + input.path + "': " + e.what());
        }
        SLUICE_RETURN_IF_ERROR(emitter_->status());
        transport_->Poll();
      }
    }
    return emitter_->EndSplit();
  }

  Status RunReduceTask(uint32_t partition, std::vector<std::string>* frames,
                       BufferedWriter* out) override {
    std::vector<std::string> raws;
    std::vector<Record> records;
    if constexpr (kFoldsOnReduceSide) {
      // Fold each key's values with Combine while decoding, in input order
      // (split, seq), so only distinct keys are sorted and reduce() gets one
      // value per key: the same value for any number of ranks.
      CombineTable table(CombineWith<J>{&*job_});
      SLUICE_RETURN_IF_ERROR(DecodeInInputOrder(partition, frames, &raws, [&](Record&& rec) {
        table.Add(rec.key, CombineTable::Hash(rec.key), V(rec.value));
      }));
      table.Drain();
      raws.clear();  // the table holds its own copies of the keys
      records.reserve(table.size());
      table.ForEach([&](std::string_view key, uint64_t, const V& value) {
        records.push_back(Record{key, ViewOfT<V>(value)});
      });
      std::sort(records.begin(), records.end(),
                [](const Record& a, const Record& b) { return a.key < b.key; });
      return ReduceSorted(partition, records, out);
    } else {
      SLUICE_RETURN_IF_ERROR(DecodeInInputOrder(partition, frames, &raws, [&](Record&& rec) {
        records.push_back(std::move(rec));
      }));
      // Stable: equal keys keep input order, which is what reduce() promises.
      std::stable_sort(records.begin(), records.end(),
                       [](const Record& a, const Record& b) { return a.key < b.key; });
      return ReduceSorted(partition, records, out);
    }
  }

  const TaskCounters& counters() const override { return counters_; }
  std::vector<std::pair<std::string, uint64_t>> user_counters() const override {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const auto& [name, c] : job_->user_counters().all()) out.emplace_back(name, c.value());
    return out;
  }

 private:
  using CombineTable = StringCombineTable<V, CombineWith<J>>;
  static constexpr bool kFoldsOnReduceSide = HasCombiner<J> && std::is_same_v<K, std::string>;

  // Calls Reduce once per run of equal keys in sorted `records`.
  Status ReduceSorted(uint32_t partition, const std::vector<Record>& records, BufferedWriter* out) {
    TextOutput output(out);
    const Record* begin = records.data();
    const Record* end = begin + records.size();
    for (const Record* group = begin; group != end;) {
      const Record* next = group + 1;
      while (next != end && !(group->key < next->key)) ++next;
      ++counters_.reduce_input_groups;
      typename J::Values values(group, next);
      try {
        job_->Reduce(group->key, values, output);
      } catch (const std::exception& e) {
        return Status::UserCode("reduce() threw in partition " + std::to_string(partition) +
                                ": " + e.what());
      }
      group = next;
    }
    counters_.output_records += output.records();
    return Status::OK();
  }

  // Orders the partition's blocks by (split, seq), verifies and decodes them,
  // and hands their records to sink(Record&&) in that order. String views in
  // the records point into *raws.
  template <class Sink>
  Status DecodeInInputOrder(uint32_t partition, std::vector<std::string>* frames,
                            std::vector<std::string>* raws, Sink&& sink) {
    struct Ref {
      BlockInfo info;
      size_t index;
    };
    std::vector<Ref> refs;
    refs.reserve(frames->size());
    for (size_t i = 0; i < frames->size(); ++i) {
      SLUICE_ASSIGN_OR_RETURN(BlockInfo info,
                              BlockDecoder::PeekHeader((*frames)[i], ShuffleOrigin(partition)));
      if (info.partition != partition) {
        return Status::Corruption("block for partition " + std::to_string(info.partition) +
                                  " delivered to partition " + std::to_string(partition));
      }
      refs.push_back({info, i});
    }
    std::sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
      return a.info.split != b.info.split ? a.info.split < b.info.split : a.info.seq < b.info.seq;
    });
    for (size_t i = 1; i < refs.size(); ++i) {
      if (refs[i].info.split == refs[i - 1].info.split && refs[i].info.seq == refs[i - 1].info.seq) {
        return Status::Corruption("duplicate block (split " + std::to_string(refs[i].info.split) +
                                  ", seq " + std::to_string(refs[i].info.seq) + ") in partition " +
                                  std::to_string(partition));
      }
    }
    raws->resize(refs.size());
    BlockDecoder decoder;
    for (size_t i = 0; i < refs.size(); ++i) {
      std::string& frame = (*frames)[refs[i].index];
      BlockInfo info;
      SLUICE_RETURN_IF_ERROR(decoder.Decode(frame, ShuffleOrigin(partition), &info, &(*raws)[i]));
      std::string().swap(frame);  // the compressed copy is no longer needed
      ByteReader r{(*raws)[i].data(), (*raws)[i].data() + (*raws)[i].size()};
      for (uint32_t n = 0; n < info.records; ++n) {
        Record rec;
        if (!Decode(r, &rec.key) || !Decode(r, &rec.value)) {
          return Status::Corruption("malformed record " + std::to_string(n) + " in block (split " +
                                    std::to_string(info.split) + ", seq " +
                                    std::to_string(info.seq) + ") of partition " +
                                    std::to_string(partition));
        }
        sink(std::move(rec));
      }
      if (r.p != r.end) {
        return Status::Corruption("trailing bytes after the last record of a block of partition " +
                                  std::to_string(partition));
      }
      counters_.reduce_input_records += info.records;
    }
    frames->clear();
    return Status::OK();
  }

  static std::string ShuffleOrigin(uint32_t partition) {
    return "shuffle block of partition " + std::to_string(partition);
  }

  JobSettings settings_;
  std::optional<J> job_;
  std::unique_ptr<MapEmitter<J>> emitter_;
  BlockTransport* transport_ = nullptr;
  TaskCounters counters_;
};

}  // namespace sluice
