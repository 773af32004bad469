// Stream: map and reduce with commands in any language, as Hadoop Streaming.
//
//   sluice run stream --input logs/ --output counts/
//       --param mapper='python3 map.py' --param reducer='python3 red.py'
//
// Each map task (one split) starts the mapper once per input file it reads
// (a split may hold the end of one file and the start of the next), with
// SLUICE_INPUT_FILE (and Hadoop's mapreduce_map_input_file) naming the file
// in its environment, and writes it the lines ('\n'-terminated, a '\r'
// before the '\n' dropped, as Map sees lines in C++ jobs); a split with no
// lines starts none. Every line the mapper prints is a record:
// the bytes up to the first separator (--param separator, a tab by
// default; --param key-fields=N: up to the Nth) are the key, the rest the
// value; a line with fewer is all key and an empty value, as in Hadoop
// Streaming. Keys are shuffled and sorted
// as bytes. Each reduce task starts the reducer once and writes it
// "key<sep>value\n" for every record, keys in order, a key's values in
// input order (split, then the order the mapper printed them); what the
// reducer prints is the part file, byte for byte. Without a reducer the
// sorted "key<sep>value" lines are the output. A reduce task is a partition
// or, for a partition larger than --reduce-task-size, a key-range piece of
// it: a reducer must not carry state from one key to the next.
//
// Commands are cut into words as a shell would (command_line.h) and run
// without one: mapper='sh -c "cut -f2 | sort"' to ask for it. Each runs in
// a fresh private directory, removed after, with the job's environment.
//
// Failures fail the job (exit 6), nothing published, naming the command,
// the split or partition, how it ended and its last lines of stderr: a
// command that exits non-zero, dies on a signal, cannot start, exits
// (even with status 0) before reading all of its input, stays silent past --param task-timeout seconds (600 by
// default, as Hadoop's mapreduce.task.timeout; killed with its whole
// process group), or prints a line over 64 MiB. Its stderr goes to this rank's
// standard error, each line tagged with the command's role; lines of
// Hadoop's form "reporter:counter:GROUP,NAME,N" add N to the user counter
// "GROUP.NAME" instead.
#include <stdlib.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/job.h>

#include "jobs/stream/child_process.h"
#include "jobs/stream/command_line.h"

// Named, not anonymous: the engine's templates hold these types.
namespace stream_job {

constexpr size_t kPipeChunk = 1 << 20;       // bytes handed to a command at once
constexpr size_t kMaxLineBytes = size_t{64} << 20;  // a mapper's line, as a record
constexpr size_t kStderrTailLines = 20;      // kept for the failure message
constexpr size_t kStderrForwardBytes = 1 << 20;  // forwarded per task, then dropped

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
  uint64_t records() const { return records_; }
  sluice::Status Finish() { return sluice::Status::OK(); }

 private:
  sluice::BufferedWriter* writer_;
  uint64_t records_ = 0;
};

// A private working directory for one command, removed with everything in it.
class TaskDir {
 public:
  TaskDir() {
    const char* tmp = getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/sluice-stream-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("cannot make a working directory under '" + tmpl + "': " + strerror(errno));
    }
    path_ = tmpl;
  }
  ~TaskDir() {
    std::error_code ignored;  // best effort: a command may leave a read-only tree
    std::filesystem::remove_all(path_, ignored);
  }
  TaskDir(const TaskDir&) = delete;
  TaskDir& operator=(const TaskDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One running command: its stdin fed in large writes, its stdout handed
// on, its stderr forwarded (tagged), counted and remembered.
class Command {
 public:
  using Sink = sluice::ChildProcess::Sink;

  // Adds n to the user counter `name`.
  using Count = std::function<void(const std::string& name, uint64_t n)>;

  Command(std::string role, const std::string& command_line, std::chrono::seconds timeout,
          std::vector<std::string> env, Sink out, Count count)
      : role_(std::move(role)), command_line_(command_line), timeout_(timeout), count_(std::move(count)) {
    auto argv = sluice::SplitCommandLine(command_line, "parameter '" + role_ + "'");
    if (!argv.ok()) throw std::invalid_argument(argv.status().message());
    sluice::ChildOptions options;
    options.argv = std::move(*argv);
    options.working_dir = dir_.path();
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
    std::string msg = role_ + " '" + command_line_ + "': " + std::string(what);
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
  std::chrono::seconds timeout_;
  Count count_;
  TaskDir dir_;
  std::unique_ptr<sluice::ChildProcess> child_;
  std::string partial_;  // a stderr line not yet ended
  std::deque<std::string> tail_;
  size_t forwarded_ = 0;
};

// Cuts a command's stdout into lines and each line into key and value.
class RecordSplitter {
 public:
  RecordSplitter(std::string separator, uint64_t key_fields)
      : separator_(std::move(separator)), key_fields_(key_fields) {}

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
  void Reset() { pending_.clear(); }
  // The start of a line still open; a line past kMaxLineBytes is refused
  // rather than held (a mapper that never prints a newline).
  void Keep(std::string_view bytes) {
    if (pending_.size() + bytes.size() > kMaxLineBytes) {
      throw std::runtime_error("mapper printed a line of more than " + std::to_string(kMaxLineBytes >> 20) +
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
  // The key ends at the key_fields_-th separator; a line with fewer is all key.
  template <class Emit>
  void Line(std::string_view line, Emit& emit) {
    size_t at = std::string_view::npos;
    for (uint64_t field = 0, from = 0; field < key_fields_; ++field, from = at + separator_.size()) {
      at = line.find(separator_, from);
      if (at == std::string_view::npos) break;
    }
    if (at == std::string_view::npos) {
      emit(line, std::string_view());
    } else {
      emit(line.substr(0, at), line.substr(at + separator_.size()));
    }
  }
  std::string separator_;
  uint64_t key_fields_;
  std::string pending_;
};

std::string SeparatorFrom(const std::string& given) {
  if (given.empty()) throw sluice::JobParamError("parameter 'separator' must not be empty");
  if (given == "tab" || given == "\\t") return "\t";
  if (given.find('\n') != std::string::npos) {
    throw sluice::JobParamError("parameter 'separator' must not hold a newline");
  }
  return given;
}

}  // namespace stream_job

using stream_job::Command;
using stream_job::RecordSplitter;
using stream_job::StreamOutput;

class Stream : public sluice::Job<Stream, std::string, std::string> {
 public:
  using Input = sluice::LineBlocks;
  using Output = StreamOutput;

  static constexpr sluice::Param<std::string> kMapper{
      "mapper", "", "command run per input file of each map task (SLUICE_INPUT_FILE names it): its lines on "
                   "stdin, key<sep>value lines out (required)"};
  static constexpr sluice::Param<std::string> kReducer{
      "reducer", "", "command run once per reduce task: sorted key<sep>value lines in, the part file out "
                     "(default: the sorted lines are the output)"};
  static constexpr sluice::Param<std::string> kSeparator{
      "separator", "tab", "between key and value, in and out (`tab` or any string without a newline)"};
  static constexpr sluice::Param<uint64_t> kKeyFields{
      "key-fields", 1, "how many separator-delimited fields of a mapper's line make its key"};
  static constexpr sluice::Param<uint64_t> kTaskTimeout{
      "task-timeout", 600, "kill a command that neither reads nor writes for this many seconds, failing the job "
                           "(Hadoop's default; 0: never)"};
  static constexpr auto kParams = sluice::ParamTable(kMapper, kReducer, kSeparator, kKeyFields, kTaskTimeout);

  Stream() {
    if (param(kKeyFields) == 0) throw sluice::JobParamError("parameter 'key-fields' must be at least 1");
    if (mapper_.empty()) throw sluice::JobParamError("parameter 'mapper' is required: --param mapper='CMD'");
    // Refuse a bad command line at start (exit 2), not in the first task.
    auto m = sluice::SplitCommandLine(mapper_, "parameter 'mapper'");
    if (!m.ok()) throw sluice::JobParamError(m.status().message());
    if (!reducer_.empty()) {
      auto r = sluice::SplitCommandLine(reducer_, "parameter 'reducer'");
      if (!r.ok()) throw sluice::JobParamError(r.status().message());
    }
  }

  // A mapper runs per input file of the task (a split may hold the ends of
  // several files), told the file in its environment as Hadoop Streaming
  // tells it: it starts with the first lines of each.
  void BeginMapTask() {
    mapper_process_.reset();  // left by a task that failed: killed, its output dropped
    splitter_.Reset();
  }

  void Map(std::string_view lines, Emitter& emit) {
    emit_ = &emit;
    if (!mapper_process_ || input_path() != mapper_file_) {
      EndMapper();
      mapper_file_ = input_path();
      mapper_process_ = std::make_unique<Command>(
          "mapper", mapper_, timeout_,
          std::vector<std::string>{"SLUICE_INPUT_FILE=" + mapper_file_,
                                   "mapreduce_map_input_file=" + mapper_file_},
          [this](std::string_view bytes) {
            splitter_.Feed(bytes, [this](std::string_view k, std::string_view v) { (*emit_)(k, v); });
          },
          Counting());
    }
    EndingOnFailure(mapper_process_, [&] { WriteLines(lines); });
  }

  void EndMapTask(Emitter& emit) {
    emit_ = &emit;
    EndMapper();
  }

  void BeginReduceTask(Output& out) {
    reducer_process_.reset();
    in_.clear();
    if (reducer_.empty()) return;
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
    if (in_.size() >= stream_job::kPipeChunk) Flush(out);
  }

  void EndReduceTask(Output& out) {
    Flush(out);
    if (reducer_process_) {
      EndingOnFailure(reducer_process_, [&] { reducer_process_->Finish(); });
      reducer_process_.reset();
    }
  }

 private:
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
    EndingOnFailure(mapper_process_, [&] {
      mapper_process_->Finish();
      splitter_.Finish([this](std::string_view k, std::string_view v) { (*emit_)(k, v); });
    });
    mapper_process_.reset();
  }
  Command::Count Counting() {
    return [this](const std::string& name, uint64_t n) { counter(name).Add(n); };
  }
  void Flush(Output& out) {
    if (reducer_process_) {
      EndingOnFailure(reducer_process_, [&] { reducer_process_->Write(in_); });
    } else {
      out.Append(in_);
    }
    in_.clear();
  }

  const std::string& mapper_ = param(kMapper);
  const std::string& reducer_ = param(kReducer);
  const std::string separator_ = stream_job::SeparatorFrom(param(kSeparator));
  const std::chrono::seconds timeout_{param(kTaskTimeout)};
  RecordSplitter splitter_{separator_, param(kKeyFields)};
  std::unique_ptr<Command> mapper_process_;
  std::string mapper_file_;  // the input file the running mapper reads
  std::unique_ptr<Command> reducer_process_;
  Emitter* emit_ = nullptr;
  std::string in_;  // lines on their way to a command
};

SLUICE_JOB(Stream, "stream", "map and reduce with commands in any language (Hadoop Streaming's convention)");
