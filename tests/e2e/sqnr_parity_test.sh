#!/bin/sh
# Runs sqnr_parity_test.py with Debian's Python (/usr/bin/python3 explicitly: a python3 earlier on
# PATH may lack torch 1.13). Arguments: <test.py> <qfx-quantize> <libqfx_torch_ops.so>.
set -eu
exec /usr/bin/python3 "$1" "$2" "$3"
