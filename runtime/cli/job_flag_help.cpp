#include "runtime/cli/job_flag_help.h"

#include <string_view>

#include "runtime/cli/job_flags.h"

namespace sluice {
namespace {

constexpr size_t kHelpColumn = 26;  // where the help text starts
constexpr size_t kHelpWidth = 100;

// The table's help is markdown for the README; the terminal gets it without
// backquotes, and a link to a README section as the section's name.
std::string PlainText(std::string_view markdown) {
  std::string out;
  for (size_t i = 0; i < markdown.size(); ++i) {
    const char c = markdown[i];
    if (c == '`') continue;
    if (c == ']' && i + 1 < markdown.size() && markdown[i + 1] == '(') {
      const size_t close = markdown.find(')', i);
      if (close != std::string_view::npos) {
        out += " in the README";
        i = close;
        continue;
      }
    }
    const size_t link_middle = c == '[' ? markdown.find("](", i) : std::string_view::npos;
    if (link_middle != std::string_view::npos && link_middle == markdown.find(']', i)) continue;
    out += c;
  }
  return out;
}

// "--quiet, -q" or "--memory SIZE".
std::string Usage(const JobFlag& flag, std::string_view quote) {
  std::string out = std::string(quote) + std::string(flag.name);
  if (!flag.value_name.empty()) out += " " + std::string(flag.value_name);
  out += quote;
  if (!flag.short_name.empty())
    out += ", " + std::string(quote) + std::string(flag.short_name) + std::string(quote);
  return out;
}

// Appends `text` to `out` in words, starting at column `column` of its last
// line, each further line indented to kHelpColumn.
void AppendWrapped(const std::string& text, size_t column, std::string* out) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const size_t word = end - start;
    if (column > kHelpColumn && column + 1 + word > kHelpWidth) {
      *out += "\n" + std::string(kHelpColumn, ' ');
      column = kHelpColumn;
    } else if (column > kHelpColumn) {
      *out += ' ';
      ++column;
    }
    out->append(text, start, word);
    column += word;
    start = end + 1;
  }
}

}  // namespace

std::string JobFlagsHelp() {
  std::string out = "Job flags:\n";
  for (const JobFlag& flag : JobFlags()) {
    std::string line = "  " + Usage(flag, "");
    line += line.size() + 2 <= kHelpColumn ? std::string(kHelpColumn - line.size(), ' ')
                                           : "\n" + std::string(kHelpColumn, ' ');
    std::string help = PlainText(flag.help);
    if (!flag.value_name.empty() && !flag.default_text.empty() && flag.default_text != "none") {
      const std::string shown = PlainText(flag.default_text);
      help += shown.front() == '(' ? " " + shown : " (default " + shown + ")";
    }
    out += line;
    AppendWrapped(help, kHelpColumn, &out);
    out += '\n';
  }
  out += "SIZE takes K, M, G, T suffixes (powers of 1024).\n";
  return out;
}

std::string JobFlagsMarkdown() {
  std::string out = "| flag | default | meaning |\n|---|---|---|\n";
  for (const JobFlag& flag : JobFlags()) {
    out += "| " + Usage(flag, "`") + " | " + std::string(flag.default_text) + " | " + std::string(flag.help) +
           " |\n";
  }
  return out;
}

}  // namespace sluice
