//===- tools/QfxOptMain.h - The logic of the qfx-opt driver ---------------===//
//
// qfx-opt reads qfx IR text, runs a pass pipeline on it and prints the result,
// like mlir-opt. Everything it does lives here, in a library, so tests can run
// the driver in-process: runQfxOpt() works on an in-memory input and returns
// the output text, qfxOptMain() adds the command line (llvm::cl) and files.
//
// Diagnostics are printed with llvm::SourceMgr (`file:line:col: error: ...`,
// the source line and a caret). With --split-input-file, each chunk between
// `// -----` lines is processed on its own and diagnostics keep the line
// numbers of the original file. With --verify-diagnostics, the diagnostics a
// chunk produces are matched against its `// expected-error {{...}}`
// comments instead of being printed. Output files are written only when
// everything succeeded, atomically (temporary file + rename): a failed run
// leaves an existing output file untouched.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace llvm {
class MemoryBuffer;
class raw_ostream;
} // namespace llvm

namespace qfx {

class PassRegistry;

/// Everything qfx-opt's command line configures, besides file names.
struct QfxOptConfig {
  /// Textual pipeline (`cse,canonicalize{training=true},dce`); empty: none.
  std::string passPipeline;
  /// Process each `// -----`-separated chunk of the input independently and
  /// join the outputs with `// -----`.
  bool splitInputFile = false;
  /// Match diagnostics against `expected-*` comments instead of printing them.
  bool verifyDiagnostics = false;
  /// Verify the graph after each pass.
  bool verifyEach = true;
  bool printIRAfterAll = false;
  /// Print the parsed pipeline in its canonical form to the error stream.
  bool dumpPassPipeline = false;
  /// Names of passes after which to print the graph (each must be registered).
  std::vector<std::string> printIRAfter;
  /// Report pass timings (LLVM's -time-passes format) at the end.
  bool timePasses = false;
  /// After parsing and after the pipeline, check that print -> parse -> print
  /// reproduces the same text.
  bool verifyRoundtrip = false;
  /// Where pass names are looked up; null means builtinPassRegistry().
  const PassRegistry *registry = nullptr;
};

/// Runs qfx-opt on `input` (its buffer identifier names the file in
/// diagnostics). Returns true when everything succeeded, with the text to
/// write in `output`. Diagnostics, IR dumps and the timing report go to
/// `errors`.
bool runQfxOpt(const QfxOptConfig &config, const llvm::MemoryBuffer &input, std::string &output,
               llvm::raw_ostream &errors);

/// The qfx-opt program: parses the command line (also from the environment
/// variable QFX_OPT_OPTIONS), reads the input, writes the output. Returns the
/// exit code: 0 on success, 1 on any error.
int qfxOptMain(int argc, char **argv);

} // namespace qfx
