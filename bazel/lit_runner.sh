#!/usr/bin/env bash
# Runs ONE lit test file under `bazel test` (the sh_test made by lit_tests() in bazel/lit.bzl).
# Usage: lit_runner.sh <lit.py> <test file> [tool ...], every path relative to the runfiles root
# of this workspace (Bazel's $(rootpath); external ones start with ../<repo>/). The tools' absolute
# paths reach the lit config (tests/lit/lit.cfg.py, found next to the test) as --param qfx_tools.
# lit writes a JUnit XML report to $XML_OUTPUT_FILE, so each lit test counts as one testcase.
set -euo pipefail

# Tests start in $TEST_SRCDIR/$TEST_WORKSPACE; fall back to <script>.runfiles when run by hand.
if [[ -n "${TEST_SRCDIR:-}" ]]; then
  root="$TEST_SRCDIR/${TEST_WORKSPACE:-qfx}"
else
  root="$(cd "$(dirname "$0")" && pwd)/$(basename "$0").runfiles/qfx"
fi
[[ -d "$root" ]] || root="$PWD"
cd "$root"

abs() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$root" "$1" ;; esac; }

lit_py="$(abs "$1")"
test_file="$(abs "$2")"
shift 2
tools=""
for t in "$@"; do
  p="$(abs "$t")"
  [[ -x "$p" ]] || { echo "lit_runner: tool not found or not executable: $p" >&2; exit 2; }
  tools="${tools:+$tools:}$p"
done

# lit.cfg.py puts lit's Output/ (%t files) in $TEST_TMPDIR; give hand-runs one too.
[[ -n "${TEST_TMPDIR:-}" ]] || export TEST_TMPDIR="$(mktemp -d)"

python=python3
[[ -x /usr/bin/python3 ]] && python=/usr/bin/python3
args=(-v --no-progress-bar --param "qfx_tools=$tools")
[[ -n "${XML_OUTPUT_FILE:-}" ]] && args+=(--xunit-xml-output "$XML_OUTPUT_FILE")
exec "$python" "$lit_py" "${args[@]}" "$test_file"
