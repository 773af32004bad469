#!/usr/bin/env python3
# Checks OpenLineage run events (one JSON object per line in FILE) against
# what the OpenLineage 2-0-2 JSON schema requires of a RunEvent, its run,
# job, datasets and facets: required fields, their types and formats
# (date-time, uri, uuid) and the eventType enum. Prints one line per
# problem and exits 1 if there is any; else prints the events' types.
#   openlineage_check.py FILE
import datetime
import json
import re
import sys
import urllib.parse
import uuid

problems = []


def need(obj, key, kind, where):
    if not isinstance(obj, dict) or key not in obj:
        problems.append(f"{where}: '{key}' is required")
        return None
    value = obj[key]
    if not isinstance(value, kind):
        problems.append(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
        return None
    return value


def uri(value, where):
    parts = urllib.parse.urlparse(value or "")
    if not parts.scheme or not (parts.netloc or parts.path):
        problems.append(f"{where}: '{value}' is not a URI")


def facets(obj, where):
    for name, facet in (obj or {}).items():
        for key in ("_producer", "_schemaURL"):
            v = need(facet, key, str, f"{where}.{name}")
            if v is not None:
                uri(v, f"{where}.{name}.{key}")


def dataset(d, where):
    need(d, "namespace", str, where)
    need(d, "name", str, where)
    facets(d.get("facets"), where + ".facets")
    facets(d.get("inputFacets"), where + ".inputFacets")
    facets(d.get("outputFacets"), where + ".outputFacets")


types = []
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    where = f"line {n}"
    try:
        e = json.loads(line)
    except ValueError as err:
        problems.append(f"{where}: not JSON: {err}")
        continue
    t = need(e, "eventType", str, where)
    if t is not None and t not in ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"):
        problems.append(f"{where}.eventType: '{t}' is not in the enum")
    types.append(t)
    when = need(e, "eventTime", str, where)
    if when is not None:
        try:
            datetime.datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"{where}.eventTime: '{when}' is not a date-time")
    for key in ("producer", "schemaURL"):
        v = need(e, key, str, where)
        if v is not None:
            uri(v, f"{where}.{key}")
    run = need(e, "run", dict, where)
    if run is not None:
        rid = need(run, "runId", str, where + ".run")
        if rid is not None:
            try:
                uuid.UUID(rid)
            except ValueError:
                problems.append(f"{where}.run.runId: '{rid}' is not a UUID")
        facets(run.get("facets"), where + ".run.facets")
        parent = (run.get("facets") or {}).get("parent")
        if parent is not None:
            prun = need(parent, "run", dict, where + ".run.facets.parent")
            if prun is not None:
                need(prun, "runId", str, where + ".run.facets.parent.run")
            pjob = need(parent, "job", dict, where + ".run.facets.parent")
            if pjob is not None:
                need(pjob, "namespace", str, where + ".run.facets.parent.job")
                need(pjob, "name", str, where + ".run.facets.parent.job")
    job = need(e, "job", dict, where)
    if job is not None:
        need(job, "namespace", str, where + ".job")
        need(job, "name", str, where + ".job")
    for side in ("inputs", "outputs"):
        for i, d in enumerate(e.get(side) or []):
            dataset(d, f"{where}.{side}[{i}]")

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(" ".join(types))
