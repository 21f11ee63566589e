//===- passes/PassManager.cc - Running a pipeline of passes on a Graph ----===//
//
// The run loop: time, run, check the result, verify, print; stop at the first
// failure.
//
//===----------------------------------------------------------------------===//
#include "passes/PassManager.h"

#include "ir/Printer.h"
#include "ir/Verifier.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Timer.h"
#include "llvm/Support/raw_ostream.h"

namespace qfx {

PassManager::PassManager(DiagnosticEngine &diagnostics) : diagnostics_(diagnostics) {}

PassManager::~PassManager() {
  // Timers unregister from their group when destroyed; do it while the group
  // is alive. (Unreported timings are then printed by LLVM to stderr, as
  // LLVM does for -time-passes.)
  passTimers_.clear();
  verifierTimer_.reset();
  timerGroup_.reset();
}

void PassManager::addPass(std::unique_ptr<Pass> pass) { passes_.push_back(std::move(pass)); }

void PassManager::addPasses(PassList passes) {
  for (std::unique_ptr<Pass> &pass : passes)
    passes_.push_back(std::move(pass));
}

void PassManager::enablePrintIRAfterAll(llvm::raw_ostream &os) {
  printAfterAll_ = true;
  printStream_ = &os;
}

void PassManager::enablePrintIRAfter(std::vector<std::string> passNames, llvm::raw_ostream &os) {
  printAfterNames_ = std::move(passNames);
  printStream_ = &os;
}

void PassManager::enableTiming(bool enabled) {
  timing_ = enabled;
  if (timing_ && !timerGroup_)
    timerGroup_ = std::make_unique<llvm::TimerGroup>("qfx-passes", "Pass execution timing report");
}

llvm::Timer *PassManager::timerFor(size_t passIndex) {
  if (passTimers_.size() <= passIndex)
    passTimers_.resize(passes_.size());
  std::unique_ptr<llvm::Timer> &timer = passTimers_[passIndex];
  if (!timer) {
    llvm::StringRef name = passes_[passIndex]->name();
    timer = std::make_unique<llvm::Timer>(name, name, *timerGroup_);
  }
  return timer.get();
}

void PassManager::printTimingReport(llvm::raw_ostream &os) {
  if (timerGroup_)
    timerGroup_->print(os, /*ResetAfterPrint=*/true);
}

bool PassManager::shouldPrintAfter(const Pass &pass) const {
  return printStream_ && (printAfterAll_ || llvm::is_contained(printAfterNames_, pass.name()));
}

bool PassManager::verifyAfter(const Pass &pass, const Graph &graph) {
  if (timing_ && !verifierTimer_)
    verifierTimer_ = std::make_unique<llvm::Timer>("verifier", "(verifier)", *timerGroup_);
  llvm::TimeRegion timeRegion(timing_ ? verifierTimer_.get() : nullptr);

  // Collect the verifier's findings and re-emit them with the pass's name in
  // front: the location says where the IR is broken, the prefix says who
  // broke it.
  DiagnosticEngine collector;
  std::vector<Diagnostic> findings;
  collector.setHandler([&](const Diagnostic &diagnostic) { findings.push_back(diagnostic); });
  bool valid = verifyGraph(graph, collector);
  if (valid && !collector.hadErrors())
    return true;
  bool reportedError = false;
  for (Diagnostic &finding : findings) {
    if (finding.severity == Severity::Error) {
      finding.message = "invalid IR after pass '" + pass.name().str() + "': " + finding.message;
      reportedError = true;
    }
    diagnostics_.emit(std::move(finding));
  }
  if (!reportedError)
    diagnostics_.error(Location(), "invalid IR after pass '" + pass.name() + "'");
  return false;
}

PassResult PassManager::run(Graph &graph) {
  PassContext context(diagnostics_);
  bool changed = false;
  for (size_t index = 0, e = passes_.size(); index != e; ++index) {
    Pass &pass = *passes_[index];
    unsigned errorsBefore = diagnostics_.numErrors();
    PassResult result;
    {
      llvm::TimeRegion timeRegion(timing_ ? timerFor(index) : nullptr);
      result = pass.run(graph, context);
    }
    bool reportedError = diagnostics_.numErrors() != errorsBefore;
    if (result == PassResult::Failed || reportedError) {
      // A failure must never be silent: qfx-opt's users would see only an
      // exit code.
      if (!reportedError)
        diagnostics_.error(Location(), "pass '" + pass.name() + "' failed without a diagnostic");
      return PassResult::Failed;
    }
    changed |= result == PassResult::Changed;
    if (verifyEach_ && !verifyAfter(pass, graph))
      return PassResult::Failed;
    if (shouldPrintAfter(pass)) {
      *printStream_ << "// -----// IR Dump After " << pass.name() << " //----- //\n";
      printGraph(graph, *printStream_);
      printStream_->flush();
    }
  }
  return changed ? PassResult::Changed : PassResult::Unchanged;
}

} // namespace qfx
