#!/usr/bin/env python3
# Word count reducer: lines arrive sorted by word; prints "word<TAB>count".
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
