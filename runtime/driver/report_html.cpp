#include "runtime/driver/report_html.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <sluice/counters.h>

namespace sluice {
namespace {

std::string Escape(std::string_view s) { return HtmlEscape(s); }

std::string Num(double v, int decimals = 2) { return HtmlNumber(v, decimals); }

// Colours: one per step, the same in every chart and the legend.
constexpr const char* kColours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
                                    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#86bcb6", "#d37295",
                                    "#fabfd2", "#8cd17d", "#499894", "#79706e"};

// Each rank's plan, map (with shuffle) and reduce on one time axis; the
// commit is rank 0's, after the slowest rank.
std::string Timeline(const JobReport& r) {
  const double total = std::max(r.total_seconds, 1e-3);
  const int label = 150, width = 700, row = 26;
  const int height = row * static_cast<int>(r.per_rank.size()) + 40;
  auto x = [&](double s) { return label + static_cast<int>(s / total * width); };
  std::string svg = "<svg width=\"" + std::to_string(label + width + 60) + "\" height=\"" + std::to_string(height) +
                    "\" role=\"img\" aria-label=\"timeline of each rank's phases\">";
  for (size_t i = 0; i < r.per_rank.size(); ++i) {
    const RankStats& s = r.per_rank[i];
    const int y = 10 + row * static_cast<int>(i);
    svg += "<text x=\"4\" y=\"" + std::to_string(y + 16) + "\">rank " + std::to_string(i) + " (" + Escape(s.host) +
           ")</text>";
    const double phases[][2] = {{0, r.plan_seconds},
                                {r.plan_seconds, r.plan_seconds + s.map_seconds},
                                {r.plan_seconds + s.map_seconds, r.plan_seconds + s.map_seconds + s.reduce_seconds}};
    const char* names[] = {"plan", "map + shuffle", "reduce"};
    const char* fills[] = {"#bab0ac", "#4e79a7", "#59a14f"};
    for (int p = 0; p < 3; ++p) {
      const int x0 = x(phases[p][0]), w = std::max(1, x(phases[p][1]) - x0);
      svg += "<rect x=\"" + std::to_string(x0) + "\" y=\"" + std::to_string(y) + "\" width=\"" + std::to_string(w) +
             "\" height=\"20\" fill=\"" + fills[p] + "\"><title>rank " + std::to_string(i) + ": " + names[p] + " " +
             Num(phases[p][1] - phases[p][0]) + " s</title></rect>";
    }
  }
  const int axis = height - 20;
  for (int t = 0; t <= 4; ++t) {
    const double s = total * t / 4;
    svg += "<text x=\"" + std::to_string(x(s) - 10) + "\" y=\"" + std::to_string(axis + 14) + "\">" + Num(s) +
           " s</text>";
  }
  svg += "</svg><p class=\"legend\"><span style=\"background:#bab0ac\"></span>plan "
         "<span style=\"background:#4e79a7\"></span>map + shuffle <span style=\"background:#59a14f\"></span>reduce "
         "(commit " + Num(r.commit_seconds) + " s, rank 0, after the slowest rank)</p>";
  return svg;
}

// MB/s over the job's time, summed over ranks, on the timeline's axis:
// input read by map tasks, output written by reduce tasks.
std::string ThroughputChart(const JobReport& r) {
  const Throughput t = ThroughputOverTime(r);
  const int label = 150, width = 700, height = 160, top = 10;
  double peak = 1e-3;
  for (const auto* series : {&t.map_mb_per_s, &t.reduce_mb_per_s}) {
    for (double v : *series) peak = std::max(peak, v);
  }
  const size_t slices = t.map_mb_per_s.size();
  auto x = [&](size_t i) { return label + static_cast<int>((static_cast<double>(i) + 0.5) * width / slices); };
  auto y = [&](double v) { return top + height - static_cast<int>(v / peak * height); };
  std::string svg = "<svg width=\"" + std::to_string(label + width + 60) + "\" height=\"" +
                    std::to_string(top + height + 30) + "\" role=\"img\" aria-label=\"throughput over time\">";
  svg += "<line x1=\"" + std::to_string(label) + "\" y1=\"" + std::to_string(top + height) + "\" x2=\"" +
         std::to_string(label + width) + "\" y2=\"" + std::to_string(top + height) + "\" stroke=\"#888\"/>";
  for (int k = 0; k <= 2; ++k) {
    const double v = peak * k / 2;
    svg += "<text x=\"4\" y=\"" + std::to_string(y(v) + 4) + "\">" + Num(v, 1) + " MB/s</text>";
  }
  const struct {
    const std::vector<double>* values;
    const char* colour;
    const char* name;
  } lines[] = {{&t.map_mb_per_s, "#4e79a7", "map input"}, {&t.reduce_mb_per_s, "#59a14f", "reduce output"}};
  for (const auto& line : lines) {
    std::string points;
    for (size_t i = 0; i < slices; ++i) {
      points += std::to_string(x(i)) + "," + std::to_string(y((*line.values)[i])) + " ";
    }
    svg += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(line.colour) + "\" points=\"" +
           points + "\"><title>" + line.name + "</title></polyline>";
  }
  const double total = std::max(r.total_seconds, 1e-3);
  for (int k = 0; k <= 4; ++k) {
    svg += "<text x=\"" + std::to_string(label + width * k / 4 - 10) + "\" y=\"" + std::to_string(top + height + 16) +
           "\">" + Num(total * k / 4) + " s</text>";
  }
  return svg + "</svg><p class=\"legend\"><span style=\"background:#4e79a7\"></span>map: input read "
               "<span style=\"background:#59a14f\"></span>reduce: output written (MB/s summed over ranks, per " +
         Num(t.slice_seconds, 3) + " s)</p>";
}

// Where each rank's map and reduce time went, step by step, as stacked bars.
std::string Steps(const JobReport& r) {
  double longest = 1e-3;
  for (const RankStats& s : r.per_rank) {
    for (const char* phase : {"map", "reduce"}) {
      double sum = 0;
      for (const auto& f : StepSeconds::kFields) {
        if (std::string(f.phase) == phase) sum += s.steps.*f.seconds;
      }
      longest = std::max(longest, sum);
    }
  }
  const int label = 150, width = 700, row = 22;
  const int height = row * 2 * static_cast<int>(r.per_rank.size()) + 10;
  std::string svg = "<svg width=\"" + std::to_string(label + width + 20) + "\" height=\"" + std::to_string(height) +
                    "\" role=\"img\" aria-label=\"step times per rank\">";
  int y = 5;
  for (size_t i = 0; i < r.per_rank.size(); ++i) {
    for (const char* phase : {"map", "reduce"}) {
      svg += "<text x=\"4\" y=\"" + std::to_string(y + 14) + "\">rank " + std::to_string(i) + " " + phase + "</text>";
      double at = 0;
      size_t colour = 0;
      for (const auto& f : StepSeconds::kFields) {
        const size_t c = colour++;
        if (std::string(f.phase) != phase) continue;
        const double v = r.per_rank[i].steps.*f.seconds;
        if (v <= 0) {
          continue;
        }
        const int x0 = label + static_cast<int>(at / longest * width);
        const int w = std::max(1, static_cast<int>(v / longest * width));
        svg += "<rect x=\"" + std::to_string(x0) + "\" y=\"" + std::to_string(y) + "\" width=\"" + std::to_string(w) +
               "\" height=\"16\" fill=\"" + kColours[c % 16] + "\"><title>rank " + std::to_string(i) + " " + phase +
               " / " + f.name + ": " + Num(v, 3) + " s</title></rect>";
        at += v;
      }
      y += row;
    }
  }
  svg += "</svg><p class=\"legend\">";
  size_t colour = 0;
  for (const auto& f : StepSeconds::kFields) {
    svg += "<span style=\"background:" + std::string(kColours[colour++ % 16]) + "\"></span>" + f.phase + "/" +
           f.name + " ";
  }
  return svg + "</p>";
}

std::string Skew(const JobReport& r) {
  std::string t = "<table><tr><th>phase</th><th>slowest rank</th><th>seconds</th><th>mean</th><th>slowest / mean</th></tr>";
  for (int phase = 0; phase < 2; ++phase) {
    double sum = 0, worst = -1;
    size_t at = 0;
    for (size_t i = 0; i < r.per_rank.size(); ++i) {
      const double v = phase == 0 ? r.per_rank[i].map_seconds : r.per_rank[i].reduce_seconds;
      sum += v;
      if (v > worst) worst = v, at = i;
    }
    const double mean = r.per_rank.empty() ? 0 : sum / static_cast<double>(r.per_rank.size());
    t += std::string("<tr><td>") + (phase == 0 ? "map + shuffle" : "reduce") + "</td><td>" + std::to_string(at) +
         "</td><td>" + Num(worst) + "</td><td>" + Num(mean) + "</td><td>" + (mean > 0 ? Num(worst / mean) : "-") +
         "</td></tr>";
  }
  return t + "</table>";
}

std::string Counters(const JobReport& r) {
  std::string t = "<table><tr><th>counter</th><th>value</th></tr>";
  const auto values = r.totals.ToArray();
  for (size_t i = 0; i < TaskCounters::kCount; ++i) {
    const std::string name(TaskCounters::kNames[i]);
    const bool spill = name.rfind("spill", 0) == 0 || name == "merge_passes";
    t += "<tr" + std::string(spill && values[i] > 0 ? " class=\"spill\"" : "") + "><td>" + name + "</td><td>" +
         std::to_string(values[i]) + "</td></tr>";
  }
  for (const auto& [name, value] : r.user_counters) {
    t += "<tr><td>" + Escape(name) + " (job)</td><td>" + std::to_string(value) + "</td></tr>";
  }
  return t + "</table>";
}

std::string Expectations(const JobReport& r) {
  if (r.expectations.empty()) return "<p>None given (<code>--expect</code>).</p>";
  std::string t = "<table><tr><th>expectation</th><th>level</th><th>outcome</th><th>values</th></tr>";
  for (const ExpectationResult& e : r.expectations) {
    t += "<tr class=\"" + std::string(e.outcome == "passed" ? "ok" : e.outcome == "failed" ? "bad" : "") + "\"><td><code>" +
         Escape(e.expectation.text) + "</code></td><td>" + (e.expectation.warn ? "warn" : "error") + "</td><td>" +
         Escape(e.outcome) + "</td><td>" + Escape(e.detail) + "</td></tr>";
  }
  return t + "</table>";
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string HtmlNumber(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string HtmlPageHead(std::string_view title) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + HtmlEscape(title) +
         "</title><style>body{font:14px sans-serif;margin:24px;color:#222;background:#fff}"
         "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
         "th{background:#eee}tr.ok td{background:#e6f4e6}tr.bad td{background:#fbe3e3}tr.spill td{background:#fff3d6}"
         "svg text{font:12px sans-serif}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 10px}"
         "</style></head><body>\n";
}

std::string RenderReportHtml(const JobReport& r) {
  std::string h = HtmlPageHead("Sluice: " + r.job);
  h += "<h1>" + Escape(r.job) + " &rarr; " + Escape(r.output_dir) + "</h1>\n";
  h += "<p>" + std::to_string(r.ranks) + " rank(s), " + std::to_string(r.input_files) + " input file(s), " +
       Num(static_cast<double>(r.input_bytes) / (1 << 20), 1) + " MiB, " + std::to_string(r.splits) +
       " split(s); " + Num(r.total_seconds) + " s in all (plan " + Num(r.plan_seconds) + " s, commit " +
       Num(r.commit_seconds) + " s); " +
       Num(r.total_seconds > 0 ? static_cast<double>(r.input_bytes) / (1 << 20) / r.total_seconds : 0, 1) +
       " MiB/s.</p>\n";
  if (r.incremental.on) h += "<p>" + Escape(r.incremental.why) + ".</p>\n";
  h += "<h2>Timeline</h2>\n" + Timeline(r) + "\n";
  h += "<h2>Throughput over time</h2>\n" + ThroughputChart(r) + "\n";
  h += "<h2>Where the time went, per rank</h2>\n" + Steps(r) + "\n";
  h += "<h2>Skew</h2>\n" + Skew(r) + "\n";
  h += "<h2>Expectations</h2>\n" + Expectations(r) + "\n";
  h += "<h2>Counters</h2>\n" + Counters(r) + "\n";
  h += "<p>Spills: " + std::to_string(r.totals.spill_runs) + " run(s), " +
       Num(static_cast<double>(r.totals.spill_bytes) / (1 << 20), 1) + " MiB, " +
       std::to_string(r.totals.merge_passes) + " merge pass(es). The same figures, and more, are in "
       "<code>_report.json</code>.</p>\n</body></html>\n";
  return h;
}

}  // namespace sluice
