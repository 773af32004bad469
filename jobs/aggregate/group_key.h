// The aggregate job's shuffle key: a group's values in one string whose
// bytewise order is the order of the value tuples (the first field, then
// the second, ...), so that the engine's key sort sorts the output rows.
//
// Fields are separated by a 0x00 byte; inside a field 0x00 is written as
// 0x01 0x01 and 0x01 as 0x01 0x02. The separator is then smaller than every
// byte a field can hold, so ("a", "b") < ("ab", "") as tuples and as keys,
// and no two tuples share a key. Fields with neither byte (all text) are
// copied as they are. No group-by fields: the empty key, one group.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "jobs/aggregate/aggregate_spec.h"

namespace sluice::aggregate {

// Appends field `value` to `key`; `first` for a key's first field.
inline void AppendKeyField(std::string_view value, bool first, std::string* key) {
  if (!first) key->push_back('\0');
  size_t begin = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\0' || c == '\x01') {
      key->append(value.substr(begin, i - begin));
      key->push_back('\x01');
      key->push_back(c == '\0' ? '\x01' : '\x02');
      begin = i + 1;
    }
  }
  key->append(value.substr(begin));
}

// Appends the key's `fields` values as CSV fields separated by commas
// (AppendCsvField), using *scratch. Throws std::invalid_argument for bytes
// AppendKeyField cannot have written.
inline void AppendKeyAsCsv(std::string_view key, size_t fields, std::string* scratch, std::string* out) {
  if (fields == 0) return;
  size_t done = 0;
  size_t i = 0;
  while (true) {
    scratch->clear();
    while (i < key.size() && key[i] != '\0') {
      if (key[i] == '\x01') {
        if (i + 1 == key.size() || (key[i + 1] != '\x01' && key[i + 1] != '\x02')) {
          throw std::invalid_argument("malformed group key");
        }
        scratch->push_back(key[i + 1] == '\x01' ? '\0' : '\x01');
        i += 2;
      } else {
        scratch->push_back(key[i++]);
      }
    }
    if (done > 0) out->push_back(',');
    AppendCsvField(*scratch, out);
    if (++done == fields) break;
    if (i == key.size()) throw std::invalid_argument("malformed group key: too few fields");
    ++i;  // the separator
  }
  if (i != key.size()) throw std::invalid_argument("malformed group key: too many fields");
}

}  // namespace sluice::aggregate
