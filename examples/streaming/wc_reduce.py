#!/usr/bin/env python3
# Sums the integer values of each key: lines arrive sorted by key; prints
# "key<TAB>sum". The word count reducer, and the log filter's too.
import sys

out = sys.stdout.buffer
word, count = None, 0
for line in sys.stdin.buffer:
    key, _, value = line.rstrip(b"\n").partition(b"\t")
    if key != word:
        if word is not None:
            out.write(word + b"\t" + str(count).encode() + b"\n")
        word, count = key, 0
    count += int(value)
if word is not None:
    out.write(word + b"\t" + str(count).encode() + b"\n")
