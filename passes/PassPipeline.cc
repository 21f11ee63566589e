//===- passes/PassPipeline.cc - The textual pipeline syntax ---------------===//
//
// A hand-written recursive-descent parser for pipelines (grammar below) and
// the canonical printer. Every error names what was expected at a column.
//
//   pipeline := ws [element (ws ',' ws element)*] ws
//   element  := name ws ['{' ws [option (sep option)*] ws '}']
//   option   := name [ws '=' ws value]
//   sep      := ws ',' ws | blank+
//   value    := '"' chars '"' | bare
//   name     := [A-Za-z0-9_.-]+          bare := [^ \t\n,{}"]+
//
//===----------------------------------------------------------------------===//
#include "passes/PassPipeline.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace qfx {
namespace {

bool isNameChar(char c) { return llvm::isAlnum(c) || c == '_' || c == '.' || c == '-'; }

class PipelineParser {
public:
  PipelineParser(llvm::StringRef text, const PassRegistry &registry, DiagnosticEngine &diagnostics,
                 llvm::StringRef sourceName)
      : text_(text), registry_(registry), diagnostics_(diagnostics), sourceName_(sourceName) {}

  bool parse(PassList &passes) {
    PassList parsed;
    skipBlanks();
    if (atEnd()) {
      return true;
    }
    while (true) {
      std::unique_ptr<Pass> pass = parseElement();
      if (!pass)
        return false;
      parsed.push_back(std::move(pass));
      skipBlanks();
      if (atEnd())
        break;
      if (peek() != ',')
        return error(pos_,
                     "expected ',' between passes or the end of the pipeline, found " + found());
      ++pos_;
      skipBlanks();
    }
    for (std::unique_ptr<Pass> &pass : parsed)
      passes.push_back(std::move(pass));
    return true;
  }

private:
  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[pos_]; }
  void skipBlanks() {
    while (!atEnd() && llvm::isSpace(text_[pos_]))
      ++pos_;
  }

  bool error(size_t position, const llvm::Twine &message) {
    Location location;
    location.file = sourceName_;
    location.line = 1;
    location.column = static_cast<unsigned>(position) + 1;
    diagnostics_.error(location, message);
    return false;
  }

  /// Describes the character at pos_ for "found ..." in messages.
  std::string found() const {
    if (atEnd())
      return "the end of the pipeline";
    char c = peek();
    if (!llvm::isPrint(c))
      return "byte 0x" + llvm::utohexstr(static_cast<unsigned char>(c), /*LowerCase=*/false, 2);
    return ("'" + llvm::Twine(c) + "'").str();
  }

  llvm::StringRef parseName() {
    size_t start = pos_;
    while (!atEnd() && isNameChar(text_[pos_]))
      ++pos_;
    return text_.slice(start, pos_);
  }

  std::unique_ptr<Pass> parseElement() {
    size_t nameStart = pos_;
    llvm::StringRef name = parseName();
    if (name.empty()) {
      error(pos_, "expected a pass name, found " + found());
      return nullptr;
    }
    std::unique_ptr<Pass> pass = registry_.create(name);
    if (!pass) {
      error(nameStart, registry_.unknownPassMessage(name));
      return nullptr;
    }
    skipBlanks();
    if (peek() == '{' && !parseOptions(*pass))
      return nullptr;
    return pass;
  }

  bool parseOptions(Pass &pass) {
    size_t openBrace = pos_;
    ++pos_; // '{'
    skipBlanks();
    llvm::SmallVector<const PassOptionBase *, 4> seen;
    while (peek() != '}') {
      if (atEnd())
        return error(openBrace, "missing '}' closing the options of pass '" + pass.name() + "'");
      if (!parseOption(pass, seen))
        return false;
      // Separator: a comma (with optional blanks) or at least one blank.
      size_t beforeBlanks = pos_;
      skipBlanks();
      if (peek() == ',') {
        ++pos_;
        skipBlanks();
        if (peek() == '}' || atEnd())
          return error(pos_, "expected an option name after ',', found " + found());
      } else if (peek() != '}' && !atEnd() && pos_ == beforeBlanks) {
        return error(pos_, "expected ' ', ',' or '}' after an option of pass '" + pass.name() +
                               "', found " + found());
      }
    }
    ++pos_; // '}'
    return true;
  }

  bool parseOption(Pass &pass, llvm::SmallVectorImpl<const PassOptionBase *> &seen) {
    size_t nameStart = pos_;
    llvm::StringRef name = parseName();
    if (name.empty())
      return error(pos_, "expected an option name of pass '" + pass.name() + "', found " + found());
    PassOptionBase *option = pass.findOption(name);
    if (!option)
      return error(nameStart, unknownOptionMessage(pass, name));
    if (llvm::is_contained(seen, option))
      return error(nameStart, "option '" + name + "' of pass '" + pass.name() + "' is given twice");
    seen.push_back(option);

    size_t afterName = pos_;
    skipBlanks();
    if (peek() != '=') {
      pos_ = afterName;
      if (option->allowsMissingValue()) {
        option->parse("true");
        return true;
      }
      return error(pos_, "missing value for option '" + name + "' of pass '" + pass.name() +
                             "': expected '=' and " + option->expectedValue());
    }
    ++pos_; // '='
    skipBlanks();
    size_t valueStart = pos_;
    std::string value;
    if (!parseValue(value))
      return false;
    if (!option->parse(value))
      return error(valueStart, invalidOptionValueMessage(pass, *option, value));
    return true;
  }

  bool parseValue(std::string &value) {
    if (peek() == '"') {
      size_t quote = pos_++;
      while (!atEnd() && text_[pos_] != '"') {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size())
          ++pos_;
        value += text_[pos_++];
      }
      if (atEnd())
        return error(quote, "unterminated quoted value (missing '\"')");
      ++pos_; // closing quote
      return true;
    }
    size_t start = pos_;
    while (!atEnd() && !llvm::isSpace(text_[pos_]) && !llvm::StringRef(",{}\"").contains(peek()))
      ++pos_;
    if (pos_ == start)
      return error(pos_, "expected a value after '=', found " + found());
    value = text_.slice(start, pos_).str();
    return true;
  }

  llvm::StringRef text_;
  const PassRegistry &registry_;
  DiagnosticEngine &diagnostics_;
  llvm::StringRef sourceName_;
  size_t pos_ = 0;
};

} // namespace

bool parsePassPipeline(llvm::StringRef text, const PassRegistry &registry, PassList &passes,
                       DiagnosticEngine &diagnostics, llvm::StringRef sourceName) {
  return PipelineParser(text, registry, diagnostics, sourceName).parse(passes);
}

void printPassPipeline(llvm::ArrayRef<std::unique_ptr<Pass>> passes, llvm::raw_ostream &os) {
  llvm::ListSeparator separator(",");
  for (const std::unique_ptr<Pass> &pass : passes) {
    os << separator;
    pass->printAsPipelineElement(os);
  }
}

std::string printPassPipeline(llvm::ArrayRef<std::unique_ptr<Pass>> passes) {
  std::string text;
  llvm::raw_string_ostream os(text);
  printPassPipeline(passes, os);
  return text;
}

} // namespace qfx
