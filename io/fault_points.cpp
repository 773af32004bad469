#include "io/fault_points.h"

#include "io/fault_injecting_file_system.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace sluice {

bool g_fault_points_armed = false;

namespace {

struct ArmedFault {
  std::string point;
  bool crash = false;
  bool ioerror = false;
  bool corrupt = false;
  bool stall = false;
  int fire_on_hit = 1;
  int hits = 0;
};

std::vector<ArmedFault>& Armed() {
  static std::vector<ArmedFault> armed;
  return armed;
}

// Plugins' copies of g_fault_points_armed (ShareFaultFlag).
std::vector<bool*>& SharedFlags() {
  static std::vector<bool*> flags;
  return flags;
}

void SetArmed(bool armed) {
  g_fault_points_armed = armed;
  for (bool* flag : SharedFlags()) *flag = armed;
}

// Set in a plugin linked to its host: where hits go instead.
void (*g_host_hit)(const char* point) = nullptr;

const char* const kPoints[] = {"after_map_task",    "mid_shuffle_send",  "during_spill",
                               "during_reduce",     "after_task_commit", "before_job_commit",
                               "between_commit_renames"};

}  // namespace

std::string ArmFaultPointsFromEnv(int rank) {
  const char* env = std::getenv("SLUICE_FAULT");
  if (env == nullptr || *env == '\0') return "";
  std::string spec = env;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? spec.size() + 1 : comma + 1;
    size_t at = item.find('@');
    size_t colon = item.find(':', at == std::string::npos ? 0 : at);
    if (at == std::string::npos || colon == std::string::npos) {
      return "SLUICE_FAULT item '" + item + "' is not POINT@RANK:ACTION[#N]";
    }
    ArmedFault f;
    f.point = item.substr(0, at);
    bool known = false;
    for (const char* p : kPoints) known = known || f.point == p;
    if (!known) return "SLUICE_FAULT names unknown point '" + f.point + "'";
    int victim = std::atoi(item.substr(at + 1, colon - at - 1).c_str());
    std::string action = item.substr(colon + 1);
    if (size_t hash = action.find('#'); hash != std::string::npos) {
      f.fire_on_hit = std::max(1, std::atoi(action.c_str() + hash + 1));
      action.resize(hash);
    }
    if (action != "crash" && action != "throw" && action != "ioerror" && action != "corrupt" &&
        action != "stall") {
      return "SLUICE_FAULT action '" + action + "' is not crash, throw, ioerror, corrupt or stall";
    }
    f.crash = action == "crash";
    f.ioerror = action == "ioerror";
    f.corrupt = action == "corrupt";
    f.stall = action == "stall";
    if (victim == rank) Armed().push_back(f);
  }
  SetArmed(!Armed().empty());
  return "";
}

void ShareFaultFlag(bool* flag) {
  if (flag == nullptr || flag == &g_fault_points_armed) return;
  SharedFlags().push_back(flag);
  *flag = g_fault_points_armed;
}

void FollowHostFaultPoints(void (*share)(bool* flag), void (*hit)(const char* point)) {
  if (share == nullptr || hit == nullptr || hit == &HitFaultPoint) return;
  g_host_hit = hit;
  share(&g_fault_points_armed);
}

void HitFaultPoint(const char* point) {
  if (g_host_hit != nullptr) {
    g_host_hit(point);
    return;
  }
  for (ArmedFault& f : Armed()) {
    if (f.point != point || ++f.hits != f.fire_on_hit) continue;
    if (f.crash) {
      kill(getpid(), SIGKILL);
      pause();
    }
    if (f.ioerror) {  // the rank's next file operation fails with EIO
      DefaultFileSystemFaults().FailNth(FsOp::kAny, 1, EIO);
      return;
    }
    if (f.corrupt) {  // the rank's next write lands with a flipped byte
      DefaultFileSystemFaults().CorruptNextAppend();
      return;
    }
    if (f.stall) {  // a test kills this rank's host (or cuts it off) meanwhile
      std::fprintf(stderr, "sluice fault point %s reached: stalling\n", point);
      std::fflush(stderr);
      for (;;) pause();
    }
    throw std::runtime_error(std::string("injected fault at ") + point);
  }
}

}  // namespace sluice
