// Stream: map and reduce with commands in any language, as Hadoop Streaming.
//
//   sluice run stream --input logs/ --output counts/
//       --param mapper='python3 map.py' --param reducer='python3 red.py'
//
// Each map task (one split) starts the mapper once per input file it reads
// (a split may hold the end of one file and the start of the next), with
// SLUICE_INPUT_FILE (and Hadoop's mapreduce_map_input_file) naming the file
// and SLUICE_INPUT_INDEX its --input in its environment, and writes it the
// lines ('\n'-terminated, a '\r' before the '\n' dropped, as Map sees lines
// in C++ jobs); a split with no lines starts none. --param input=csv reads
// CSV records instead (CsvInput, --csv-* flags), each written as one line:
// fields joined by tabs, \ tab newline CR inside a field escaped as
// \\ \t \n \r; the file's header, if read, is in SLUICE_INPUT_COLUMNS. Every line the mapper
// prints is a record: the bytes up to the first separator (--param
// separator, a tab by default; --param key-fields=N: up to the Nth) are the
// key, the rest the value. A line with fewer separators is malformed
// (--param malformed: fail the job, skip it as a bad record, or take it as
// all key as Hadoop Streaming does). Keys are shuffled and sorted as bytes,
// to the reduce task their first partition-fields fields choose (0: the
// whole key). A combiner command, if given, gets each map task's records
// sorted by key (64 MiB at a time) before the shuffle and prints records as
// the mapper does. Each reduce task (one partition) starts the reducer once
// and writes it "key<sep>value\n" for every record, keys in order, a key's
// values in input order (split, then the order the mapper printed them);
// what the reducer prints is the part file, byte for byte. Without a
// reducer the job is map-only: each split's part is its mappers' lines as
// printed.
//
// Commands are cut into words as a shell would (command_line.h) and run
// without one: mapper='sh -c "cut -f2 | sort"' to ask for it. Each runs in
// a fresh private directory, removed after, with the job's environment,
// behind a guard process that kills its process group when it exits or
// when this rank dies (child_process.h).
//
// Failures fail the job (exit 6), nothing published, naming the command,
// the split or partition, how it ended and its last lines of stderr: a
// command that exits non-zero, dies on a signal, cannot start, exits
// (even with status 0) before reading all of its input, stays silent past
// --param task-timeout seconds (600 by default, as Hadoop's
// mapreduce.task.timeout; killed with its whole process group), prints a
// line over 64 MiB or (malformed=fail) a malformed line. Its stderr goes to
// this rank's standard error, each line tagged with the command's role;
// lines of Hadoop's form "reporter:counter:GROUP,NAME,N" add N to the user
// counter "GROUP.NAME" instead, and a mapper's "reporter:bad_record:REASON"
// skips a record as a C++ job's BadRecord does (--max-bad-records).
#include <stdlib.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <cstring>
#include <algorithm>
#include <deque>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/csv_row.h>
#include <sluice/job.h>

#include "jobs/stream/child_process.h"
#include "jobs/stream/command_line.h"

// Named, not anonymous: the engine's templates hold these types.
namespace stream_job {

constexpr size_t kPipeChunk = 1 << 20;       // bytes handed to a command at once
constexpr size_t kMaxLineBytes = size_t{64} << 20;  // a mapper's line, as a record
constexpr size_t kStderrTailLines = 20;      // kept for the failure message
constexpr size_t kStderrForwardBytes = 1 << 20;  // forwarded per task, then dropped
constexpr size_t kCombineBytes = size_t{64} << 20;  // mapper output held per combiner run
constexpr size_t kLinePreview = 200;  // bytes of a malformed line a message quotes

// The part file is what the reducer printed: bytes, one record per line.
class StreamOutput {
 public:
  explicit StreamOutput(sluice::BufferedWriter* writer) : writer_(writer) {}
  void Append(std::string_view bytes) {
    if (bytes.empty()) return;  // data() may be null, which memchr may not take
    (void)writer_->Append(bytes);  // an error sticks in the writer
    for (const char* p = bytes.data(); (p = static_cast<const char*>(
                                            std::memchr(p, '\n', bytes.data() + bytes.size() - p)));
         ++p) {
      ++records_;
    }
  }
  // A map-only run: the job emits each line the mapper printed whole, as
  // the key (Stream::MapperRecord); it is written as printed.
  void operator()(std::string_view line, std::string_view no_value) {
    (void)no_value;
    (void)writer_->Append(line);
    (void)writer_->Append("\n");
    ++records_;
  }
  uint64_t records() const { return records_; }
  sluice::Status Finish() { return sluice::Status::OK(); }

 private:
  sluice::BufferedWriter* writer_;
  uint64_t records_ = 0;
};

// Where commands get their private working directories: $TMPDIR, or /tmp.
std::string TempRoot() {
  const char* tmp = getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

// One running command: its stdin fed in large writes, its stdout handed
// on, its stderr forwarded (tagged), counted and remembered.
class Command {
 public:
  using Sink = sluice::ChildProcess::Sink;

  // Adds n to the user counter `name`.
  using Count = std::function<void(const std::string& name, uint64_t n)>;
  // A record the command rejected ("reporter:bad_record:REASON" on stderr);
  // null: such lines are ordinary stderr.
  using Reject = std::function<void(const std::string& reason)>;

  Command(std::string role, const std::string& command_line, std::chrono::seconds timeout,
          std::vector<std::string> env, Sink out, Count count, Reject reject = nullptr, std::string doing = "")
      : role_(std::move(role)),
        command_line_(command_line),
        doing_(std::move(doing)),
        timeout_(timeout),
        count_(std::move(count)),
        reject_(std::move(reject)) {
    auto argv = sluice::SplitCommandLine(command_line, "parameter '" + role_ + "'");
    if (!argv.ok()) throw std::invalid_argument(argv.status().message());
    sluice::ChildOptions options;
    options.argv = std::move(*argv);
    options.private_dir_under = TempRoot();  // made and removed by the command's guard
    options.idle_timeout = timeout;
    options.env = std::move(env);
    auto child = sluice::ChildProcess::Start(options, std::move(out),
                                             [this](std::string_view bytes) { OnStderr(bytes); });
    if (!child.ok()) throw std::runtime_error(Describe(child.status().message()));
    child_ = std::move(*child);
  }

  void Write(std::string_view bytes) {
    sluice::Status s = child_->Write(bytes);
    if (s.ok()) return;
    // It stopped reading: how it ended says more than the broken pipe.
    auto exit = child_->Finish();
    if (exit.ok() && !exit->ok()) throw std::runtime_error(Ended(*exit));
    throw std::runtime_error(Describe(s.message()));
  }

  // Closes its stdin and waits for it; throws unless it exited 0.
  void Finish() {
    auto exit = child_->Finish();
    FlushStderrLine();
    if (!exit.ok()) throw std::runtime_error(Describe(exit.status().message()));
    if (!exit->ok()) throw std::runtime_error(Ended(*exit));
  }

 private:
  std::string Ended(const sluice::ChildExit& exit) const {
    return Describe(exit.Describe(std::chrono::duration_cast<std::chrono::milliseconds>(timeout_)));
  }
  std::string Describe(std::string_view what) const {
    std::string msg = role_ + " '" + command_line_ + "'" + (doing_.empty() ? "" : " " + doing_) + ": " + std::string(what);
    if (tail_.empty()) return msg + " (nothing on stderr)";
    msg += "; its last lines of stderr:";
    for (const std::string& line : tail_) msg += "\n  " + line;
    return msg;
  }

  void OnStderr(std::string_view bytes) {
    while (!bytes.empty()) {
      const size_t nl = bytes.find('\n');
      if (nl == std::string_view::npos) {
        if (partial_.size() < 4096) partial_.append(bytes.substr(0, 4096 - partial_.size()));
        return;
      }
      if (partial_.size() < 4096) partial_.append(bytes.substr(0, std::min(nl, 4096 - partial_.size())));
      StderrLine(partial_);
      partial_.clear();
      bytes.remove_prefix(nl + 1);
    }
  }
  void FlushStderrLine() {
    if (!partial_.empty()) StderrLine(partial_);
    partial_.clear();
  }
  void StderrLine(const std::string& line) {
    constexpr std::string_view kCounter = "reporter:counter:";
    if (line.compare(0, kCounter.size(), kCounter) == 0 && CountFrom(line.substr(kCounter.size()))) return;
    constexpr std::string_view kBadRecord = "reporter:bad_record:";
    if (reject_ && line.compare(0, kBadRecord.size(), kBadRecord) == 0) {
      reject_(line.substr(kBadRecord.size()));
      return;
    }
    tail_.push_back(line);
    if (tail_.size() > kStderrTailLines) tail_.pop_front();
    if (forwarded_ < kStderrForwardBytes) {
      forwarded_ += line.size() + 1;
      std::cerr << "[" << role_ << "] " << line << "\n";
      if (forwarded_ >= kStderrForwardBytes) {
        std::cerr << "[" << role_ << "] (more stderr not shown: over " << (kStderrForwardBytes >> 20)
                  << " MiB)\n";
      }
    }
  }
  // "GROUP,NAME,N": adds N to counter GROUP.NAME. False if not of that form.
  bool CountFrom(const std::string& spec) {
    const size_t c1 = spec.find(',');
    const size_t c2 = c1 == std::string::npos ? c1 : spec.find(',', c1 + 1);
    if (c2 == std::string::npos || c2 + 1 >= spec.size()) return false;
    uint64_t n = 0;
    for (size_t i = c2 + 1; i < spec.size(); ++i) {
      if (spec[i] < '0' || spec[i] > '9' || n > (UINT64_MAX - 9) / 10) return false;
      n = n * 10 + static_cast<uint64_t>(spec[i] - '0');
    }
    count_(spec.substr(0, c1) + "." + spec.substr(c1 + 1, c2 - c1 - 1), n);
    return true;
  }

  std::string role_;
  std::string command_line_;
  std::string doing_;  // for messages: "reading 'a.txt'"
  std::chrono::seconds timeout_;
  Count count_;
  Reject reject_;
  std::unique_ptr<sluice::ChildProcess> child_;
  std::string partial_;  // a stderr line not yet ended
  std::deque<std::string> tail_;
  size_t forwarded_ = 0;
};

// Cuts a command's stdout into lines and each line into key and value.
// A line with fewer than key_fields separators is malformed: with
// `whole_line_is_key` (Hadoop's rule) it is all key and an empty value,
// else it goes to `malformed` with its line number in the command's output.
class RecordSplitter {
 public:
  using Malformed = std::function<void(std::string_view line, uint64_t line_number)>;

  RecordSplitter(std::string role, std::string separator, uint64_t key_fields, bool whole_line_is_key,
                 Malformed malformed)
      : role_(std::move(role)),
        separator_(std::move(separator)),
        key_fields_(key_fields),
        whole_line_is_key_(whole_line_is_key),
        malformed_(std::move(malformed)) {}

  template <class Emit>
  void Feed(std::string_view bytes, Emit&& emit) {
    if (!pending_.empty()) {
      const size_t nl = bytes.find('\n');
      if (nl == std::string_view::npos) {
        Keep(bytes);
        return;
      }
      pending_.append(bytes.substr(0, nl));
      Line(pending_, emit);
      pending_.clear();
      bytes.remove_prefix(nl + 1);
    }
    for (size_t nl; (nl = bytes.find('\n')) != std::string_view::npos; bytes.remove_prefix(nl + 1)) {
      Line(bytes.substr(0, nl), emit);
    }
    Keep(bytes);
  }
  // A new command's output starts.
  void Reset() {
    pending_.clear();
    lines_ = 0;
  }
  // The start of a line still open; a line past kMaxLineBytes is refused
  // rather than held (a mapper that never prints a newline).
  void Keep(std::string_view bytes) {
    if (pending_.size() + bytes.size() > kMaxLineBytes) {
      throw std::runtime_error(role_ + " printed a line of more than " + std::to_string(kMaxLineBytes >> 20) +
                               " MiB (no newline): a record must fit in memory");
    }
    pending_.append(bytes);
  }
  // The last line, printed without a '\n'.
  template <class Emit>
  void Finish(Emit&& emit) {
    if (!pending_.empty()) Line(pending_, emit);
    pending_.clear();
  }

 private:
  // The key ends at the key_fields_-th separator.
  template <class Emit>
  void Line(std::string_view line, Emit& emit) {
    ++lines_;
    size_t at = std::string_view::npos;
    for (uint64_t field = 0, from = 0; field < key_fields_; ++field, from = at + separator_.size()) {
      at = line.find(separator_, from);
      if (at == std::string_view::npos) break;
    }
    if (at != std::string_view::npos) {
      emit(line.substr(0, at), line.substr(at + separator_.size()), line);
    } else if (whole_line_is_key_) {
      emit(line, std::string_view(), line);
    } else {
      malformed_(line, lines_);
    }
  }
  std::string role_;
  std::string separator_;
  uint64_t key_fields_;
  bool whole_line_is_key_;
  Malformed malformed_;
  std::string pending_;
  uint64_t lines_ = 0;  // of the current command's output
};

// A map task's records on their way to the combiner: kept until
// kCombineBytes, then sorted by key (stably: a key's values stay in the
// order the mapper printed them) and handed over as key<sep>value lines.
class CombineBuffer {
 public:
  void Add(std::string_view key, std::string_view value) {
    records_.push_back(Record{bytes_.size(), key.size(), value.size()});
    bytes_.append(key);
    bytes_.append(value);
  }
  bool full() const { return bytes_.size() + records_.size() * sizeof(Record) >= kCombineBytes; }
  bool empty() const { return records_.empty(); }
  // Calls write(lines) with the sorted records as lines, in large pieces.
  template <class Write>
  void Drain(std::string_view separator, Write&& write) {
    std::stable_sort(records_.begin(), records_.end(),
                     [this](const Record& a, const Record& b) { return KeyOf(a) < KeyOf(b); });
    std::string lines;
    for (const Record& r : records_) {
      lines.append(KeyOf(r));
      lines.append(separator);
      lines.append(bytes_, r.at + r.key_bytes, r.value_bytes);
      lines.push_back('\n');
      if (lines.size() >= kPipeChunk) {
        write(std::string_view(lines));
        lines.clear();
      }
    }
    if (!lines.empty()) write(std::string_view(lines));
    records_.clear();
    bytes_.clear();
  }
  void Clear() {
    records_.clear();
    bytes_.clear();
  }

 private:
  struct Record {
    size_t at, key_bytes, value_bytes;
  };
  std::string_view KeyOf(const Record& r) const { return std::string_view(bytes_).substr(r.at, r.key_bytes); }
  std::string bytes_;
  std::vector<Record> records_;
};

std::string SeparatorFrom(const std::string& given) {
  if (given.empty()) throw sluice::JobParamError("parameter 'separator' must not be empty");
  if (given == "tab" || given == "\\t") return "\t";
  if (given.find('\n') != std::string::npos) {
    throw sluice::JobParamError("parameter 'separator' must not hold a newline");
  }
  return given;
}

// A CSV field as the mapper reads it (input=csv): its text, with a
// backslash, tab, newline or carriage return written \\ \t \n \r: the text
// format of PostgreSQL's COPY and of Hive, so that a record is one line and
// line.split('\t') gives its fields whenever none holds those bytes.
void AppendEscapedField(std::string_view text, std::string* out) {
  size_t plain = 0;  // start of the bytes not yet appended
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char* escape = c == '\\' ? "\\\\" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : nullptr;
    if (escape == nullptr) continue;
    out->append(text.substr(plain, i - plain));
    out->append(escape, 2);
    plain = i + 1;
  }
  out->append(text.substr(plain));
}

// A CSV record as one line: its fields, escaped, joined by tabs, then '\n'.
void AppendRecordLine(const sluice::CsvRow& row, std::string* out) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out->push_back('\t');
    AppendEscapedField(row[i].text(), out);
  }
  out->push_back('\n');
}

// The file's column names as a record line, without the '\n'.
std::string ColumnsLine(const sluice::CsvHeader& header) {
  std::string line;
  for (size_t i = 0; i < header.size(); ++i) {
    if (i > 0) line.push_back('\t');
    AppendEscapedField(header.name(i), &line);
  }
  return line;
}

}  // namespace stream_job

using stream_job::Command;
using stream_job::RecordSplitter;
using stream_job::StreamOutput;

// Compiled once per Input it can read; --param input picks one
// (sluice::JobVariants, below).
template <class In>
class Stream : public sluice::Job<Stream<In>, std::string, std::string> {
  using Base = sluice::Job<Stream<In>, std::string, std::string>;
  static constexpr bool kReadsCsv = std::is_same_v<In, sluice::CsvInput>;

 public:
  static constexpr std::string_view kVariant = kReadsCsv ? "csv" : "lines";  // --param input
  using typename Base::Emitter;
  using typename Base::Values;
  using Base::param;
  using Input = In;
  using Output = StreamOutput;

  static constexpr sluice::Param<std::string> kMapper{
      "mapper", "", "command run per input file of each map task (SLUICE_INPUT_FILE names it): its lines on "
                   "stdin, key<sep>value lines out (required)"};
  static constexpr sluice::Param<std::string> kCombiner{
      "combiner", "", "command run on each map task's output, sorted by key, before the shuffle: key<sep>value "
                      "lines in and out (needs a reducer)"};
  static constexpr sluice::Param<std::string> kReducer{
      "reducer", "", "command run once per reduce task: sorted key<sep>value lines in, the part file out "
                     "(default: none, a map-only job: the mapper's lines are the output, one part per split)"};
  static constexpr sluice::Param<std::string> kSeparator{
      "separator", "tab", "between key and value, in and out (`tab` or any string without a newline)"};
  static constexpr sluice::Param<uint64_t> kKeyFields{
      "key-fields", 1, "how many separator-delimited fields of a mapper's line make its key"};
  static constexpr sluice::Param<uint64_t> kPartitionFields{
      "partition-fields", 0, "how many leading fields of the key choose its reduce task (a join: 1, with "
                             "key-fields=2); 0: the whole key"};
  static constexpr sluice::Param<std::string> kMalformed{
      "malformed", "fail", "a mapper or combiner line with fewer than key-fields separators: fail (the job, "
                           "exit 6), skip (a bad record, within --max-bad-records) or key (all key, Hadoop's rule)"};
  static constexpr sluice::Param<std::string> kInput{
      "input", "lines", "what the mapper reads: lines (text; JSON Lines) or csv (each CSV record as one line, "
                        "fields joined by tabs, a \\ tab newline or CR in a field written \\\\ \\t \\n \\r; "
                        "--csv-header, --csv-delimiter, --csv-quote set the dialect)"};
  static constexpr sluice::Param<uint64_t> kTaskTimeout{
      "task-timeout", 600, "kill a command that neither reads nor writes for this many seconds, failing the job "
                           "(Hadoop's default; 0: never)"};
  static constexpr auto kParams = sluice::ParamTable(kMapper, kCombiner, kReducer, kSeparator, kKeyFields,
                                                     kPartitionFields, kMalformed, kInput, kTaskTimeout);

  Stream() {
    if (param(kInput) != "lines" && param(kInput) != "csv") {
      throw sluice::JobParamError("parameter 'input' must be lines or csv, not '" + param(kInput) + "'");
    }
    if (param(kKeyFields) == 0) throw sluice::JobParamError("parameter 'key-fields' must be at least 1");
    if (partition_fields_ > param(kKeyFields)) {
      throw sluice::JobParamError("parameter 'partition-fields' (" + std::to_string(partition_fields_) +
                                  ") must not exceed 'key-fields' (" + std::to_string(param(kKeyFields)) + ")");
    }
    if (malformed_ != "fail" && malformed_ != "skip" && malformed_ != "key") {
      throw sluice::JobParamError("parameter 'malformed' must be fail, skip or key, not '" + malformed_ + "'");
    }
    if (mapper_.empty()) throw sluice::JobParamError("parameter 'mapper' is required: --param mapper='CMD'");
    if (!combiner_.empty() && reducer_.empty()) {
      throw sluice::JobParamError("parameter 'combiner' needs a reducer: a map-only job has no shuffle to combine for");
    }
    // Refuse a bad command line at start (exit 2), not in the first task.
    for (const auto& [name, command] : {std::pair{"mapper", &mapper_}, std::pair{"combiner", &combiner_},
                                        std::pair{"reducer", &reducer_}}) {
      if (command->empty()) continue;
      auto argv = sluice::SplitCommandLine(*command, "parameter '" + std::string(name) + "'");
      if (!argv.ok()) throw sluice::JobParamError(argv.status().message());
    }
  }

  // Without a reducer the mapper's lines are the output: no shuffle.
  bool RunsMapOnly() const { return reducer_.empty(); }

  // partition-fields=N: the key's first N fields choose its reduce task,
  // hashed as a C++ job's tuple key with kGroupFields = N hashes them (each
  // field length-prefixed), so that a stream job and the C++ job it stands
  // for send each key to the same part.
  std::string_view PartitionBytes(std::string_view key, std::string* scratch) const {
    if (partition_fields_ == 0) return key;
    scratch->clear();
    size_t from = 0;
    for (uint64_t field = 0; field < partition_fields_; ++field) {
      const size_t at = key.find(separator_, from);
      sluice::Encode(scratch, key.substr(from, at == std::string_view::npos ? at : at - from));
      if (at == std::string_view::npos) break;
      from = at + separator_.size();
    }
    return *scratch;
  }

  // A mapper runs per input file of the task (a split may hold the ends of
  // several files), told the file in its environment as Hadoop Streaming
  // tells it: it starts with the first lines of each.
  void BeginMapTask() {
    mapper_process_.reset();  // left by a task that failed: killed, its output dropped
    combiner_process_.reset();
    combine_.Clear();
    splitter_.Reset();
    to_mapper_.clear();
  }

 private:
  // What the mapper's splitter calls per record (OnMapperRecord); defined
  // before its first use, as a deduced return type must be.
  auto MapperRecord() {
    return [this](std::string_view k, std::string_view v, std::string_view line) { OnMapperRecord(k, v, line); };
  }

 public:
  void Map(std::string_view lines, Emitter& emit)
    requires(!kReadsCsv)
  {
    emit_ = &emit;
    if (!mapper_process_ || this->input_path() != mapper_file_) StartMapper(nullptr);
    EndingOnFailure(mapper_process_, [&] { WriteLines(lines); });
  }

  // input=csv: each record becomes one line (stream_job::AppendRecordLine),
  // handed over a large block at a time.
  void Map(const sluice::CsvRow& row, Emitter& emit)
    requires kReadsCsv
  {
    emit_ = &emit;
    if (!mapper_process_ || this->input_path() != mapper_file_) StartMapper(row.header());
    stream_job::AppendRecordLine(row, &to_mapper_);
    if (to_mapper_.size() >= stream_job::kPipeChunk) WriteRecordLines();
  }

  void EndMapTask(Emitter& emit) {
    emit_ = &emit;
    EndMapper();
    RunCombiner();
  }

  void BeginReduceTask(Output& out) {
    reducer_process_.reset();
    in_.clear();
    reducer_process_ = std::make_unique<Command>(
        "reducer", reducer_, timeout_, std::vector<std::string>{}, [&out](std::string_view bytes) { out.Append(bytes); },
        Counting());
  }

  void Reduce(std::string_view key, Values& values, Output& out) {
    for (std::string_view value : values) {
      in_.append(key);
      in_.append(separator_);
      in_.append(value);
      in_.push_back('\n');
    }
    if (in_.size() >= stream_job::kPipeChunk) Flush();
    (void)out;
  }

  void EndReduceTask(Output& out) {
    (void)out;
    Flush();
    EndingOnFailure(reducer_process_, [&] { reducer_process_->Finish(); });
    reducer_process_.reset();
  }

 private:
  // Where a mapper's record goes: the combiner's buffer, or the emitter
  // (the shuffle; a map-only run's part file).
  void OnMapperRecord(std::string_view k, std::string_view v, std::string_view line) {
    if (reducer_.empty()) {
      (*emit_)(line, std::string_view());  // map-only: the line is the output (StreamOutput)
      return;
    }
    if (combiner_.empty()) {
      (*emit_)(k, v);
      return;
    }
    combine_.Add(k, v);
    if (combine_.full()) RunCombiner();
  }

  // A line the mapper or combiner printed without the key<sep>value shape.
  void Malformed(std::string_view line, uint64_t line_number) {
    std::string what = (combiner_process_ ? "combiner" : "mapper of '" + mapper_file_ + "'") + ": line " + std::to_string(line_number) + " of its output has fewer than " +
                       std::to_string(param(kKeyFields)) + " separator(s): '" +
                       std::string(line.substr(0, stream_job::kLinePreview)) +
                       (line.size() > stream_job::kLinePreview ? "...'" : "'");
    if (malformed_ == "skip") {
      this->report_bad_record(mapper_file_, mapper_offset_, "malformed line from the " + what);
      return;
    }
    throw std::runtime_error(what + " (--param malformed=skip skips such lines as bad records, "
                             "malformed=key takes them as keys)");
  }

  // Ends the running mapper, if any, and starts one for the current input
  // file; `header`: its CSV header, told the mapper as SLUICE_INPUT_COLUMNS.
  void StartMapper(const sluice::CsvHeader* header) {
    EndMapper();
    mapper_file_ = this->input_path();
    mapper_offset_ = this->record_offset();
    splitter_.Reset();
    std::vector<std::string> env{"SLUICE_INPUT_FILE=" + mapper_file_, "mapreduce_map_input_file=" + mapper_file_,
                                 "SLUICE_INPUT_INDEX=" + std::to_string(this->input_index())};
    if (header != nullptr) env.push_back("SLUICE_INPUT_COLUMNS=" + stream_job::ColumnsLine(*header));
    mapper_process_ = std::make_unique<Command>(
        "mapper", mapper_, timeout_, std::move(env),
        [this](std::string_view bytes) { splitter_.Feed(bytes, MapperRecord()); }, Counting(),
        [this](const std::string& reason) {
          this->report_bad_record(mapper_file_, mapper_offset_, "mapper: " + reason);
        },
        "reading '" + mapper_file_ + "'");
  }

  // Hands the mapper the record lines kept so far (input=csv).
  void WriteRecordLines() {
    EndingOnFailure(mapper_process_, [&] { mapper_process_->Write(to_mapper_); });
    to_mapper_.clear();
  }

  // Hands the mapper a block of lines.
  void WriteLines(std::string_view lines) {
    if (lines.find('\r') == std::string_view::npos) {
      mapper_process_->Write(lines);
      if (!lines.empty() && lines.back() != '\n') mapper_process_->Write("\n");
      return;
    }
    // Lines as LineInput gives them: a '\r' before the '\n' is not part of the line.
    in_.clear();
    for (size_t start = 0; start < lines.size();) {
      size_t nl = lines.find('\n', start);
      std::string_view line = lines.substr(start, nl == std::string_view::npos ? nl : nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      in_.append(line);
      in_.push_back('\n');
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
    mapper_process_->Write(in_);
  }

  // Runs f; if it throws, the command goes first (killed with its process
  // group, its directory removed): a failed job exits without destroying
  // the job object, which would leave both behind.
  template <class F>
  static void EndingOnFailure(std::unique_ptr<Command>& command, F&& f) {
    try {
      f();
    } catch (...) {
      command.reset();
      throw;
    }
  }
  // Closes the running mapper's input and takes the rest of its output.
  void EndMapper() {
    if (!mapper_process_) return;
    if (!to_mapper_.empty()) WriteRecordLines();
    EndingOnFailure(mapper_process_, [&] {
      mapper_process_->Finish();
      splitter_.Finish(MapperRecord());
    });
    mapper_process_.reset();
  }
  // The combiner over what the mapper printed since it last ran: started
  // per batch, its records emitted as they come.
  void RunCombiner() {
    if (combine_.empty()) return;
    combine_splitter_.Reset();
    auto emit = [this](std::string_view k, std::string_view v, std::string_view) { (*emit_)(k, v); };
    combiner_process_ = std::make_unique<Command>(
        "combiner", combiner_, timeout_, std::vector<std::string>{},
        [this, emit](std::string_view bytes) { combine_splitter_.Feed(bytes, emit); }, Counting());
    EndingOnFailure(combiner_process_, [&] {
      combine_.Drain(separator_, [this](std::string_view lines) { combiner_process_->Write(lines); });
      combiner_process_->Finish();
      combine_splitter_.Finish(emit);
    });
    combiner_process_.reset();
  }
  Command::Count Counting() {
    return [this](const std::string& name, uint64_t n) { this->counter(name).Add(n); };
  }
  void Flush() {
    EndingOnFailure(reducer_process_, [&] { reducer_process_->Write(in_); });
    in_.clear();
  }

  const std::string& mapper_ = param(kMapper);
  const std::string& combiner_ = param(kCombiner);
  const std::string& reducer_ = param(kReducer);
  const std::string& malformed_ = param(kMalformed);
  const std::string separator_ = stream_job::SeparatorFrom(param(kSeparator));
  const uint64_t partition_fields_ = param(kPartitionFields);
  const std::chrono::seconds timeout_{param(kTaskTimeout)};
  // Map-only, the mapper's lines are the output as printed: no key to find
  // (0 fields: no separator is searched for), none is malformed.
  RecordSplitter splitter_{"mapper", separator_, reducer_.empty() ? 0 : param(kKeyFields),
                           malformed_ == "key" || reducer_.empty(),
                           [this](std::string_view line, uint64_t n) { Malformed(line, n); }};
  RecordSplitter combine_splitter_{"combiner", separator_, param(kKeyFields), malformed_ == "key",
                                   [this](std::string_view line, uint64_t n) { Malformed(line, n); }};
  stream_job::CombineBuffer combine_;
  std::unique_ptr<Command> mapper_process_;
  std::string mapper_file_;     // the input file the running mapper reads
  uint64_t mapper_offset_ = 0;  // where in it the mapper's lines start
  std::unique_ptr<Command> combiner_process_;
  std::unique_ptr<Command> reducer_process_;
  Emitter* emit_ = nullptr;
  std::string in_;  // lines on their way to a command
  std::string to_mapper_;  // input=csv: record lines not yet written to the mapper
};

// What SLUICE_JOB registers: the engine for lines or the one for CSV
// records, as --param input says.
struct StreamByInput {
  using Variants = sluice::JobVariants<Stream<sluice::LineBlocks>, Stream<sluice::CsvInput>>;
  static constexpr std::string_view kVariantParam = "input";
};

SLUICE_JOB(StreamByInput, "stream", "map and reduce with commands in any language (Hadoop Streaming's convention)");
