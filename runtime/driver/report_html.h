// DIR/_report.html: the job report as a page to look at, one self-contained
// file (inline SVG and CSS, nothing fetched): each rank's phases on one
// timeline, where each phase's time went per rank (the step times), the
// slowest rank per phase, counters, spills and expectations. Written into
// staging beside _report.json, so it is published with the output.
#pragma once

#include <string>

#include "runtime/driver/job_report.h"

namespace sluice {

std::string RenderReportHtml(const JobReport& report);

}  // namespace sluice
