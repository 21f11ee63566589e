# lit configuration of the qfx regression tests (tests/lit/**/*.qfx and *.mlir). Bazel runs each
# test file as its own sh_test through bazel/lit_runner.sh (see bazel/lit.bzl), which passes the
# absolute paths of the tools (qfx-opt, FileCheck, not, count, ...) as the lit parameter
# `qfx_tools` (':'-separated). Each tool becomes a substitution by its file name and its folder is
# put first on PATH, so RUN lines just say `qfx-opt %s | FileCheck %s`. Outputs (%t) go to
# $TEST_TMPDIR. Inputs/ folders hold files that tests read and are never run as tests.
import os
import re

import lit.formats

config.name = "qfx"
config.suffixes = [".qfx", ".mlir"]
config.excludes = ["lit.cfg.py", "Inputs", "Output", "BUILD"]
config.test_format = lit.formats.ShTest(execute_external=True)
config.test_source_root = os.path.dirname(os.path.abspath(__file__))
config.test_exec_root = os.environ.get("TEST_TMPDIR") or os.path.join(
    config.test_source_root, "Output")

tools = [t for t in lit_config.params.get("qfx_tools", "").split(":") if t]
path = []
for tool in tools:
    name = os.path.basename(tool)
    # Whole words only: not inside paths, options (--check-prefix=count), longer names or MLIR
    # pass pipelines (`func.func(qfx-quantize{...},...)` names the MLIR pass, not the tool).
    pattern = r"(?<![-\w./%=,:@(])" + re.escape(name) + r"(?![-\w./={])"
    config.substitutions.append((pattern, tool))
    if os.path.dirname(tool) not in path:
        path.append(os.path.dirname(tool))
config.environment["PATH"] = os.pathsep.join(path + [os.environ.get("PATH", "/usr/bin:/bin")])

# Every graph qfx-opt reads or writes in a lit test is also checked to print -> parse -> print
# identically (the text form's round-trip guarantee), without each RUN line having to ask.
config.environment["QFX_OPT_OPTIONS"] = "--verify-roundtrip"
