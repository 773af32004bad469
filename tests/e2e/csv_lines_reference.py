#!/usr/bin/env python3
# The stream job's CSV input (--param input=csv), computed independently
# with Python's csv module: each record after the header of each FILE (in
# the order given; .gz read through gzip), its fields joined by tabs with
# \ tab newline CR written \\ \t \n \r.
#   csv_lines_reference.py lines FILE...       the lines, as a `cat` mapper prints them
#   csv_lines_reference.py count COLUMN FILE...  "value<TAB>count" per escaped value, sorted
import collections
import csv
import gzip
import sys


def escape(field):
    return field.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def records(paths):
    for path in paths:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", newline="", encoding="utf-8", errors="surrogateescape") as f:
            rows = csv.reader(f, strict=True)
            header = next(rows)
            for row in rows:
                yield header, [escape(x) for x in row]


out = sys.stdout
out.reconfigure(encoding="utf-8", errors="surrogateescape", newline="\n")
if sys.argv[1] == "lines":
    for _, fields in records(sys.argv[2:]):
        out.write("\t".join(fields) + "\n")
else:
    column = sys.argv[2]
    counts = collections.Counter()
    for header, fields in records(sys.argv[3:]):
        at = header.index(column)
        counts[fields[at] if at < len(fields) else ""] += 1
    for value in sorted(counts, key=lambda v: v.encode("utf-8", "surrogateescape")):
        out.write(f"{value}\t{counts[value]}\n")
