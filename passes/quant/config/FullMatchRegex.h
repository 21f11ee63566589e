//===- passes/quant/config/FullMatchRegex.h - Python-style fullmatch ------===//
//
// Module-name and op-name configs are regexes the reference applies with
// Python's `re.fullmatch`. qfx matches them with llvm::Regex (POSIX extended
// syntax), anchored at both ends so that only a full match counts. Users write
// Python patterns, so the common Python-only escapes are translated first
// (`\d`, `\D`, `\w`, `\W`, `\s`, `\S`, also inside brackets where that makes
// sense) and lazy quantifiers (`*?`, `+?`, `??`) become greedy ones, which
// cannot change whether a *full* match exists. Constructs ERE cannot express
// (`(?:...)`, look-arounds, back-references) are rejected with a message
// rather than silently meaning something else.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/Regex.h"

#include <memory>
#include <string>

namespace qfx {

class FullMatchRegex {
public:
  /// Translates and compiles `pattern`; the error explains what is invalid.
  static llvm::Expected<FullMatchRegex> compile(llvm::StringRef pattern);

  /// True when the whole of `text` matches.
  bool matches(llvm::StringRef text) const { return regex_->match(text); }
  llvm::StringRef pattern() const { return pattern_; }

private:
  FullMatchRegex(std::string pattern, std::unique_ptr<llvm::Regex> regex)
      : pattern_(std::move(pattern)), regex_(std::move(regex)) {}

  std::string pattern_;
  // llvm::Regex::match is const but not copyable; shared ownership keeps
  // FullMatchRegex a cheap movable value.
  std::shared_ptr<llvm::Regex> regex_;
};

/// The POSIX extended regex `pattern` is translated to, anchored
/// (`^(...)$`); an error for Python-only constructs. Exposed for tests.
llvm::Expected<std::string> translatePythonRegex(llvm::StringRef pattern);

} // namespace qfx
