// Grep: how many lines of each input file match a regular expression.
//
//   sluice run grep --param 'pattern= 404 [0-9]+$' --input logs/ --output hits/
//
// The pattern is a POSIX extended regular expression (as `grep -E`), searched
// for anywhere in the line. Output: one "path\tcount" line per input file
// with at least one matching line, path as the job saw it (input_path()).
//
// POSIX <regex.h> rather than std::regex: glibc's matcher runs several times
// faster than libstdc++'s, and libstdc++'s recurses per character, so a long
// line can overflow the stack. REG_STARTEND (glibc, the BSDs) matches the
// line in place, without copying it to add a terminating NUL.
#include <regex.h>

#include <cstdint>
#include <string>
#include <string_view>

#include <sluice/job.h>

namespace {

// A compiled pattern; throws JobParamError (a usage error) if it does not
// compile.
class Regex {
 public:
  explicit Regex(const std::string& pattern) {
    if (pattern.empty()) {
      throw sluice::JobParamError("parameter 'pattern' is required: --param pattern=REGEX");
    }
    if (int error = regcomp(&regex_, pattern.c_str(), REG_EXTENDED | REG_NOSUB); error != 0) {
      char text[256];
      regerror(error, &regex_, text, sizeof text);
      throw sluice::JobParamError("parameter 'pattern': '" + pattern +
                                  "' is not a valid regular expression: " + text);
    }
  }
  ~Regex() { regfree(&regex_); }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  bool Search(std::string_view line) const {
    regmatch_t range[1];
    range[0].rm_so = 0;
    range[0].rm_eo = static_cast<regoff_t>(line.size());
    return regexec(&regex_, line.data(), 1, range, REG_STARTEND) == 0;
  }

 private:
  regex_t regex_;
};

class Grep : public sluice::Job<Grep, std::string, uint64_t> {
 public:
  static constexpr sluice::Param<std::string> kPattern{"pattern", "",
                                                       "POSIX extended regular expression (required)"};
  static constexpr auto kParams = sluice::ParamTable(kPattern);

  void Map(std::string_view line, Emitter& emit) {
    if (regex_.Search(line)) emit(input_path(), 1);
  }

  uint64_t Combine(uint64_t a, uint64_t b) { return a + b; }

  void Reduce(std::string_view path, Values& counts, Output& out) {
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    out(path, total);
  }

 private:
  const Regex regex_{param(kPattern)};
};

}  // namespace

SLUICE_JOB(Grep, "grep", "Counts the lines matching --param pattern=REGEX in each input file")
