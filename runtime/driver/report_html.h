// DIR/_report.html: the job report as a page to look at, one self-contained
// file (inline SVG and CSS, nothing fetched): each rank's phases on one
// timeline, where each phase's time went per rank (the step times), the
// throughput over time, the slowest rank per phase, counters, spills and
// expectations. Written into
// staging beside _report.json, so it is published with the output.
#pragma once

#include <string>
#include <string_view>

#include "runtime/driver/job_report.h"

namespace sluice {

std::string RenderReportHtml(const JobReport& report);

// For other pages in the same look (the pipeline's, pipeline_report.h):
// text made safe inside HTML, and the <head> with the shared style.
std::string HtmlEscape(std::string_view text);
std::string HtmlPageHead(std::string_view title);
// `v` with `decimals` digits after the point, as the pages show numbers.
std::string HtmlNumber(double v, int decimals = 2);

}  // namespace sluice
