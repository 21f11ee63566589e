#!/bin/sh
# Runs torch_ops_test.py with Debian's Python (/usr/bin/python3 explicitly: a python3 earlier on
# PATH, e.g. a pyenv one, may lack torch) against the op library, after torch_ops_golden has
# written the C++ results it compares with. Arguments: <golden binary> <test.py> <library>.
set -eu
golden="${TEST_TMPDIR:-/tmp}/qfx_torch_ops_golden.pt"
"$1" "$golden"
exec /usr/bin/python3 "$2" --library "$3" --golden "$golden"
