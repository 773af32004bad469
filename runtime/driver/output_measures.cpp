#include "runtime/driver/output_measures.h"

#include <charconv>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <algorithm>
#include <limits>
#include <memory>
#include <string_view>
#include <unordered_set>

#include <xxhash.h>

namespace sluice {
namespace {

struct FieldStats {
  uint64_t empty = 0, nonnumeric = 0, numeric = 0;
  double min = std::numeric_limits<double>::infinity(), max = -std::numeric_limits<double>::infinity();
};

// "output.empty_field_3" -> ("empty", 3); false if not of that form.
bool FieldMeasure(const std::string& name, std::string* kind, size_t* field) {
  for (const char* k : {"empty", "min", "max", "nonnumeric"}) {
    const std::string prefix = std::string("output.") + k + "_field_";
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string n = name.substr(prefix.size());
    size_t v = 0;
    auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (ec != std::errc() || end != n.data() + n.size() || v == 0) return false;
    *kind = k;
    *field = v;
    return true;
  }
  return false;
}

}  // namespace

Result<MeasuredOutput> MeasureOutput(const std::vector<std::string>& parts, const std::vector<std::string>& names,
                                     bool keys_sorted) {
  MeasuredOutput out;
  bool duplicates = false;
  std::map<size_t, FieldStats> fields;  // field number -> its stats
  for (const std::string& name : names) {
    if (name.rfind("output.", 0) != 0) continue;
    std::string kind;
    size_t field = 0;
    if (name == "output.duplicate_keys") {
      duplicates = true;
    } else if (FieldMeasure(name, &kind, &field)) {
      fields[field];
    } else {
      out.why_not[name] = "no such output measure (output.duplicate_keys, output.empty_field_N, "
                          "output.min_field_N, output.max_field_N, output.nonnumeric_field_N)";
    }
  }
  if (!duplicates && fields.empty()) return out;

  uint64_t duplicate_keys = 0;
  std::unordered_set<uint64_t> seen;
  std::string previous_key;
  bool have_previous = false;  // in this part
  auto count_field = [](FieldStats& s, std::string_view f) {
    if (f.empty()) {
      ++s.empty;
      return;
    }
    double v = 0;
    auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (ec == std::errc() && p == f.data() + f.size()) {
      ++s.numeric;
      s.min = std::min(s.min, v);
      s.max = std::max(s.max, v);
    } else {
      ++s.nonnumeric;
    }
  };
  auto take_line = [&](std::string_view l) {
    if (duplicates) {
      const std::string_view key = l.substr(0, l.find('\t'));
      if (keys_sorted) {
        if (have_previous && key == previous_key) ++duplicate_keys;
        previous_key.assign(key);
        have_previous = true;
      } else if (!seen.insert(XXH3_64bits(key.data(), key.size())).second) {
        ++duplicate_keys;
      }
    }
    // Fields 1, 2, ... in order; a line with fewer has them empty.
    size_t n = 1, from = 0;
    bool ended = false;
    for (auto it = fields.begin(); it != fields.end(); ++n) {
      std::string_view f;
      if (!ended) {
        const size_t end = l.find('\t', from);
        f = l.substr(from, end == std::string_view::npos ? end : end - from);
        if (end == std::string_view::npos) {
          ended = true;
        } else {
          from = end + 1;
        }
      }
      if (n == it->first) {
        count_field(it->second, f);
        ++it;
      }
    }
  };
  std::string line;  // a line cut by the end of a read
  std::vector<char> buf(1 << 20);
  for (const std::string& part : parts) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(part.c_str(), "rb"), &std::fclose);
    if (!f) return Status::IOError("cannot read part file '" + part + "' to measure the output: " + std::strerror(errno));
    have_previous = false;  // a key's lines are all in one part
    line.clear();
    size_t got;
    while ((got = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
      std::string_view chunk(buf.data(), got);
      for (size_t nl; (nl = chunk.find('\n')) != std::string_view::npos; chunk.remove_prefix(nl + 1)) {
        if (line.empty()) {
          take_line(chunk.substr(0, nl));
        } else {
          line.append(chunk.substr(0, nl));
          take_line(line);
          line.clear();
        }
      }
      line.append(chunk);
    }
    if (std::ferror(f.get())) return Status::IOError("cannot read part file '" + part + "' to measure the output");
    if (!line.empty()) take_line(line);
  }
  if (duplicates) out.values["output.duplicate_keys"] = static_cast<double>(duplicate_keys);
  for (const auto& [n, s] : fields) {
    const std::string suffix = "_field_" + std::to_string(n);
    out.values["output.empty" + suffix] = static_cast<double>(s.empty);
    out.values["output.nonnumeric" + suffix] = static_cast<double>(s.nonnumeric);
    if (s.numeric > 0) {
      out.values["output.min" + suffix] = s.min;
      out.values["output.max" + suffix] = s.max;
    } else {
      out.why_not["output.min" + suffix] = out.why_not["output.max" + suffix] = "field " + std::to_string(n) + " holds no number";
    }
  }
  return out;
}

}  // namespace sluice
