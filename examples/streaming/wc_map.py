#!/usr/bin/env python3
# Word count mapper: one "word<TAB>1" line per word. Words are what the C++
# wordcount job counts: runs of bytes between ASCII whitespace.
import sys

out = sys.stdout.buffer
for line in sys.stdin.buffer:
    for word in line.split():
        out.write(word + b"\t1\n")
