#!/usr/bin/env python3
# The join's mapper: tags each line with the input it came from, so that a
# user's record sorts before their events. Run with key-fields=2 and
# partition-fields=1: the key is "user_id<TAB>tag", the reduce task is
# chosen by user_id alone.
#   input 0 (users):  user_id<TAB>name<TAB>country  ->  user_id<TAB>0<TAB>name<TAB>country
#   input 1 (events): user_id<TAB>timestamp<TAB>action -> user_id<TAB>1<TAB>timestamp<TAB>action
# A line without a tab is a bad record, reported on stderr as
# "reporter:bad_record:REASON" (skipped within --max-bad-records).
import os
import sys

tag = b"0" if os.environ["SLUICE_INPUT_INDEX"] == "0" else b"1"
out = sys.stdout.buffer
err = sys.stderr
for line in sys.stdin.buffer:
    user, tab, rest = line.rstrip(b"\n").partition(b"\t")
    if not tab:
        err.write("reporter:bad_record:no tab after the user id\n")
        continue
    out.write(user + b"\t" + tag + b"\t" + rest + b"\n")
