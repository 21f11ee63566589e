//===- ir/Diagnostics.cc - Errors and warnings with locations -------------===//
//
// Routing and default rendering of diagnostics.
//
//===----------------------------------------------------------------------===//
#include "ir/Diagnostics.h"

#include "llvm/Support/raw_ostream.h"

namespace qfx {

llvm::StringRef severityName(Severity severity) {
  switch (severity) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  case Severity::Remark:
    return "remark";
  }
  return "error";
}

void printDiagnostic(const Diagnostic &diagnostic) {
  llvm::raw_ostream &os = llvm::errs();
  const Location &loc = diagnostic.location;
  if (loc.isKnown())
    os << (loc.file.empty() ? "<input>" : loc.file) << ":" << loc.line << ":" << loc.column << ": ";
  os << severityName(diagnostic.severity) << ": " << diagnostic.message << "\n";
  for (const Diagnostic &note : diagnostic.notes)
    printDiagnostic(note);
}

void DiagnosticEngine::emit(Diagnostic diagnostic) {
  if (diagnostic.severity == Severity::Error)
    ++numErrors_;
  if (handler_)
    handler_(diagnostic);
  else
    printDiagnostic(diagnostic);
}

void DiagnosticEngine::error(Location location, const llvm::Twine &message) {
  emit(Diagnostic{Severity::Error, location, message.str(), {}});
}

void DiagnosticEngine::warning(Location location, const llvm::Twine &message) {
  emit(Diagnostic{Severity::Warning, location, message.str(), {}});
}

void DiagnosticEngine::remark(Location location, const llvm::Twine &message) {
  emit(Diagnostic{Severity::Remark, location, message.str(), {}});
}

} // namespace qfx
