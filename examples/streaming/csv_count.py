#!/usr/bin/env python3
# Counts the CSV records per value of one column (named on the command
# line), for `sluice run stream --param input=csv` (with its header): each record
# arrives as one line, its fields joined by tabs, a backslash, tab, newline
# or carriage return inside a field written \\ \t \n \r; the header's column
# names arrive the same way in SLUICE_INPUT_COLUMNS. The key is printed
# still escaped, so a value with a newline stays one line. Prints
# "value<TAB>1"; wc_reduce.py sums them.
import os
import sys

ESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def unescape(field):
    """The text of an escaped field (here the column names)."""
    out, i = [], 0
    while i < len(field):
        pair = field[i : i + 2]
        if pair in ESCAPES:
            out.append(ESCAPES[pair])
            i += 2
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


column = sys.argv[1]
names = [unescape(n) for n in os.environ["SLUICE_INPUT_COLUMNS"].split("\t")]
if column not in names:
    sys.exit(f"csv_count.py: no column {column!r} in {os.environ['SLUICE_INPUT_FILE']}: {names}")
at = names.index(column)
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    fields = line.rstrip(b"\n").split(b"\t")
    # A short record (fewer fields than the header) counts under "".
    out.write((fields[at] if at < len(fields) else b"") + b"\t1\n")
