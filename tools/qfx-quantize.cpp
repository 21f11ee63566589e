//===- tools/qfx-quantize.cpp - The qfx-quantize command ------------------===//
//
// Entry point of qfx-quantize; all logic is in tools/QfxQuantizeMain.cc so
// that tests can run the job in process.
//
//===----------------------------------------------------------------------===//
#include "tools/QfxQuantizeMain.h"

int main(int argc, char **argv) { return qfx::qfxQuantizeMain(argc, argv); }
