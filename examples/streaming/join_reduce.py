#!/usr/bin/env python3
# The join's reducer: lines arrive sorted by "user_id<TAB>tag", so a user's
# record (tag 0) comes before their events (tag 1), events in input order.
# Prints user_id<TAB>name<TAB>country<TAB>timestamp<TAB>action per event
# whose user exists (an inner join), and counts what it drops.
import sys

out = sys.stdout.buffer
err = sys.stderr
current, user = None, None
dropped = duplicates = 0
for line in sys.stdin.buffer:
    user_id, _, rest = line.rstrip(b"\n").partition(b"\t")
    tag, _, fields = rest.partition(b"\t")
    if user_id != current:
        current = user_id
        user = fields if tag == b"0" else None  # the first record decides
        if user is not None:
            continue
    if user is None:
        dropped += 1
    elif tag == b"0":
        duplicates += 1
    else:
        out.write(user_id + b"\t" + user + b"\t" + fields + b"\n")
err.write("reporter:counter:join,events_without_user,%d\n" % dropped)
err.write("reporter:counter:join,duplicate_users,%d\n" % duplicates)
