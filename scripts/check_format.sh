#!/usr/bin/env bash
# Checks that every C++ file tracked by git is formatted as .clang-format says (one formatting for
# the whole project). Run directly, or as the Bazel test //:clang_format_test, which finds the
# source tree through the real path of this script (the test is tagged local + external so it
# runs unsandboxed and is never cached). Prints the offending files and how to fix them.
set -euo pipefail

script=$(readlink -f "${BASH_SOURCE[0]}")
root=$(cd "$(dirname "$script")/.." && pwd)
cd "$root"

if ! command -v clang-format >/dev/null; then
  echo "clang-format is not installed: run scripts/setup.sh" >&2
  exit 1
fi

mapfile -t files < <(git ls-files '*.h' '*.cc' '*.cpp')
bad=()
for file in "${files[@]}"; do
  [[ -f "$file" ]] || continue
  if ! clang-format --dry-run -Werror "$file" >/dev/null 2>&1; then
    bad+=("$file")
  fi
done

if [[ ${#bad[@]} -gt 0 ]]; then
  echo "not formatted as .clang-format says (fix: clang-format -i <file>):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "all ${#files[@]} C++ files are formatted"
