// Join: a reduce-side inner join of users with their events, by user id.
//
//   sluice run join USERS EVENTS OUT
//
// USERS lines are `user_id\tname\tcountry`, EVENTS lines
// `user_id\ttimestamp\taction`; each input is mapped its own way, told apart
// by input_index(). Output: one `user_id\tname\tcountry\ttimestamp\taction`
// line per event whose user exists, events of a user in input order.
// Counters: events_without_user (dropped: no such user), duplicate_users
// (user records after the first of an id, ignored). A line without a tab is
// a bad record (skipped up to --max-bad-records, listed in OUTPUT/_bad_records).
//
// Secondary sort does the join without buffering: the key is (user_id, tag)
// and groups on user_id alone, so in each group the user record (tag 0)
// sorts before the events (tag 1), which then stream past it one by one.
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include <sluice/job.h>

namespace {

constexpr int kUser = 0;
constexpr int kEvent = 1;

class Join : public sluice::Job<Join, std::pair<std::string, int>, std::string> {
 public:
  static constexpr size_t kGroupFields = 1;  // group on user_id; the tag orders the group

  // Emits (user_id, tag) -> the rest of the line.
  void Map(std::string_view line, Emitter& emit) {
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
      throw sluice::BadRecord("no tab after the user id");
    }
    key_.first.assign(line.substr(0, tab));  // reused: no allocation per record
    key_.second = input_index() == 0 ? kUser : kEvent;
    emit(key_, line.substr(tab + 1));
  }

  // The user record sorts first (kUser < kEvent): it decides the group.
  void Reduce(const Key& key, Values& values, Output& out) {
    bool first = true;
    bool has_user = false;
    for (const auto& [full_key, value] : values.with_keys()) {
      const bool is_user = full_key.second == kUser;
      if (first) {
        first = false;
        has_user = is_user;
        if (is_user) {
          user_.assign(value);  // "name\tcountry"; a value's view ends at the next read
          continue;
        }
      }
      if (!has_user) {
        events_without_user_.Add();  // an inner join drops these
      } else if (is_user) {
        duplicate_users_.Add();
      } else {
        out(key.first, std::tie(user_, value));
      }
    }
  }

 private:
  Key key_;
  std::string user_;
  sluice::Counter& events_without_user_ = counter("events_without_user");
  sluice::Counter& duplicate_users_ = counter("duplicate_users");
};

}  // namespace

SLUICE_JOB(Join, "join", "Joins users (first input) with their events (second input) by user id")
