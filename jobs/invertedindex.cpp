// InvertedIndex: for each word, where it occurs.
//
//   sluice run invertedindex --input docs/ --output index/
//
// A word is a maximal run of ASCII letters and digits, lowercased. A posting
// `doc:offset` names the file (its name without the directory, so name the
// documents distinctly) and the byte offset in it where the line holding
// the word starts, Hadoop-style: record_offset(), not a line number. Output:
// one `word\tdoc:offset doc:offset ...` line per word, postings sorted by
// doc, then numerically by offset, a line listed once however often the
// word occurs in it.
//
// Secondary sort keeps reduce() streaming: the key is (word, doc, offset)
// grouped on the word, so a word's postings arrive already sorted and a
// line's repeats of the word arrive side by side.
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

#include <sluice/job.h>

namespace {

constexpr bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
constexpr char ToLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// The value carries nothing: the key is the whole posting.
class InvertedIndex
    : public sluice::Job<InvertedIndex, std::tuple<std::string, std::string, uint64_t>, uint8_t> {
 public:
  static constexpr size_t kGroupFields = 1;

  void Map(std::string_view line, Emitter& emit) {
    auto& [word, doc, offset] = key_;  // reused: no allocation per record
    const std::string_view path = input_path();
    doc.assign(path.substr(path.rfind('/') + 1));  // npos + 1 == 0: no directory
    offset = record_offset();
    for (size_t i = 0; i < line.size();) {
      if (!IsWordChar(line[i])) {
        ++i;
        continue;
      }
      word.clear();
      for (; i < line.size() && IsWordChar(line[i]); ++i) word.push_back(ToLower(line[i]));
      emit(key_, 0);
    }
  }

  void Reduce(const Key& key, Values& postings, Output& out) {
    line_.clear();
    last_doc_.clear();
    uint64_t last_offset = 0;
    for (const auto& [full_key, ignored] : postings.with_keys()) {
      const auto& [word, doc, offset] = full_key;
      if (!line_.empty() && doc == last_doc_ && offset == last_offset) continue;  // a repeat
      if (!line_.empty()) line_ += ' ';
      line_ += doc;
      line_ += ':';
      line_ += std::to_string(offset);
      last_doc_ = doc;
      last_offset = offset;
    }
    out(std::get<0>(key), line_);
  }

 private:
  Key key_;
  std::string line_;      // the postings of the word being reduced
  std::string last_doc_;  // with last_offset: the posting written last
};

}  // namespace

SLUICE_JOB(InvertedIndex, "invertedindex",
           "Lists, for each word, the files and line byte offsets where it occurs")
