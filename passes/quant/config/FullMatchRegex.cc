//===- passes/quant/config/FullMatchRegex.cc - Python-style fullmatch -----===//
//
// Translation of the Python regex subset configs use into anchored POSIX
// extended regexes, and their compilation with llvm::Regex.
//
//===----------------------------------------------------------------------===//
#include "passes/quant/config/FullMatchRegex.h"

#include "llvm/ADT/Twine.h"

namespace qfx {

static llvm::Error regexError(llvm::StringRef pattern, const llvm::Twine &why) {
  return llvm::createStringError(std::errc::invalid_argument, "%s",
                                 ("invalid regex '" + pattern + "': " + why).str().c_str());
}

llvm::Expected<std::string> translatePythonRegex(llvm::StringRef pattern) {
  std::string out = "^(";
  bool inBracket = false;
  size_t bracketStart = 0;
  // Set right after a quantifier (`*`, `+`, `?`, `{m,n}`) outside brackets.
  bool afterQuantifier = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (!inBracket && c != '?')
      afterQuantifier = false;
    if (inBracket) {
      // `]` right after `[` or `[^` is a literal member, as in both dialects.
      if (c == ']' && i > bracketStart) {
        inBracket = false;
        out += c;
        continue;
      }
      if (c == '\\' && i + 1 < pattern.size()) {
        char e = pattern[++i];
        switch (e) {
        case 'd':
          out += "0-9";
          break;
        case 'w':
          out += "A-Za-z0-9_";
          break;
        case 's':
          out += "[:space:]";
          break;
        case ']':
        case '^':
        case '-':
        case '\\':
        case 'D':
        case 'W':
        case 'S':
          // POSIX brackets have no escapes: these would change meaning.
          return regexError(pattern, llvm::Twine("escape '\\") + llvm::Twine(e) +
                                         "' inside [...] is not supported; move the "
                                         "character to the start (']') or end ('-') of the set");
        default:
          out += e; // `[\.]` is `[.]`: the backslash only quoted the character
        }
        continue;
      }
      out += c;
      continue;
    }
    switch (c) {
    case '[':
      inBracket = true;
      out += c;
      bracketStart = i + 1;
      if (bracketStart < pattern.size() && pattern[bracketStart] == '^') {
        out += '^';
        ++i;
        ++bracketStart;
      }
      continue;
    case '\\': {
      if (i + 1 >= pattern.size())
        return regexError(pattern, "trailing backslash");
      char e = pattern[++i];
      switch (e) {
      case 'd':
        out += "[0-9]";
        break;
      case 'D':
        out += "[^0-9]";
        break;
      case 'w':
        out += "[A-Za-z0-9_]";
        break;
      case 'W':
        out += "[^A-Za-z0-9_]";
        break;
      case 's':
        out += "[[:space:]]";
        break;
      case 'S':
        out += "[^[:space:]]";
        break;
      default:
        if (e >= '1' && e <= '9')
          return regexError(pattern, "back-references are not supported");
        if (llvm::StringRef("AZbBnrtfv").contains(e))
          return regexError(pattern, llvm::Twine("escape '\\") + llvm::Twine(e) +
                                         "' is not supported (patterns are fully matched "
                                         "against names anyway)");
        out += '\\';
        out += e;
      }
      continue;
    }
    case '(':
      if (i + 1 < pattern.size() && pattern[i + 1] == '?')
        return regexError(pattern, "Python-only group syntax '(?...)' is not supported; use "
                                   "plain groups '(...)'");
      out += c;
      continue;
    case '?':
      // A `?` right after a quantifier makes it lazy in Python; whether a
      // full match exists does not depend on laziness, so drop it.
      if (afterQuantifier) {
        afterQuantifier = false;
        continue;
      }
      out += c;
      afterQuantifier = true;
      continue;
    case '*':
    case '+':
    case '}':
      out += c;
      afterQuantifier = true;
      continue;
    default:
      out += c;
    }
  }
  if (inBracket)
    return regexError(pattern, "unterminated character set '['");
  out += ")$";
  return out;
}

llvm::Expected<FullMatchRegex> FullMatchRegex::compile(llvm::StringRef pattern) {
  llvm::Expected<std::string> translated = translatePythonRegex(pattern);
  if (!translated)
    return translated.takeError();
  auto regex = std::make_unique<llvm::Regex>(*translated);
  std::string why;
  if (!regex->isValid(why))
    return regexError(pattern, why);
  return FullMatchRegex(pattern.str(), std::move(regex));
}

} // namespace qfx
