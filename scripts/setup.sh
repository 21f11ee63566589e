#!/usr/bin/env bash
# Installs the Debian 12 packages qfx builds and tests with (Bazel 4 bootstrap, LLVM/MLIR 16,
# LibTorch 1.13, GoogleTest, lit/FileCheck). Idempotent: it asks dpkg-query first and returns at
# once when everything is installed; otherwise it runs apt-get update + install (needs root, or
# sudo). Nothing is downloaded outside apt; Bazel uses these system packages offline.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap bazel-rules-java
  g++ python3 python3-yaml python3-torch python3-torchvision
  libtorch-dev
  llvm-16-dev llvm-16-tools libmlir-16-dev mlir-16-tools
  libgtest-dev libgmock-dev
  clang-format
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ "$status" == "ii "* ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "setup.sh: installing missing packages: ${missing[*]}" >&2
SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q "${missing[@]}"
