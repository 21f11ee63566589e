"""lit_tests(): one Bazel sh_test per lit test file (see bazel/lit_runner.sh, tests/lit/lit.cfg.py).

Usage (in tests/lit/BUILD):
    load("//bazel:lit.bzl", "lit_tests")
    lit_tests(
        name = "lit",
        srcs = glob(["**/*.qfx", "**/*.mlir"], exclude = ["**/Inputs/**"]),
        tools = ["//tools:qfx-opt"],
        data = glob(["**/Inputs/**"]),
    )
Each file becomes a test target named after it plus ".test" (//tests/lit:passes/dce.qfx.test; a
rule cannot have the very name of its source file, Bazel would see a self-edge); `name` becomes a
test_suite of them all. FileCheck, not and count (Debian's LLVM 16) are always available; `tools`
adds more, each usable in RUN lines by its file name. The lit config `cfg` must sit in the same
package, at or above the test files.
"""

_LLVM_TOOLS = [
    "@llvm//:FileCheck",
    "@llvm//:not",
    "@llvm//:count",
]

def lit_tests(name, srcs, tools = [], data = [], cfg = "lit.cfg.py", size = "small", tags = [],
              **kwargs):
    all_tools = tools + [t for t in _LLVM_TOOLS if t not in tools]
    tests = []
    for src in srcs:
        native.sh_test(
            name = src + ".test",
            srcs = ["//bazel:lit_runner.sh"],
            args = ["$(rootpath @llvm//:lit)", "$(rootpath %s)" % src] +
                   ["$(rootpath %s)" % t for t in all_tools],
            data = [src, cfg, "@llvm//:lit"] + all_tools + data,
            size = size,
            tags = tags + ["lit"],
            **kwargs
        )
        tests.append(src + ".test")

    # Note: test_suite's `tags` filters tests (it does not tag the suite), so it is not passed on.
    native.test_suite(name = name, tests = tests)
