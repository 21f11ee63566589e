#!/usr/bin/env bash
# Builds everything and runs every test of qfx (`bazel test //...`: GoogleTest and lit targets;
# targets tagged "manual", e.g. benchmarks, are skipped), then counts test cases from the test.xml
# of each test target that this very invocation ran or took from cache (listed by Bazel's build
# event file, so stale logs of deleted targets never count). A test target without test.xml, and
# any target that failed to build, counts as 1 failed. The last line printed is exactly
# "N passed, M failed"; the exit status is non-zero when M > 0 or the build failed.
# Extra arguments go to `bazel test` (e.g. scripts/test.sh --config=... or a narrower pattern).
set -uo pipefail
cd "$(dirname "$0")/.."

if ! bash scripts/setup.sh; then
  echo "setup.sh failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

bep="$(mktemp)"
trap 'rm -f "$bep"' EXIT
patterns=("$@")
[[ ${#patterns[@]} -gt 0 ]] || patterns=(//...)
bazel test --keep_going --build_event_json_file="$bep" "${patterns[@]}"
rc=$?

python3 - "$bep" "$rc" <<'PY'
import json, sys, urllib.parse, urllib.request
import xml.etree.ElementTree as ET

bep_path, rc = sys.argv[1], int(sys.argv[2])
tests, results, broken = set(), {}, []
for line in open(bep_path):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    eid = ev.get("id", {})
    if "targetConfigured" in eid:
        label = eid["targetConfigured"]["label"]
        if "aborted" in ev:
            broken.append(label)
        elif ev.get("configured", {}).get("testSize"):
            tests.add(label)
    elif "targetCompleted" in eid:
        if "aborted" in ev or not ev.get("completed", {}).get("success", False):
            broken.append(eid["targetCompleted"]["label"])
    elif "testResult" in eid:
        t = eid["testResult"]
        key = (t["label"], t.get("run", 1), t.get("shard", 1))
        res = ev.get("testResult", {})
        outs = {o["name"]: o["uri"] for o in res.get("testActionOutput", [])}
        results[key] = (res.get("status"), outs.get("test.xml"))  # later attempts win

passed = failed = skipped = 0
bad = []
for (label, _, _), (status, uri) in sorted(results.items()):
    failed_before = failed
    try:
        path = urllib.parse.unquote(urllib.parse.urlparse(uri).path)
        cases = ET.parse(path).getroot().iter("testcase")
        n = 0
        for case in cases:
            n += 1
            tags = {child.tag for child in case}
            if tags & {"failure", "error"}:
                failed += 1
                bad.append("%s: %s" % (label, case.get("name")))
            elif "skipped" in tags or case.get("status") == "notrun":
                skipped += 1
            else:
                passed += 1
        if n == 0:
            raise ValueError("no <testcase>")
        if status not in ("PASSED", "FLAKY") and failed == failed_before:
            failed += 1  # e.g. all cases passed, then the binary crashed or leaked
            bad.append("%s: status %s" % (label, status))
    except Exception as e:  # missing or unreadable test.xml
        failed += 1
        bad.append("%s: no usable test.xml (%s)" % (label, e))
ran = {label for (label, _, _) in results}
for label in sorted(set(broken) | (tests - ran)):
    if label not in ran:
        failed += 1
        bad.append("%s: not built or not run" % label)
if rc not in (0, 3, 4) and not broken:  # e.g. a BUILD file that does not parse
    failed += 1
    bad.append("bazel test exited with status %d (build failed)" % rc)

print("=" * 72)
print("test summary: %d test targets, %d skipped test cases" % (len(ran | tests), skipped))
for b in bad:
    print("  FAILED " + b)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed or rc not in (0, 3, 4) else 0)
PY
