// Common Log Format helpers shared by the weblog jobs (weblog.cpp,
// sessionize.cpp): whole-field number parsing and the CLF timestamp.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace clf {

// All of `text` as a number.
template <class T>
bool ParseNumber(std::string_view text, T* value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

// "dd/Mon/yyyy:HH:MM:SS +zzzz" as epoch seconds (UTC).
inline bool ParseClfTime(std::string_view t, int64_t* epoch) {
  constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  unsigned day = 0, hour = 0, minute = 0, second = 0, zone = 0;
  int year = 0;
  if (t.size() != 26 || t[2] != '/' || t[6] != '/' || t[11] != ':' || t[14] != ':' ||
      t[17] != ':' || t[20] != ' ' || (t[21] != '+' && t[21] != '-') ||
      !ParseNumber(t.substr(0, 2), &day) || !ParseNumber(t.substr(7, 4), &year) ||
      !ParseNumber(t.substr(12, 2), &hour) || !ParseNumber(t.substr(15, 2), &minute) ||
      !ParseNumber(t.substr(18, 2), &second) || !ParseNumber(t.substr(22, 4), &zone)) {
    return false;
  }
  const size_t month = kMonths.find(t.substr(3, 3));
  if (month == std::string_view::npos || month % 3 != 0) return false;
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month / 3 + 1)),
                                         std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59 || zone % 100 > 59) return false;
  const int64_t zone_seconds =
      (t[21] == '-' ? -1 : 1) * int64_t(zone / 100 * 3600 + zone % 100 * 60);
  *epoch = std::chrono::sys_days(date).time_since_epoch().count() * int64_t{86400} + hour * 3600 +
           minute * 60 + second - zone_seconds;
  return true;
}

}  // namespace clf
