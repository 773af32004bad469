#include "jobs/stream/command_line.h"

namespace sluice {

Result<std::vector<std::string>> SplitCommandLine(std::string_view line, std::string_view what) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // a word has begun (it may be empty: '')
  auto refuse = [&](std::string_view why) {
    return Status::Usage(std::string(what) + ": " + std::string(why) + " in '" + std::string(line) + "'");
  };
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '\'') {
      const size_t end = line.find('\'', i + 1);
      if (end == std::string_view::npos) return refuse("unterminated single quote");
      word.append(line.substr(i + 1, end - i - 1));
      in_word = true;
      i = end;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size() &&
            (line[j + 1] == '$' || line[j + 1] == '`' || line[j + 1] == '"' || line[j + 1] == '\\' ||
             line[j + 1] == '\n')) {
          ++j;
        }
        word.push_back(line[j]);
      }
      if (j >= line.size()) return refuse("unterminated double quote");
      in_word = true;
      i = j;
    } else if (c == '\\') {
      if (i + 1 >= line.size()) return refuse("trailing backslash");
      word.push_back(line[++i]);
      in_word = true;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return Status::Usage(std::string(what) + ": no command given");
  return words;
}

}  // namespace sluice
