#include "runtime/driver/lineage.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include <nlohmann/json.hpp>

#include <sluice/version.h>

#include "runtime/driver/job_report.h"

namespace sluice {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kProducer = "https://github.com/sluice-mr/sluice";
constexpr const char* kRunEventSchema = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";

std::string Now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int, as -Wformat-truncation counts
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string Absolute(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

Json Facet(const char* schema) {
  return Json{{"_producer", kProducer}, {"_schemaURL", schema}};
}


}  // namespace

std::string NewLineageRunId() {
  unsigned char b[16];
  if (getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b)) {
    const uint64_t t = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (size_t i = 0; i < sizeof b; ++i) b[i] = static_cast<unsigned char>((t >> (8 * (i % 8))) ^ (getpid() >> i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

std::string LineageEventJson(const LineageEvent& e) {
  Json run = {{"runId", e.run_id}};
  Json run_facets = Json::object();
  if (!e.parent.run_id.empty()) {
    Json parent = Facet("https://openlineage.io/spec/facets/1-0-1/ParentRunFacet.json#/$defs/ParentRunFacet");
    parent["run"] = {{"runId", e.parent.run_id}};
    parent["job"] = {{"namespace", "sluice"}, {"name", e.parent.job_name}};
    run_facets["parent"] = std::move(parent);
  }
  if (!e.error.empty()) {
    Json error = Facet("https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet");
    error["message"] = e.error;
    error["programmingLanguage"] = "C++";
    run_facets["errorMessage"] = std::move(error);
  }
  if (!run_facets.empty()) run["facets"] = std::move(run_facets);
  Json inputs = Json::array();
  for (const InputFile& f : e.inputs) {
    Json facet = Facet("https://sluice.invalid/facets/SluiceInputFile.json");
    facet["size"] = f.size;
    facet["mtime_ns"] = f.mtime_ns;
    inputs.push_back({{"namespace", "file"}, {"name", Absolute(f.path)}, {"facets", {{"sluice_input_file", facet}}}});
  }
  Json outputs = Json::array();
  if (!e.output_dir.empty()) {
    Json out = {{"namespace", "file"}, {"name", Absolute(e.output_dir)}};
    if (e.output_stats) {
      Json stats = Facet("https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json"
                         "#/$defs/OutputStatisticsOutputDatasetFacet");
      stats["rowCount"] = e.output_records;
      stats["size"] = e.output_bytes;
      out["outputFacets"] = {{"outputStatistics", stats}};
      Json parts = Facet("https://sluice.invalid/facets/SluiceParts.json");
      Json list = Json::array();
      for (const LineagePart& p : e.parts) list.push_back({{"file", p.file}, {"bytes", p.bytes}, {"xxh3", Hex64(p.xxh3)}});
      parts["parts"] = std::move(list);
      out["facets"] = {{"sluice_parts", parts}};
    }
    outputs.push_back(std::move(out));
  }
  Json j = {{"eventType", e.type},
            {"eventTime", Now()},
            {"run", std::move(run)},
            {"job", {{"namespace", "sluice"}, {"name", e.job_name}}},
            {"inputs", std::move(inputs)},
            {"outputs", std::move(outputs)},
            {"producer", std::string(kProducer) + "/tree/v" + kSluiceVersion},
            {"schemaURL", kRunEventSchema}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Status AppendLineageLine(const std::string& path, const std::string& line) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Status::FromErrno("open lineage file", path, errno);
  const ssize_t n = write(fd, line.data(), line.size());
  const int err = errno;
  if (n > 0 && n != static_cast<ssize_t>(line.size())) {
    // A full disk took part of the line: cut it off, so that the file
    // holds whole events only (O_APPEND left the offset at its end).
    const off_t end = lseek(fd, 0, SEEK_CUR);
    if (end >= n) (void)ftruncate(fd, end - n);
  }
  const int closed = close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    return n < 0 ? Status::FromErrno("write lineage event to", path, err)
                 : Status::IOError("short write of a lineage event to '" + path + "'");
  }
  if (closed != 0) return Status::FromErrno("close lineage file", path, errno);
  return Status::OK();
}

}  // namespace sluice
