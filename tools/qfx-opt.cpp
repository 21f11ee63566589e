//===- tools/qfx-opt.cpp - The qfx-opt command ----------------------------===//
//
// Entry point of qfx-opt; all logic is in tools/QfxOptMain.cc so that tests
// can link it.
//
//===----------------------------------------------------------------------===//
#include "tools/QfxOptMain.h"

int main(int argc, char **argv) { return qfx::qfxOptMain(argc, argv); }
