#!/usr/bin/env python3
# Exits 0 if PNG holds a picture: at least MIN_SHARE (default 0.02) of its
# pixels differ from its most common colour and there are at least 4
# colours. Decodes the PNG itself (8-bit RGB or RGBA, no interlace), so it
# needs only the standard library.
#   png_not_blank.py FILE [MIN_SHARE]
import collections
import struct
import sys
import zlib

data = open(sys.argv[1], "rb").read()
min_share = float(sys.argv[2]) if len(sys.argv) > 2 else 0.02
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"{sys.argv[1]}: not a PNG")
pos, idat, width = 8, b"", 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos : pos + 8])
    body = data[pos + 8 : pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        if depth != 8 or colour not in (2, 6) or interlace:
            sys.exit(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
        bpp = 3 if colour == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
raw = zlib.decompress(idat)
stride = width * bpp
prev = bytearray(stride)
counts = collections.Counter()
for y in range(height):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1:
            line[i] = (line[i] + a) & 255
        elif f == 2:
            line[i] = (line[i] + b) & 255
        elif f == 3:
            line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    counts.update(bytes(line[i : i + 3]) for i in range(0, stride, bpp))
    prev = line
total = width * height
common, n = counts.most_common(1)[0]
share = 1 - n / total
print(f"{sys.argv[1]}: {width}x{height}, {len(counts)} colours, {share:.1%} not the background")
sys.exit(0 if share >= min_share and len(counts) >= 4 else 1)
