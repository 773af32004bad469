#include "runtime/cli/pipeline/pipeline_report.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "io/file_system.h"
#include "runtime/driver/report_html.h"

namespace sluice {
namespace {

using Json = nlohmann::json;
using State = StepOutcome::State;

std::string Num(double v, int decimals = 2) { return HtmlNumber(v, decimals); }

const char* StateName(State s) {
  switch (s) {
    case State::kRan: return "ran";
    case State::kSkipped: return "skipped";
    case State::kFailed: return "failed";
    case State::kRunning: return "did not finish";
    case State::kNotRun: break;
  }
  return "not run";
}

const char* StateFill(State s) {
  switch (s) {
    case State::kRan: return "#59a14f";
    case State::kSkipped: return "#bab0ac";
    case State::kFailed: return "#e15759";
    case State::kRunning: return "#f28e2b";
    case State::kNotRun: break;
  }
  return "#ffffff";
}

// Each step's column: the longest chain of steps it reads from.
std::vector<int> Columns(const Pipeline& p) {
  std::vector<int> column(p.steps.size(), 0);
  for (size_t i = 0; i < p.steps.size(); ++i) {  // run order: what a step reads comes first
    for (size_t d : p.steps[i].after) column[i] = std::max(column[i], column[d] + 1);
  }
  return column;
}

std::string StepGraph(const Pipeline& p, const std::vector<StepOutcome>& steps) {
  constexpr int kWidth = 190, kHeight = 54, kColumnGap = 70, kRowGap = 20, kMargin = 16;
  const std::vector<int> column = Columns(p);
  std::vector<int> row(p.steps.size(), 0), rows_in(p.steps.size() + 1, 0);
  for (size_t i = 0; i < p.steps.size(); ++i) row[i] = rows_in[column[i]]++;
  const int columns = p.steps.empty() ? 1 : *std::max_element(column.begin(), column.end()) + 1;
  const int rows = std::max(1, *std::max_element(rows_in.begin(), rows_in.end()));
  auto left = [&](size_t i) { return kMargin + column[i] * (kWidth + kColumnGap); };
  auto top = [&](size_t i) { return kMargin + row[i] * (kHeight + kRowGap); };
  std::string svg = "<svg width=\"" + std::to_string(2 * kMargin + columns * (kWidth + kColumnGap) - kColumnGap) +
                    "\" height=\"" + std::to_string(2 * kMargin + rows * (kHeight + kRowGap) - kRowGap) +
                    "\" role=\"img\" aria-label=\"the pipeline's steps and what each reads\">";
  // Edges first, under the boxes: from what a step reads to the step.
  for (size_t i = 0; i < p.steps.size(); ++i) {
    for (size_t d : p.steps[i].after) {
      const int x1 = left(d) + kWidth, y1 = top(d) + kHeight / 2, x2 = left(i) - 2, y2 = top(i) + kHeight / 2;
      svg += "<line x1=\"" + std::to_string(x1) + "\" y1=\"" + std::to_string(y1) + "\" x2=\"" + std::to_string(x2) +
             "\" y2=\"" + std::to_string(y2) + "\" stroke=\"#555\" stroke-width=\"1.5\"/>";
      svg += "<polygon fill=\"#555\" points=\"" + std::to_string(x2) + "," + std::to_string(y2) + " " +
             std::to_string(x2 - 9) + "," + std::to_string(y2 - 5) + " " + std::to_string(x2 - 9) + "," +
             std::to_string(y2 + 5) + "\"/>";
    }
  }
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const PipelineStep& s = p.steps[i];
    const StepOutcome& o = steps[i];
    const bool dark = o.state == State::kRan || o.state == State::kFailed;
    const std::string text_fill = dark ? "#fff" : "#222";
    svg += "<g><title>" + HtmlEscape(s.name) + ": " + StateName(o.state) + (o.why.empty() ? "" : " (" + HtmlEscape(o.why) + ")") +
           "</title><rect x=\"" + std::to_string(left(i)) + "\" y=\"" + std::to_string(top(i)) + "\" width=\"" +
           std::to_string(kWidth) + "\" height=\"" + std::to_string(kHeight) + "\" rx=\"6\" fill=\"" +
           StateFill(o.state) + "\" stroke=\"#444\"" +
           (o.state == State::kNotRun ? " stroke-dasharray=\"5,3\"" : "") + "/>";
    svg += "<text x=\"" + std::to_string(left(i) + 10) + "\" y=\"" + std::to_string(top(i) + 21) + "\" fill=\"" +
           text_fill + "\" style=\"font-weight:bold\">" + HtmlEscape(s.name) + "</text>";
    std::string detail = std::string(StateName(o.state));
    if (o.state == State::kRan || o.state == State::kFailed) detail += ", " + Num(o.seconds) + " s";
    if (o.state == State::kFailed) detail += ", exit " + std::to_string(o.exit_code);
    svg += "<text x=\"" + std::to_string(left(i) + 10) + "\" y=\"" + std::to_string(top(i) + 41) + "\" fill=\"" +
           text_fill + "\">" + HtmlEscape(s.job.empty() ? "plugin" : s.job) + " &middot; " + detail + "</text></g>";
  }
  svg += "</svg><p class=\"legend\">";
  for (State st : {State::kRan, State::kSkipped, State::kFailed, State::kRunning, State::kNotRun}) {
    svg += "<span style=\"background:" + std::string(StateFill(st)) + ";border:1px solid #444\"></span>" +
           StateName(st) + " ";
  }
  return svg + "</p>";
}

// The step's own report, as its output holds it (none yet: null).
Json StepReport(const PipelineStep& s) {
  auto text = ReadFileToString(*FileSystem::Default(), s.output + "/_report.json");
  if (!text.ok()) return Json();
  Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : Json();
}

std::string Counter(const Json& report, const char* name) {
  if (!report.is_object()) return "-";
  const Json c = report.value("counters", Json::object());
  return c.contains(name) && c[name].is_number_unsigned() ? std::to_string(c[name].get<uint64_t>()) : "-";
}

std::string StepTable(const Pipeline& p, const std::vector<StepOutcome>& steps) {
  std::string t =
      "<table><tr><th>#</th><th>step</th><th>job</th><th>did</th><th>seconds</th><th>why</th><th>input "
      "records</th><th>output records</th><th>bad records</th><th>expectations</th><th>output</th></tr>";
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const PipelineStep& s = p.steps[i];
    const StepOutcome& o = steps[i];
    // A step that did not run this time shows the run that made its output.
    const Json report = o.state == State::kNotRun ? Json() : StepReport(s);
    std::string why = o.why;
    if (report.is_object() && report.contains("incremental") && report["incremental"].is_object() &&
        o.state == State::kRan) {
      why += "; " + report["incremental"].value("why", "");
    }
    std::string expectations = "-";
    if (report.is_object() && report.contains("expectations") && report["expectations"].is_array()) {
      int passed = 0, failed = 0, warned = 0;
      for (const Json& e : report["expectations"]) {
        const std::string outcome = e.is_object() ? e.value("outcome", "") : "";
        const bool warn = e.is_object() && e.value("level", "") == "warn";
        if (outcome == "passed") ++passed;
        else if (warn) ++warned;
        else ++failed;
      }
      expectations = std::to_string(passed) + " passed";
      if (warned) expectations += ", " + std::to_string(warned) + " warned";
      if (failed) expectations += ", " + std::to_string(failed) + " failed";
    }
    const char* row_class = o.state == State::kFailed ? " class=\"bad\"" : o.state == State::kRan ? " class=\"ok\"" : "";
    t += std::string("<tr") + row_class + "><td>" + std::to_string(i + 1) + "</td><td>" + HtmlEscape(s.name) +
         "</td><td>" + HtmlEscape(s.job.empty() ? s.plugin : s.job) + "</td><td>" + StateName(o.state) +
         (o.state == State::kFailed ? " (exit " + std::to_string(o.exit_code) + ")" : "") + "</td><td>" +
         (o.state == State::kRan || o.state == State::kFailed ? Num(o.seconds) : "-") + "</td><td>" +
         HtmlEscape(why) + "</td><td>" + Counter(report, "input_records") + "</td><td>" +
         Counter(report, "output_records") + "</td><td>" + Counter(report, "bad_records") + "</td><td>" +
         HtmlEscape(expectations) + "</td><td><code>" + HtmlEscape(s.output) + "</code></td></tr>";
  }
  return t + "</table>";
}

}  // namespace

std::string RenderPipelineReportHtml(const Pipeline& p, const std::vector<StepOutcome>& steps, double total_seconds) {
  int ran = 0, skipped = 0, failed = 0, unfinished = 0;
  for (const StepOutcome& o : steps) {
    ran += o.state == State::kRan;
    skipped += o.state == State::kSkipped;
    failed += o.state == State::kFailed;
    unfinished += o.state == State::kRunning;
  }
  std::string h = HtmlPageHead("Sluice pipeline: " + p.name);
  h += "<h1>pipeline " + HtmlEscape(p.name) + "</h1>\n<p><code>" + HtmlEscape(p.path) + "</code>: " +
       std::to_string(p.steps.size()) + " step(s): " + std::to_string(ran) + " ran, " + std::to_string(skipped) +
       " skipped" + (failed ? ", " + std::to_string(failed) + " failed" : std::string()) +
       (unfinished ? ", " + std::to_string(unfinished) + " did not finish" : std::string()) + "; " +
       Num(total_seconds) + " s in all.</p>\n";
  h += "<h2>Steps</h2>\n" + StepGraph(p, steps) + "\n";
  h += StepTable(p, steps) + "\n";
  h += "<p>Each step's own page is <code>OUTPUT/_report.html</code>, beside its <code>_report.json</code>.</p>\n"
       "</body></html>\n";
  return h;
}

Status WritePipelineReport(const std::string& path, const Pipeline& pipeline, const std::vector<StepOutcome>& steps,
                           double total_seconds) {
  FileSystem& fs = *FileSystem::Default();
  const std::string temporary =
      path + ".sluice-tmp-" + std::to_string(::getpid()) + "-" +
      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  Status written = WriteStringToFile(fs, temporary, RenderPipelineReportHtml(pipeline, steps, total_seconds));
  if (written.ok()) written = fs.Rename(temporary, path);
  if (!written.ok()) (void)fs.RemoveFile(temporary);
  return written;
}

}  // namespace sluice
