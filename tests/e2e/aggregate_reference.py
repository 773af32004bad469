#!/usr/bin/env python3
"""The aggregate job's test data and its independent reference
(tests/e2e/aggregate_e2e_test.cpp runs it).

  aggregate_reference.py gen DIR
      Writes the inputs under DIR: csv/ (plain CRLF, gzip, zstd), jsonl/
      (plain, gzip, zstd), mixed/ (one CSV and one JSON Lines file),
      json_named_csv/ and csv_named_jsonl/ (content and name disagree).
  aggregate_reference.py check INPUT_DIR OUTPUT_DIR GROUP_BY AGGREGATES WHERE FORMAT AVG_DIGITS
      Computes GROUP BY over INPUT_DIR's files with Python's csv-free byte
      parsing, json and decimal, and compares it with the job's OUTPUT_DIR:
      every part starts with the header, rows are sorted by group within a
      part, the rows of all parts are exactly the reference's, and the
      bad_records and user.rows_filtered counters of _SUCCESS match.
      Prints a summary; exits 1 on any difference.

The semantics mirrored here are the job's documented ones (jobs/aggregate.cpp):
NULL is missing, JSON null or empty text; numbers are exact decimals of up
to 38 significant digits and 18 after the point; the where filter runs
first, then group-by fields, then aggregates in order, and the first
problem decides whether a row is filtered or bad.
"""
import gzip
import json
import os
import random
import re
import subprocess
import sys
from decimal import ROUND_HALF_EVEN, Decimal, getcontext

getcontext().prec = 200
QUOTE = ord('"')


class Bad(Exception):
    pass


NULL = None

# ------------------------------------------------------------------ reading


def read_bytes(path):
    if path.endswith('.zst'):
        return subprocess.run(['zstd', '-dcq', path], check=True, capture_output=True).stdout
    with open(path, 'rb') as f:
        data = f.read()
    return gzip.decompress(data) if path.endswith('.gz') else data


def split_records(data, strip_cr):
    """Records end at a '\\n' outside quotes (quote parity over the file)."""
    records, start, inside = [], 0, False
    for m in re.finditer(rb'["\n]', data):
        c = m.start()
        if data[c] == QUOTE:
            inside = not inside
        elif not inside:
            records.append(data[start:c])
            start = c + 1
    if start < len(data):
        records.append(data[start:])
    if strip_cr:
        records = [r[:-1] if r.endswith(b'\r') else r for r in records]
    return records


def parse_fields(rec):
    """RFC 4180 fields by csv_row.h's strict rules; None when malformed."""
    fields, p, n = [], 0, len(rec)
    while True:
        if p < n and rec[p] == QUOTE:
            out, q = bytearray(), p + 1
            while True:
                c = rec.find(b'"', q)
                if c < 0:
                    return None
                if c + 1 < n and rec[c + 1] == QUOTE:
                    out += rec[q:c + 1]
                    q = c + 2
                    continue
                out += rec[q:c]
                p = c + 1
                break
            fields.append(bytes(out))
            if p == n:
                return fields
            if rec[p] != ord(','):
                return None
            p += 1
        else:
            d = rec.find(b',', p)
            end = n if d < 0 else d
            if b'"' in rec[p:end]:
                return None
            fields.append(rec[p:end])
            if d < 0:
                return fields
            p = end + 1


def csv_rows(data):
    """(lookup or None for a malformed record) per record of a CSV file."""
    records = split_records(data, strip_cr=True)
    if not records:
        return []
    head = records[0]
    if head.startswith(b'\xef\xbb\xbf'):
        head = head[3:]
    names = parse_fields(head)
    index = {}
    for i, name in enumerate(names):
        index.setdefault(name.decode('utf-8'), i)
    rows = []
    for rec in records[1:]:
        if rec == b'':
            continue
        fields = parse_fields(rec)
        if fields is None:
            rows.append(None)
            continue

        def lookup(field, fields=fields):
            i = index[field['name']]  # a missing column fails the job: not tested here
            if i >= len(fields) or fields[i] == b'':
                return NULL
            return fields[i]
        rows.append(lookup)
    return rows


def json_text(v):
    if isinstance(v, str):
        return v.encode('utf-8')
    if isinstance(v, bool):
        return b'true' if v else b'false'
    if isinstance(v, int):
        return str(v).encode()
    if isinstance(v, float):
        return repr(v).encode()  # the same shortest digits as std::to_chars; the format may differ
    return json.dumps(v, separators=(',', ':'), ensure_ascii=False).encode('utf-8')


MISSING = object()


def json_rows(data):
    rows = []
    for line in data.split(b'\n'):
        if line.strip(b' \t\r') == b'':
            continue
        try:
            value = json.loads(line.decode('utf-8'))
        except (ValueError, UnicodeDecodeError):
            rows.append(None)
            continue

        def lookup(field, value=value):
            if not isinstance(value, dict):
                raise Bad()
            v = value.get(field['path'][0], MISSING)
            for part in field['path'][1:]:
                if v is MISSING or v is None:
                    return NULL
                if not isinstance(v, dict):
                    raise Bad()
                v = v.get(part, MISSING)
            if v is MISSING or v is None:
                return NULL
            text = json_text(v)
            return NULL if text == b'' else text
        rows.append(lookup)
    return rows


def format_of(path, forced):
    if forced in ('csv', 'jsonl'):
        return forced
    base = path
    for z in ('.gz', '.zst'):
        if base.endswith(z):
            base = base[:-len(z)]
    if base.endswith('.csv'):
        return 'csv'
    if base.endswith('.jsonl'):
        return 'jsonl'
    raise SystemExit('reference: cannot tell the format of ' + path)

# ------------------------------------------------------------------ numbers


NUMBER = re.compile(rb'[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z')


def parse_number(text):
    """The exact decimal, or raise Bad (the job's Decimal::Parse)."""
    if not NUMBER.match(text):
        raise Bad()
    d = Decimal(text.decode())
    if d == 0:
        return Decimal(0)
    t = d.normalize().as_tuple()
    if t.exponent < -18 or len(t.digits) + max(t.exponent, 0) > 38:
        raise Bad()
    return d


def canonical(d):
    if d == 0:
        return b'0'
    return format(d.normalize(), 'f').encode()


def csv_field(b):
    if any(c in b for c in (b',', b'"', b'\r', b'\n')):
        return b'"' + b.replace(b'"', b'""') + b'"'
    return b

# ------------------------------------------------------------------ the query


def field_ref(name):
    return {'name': name, 'path': name.split('.')}


def parse_where(text):
    text = text.strip()
    if not text:
        return None
    at = min(i for i, c in enumerate(text) if c in '=!<>')
    rest = text[at:]
    for op in ('==', '!=', '<>', '<=', '>=', '=', '<', '>'):
        if rest.startswith(op):
            break
    value = rest[len(op):].strip()
    op = {'==': '=', '<>': '!='}.get(op, op)
    where = {'field': field_ref(text[:at].strip()), 'op': op}
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        where['number'], where['text'] = None, value[1:-1].encode()
    else:
        try:
            where['number'] = parse_number(value.encode())
        except Bad:
            where['number'] = None
        where['text'] = value.encode()
    return where


def holds(op, a, b):
    return {'=': a == b, '!=': a != b, '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b}[op]


def reference(input_dir, group_by, aggregates, where_text, forced_format, avg_digits):
    group_fields = [field_ref(n.strip()) for n in group_by.split(',')] if group_by.strip() else []
    aggs = []
    for item in aggregates.split(','):
        kind, _, name = item.strip().partition(':')
        name = name.strip()
        aggs.append((kind, field_ref(name) if name else None, kind + ('(%s)' % name if name else '')))
    where = parse_where(where_text)

    rows = []
    for name in sorted(os.listdir(input_dir)):
        path = os.path.join(input_dir, name)
        data = read_bytes(path)
        rows += csv_rows(data) if format_of(path, forced_format) == 'csv' else json_rows(data)

    groups, bad, filtered = {}, 0, 0
    for lookup in rows:
        if lookup is None:
            bad += 1
            continue
        try:
            if where is not None:
                v = lookup(where['field'])
                if v is NULL:
                    filtered += 1
                    continue
                ok = (holds(where['op'], parse_number(v), where['number']) if where['number'] is not None
                      else holds(where['op'], v, where['text']))
                if not ok:
                    filtered += 1
                    continue
            key = tuple((lookup(f) or b'') for f in group_fields)
            values = []
            for kind, field, _ in aggs:
                if kind == 'count' and field is None:
                    values.append(None)
                    continue
                v = lookup(field)
                if v is not NULL and kind in ('sum', 'min', 'max', 'avg'):
                    v = parse_number(v)
                values.append(v)
        except Bad:
            bad += 1
            continue
        g = groups.setdefault(key, {'rows': 0, 'values': [[] for _ in aggs]})
        g['rows'] += 1
        for i, v in enumerate(values):
            if v is not NULL:
                g['values'][i].append(v)

    header = b','.join([csv_field(f['name'].encode()) for f in group_fields] +
                       [csv_field(a[2].encode()) for a in aggs]) + b'\n'
    expected = {}
    quantum = Decimal(1).scaleb(-avg_digits)
    for key, g in groups.items():
        out = [csv_field(k) for k in key]
        for (kind, field, _), vs in zip(aggs, g['values']):
            if kind == 'count':
                out.append(str(g['rows'] if field is None else len(vs)).encode())
            elif kind == 'distinct':
                out.append(str(len(set(vs))).encode())
            elif not vs:
                out.append(b'')
            elif kind == 'sum':
                out.append(canonical(sum(vs, Decimal(0))))
            elif kind == 'min':
                out.append(canonical(min(vs)))
            elif kind == 'max':
                out.append(canonical(max(vs)))
            elif kind == 'avg':
                avg = (sum(vs, Decimal(0)) / len(vs)).quantize(quantum, rounding=ROUND_HALF_EVEN)
                out.append(canonical(avg))
        line = b','.join(out)
        expected[key] = (line if line else b'""') + b'\n'
    return header, expected, bad, filtered, len(group_fields)


def check(input_dir, output_dir, group_by, aggregates, where, forced_format, avg_digits):
    header, expected, bad, filtered, n_keys = reference(input_dir, group_by, aggregates, where, forced_format,
                                                        int(avg_digits))
    problems = []
    seen = {}
    parts = sorted(n for n in os.listdir(output_dir) if n.startswith('part-'))
    if not parts:
        problems.append('no part files')
    for part in parts:
        with open(os.path.join(output_dir, part), 'rb') as f:
            data = f.read()
        if not data.startswith(header):
            problems.append('%s does not start with the header %r: %r' % (part, header, data[:200]))
            continue
        previous = None
        for rec in split_records(data[len(header):], strip_cr=False):
            fields = parse_fields(rec)
            if fields is None:
                problems.append('%s: a row that is not CSV: %r' % (part, rec))
                continue
            key = tuple(fields[:n_keys])
            if previous is not None and not previous < key:
                problems.append('%s: rows out of order: %r then %r' % (part, previous, key))
            previous = key
            if key in seen:
                problems.append('group %r in %s and %s' % (key, seen[key], part))
            seen[key] = part
            want = expected.get(key)
            if want is None:
                problems.append('%s: unexpected row %r' % (part, rec))
            elif rec + b'\n' != want:
                problems.append('%s: row %r, expected %r' % (part, rec + b'\n', want))
    for key in expected:
        if key not in seen:
            problems.append('missing row %r' % expected[key])
    counters = {}
    with open(os.path.join(output_dir, '_SUCCESS'), 'rb') as f:
        for line in f.read().decode().splitlines():
            name, _, value = line.partition('\t')
            counters[name] = value
    if int(counters.get('bad_records', '0')) != bad:
        problems.append('bad_records %s, expected %d' % (counters.get('bad_records'), bad))
    if int(counters.get('user.rows_filtered', '0')) != filtered:
        problems.append('user.rows_filtered %s, expected %d' % (counters.get('user.rows_filtered'), filtered))
    print('reference: %d groups, %d bad records, %d rows filtered; %d parts checked' %
          (len(expected), bad, filtered, len(parts)))
    for p in problems[:20]:
        print('  ' + p)
    if len(problems) > 20:
        print('  ... %d more' % (len(problems) - 20))
    return 1 if problems else 0

# ------------------------------------------------------------------ test data


COUNTRIES = ['US', 'DE', 'FR', 'JP', "C\u00f4te d'Ivoire", 'Korea, Republic of', 'The "Best" Land',
             'Multi\nLine', 'CR\r\nLF', 'Tab\tLand', '']
BAD_NUMBERS = ['abc', '1,5', ' 12', '12 ', 'N/A', '1e-30', '1.2.3', '0x1F', '1e40', 'nan', '--3', '\u0661']


def amount_text(r):
    x = r.random()
    if x < 0.08:
        return ''
    if x < 0.09:
        return r.choice(BAD_NUMBERS)
    if x < 0.30:
        return str(r.randint(-1000, 100000))
    if x < 0.80:
        return '%s%d.%02d' % (r.choice(['', '-']) if x < 0.4 else '', r.randint(0, 5000), r.randint(0, 99))
    if x < 0.85:
        return '%de%d' % (r.randint(1, 99), r.randint(-3, 3))
    if x < 0.90:
        return '+' + str(r.randint(0, 500))
    if x < 0.95:
        return '.' + str(r.randint(0, 9999)).zfill(4)
    return '%d.%s' % (r.randint(0, 10 ** 20), '0' * r.randint(0, 25))


def note_text(r):
    return r.choice(['plain', 'with, comma', 'say "hi"', 'two\nlines', 'crlf\r\ninside', '', 'x' * 200,
                     '"quoted", and\n"more"'])


def csv_line(fields, r, eol):
    out = []
    for f in fields:
        b = f.encode('utf-8')
        if any(c in b for c in (b',', b'"', b'\r', b'\n')) or r.random() < 0.1:
            b = b'"' + b.replace(b'"', b'""') + b'"'
        out.append(b)
    return b','.join(out) + eol


def csv_file(r, rows, columns, eol, bom=False, short_rows=False, malformed=False):
    out = [b'\xef\xbb\xbf' if bom else b'', csv_line(columns, r, eol)]
    for i in range(rows):
        row = {'id': str(i), 'country': r.choice(COUNTRIES), 'day': '2024-01-0%d' % r.randint(1, 7),
               'amount': amount_text(r), 'user': 'u%d' % r.randint(0, 300) if r.random() < 0.95 else '',
               'note': note_text(r), 'extra': 'e', 'user.tier': r.choice(['gold', 'silver', ''])}
        fields = [row[c] for c in columns]
        if short_rows and r.random() < 0.05:
            fields = fields[:2]
        out.append(csv_line(fields, r, eol))
        if malformed and i % 997 == 5:
            out.append(b'9,"US"x,2024-01-01,5,u1,n' + eol)  # text after a closing quote
            out.append(b'9,U"S",2024-01-01,5,u1,n' + eol)  # a quote inside an unquoted field
        if r.random() < 0.01:
            out.append(eol)  # a blank line: no record
    return b''.join(out)


def json_amount(r):
    x = r.random()
    if x < 0.05:
        return MISSING
    if x < 0.08:
        return None
    if x < 0.09:
        return r.choice(['abc', True, {'v': 1}, [1], '1e-30', ' 5'])
    if x < 0.11:
        return ''
    if x < 0.35:
        return r.randint(-1000, 10 ** 15)
    if x < 0.75:
        return round(r.uniform(-100, 5000), 2)
    if x < 0.85:
        return '%d.%02d0' % (r.randint(0, 5000), r.randint(0, 99))  # a number in a string: exact
    if x < 0.88:
        return r.random()  # 17 significant digits: some have more than 18 after the point (bad)
    return 0.1 * r.randint(0, 30)  # shortest-round-trip text such as 0.30000000000000004


def json_file(r, rows, eol):
    out = []
    for i in range(rows):
        obj = {'id': i, 'country': r.choice(COUNTRIES), 'day': '2024-01-0%d' % r.randint(1, 7)}
        amount = json_amount(r)
        if amount is not MISSING:
            obj['amount'] = amount
        y = r.random()
        if y < 0.05:
            obj['user'] = None
        elif y < 0.9:
            obj['user'] = {'id': 'u%d' % r.randint(0, 300), 'tier': r.choice(['gold', 'silver', None])}
        elif y < 0.95:
            obj['user'] = {'id': r.randint(0, 50)}  # an int id, no tier
        # else: no user
        obj['tags'] = r.sample(['a', 'b', 'c', 'd'], r.randint(0, 3))
        obj['note'] = note_text(r)
        out.append(json.dumps(obj, ensure_ascii=r.random() < 0.5).encode('utf-8') + eol)
        z = r.random()
        if z < 0.004:
            out.append(r.choice([b'{"id": 1, "country": "US"', b'not json', b'{"a":1}}', b"{'x': 1}",
                                 b'[1, 2, 3]', b'"just a string"', b'null', b'{"country": "\xff"}']) + eol)
        elif z < 0.01:
            out.append(r.choice([b'', b'   ', b'\t\r']) + eol)  # blank: no record
    return b''.join(out)


def write(path, data, codec=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if codec == 'gz':
        data = gzip.compress(data, mtime=0)
    with open(path, 'wb') as f:
        f.write(data)
    if codec == 'zst':
        subprocess.run(['zstd', '-q', '-f', '--rm', path, '-o', path + '.zst'], check=True)


def gen(root):
    r = random.Random(2026)
    base = ['id', 'country', 'day', 'amount', 'user', 'note']
    write(root + '/csv/a.csv', csv_file(r, 4000, base, b'\r\n', malformed=True))
    write(root + '/csv/b.csv.gz', csv_file(r, 2500, ['note', 'user', 'amount', 'day', 'country', 'id', 'extra'],
                                           b'\n'), 'gz')
    write(root + '/csv/c.csv', csv_file(r, 2000, base[:5], b'\n', bom=True, short_rows=True), 'zst')
    write(root + '/jsonl/a.jsonl', json_file(r, 4000, b'\n'))
    write(root + '/jsonl/b.jsonl.gz', json_file(r, 2500, b'\r\n'), 'gz')
    write(root + '/jsonl/c.jsonl', json_file(r, 2000, b'\n'), 'zst')
    write(root + '/mixed/a.csv', csv_file(r, 1500, ['day', 'user.tier', 'amount'], b'\n'))
    write(root + '/mixed/b.jsonl', json_file(r, 1500, b'\n'))
    write(root + '/json_named_csv/data.csv', json_file(r, 1500, b'\n'))
    write(root + '/csv_named_jsonl/data.jsonl', csv_file(r, 1500, base, b'\n'))


if __name__ == '__main__':
    if sys.argv[1] == 'gen':
        gen(sys.argv[2])
    elif sys.argv[1] == 'check':
        sys.exit(check(*sys.argv[2:9]))
    else:
        sys.exit('usage: aggregate_reference.py gen DIR | check INPUT OUTPUT GROUP_BY AGGREGATES WHERE FORMAT DIGITS')
