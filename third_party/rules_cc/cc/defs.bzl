"""Local @rules_cc for Bazel 4.2.3: forwards the cc rules to Bazel's native rules.

Debian's rules_cc needs a newer Bazel (it uses use_cpp_toolchain), so WORKSPACE points @rules_cc
here instead; `load("@rules_cc//cc:defs.bzl", "cc_library")` then works offline.
"""

def cc_library(**attrs):
    native.cc_library(**attrs)

def cc_binary(**attrs):
    native.cc_binary(**attrs)

def cc_test(**attrs):
    native.cc_test(**attrs)

def cc_import(**attrs):
    native.cc_import(**attrs)

def cc_proto_library(**attrs):
    native.cc_proto_library(**attrs)

def cc_toolchain(**attrs):
    native.cc_toolchain(**attrs)

def cc_toolchain_suite(**attrs):
    native.cc_toolchain_suite(**attrs)

def objc_library(**attrs):
    native.objc_library(**attrs)
