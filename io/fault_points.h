// Named fault points that a test arms from the environment, to prove that a
// crash or an error at that point fails the job cleanly:
//
//   SLUICE_FAULT=POINT@RANK:ACTION[#N][,...]
//
// ACTION is one of
//   crash    the process SIGKILLs itself: no cleanup, no goodbye;
//   throw    an exception, as a bug would raise;
//   ioerror  the rank's next file operation through FileSystem::Default()
//            fails with EIO, as a dying disk would (if the rank does no more
//            I/O, nothing fails);
//   corrupt  the rank's next write lands with one byte flipped and reports
//            success, as a failing disk or controller would: only a checksum
//            can catch it;
//   stall    the rank prints "sluice fault point POINT reached: stalling"
//            on stderr and waits for a signal forever: a test then kills
//            the rank's whole host, or cuts its link, at exactly that point.
// #N fires on the Nth time the point is reached on that rank (default 1).
// Points: after_map_task, mid_shuffle_send, during_spill (a spill run
// written but not closed), during_reduce, after_task_commit,
// before_job_commit, and between_commit_renames (--overwrite: the new output
// exchanged into place, the old one not yet removed; on a filesystem that
// cannot exchange, the old output moved aside and the new one not yet in place).
//
// Unarmed (the normal case) a point costs one load of a global flag.
//
// A job plugin links its own copy of this file (and of FileSystem::Default),
// so the host links the two at load time (runtime/plugin_api.h,
// SluiceHostLink): the host keeps the plugin's flag equal to its own, and a
// point the plugin's code reaches fires through the host's HitFaultPoint,
// with the host's armed faults and the host's file system.
#pragma once

#include <string>

namespace sluice {

extern bool g_fault_points_armed;

// Reads SLUICE_FAULT for this rank. A malformed value is an error message
// (empty when fine) so that a typo in a test cannot silently arm nothing.
std::string ArmFaultPointsFromEnv(int rank);

// The slow path of SLUICE_FAULT_POINT.
void HitFaultPoint(const char* point);

// Host side: keeps *flag (a plugin's g_fault_points_armed) equal to this
// process's flag, from now on (set at once, and again whenever it arms).
void ShareFaultFlag(bool* flag);
// Plugin side: hands this copy's flag to `share` and sends every hit to
// `hit` (the host's HitFaultPoint) instead of this copy's armed list.
void FollowHostFaultPoints(void (*share)(bool* flag), void (*hit)(const char* point));

}  // namespace sluice

#define SLUICE_FAULT_POINT(point)                                         \
  do {                                                                    \
    if (__builtin_expect(::sluice::g_fault_points_armed, 0)) ::sluice::HitFaultPoint(point); \
  } while (0)
