//===- passes/PassManager.h - Running a pipeline of passes on a Graph -----===//
//
// The PassManager owns an ordered list of configured passes and runs them on a
// Graph, stopping at the first pass that fails. Around each pass it can
//  - verify the graph (verifyGraph), on by default: a verifier failure is
//    reported as `invalid IR after pass '<pass>': <verifier message>` at the
//    offending node, so the pass that broke the IR is named;
//  - print the graph after every pass or after the passes of given names,
//    under MLIR's banner `// -----// IR Dump After <pass> //----- //`;
//  - time each pass (and the verifier) with llvm::Timer, reported in LLVM's
//    `-time-passes` format by printTimingReport().
// One PassManager may run over many graphs (qfx-opt --split-input-file);
// timings accumulate until reported.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Graph.h"
#include "passes/Pass.h"
#include "passes/PassPipeline.h"

#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
class Timer;
class TimerGroup;
} // namespace llvm

namespace qfx {

class PassManager {
public:
  explicit PassManager(DiagnosticEngine &diagnostics);
  ~PassManager();
  PassManager(const PassManager &) = delete;
  PassManager &operator=(const PassManager &) = delete;

  void addPass(std::unique_ptr<Pass> pass);
  void addPasses(PassList passes);
  llvm::ArrayRef<std::unique_ptr<Pass>> passes() const { return passes_; }
  /// The canonical pipeline text of the passes added so far.
  std::string pipelineText() const { return printPassPipeline(passes_); }

  /// Verify the graph after every pass that did not fail (default: on).
  void enableVerifier(bool enabled = true) { verifyEach_ = enabled; }
  /// Print the graph to `os` after every pass.
  void enablePrintIRAfterAll(llvm::raw_ostream &os);
  /// Print the graph to `os` after each pass whose name is in `passNames`.
  void enablePrintIRAfter(std::vector<std::string> passNames, llvm::raw_ostream &os);
  /// Time every pass and the verifier.
  void enableTiming(bool enabled = true);
  /// Prints the accumulated timings in LLVM's report format and resets them.
  /// Prints nothing when timing is off or nothing ran.
  void printTimingReport(llvm::raw_ostream &os);

  /// Runs the passes in order. Returns Failed at the first pass that fails
  /// (or leaves an error diagnostic, or breaks the IR under the verifier),
  /// Changed if any pass changed the graph, Unchanged otherwise.
  PassResult run(Graph &graph);

private:
  bool shouldPrintAfter(const Pass &pass) const;
  llvm::Timer *timerFor(size_t passIndex);
  bool verifyAfter(const Pass &pass, const Graph &graph);

  DiagnosticEngine &diagnostics_;
  PassList passes_;
  bool verifyEach_ = true;
  bool printAfterAll_ = false;
  std::vector<std::string> printAfterNames_;
  llvm::raw_ostream *printStream_ = nullptr;
  bool timing_ = false;
  // Declared before the timers: timers must be destroyed before their group.
  std::unique_ptr<llvm::TimerGroup> timerGroup_;
  std::vector<std::unique_ptr<llvm::Timer>> passTimers_;
  std::unique_ptr<llvm::Timer> verifierTimer_;
};

} // namespace qfx
