//===- ir/Diagnostics.h - Errors and warnings with locations --------------===//
//
// Everything user-facing that goes wrong (parse errors, verifier failures, a
// pass rejecting a config) is reported as a Diagnostic with a Location in the
// IR text (file:line:col) when one is known. A DiagnosticEngine routes them to
// a handler: the driver prints them with llvm::SourceMgr (caret under the
// column) or, under --verify-diagnostics, matches them against the
// `expected-error` comments of the input. Library code never prints directly.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <functional>
#include <string>
#include <vector>

namespace qfx {

/// A place in an IR text buffer. `file` points at interned storage.
struct Location {
  llvm::StringRef file;
  unsigned line = 0;   // 1-based; 0 = unknown
  unsigned column = 0; // 1-based
  bool isKnown() const { return line != 0; }
};

enum class Severity { Error, Warning, Note, Remark };
llvm::StringRef severityName(Severity severity);

struct Diagnostic {
  Severity severity = Severity::Error;
  Location location;
  std::string message;
  /// Follow-up notes, printed after the main message.
  std::vector<Diagnostic> notes;
};

class DiagnosticEngine {
public:
  using Handler = std::function<void(const Diagnostic &)>;

  /// Without a handler, diagnostics are printed to stderr as
  /// `file:line:col: error: message`.
  void setHandler(Handler handler) { handler_ = std::move(handler); }

  void emit(Diagnostic diagnostic);
  void error(Location location, const llvm::Twine &message);
  void warning(Location location, const llvm::Twine &message);
  void remark(Location location, const llvm::Twine &message);

  unsigned numErrors() const { return numErrors_; }
  bool hadErrors() const { return numErrors_ != 0; }
  void resetErrorCount() { numErrors_ = 0; }

private:
  Handler handler_;
  unsigned numErrors_ = 0;
};

/// Default rendering: `file:line:col: error: message` plus notes.
void printDiagnostic(const Diagnostic &diagnostic);

} // namespace qfx
