//===- ir/Parser.cc - Reading the qfx IR text form ------------------------===//
//
// A hand-written lexer over the buffer and a recursive-descent parser for the
// grammar of docs/TextFormat.md. It is built for two kinds of input: large
// generated graphs (a million nodes must parse in about a second, so there is
// no regex, no stream, no per-token allocation, and parsed tensor types are
// cached by spelling) and hand-written or corrupted text (every malformed
// input, including binary junk and truncated files, ends in one diagnostic at
// file:line:col saying what was expected and what was found; nothing asserts).
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace qfx {

namespace {

/// Attribute lists and dictionaries nest recursively; a bound keeps hostile
/// input like a million '[' from overflowing the stack.
constexpr unsigned kMaxAttributeDepth = 256;

/// Buffer names must outlive every diagnostic that mentions them, and
/// diagnostics are often kept after a failed parse has dropped its graph, so
/// they are interned for the life of the process (there are few of them).
llvm::StringRef internFileName(llvm::StringRef name) {
  static std::mutex mutex;
  static llvm::StringSet<> *names = new llvm::StringSet<>(); // never freed: see above
  std::lock_guard<std::mutex> lock(mutex);
  return names->insert(name).first->getKey();
}

//===----------------------------------------------------------------------===//
// Lexer
//===----------------------------------------------------------------------===//

enum class TokenKind : uint8_t {
  EndOfFile,
  Error, // malformed token; Lexer::errorMessage() says why
  Identifier,
  ValueName,  // %name
  SymbolName, // @name
  Integer,
  Float,
  String,
  LParen,
  RParen,
  LBrace,
  RBrace,
  LSquare,
  RSquare,
  Less,
  Greater,
  Comma,
  Colon,
  Equal,
};

struct Token {
  TokenKind kind = TokenKind::EndOfFile;
  llvm::StringRef spelling;
  unsigned line = 0;
  unsigned column = 0;

  bool is(TokenKind other) const { return kind == other; }
  bool isKeyword(llvm::StringRef word) const {
    return kind == TokenKind::Identifier && spelling == word;
  }
};

bool isIdentifierStart(char c) { return llvm::isAlpha(c) || c == '_'; }
bool isIdentifierChar(char c) { return llvm::isAlnum(c) || c == '_' || c == '.'; }
/// Characters of `%value` and `@symbol` names: TorchScript debug names such as
/// `input.1` and qualified parameter names such as `layer1.0.conv1.weight`.
bool isNameChar(char c) { return llvm::isAlnum(c) || c == '_' || c == '.' || c == '$' || c == '-'; }

/// `'c'` for a printable character, `'\xNN'` otherwise, for messages.
std::string describeChar(const char *p, const char *end) {
  if (p == end)
    return "end of input";
  if (*p == '\n')
    return "end of line";
  unsigned char c = static_cast<unsigned char>(*p);
  if (c >= 0x20 && c < 0x7f)
    return std::string("'") + *p + "'";
  std::string text = "'\\x";
  text += llvm::hexdigit(c >> 4, /*LowerCase=*/true);
  text += llvm::hexdigit(c & 15, /*LowerCase=*/true);
  return text + "'";
}

class Lexer {
public:
  explicit Lexer(llvm::StringRef buffer)
      : cur_(buffer.begin()), end_(buffer.end()), lineStart_(buffer.begin()) {}

  Token lex();

  /// Why the last Error token is malformed.
  const std::string &errorMessage() const { return error_; }

  // Character-level access for tensor types, whose bodies (`1x?xf32`) are not
  // made of ordinary tokens. Only valid within the current line.
  const char *position() const { return cur_; }
  const char *end() const { return end_; }
  void setPosition(const char *position) { cur_ = position; }
  unsigned line() const { return line_; }
  unsigned columnOf(const char *p) const { return static_cast<unsigned>(p - lineStart_) + 1; }

private:
  Token make(TokenKind kind, const char *start) {
    return Token{kind, llvm::StringRef(start, cur_ - start), line_, columnOf(start)};
  }
  /// An Error token spanning from `start`, reported at `at`.
  Token makeError(const char *start, const char *at, std::string message) {
    error_ = std::move(message);
    Token token = make(TokenKind::Error, start);
    token.column = columnOf(at);
    return token;
  }
  void skipWhitespaceAndComments();
  Token lexIdentifier(const char *start);
  Token lexName(const char *start, TokenKind kind);
  Token lexNumber(const char *start);
  Token lexString(const char *start);

  const char *cur_;
  const char *end_;
  const char *lineStart_;
  unsigned line_ = 1;
  std::string error_;
};

void Lexer::skipWhitespaceAndComments() {
  while (cur_ != end_) {
    char c = *cur_;
    if (c == '\n') {
      ++cur_;
      ++line_;
      lineStart_ = cur_;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
      ++cur_;
    } else if (c == '/' && cur_ + 1 != end_ && cur_[1] == '/') {
      // Leave the newline for the branch above so line counting stays in one place.
      const void *newline = std::memchr(cur_, '\n', end_ - cur_);
      cur_ = newline ? static_cast<const char *>(newline) : end_;
    } else {
      return;
    }
  }
}

Token Lexer::lex() {
  skipWhitespaceAndComments();
  const char *start = cur_;
  if (cur_ == end_)
    return make(TokenKind::EndOfFile, start);
  char c = *cur_++;
  switch (c) {
  case '(':
    return make(TokenKind::LParen, start);
  case ')':
    return make(TokenKind::RParen, start);
  case '{':
    return make(TokenKind::LBrace, start);
  case '}':
    return make(TokenKind::RBrace, start);
  case '[':
    return make(TokenKind::LSquare, start);
  case ']':
    return make(TokenKind::RSquare, start);
  case '<':
    return make(TokenKind::Less, start);
  case '>':
    return make(TokenKind::Greater, start);
  case ',':
    return make(TokenKind::Comma, start);
  case ':':
    return make(TokenKind::Colon, start);
  case '=':
    return make(TokenKind::Equal, start);
  case '%':
    return lexName(start, TokenKind::ValueName);
  case '@':
    return lexName(start, TokenKind::SymbolName);
  case '"':
    return lexString(start);
  case '-':
    if (cur_ != end_ && llvm::isDigit(*cur_))
      return lexNumber(start);
    if (end_ - cur_ >= 3 && llvm::StringRef(cur_, 3) == "inf" &&
        (end_ - cur_ == 3 || !isIdentifierChar(cur_[3]))) {
      cur_ += 3;
      return make(TokenKind::Float, start);
    }
    return makeError(start, start,
                     "expected a digit or 'inf' after '-', found " + describeChar(cur_, end_));
  case '/':
    return makeError(start, start, "unexpected character '/' (comments start with '//')");
  default:
    if (llvm::isDigit(c))
      return lexNumber(start);
    if (isIdentifierStart(c))
      return lexIdentifier(start);
    return makeError(start, start, "unexpected character " + describeChar(start, end_));
  }
}

Token Lexer::lexIdentifier(const char *start) {
  // `::` belongs to the identifier only between two segments (aten::conv2d),
  // so `x::` followed by a space still ends at `x`.
  while (cur_ != end_) {
    if (isIdentifierChar(*cur_)) {
      ++cur_;
    } else if (*cur_ == ':' && end_ - cur_ >= 3 && cur_[1] == ':' && isIdentifierStart(cur_[2])) {
      cur_ += 2;
    } else {
      break;
    }
  }
  return make(TokenKind::Identifier, start);
}

Token Lexer::lexName(const char *start, TokenKind kind) {
  while (cur_ != end_ && isNameChar(*cur_))
    ++cur_;
  if (cur_ == start + 1)
    return makeError(start, start,
                     std::string("expected a name after '") + *start + "' (letters, digits, " +
                         "'_', '.', '$' or '-'), found " + describeChar(cur_, end_));
  return make(kind, start);
}

Token Lexer::lexNumber(const char *start) {
  // -?[0-9]+(.[0-9]*)?([eE][+-]?[0-9]+)?  -- a float needs '.' or an exponent.
  bool isFloat = false;
  while (cur_ != end_ && llvm::isDigit(*cur_))
    ++cur_;
  if (cur_ != end_ && *cur_ == '.') {
    isFloat = true;
    ++cur_;
    while (cur_ != end_ && llvm::isDigit(*cur_))
      ++cur_;
  }
  if (cur_ != end_ && (*cur_ == 'e' || *cur_ == 'E')) {
    const char *exponent = cur_ + 1;
    if (exponent != end_ && (*exponent == '+' || *exponent == '-'))
      ++exponent;
    if (exponent == end_ || !llvm::isDigit(*exponent))
      return makeError(start, exponent,
                       "expected exponent digits in number, found " + describeChar(exponent, end_));
    isFloat = true;
    cur_ = exponent;
    while (cur_ != end_ && llvm::isDigit(*cur_))
      ++cur_;
  }
  if (cur_ != end_ && isIdentifierChar(*cur_))
    return makeError(start, cur_,
                     "unexpected character " + describeChar(cur_, end_) + " in number");
  return make(isFloat ? TokenKind::Float : TokenKind::Integer, start);
}

Token Lexer::lexString(const char *start) {
  while (true) {
    if (cur_ == end_)
      return makeError(start, start, "unterminated string: missing closing '\"'");
    char c = *cur_;
    if (c == '"') {
      ++cur_;
      return make(TokenKind::String, start);
    }
    if (c == '\n')
      return makeError(start, start,
                       "unterminated string: missing closing '\"' before the end of the line");
    if (c != '\\') {
      ++cur_;
      continue;
    }
    if (cur_ + 1 == end_)
      return makeError(start, start, "unterminated string: missing closing '\"'");
    char escape = cur_[1];
    if (escape == '"' || escape == '\\' || escape == 'n' || escape == 't') {
      cur_ += 2;
    } else if (escape == 'x' && end_ - cur_ >= 4 && llvm::isHexDigit(cur_[2]) &&
               llvm::isHexDigit(cur_[3])) {
      cur_ += 4;
    } else if (escape == 'x') {
      return makeError(start, cur_, "expected two hex digits after '\\x' in string");
    } else {
      return makeError(start, cur_,
                       "unknown escape sequence '\\" + describeChar(cur_ + 1, end_).substr(1) +
                           " in string (valid: \\\" \\\\ \\n \\t \\xNN)");
    }
  }
}

/// Contents of a String token (escapes already validated by the lexer).
void decodeString(llvm::StringRef spelling, std::string &out) {
  llvm::StringRef body = spelling.drop_front().drop_back();
  out.clear();
  if (body.find('\\') == llvm::StringRef::npos) {
    out.assign(body.begin(), body.end());
    return;
  }
  out.reserve(body.size());
  for (size_t i = 0, e = body.size(); i < e; ++i) {
    char c = body[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    char escape = body[++i];
    switch (escape) {
    case 'n':
      out += '\n';
      break;
    case 't':
      out += '\t';
      break;
    case 'x':
      out += static_cast<char>(llvm::hexDigitValue(body[i + 1]) * 16 +
                               llvm::hexDigitValue(body[i + 2]));
      i += 2;
      break;
    default: // '"' and '\\'
      out += escape;
    }
  }
}

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

class Parser {
public:
  Parser(llvm::StringRef buffer, llvm::StringRef bufferName, DiagnosticEngine &diagnostics)
      : lexer_(buffer), diagnostics_(diagnostics), file_(internFileName(bufferName)),
        maxDenseNumber_(buffer.size() / 8) {}

  std::unique_ptr<Graph> parse();

private:
  // Where a value was defined (the file is always file_); value is null for
  // an unused slot of the dense table.
  struct Definition {
    Value *value = nullptr;
    unsigned line = 0;
    unsigned column = 0;
  };
  // A use of a name not defined (yet): resolved into an error either when the
  // name is defined later ("used before it is defined") or at the end.
  struct ForwardReference {
    Value *placeholder;
    unsigned line;
    unsigned column;
  };
  // The optional clauses after a node's types. Strings point into the buffer
  // unless they had escapes (then into the *Storage members).
  struct NodeClauses {
    bool hasModule = false;
    llvm::StringRef modulePath, moduleType;
    std::string modulePathStorage, moduleTypeStorage;
    bool hasLoc = false;
    llvm::StringRef locFile;
    std::string locFileStorage;
    unsigned locLine = 0, locColumn = 0;
    bool hasQuant = false;
    AttributeList quantInputs;
    Attribute quantOutput;
    std::vector<int64_t> quantInputGroups;
    int64_t quantOutputGroup = -1;
  };

  void consume() { token_ = lexer_.lex(); }
  Location location(unsigned line, unsigned column) const { return {file_, line, column}; }
  Location location(const Token &token) const { return location(token.line, token.column); }

  // Diagnostics. All return false so that `return error(...)` fails a parse.
  bool error(Location at, const llvm::Twine &message);
  /// Error at `token`; a malformed (Error) token reports the lexer's reason instead.
  bool errorAt(const Token &token, const llvm::Twine &message);
  /// "expected <what>, found <current token>".
  bool expected(const llvm::Twine &what);
  bool expect(TokenKind kind, const llvm::Twine &what);
  std::string describe(const Token &token) const;

  // Grammar.
  bool parseGraphHeader();
  bool parseInput();
  bool parseBody();
  bool parseParameter(bool isBuffer);
  bool parseNode();
  bool parseClauses(NodeClauses &clauses);
  bool parseReturn();
  bool parseType(Type &type);
  bool parseTensorType(Type &type);
  bool parseListType(Type &type);
  bool parseValueUse(Value *&value, const char *context);
  bool parseAttribute(Attribute &attribute, unsigned depth);
  bool parseAttributeList(AttributeList &list, unsigned depth);
  bool parseAttributeDict(AttributeDict &dict, unsigned depth);
  bool parseInteger(const Token &token, int64_t &value);
  bool parseFloat(const Token &token, double &value);
  bool parseUnsigned(unsigned &value, const char *what);
  /// A string token's contents: a slice of the buffer when it has no escapes
  /// (the common case, no copy), else decoded into `storage`.
  bool parseString(llvm::StringRef &value, std::string &storage, const llvm::Twine &what);

  // Symbols: inputs, parameters and results share one namespace.
  bool checkUndefined(llvm::StringRef name, const Token &token, bool isParameter = false);
  /// The definition of `name`, or null.
  Definition *findDefinition(llvm::StringRef name);
  /// The slot for `name`, which must not be defined yet.
  Definition &addDefinition(llvm::StringRef name);
  /// Whether `name` is an SSA number kept in the dense table, and which.
  bool isDenseNumber(llvm::StringRef name, size_t &number) const;
  bool define(llvm::StringRef name, Value *value, unsigned line, unsigned column);

  Lexer lexer_;
  Token token_;
  DiagnosticEngine &diagnostics_;
  llvm::StringRef file_; // process-interned, for diagnostics
  std::unique_ptr<Graph> graph_;
  // Symbols. Most names are SSA numbers: those index a vector (no hashing,
  // no string compares); the bound is state-independent and scales with the
  // buffer, so `%999999999` in a small file cannot make it allocate much.
  // Other names go to a map whose keys point into the source buffer, which
  // outlives the parser.
  size_t maxDenseNumber_;
  std::vector<Definition> numberedSymbols_;
  llvm::DenseMap<llvm::StringRef, Definition> namedSymbols_;
  llvm::DenseMap<llvm::StringRef, ForwardReference> forwardReferences_;
  llvm::StringRef firstForwardReference_; // the earliest pending one, for the final error
  /// Owns the placeholder values of forward references: they never enter
  /// graph_, and any graph holding one is discarded because the parse fails.
  std::unique_ptr<Graph> placeholders_;
  /// Parsed tensor types by the spelling between '<' and '>'.
  llvm::StringMap<Type> tensorTypes_;
  /// Flat attribute lists (`[1, 1]`) by spelling: attributes are immutable
  /// and share their storage, so every `stride = [1, 1]` of a graph can be
  /// one list, parsed and allocated once.
  llvm::StringMap<Attribute> flatLists_;
  std::string scratch_;
};

bool Parser::error(Location at, const llvm::Twine &message) {
  diagnostics_.error(at, message);
  return false;
}

bool Parser::errorAt(const Token &token, const llvm::Twine &message) {
  if (token.is(TokenKind::Error))
    return error(location(token), lexer_.errorMessage());
  return error(location(token), message);
}

std::string Parser::describe(const Token &token) const {
  if (token.is(TokenKind::EndOfFile))
    return "end of input";
  llvm::StringRef text = token.spelling;
  // Long strings and names are cut: the column already says where they are.
  if (text.size() > 40)
    return "'" + text.take_front(37).str() + "...'";
  return "'" + text.str() + "'";
}

bool Parser::expected(const llvm::Twine &what) {
  return errorAt(token_, "expected " + what + ", found " + describe(token_));
}

bool Parser::expect(TokenKind kind, const llvm::Twine &what) {
  if (!token_.is(kind))
    return expected(what);
  consume();
  return true;
}

std::unique_ptr<Graph> Parser::parse() {
  consume();
  if (!parseGraphHeader() || !parseBody())
    return nullptr;
  if (!forwardReferences_.empty()) {
    const ForwardReference &first = forwardReferences_.find(firstForwardReference_)->second;
    error(location(first.line, first.column),
          "use of undefined value '%" + firstForwardReference_ + "'");
    return nullptr;
  }
  if (!token_.is(TokenKind::EndOfFile)) {
    expected("end of input after the graph's closing '}' (one graph per buffer)");
    return nullptr;
  }
  return std::move(graph_);
}

bool Parser::parseGraphHeader() {
  if (!token_.isKeyword("graph"))
    return expected("'graph'");
  consume();
  if (!token_.is(TokenKind::SymbolName))
    return expected("graph name (like '@main') after 'graph'");
  graph_ = std::make_unique<Graph>(token_.spelling.drop_front());
  consume();
  if (!expect(TokenKind::LParen, "'(' to begin the input list"))
    return false;
  if (!token_.is(TokenKind::RParen)) {
    while (true) {
      if (!parseInput())
        return false;
      if (!token_.is(TokenKind::Comma))
        break;
      consume();
    }
  }
  if (!expect(TokenKind::RParen, "',' or ')' after graph input"))
    return false;
  return expect(TokenKind::LBrace, "'{' to begin the graph body");
}

bool Parser::parseInput() {
  if (!token_.is(TokenKind::ValueName))
    return expected("graph input name (like '%x')");
  Token nameToken = token_;
  llvm::StringRef name = nameToken.spelling.drop_front();
  if (!checkUndefined(name, nameToken))
    return false;
  consume();
  if (!expect(TokenKind::Colon, "':' and a type after input '" + nameToken.spelling + "'"))
    return false;
  Type type;
  if (!parseType(type))
    return false;
  return define(name, graph_->addInput(name, std::move(type)), nameToken.line, nameToken.column);
}

bool Parser::parseBody() {
  while (true) {
    switch (token_.kind) {
    case TokenKind::ValueName:
      if (!parseNode())
        return false;
      continue;
    case TokenKind::Identifier: {
      llvm::StringRef word = token_.spelling;
      if (word == "return")
        return parseReturn();
      if (word == "param" || word == "buffer") {
        if (!parseParameter(word == "buffer"))
          return false;
        continue;
      }
      if (word.contains("::") || word.contains('.')) {
        if (!parseNode())
          return false;
        continue;
      }
      if (word == "module" || word == "loc" || word == "quant")
        return errorAt(token_, "unexpected '" + word +
                                   "' clause: a node's clauses come in the order module(...), "
                                   "loc(...), quant(...), each at most once");
      return errorAt(token_, "expected an operation (a name with a dialect prefix, like "
                             "'aten::relu'), 'param', 'buffer' or 'return', found " +
                                 describe(token_));
    }
    case TokenKind::RBrace:
      return errorAt(token_, "expected 'return' before '}': a graph body ends with 'return'");
    default:
      return expected("an operation, 'param', 'buffer' or 'return'");
    }
  }
}

bool Parser::parseParameter(bool isBuffer) {
  llvm::StringRef keyword = token_.spelling;
  consume();
  if (!token_.is(TokenKind::ValueName))
    return expected("name (like '%conv1.weight') after '" + keyword + "'");
  Token nameToken = token_;
  llvm::StringRef name = nameToken.spelling.drop_front();
  if (!checkUndefined(name, nameToken, /*isParameter=*/true))
    return false;
  consume();
  if (!expect(TokenKind::Colon,
              "':' and a type after " + keyword + " '" + nameToken.spelling + "'"))
    return false;
  Type type;
  if (!parseType(type))
    return false;
  // checkUndefined ruled out any clash, so addParameter cannot refuse the name.
  Value *value = graph_->addParameter(name, std::move(type), isBuffer);
  return define(name, value, nameToken.line, nameToken.column);
}

bool Parser::parseNode() {
  Token first = token_;

  // Result names: checked against earlier definitions now (so the error
  // points at them), defined only once the node exists.
  llvm::SmallVector<Token, 2> results;
  if (token_.is(TokenKind::ValueName)) {
    llvm::SmallDenseSet<llvm::StringRef, 4> seen;
    while (true) {
      if (!token_.is(TokenKind::ValueName))
        return expected("result name after ','");
      llvm::StringRef name = token_.spelling.drop_front();
      if (!checkUndefined(name, token_))
        return false;
      if (!seen.insert(name).second)
        return errorAt(token_, "result '" + token_.spelling +
                                   "' appears twice in the result list of one node");
      results.push_back(token_);
      consume();
      if (!token_.is(TokenKind::Comma))
        break;
      consume();
    }
    if (!expect(TokenKind::Equal, "',' or '=' after result name"))
      return false;
  }

  if (!token_.is(TokenKind::Identifier) ||
      !(token_.spelling.contains("::") || token_.spelling.contains('.')))
    return expected("operation name with a dialect prefix (like 'aten::relu')");
  const OpInfo *op = lookupOp(token_.spelling);
  consume();

  llvm::SmallVector<Value *, 4> operands;
  if (!expect(TokenKind::LParen, "'(' to begin the operand list of '" + op->name + "'"))
    return false;
  if (!token_.is(TokenKind::RParen)) {
    while (true) {
      Value *operand;
      if (!parseValueUse(operand, "operand"))
        return false;
      operands.push_back(operand);
      if (!token_.is(TokenKind::Comma))
        break;
      consume();
    }
  }
  if (!expect(TokenKind::RParen, "')' to close operand list"))
    return false;

  AttributeDict attributes;
  if (token_.is(TokenKind::LBrace) && !parseAttributeDict(attributes, 0))
    return false;

  llvm::SmallVector<Type, 2> types;
  size_t numResults = results.size();
  if (numResults != 0) {
    Token colon = token_;
    if (!expect(TokenKind::Colon,
                "':' and " + llvm::Twine(numResults) + " result type(s) after '" + op->name + "'"))
      return false;
    // Read the whole list, then compare: the error can then say both counts
    // and point at the first surplus type (or at the ':' when types are missing).
    types.reserve(numResults);
    Token surplus;
    while (true) {
      if (types.size() == numResults)
        surplus = token_;
      types.emplace_back();
      if (!parseType(types.back()))
        return false;
      if (!token_.is(TokenKind::Comma))
        break;
      consume();
    }
    if (types.size() != numResults)
      return errorAt(types.size() > numResults ? surplus : colon,
                     "'" + op->name + "' defines " + llvm::Twine(numResults) + " result" +
                         (numResults == 1 ? "" : "s") + " but " + llvm::Twine(types.size()) +
                         " result type" + (types.size() == 1 ? " is" : "s are") +
                         " given; write one type per result");
  } else if (token_.is(TokenKind::Colon)) {
    return errorAt(token_, "unexpected ':': '" + op->name +
                               "' defines no results, so it takes no result types");
  }

  NodeClauses clauses;
  if (!parseClauses(clauses))
    return false;

  Node *node = graph_->createNode(op, operands, types);
  graph_->append(node);
  // The process-interned name, not one owned by the graph: diagnostics about
  // this node may be reported after the graph is gone (qfx-opt reports
  // unexpected diagnostics under --verify-diagnostics at the end).
  node->setTextLocation({file_, first.line, first.column});
  if (!attributes.empty())
    node->setAttributes(std::move(attributes));
  if (clauses.hasModule)
    node->setModule(clauses.modulePath, clauses.moduleType);
  if (clauses.hasLoc)
    node->setSourceLocation(clauses.locFile, clauses.locLine, clauses.locColumn);
  if (clauses.hasQuant) {
    QuantAnnotation &quant = node->getOrCreateQuant();
    quant.inputs.assign(clauses.quantInputs.begin(), clauses.quantInputs.end());
    quant.output = std::move(clauses.quantOutput);
    quant.inputGroups.assign(clauses.quantInputGroups.begin(), clauses.quantInputGroups.end());
    quant.outputGroup = clauses.quantOutputGroup;
  }
  for (unsigned i = 0; i != numResults; ++i) {
    llvm::StringRef name = results[i].spelling.drop_front();
    Value *result = node->result(i);
    // `%12` is only an SSA number; anything else is a name the user chose.
    if (!llvm::all_of(name, llvm::isDigit))
      result->setName(name);
    if (!define(name, result, results[i].line, results[i].column))
      return false;
  }
  return true;
}

bool Parser::parseClauses(NodeClauses &clauses) {
  if (token_.isKeyword("module")) {
    consume();
    if (!expect(TokenKind::LParen, "'(' after 'module'") ||
        !parseString(clauses.modulePath, clauses.modulePathStorage, "module path string") ||
        !expect(TokenKind::Comma, "',' after the module path") ||
        !parseString(clauses.moduleType, clauses.moduleTypeStorage, "module type string") ||
        !expect(TokenKind::RParen, "')' to close module(...)"))
      return false;
    clauses.hasModule = true;
  }
  if (token_.isKeyword("loc")) {
    consume();
    if (!expect(TokenKind::LParen, "'(' after 'loc'") ||
        !parseString(clauses.locFile, clauses.locFileStorage, "file name string") ||
        !expect(TokenKind::Colon, "':' after the file name") ||
        !parseUnsigned(clauses.locLine, "line number") ||
        !expect(TokenKind::Colon, "':' after the line number") ||
        !parseUnsigned(clauses.locColumn, "column number") ||
        !expect(TokenKind::RParen, "')' to close loc(...)"))
      return false;
    clauses.hasLoc = true;
  }
  if (token_.isKeyword("quant")) {
    consume();
    if (!expect(TokenKind::LParen, "'(' after 'quant'"))
      return false;
    if (!token_.isKeyword("inputs"))
      return expected("'inputs' in quant(...)");
    consume();
    if (!expect(TokenKind::Equal, "'=' after 'inputs'"))
      return false;
    if (!token_.is(TokenKind::LSquare))
      return expected("'[' to begin the list of input specs");
    if (!parseAttributeList(clauses.quantInputs, 1))
      return false;
    if (!expect(TokenKind::Comma, "',' and 'output' after the input specs"))
      return false;
    if (!token_.isKeyword("output"))
      return expected("'output' in quant(...)");
    consume();
    if (!expect(TokenKind::Equal, "'=' after 'output'") || !parseAttribute(clauses.quantOutput, 1))
      return false;
    // Optional observer groups: `, groups = [0, -1], output_group = 1`.
    if (token_.is(TokenKind::Comma)) {
      consume();
      if (!token_.isKeyword("groups"))
        return expected("'groups' in quant(...)");
      consume();
      if (!expect(TokenKind::Equal, "'=' after 'groups'"))
        return false;
      if (!token_.is(TokenKind::LSquare))
        return expected("'[' to begin the list of observer groups");
      Token groupsToken = token_;
      AttributeList groups;
      if (!parseAttributeList(groups, 1))
        return false;
      for (const Attribute &group : groups) {
        if (!group.isInt() || group.getInt() < -1)
          return errorAt(groupsToken, "observer groups must be integers >= -1 (-1: none)");
        clauses.quantInputGroups.push_back(group.getInt());
      }
      if (!expect(TokenKind::Comma, "',' and 'output_group' after the groups"))
        return false;
      if (!token_.isKeyword("output_group"))
        return expected("'output_group' in quant(...)");
      consume();
      Token outputGroupToken = token_;
      Attribute outputGroup;
      if (!expect(TokenKind::Equal, "'=' after 'output_group'") || !parseAttribute(outputGroup, 1))
        return false;
      if (!outputGroup.isInt() || outputGroup.getInt() < -1)
        return errorAt(outputGroupToken, "'output_group' must be an integer >= -1 (-1: none)");
      clauses.quantOutputGroup = outputGroup.getInt();
    }
    if (!expect(TokenKind::RParen, "')' to close quant(...)"))
      return false;
    clauses.hasQuant = true;
  }
  return true;
}

bool Parser::parseReturn() {
  consume();
  llvm::SmallVector<Value *, 4> outputs;
  if (token_.is(TokenKind::ValueName)) {
    while (true) {
      Value *value;
      if (!parseValueUse(value, "returned value"))
        return false;
      outputs.push_back(value);
      if (!token_.is(TokenKind::Comma))
        break;
      consume();
    }
  }
  if (!expect(TokenKind::RBrace, "'}' to end the graph after 'return'"))
    return false;
  for (Value *value : outputs)
    graph_->addOutput(value);
  return true;
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

bool Parser::parseType(Type &type) {
  if (token_.is(TokenKind::Identifier)) {
    llvm::StringRef word = token_.spelling;
    if (word == "tensor")
      return parseTensorType(type);
    if (word == "list")
      return parseListType(type);
    bool known = true;
    if (word == "int")
      type = Type::integer();
    else if (word == "float")
      type = Type::floating();
    else if (word == "bool")
      type = Type::boolean();
    else if (word == "str")
      type = Type::string();
    else if (word == "none")
      type = Type::none();
    else if (word == "any")
      type = Type::any();
    else
      known = false;
    if (known) {
      consume();
      return true;
    }
  }
  return expected("type (tensor<...>, int, float, bool, str, none, any or list<...>)");
}

bool Parser::parseTensorType(Type &type) {
  // The token is `tensor`; the lexer stands right after it.
  const char *p = lexer_.position();
  const char *end = lexer_.end();
  unsigned line = lexer_.line();
  auto errorAtChar = [&](const char *at, const llvm::Twine &message) {
    return error(location(line, lexer_.columnOf(at)), message);
  };
  if (p == end || *p != '<')
    return errorAtChar(p, "expected '<' right after 'tensor', found " + describeChar(p, end));
  const char *body = p + 1;

  // Graphs repeat a handful of types over and over: look the spelling up first.
  const char *close = body;
  while (close != end && *close != '>' && *close != '\n')
    ++close;
  llvm::StringRef spelling(body, close - body);
  if (close != end && *close == '>') {
    auto it = tensorTypes_.find(spelling);
    if (it != tensorTypes_.end()) {
      type = it->second;
      lexer_.setPosition(close + 1);
      consume();
      return true;
    }
  }

  const char *c = body;
  bool ranked = true;
  llvm::SmallVector<int64_t, 4> shape;
  if (c != end && *c == '*') {
    if (c + 1 == end || c[1] != 'x')
      return errorAtChar(c + 1, "expected 'x' after '*' in unranked tensor type, found " +
                                    describeChar(c + 1, end));
    ranked = false;
    c += 2;
  } else {
    // Dimensions are `N` or `?`, each followed by 'x'; a '?' not followed by
    // 'x' is the unknown element type.
    while (c != end) {
      if (llvm::isDigit(*c)) {
        const char *dimStart = c;
        uint64_t dim = 0;
        for (; c != end && llvm::isDigit(*c); ++c) {
          dim = dim * 10 + (*c - '0');
          if (dim > static_cast<uint64_t>(INT64_MAX))
            return errorAtChar(dimStart, "tensor dimension is too large (must fit in int64)");
        }
        if (c == end || *c != 'x')
          return errorAtChar(c, "expected 'x' after dimension in tensor type, found " +
                                    describeChar(c, end));
        shape.push_back(static_cast<int64_t>(dim));
        ++c;
      } else if (*c == '?' && c + 1 != end && c[1] == 'x') {
        shape.push_back(Type::kDynamic);
        c += 2;
      } else {
        break;
      }
    }
  }
  const char *dtypeStart = c;
  while (c != end && (llvm::isAlnum(*c) || *c == '_' || *c == '?'))
    ++c;
  llvm::StringRef dtypeName(dtypeStart, c - dtypeStart);
  if (dtypeName.empty())
    return errorAtChar(c, "expected element type in tensor type, found " + describeChar(c, end));
  std::optional<DType> dtype = parseDType(dtypeName);
  if (!dtype)
    return errorAtChar(dtypeStart, "unknown element type '" + dtypeName + "'; expected one of " +
                                       allDTypeNames() + " or '?'");
  if (c == end || *c != '>')
    return errorAtChar(c, "expected '>' to close tensor type, found " + describeChar(c, end));
  type = ranked ? Type::rankedTensor(*dtype, shape) : Type::unrankedTensor(*dtype);
  // The parse ended at the first '>', the one the cache key ended at.
  tensorTypes_.try_emplace(spelling, type);
  lexer_.setPosition(c + 1);
  consume();
  return true;
}

bool Parser::parseListType(Type &type) {
  consume();
  if (!expect(TokenKind::Less, "'<' after 'list'"))
    return false;
  static constexpr Type::Kind kKinds[] = {Type::Kind::Any,   Type::Kind::Tensor, Type::Kind::Int,
                                          Type::Kind::Float, Type::Kind::Bool,   Type::Kind::String,
                                          Type::Kind::None,  Type::Kind::List};
  if (token_.is(TokenKind::Identifier)) {
    for (Type::Kind kind : kKinds) {
      if (token_.spelling == kindName(kind)) {
        consume();
        type = Type::list(kind);
        return expect(TokenKind::Greater, "'>' to close list type");
      }
    }
  }
  return expected("list element kind (tensor, int, float, bool, str, none, any or list)");
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

bool Parser::parseValueUse(Value *&value, const char *context) {
  if (!token_.is(TokenKind::ValueName))
    return expected(llvm::Twine(context) + " (like '%x')");
  llvm::StringRef name = token_.spelling.drop_front();
  if (Definition *definition = findDefinition(name)) {
    value = definition->value;
    consume();
    return true;
  }
  // Not defined yet: keep parsing with a placeholder so that a later
  // definition can be reported as "used before it is defined".
  auto inserted = forwardReferences_.try_emplace(name, ForwardReference{nullptr, 0, 0});
  ForwardReference &reference = inserted.first->second;
  if (inserted.second) {
    if (!placeholders_)
      placeholders_ = std::make_unique<Graph>("placeholders");
    reference = {placeholders_->addInput(name, Type::any()), token_.line, token_.column};
    if (firstForwardReference_.empty())
      firstForwardReference_ = name;
  }
  value = reference.placeholder;
  consume();
  return true;
}

bool Parser::isDenseNumber(llvm::StringRef name, size_t &number) const {
  // Canonical decimal only: `%007` is a name distinct from `%7`.
  if (name.size() > 18 || (name.size() > 1 && name[0] == '0'))
    return false;
  number = 0;
  for (char c : name) {
    if (!llvm::isDigit(c))
      return false;
    number = number * 10 + (c - '0');
  }
  return number < maxDenseNumber_;
}

Parser::Definition *Parser::findDefinition(llvm::StringRef name) {
  size_t number;
  if (isDenseNumber(name, number)) {
    if (number >= numberedSymbols_.size() || !numberedSymbols_[number].value)
      return nullptr;
    return &numberedSymbols_[number];
  }
  auto it = namedSymbols_.find(name);
  return it == namedSymbols_.end() ? nullptr : &it->second;
}

Parser::Definition &Parser::addDefinition(llvm::StringRef name) {
  size_t number;
  if (isDenseNumber(name, number)) {
    if (number >= numberedSymbols_.size())
      numberedSymbols_.resize(
          std::min(std::max(number + 1, numberedSymbols_.size() * 2), maxDenseNumber_));
    return numberedSymbols_[number];
  }
  return namedSymbols_[name];
}

bool Parser::checkUndefined(llvm::StringRef name, const Token &token, bool isParameter) {
  const Definition *found = findDefinition(name);
  if (!found)
    return true;
  const Definition &previous = *found;
  Diagnostic diagnostic;
  diagnostic.location = location(token);
  if (isParameter && previous.value->isParameter())
    diagnostic.message = "duplicate parameter name '%" + name.str() + "'";
  else
    diagnostic.message = "redefinition of value '%" + name.str() + "'";
  diagnostic.notes.push_back(Diagnostic{Severity::Note,
                                        location(previous.line, previous.column),
                                        "previous definition of '%" + name.str() + "' is here",
                                        {}});
  diagnostics_.emit(std::move(diagnostic));
  return false;
}

bool Parser::define(llvm::StringRef name, Value *value, unsigned line, unsigned column) {
  addDefinition(name) = Definition{value, line, column};
  if (forwardReferences_.empty())
    return true;
  auto it = forwardReferences_.find(name);
  if (it == forwardReferences_.end())
    return true;
  Diagnostic diagnostic;
  diagnostic.location = location(it->second.line, it->second.column);
  diagnostic.message = "value '%" + name.str() + "' is used before it is defined";
  diagnostic.notes.push_back(Diagnostic{
      Severity::Note, location(line, column), "'%" + name.str() + "' is defined here", {}});
  diagnostics_.emit(std::move(diagnostic));
  return false;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

bool Parser::parseInteger(const Token &token, int64_t &value) {
  llvm::StringRef digits = token.spelling;
  bool negative = digits.consume_front("-");
  // Magnitude limit: INT64_MAX, or one more for INT64_MIN.
  uint64_t limit = static_cast<uint64_t>(INT64_MAX) + (negative ? 1 : 0);
  uint64_t magnitude = 0;
  for (char c : digits) {
    unsigned digit = c - '0';
    if (magnitude > (limit - digit) / 10)
      return errorAt(token, "integer " + describe(token) + " is out of range for int64");
    magnitude = magnitude * 10 + digit;
  }
  value = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

bool Parser::parseFloat(const Token &token, double &value) {
  // strtod needs a terminated string; the buffer is not cut at the token.
  llvm::SmallString<32> text(token.spelling);
  const char *begin = text.c_str();
  char *end = nullptr;
  errno = 0;
  value = std::strtod(begin, &end);
  if (end != begin + text.size())
    return errorAt(token, "malformed float " + describe(token));
  if (errno == ERANGE && std::isinf(value))
    return errorAt(token, "float " + describe(token) + " is out of range for a double");
  return true;
}

bool Parser::parseUnsigned(unsigned &value, const char *what) {
  int64_t number;
  if (!token_.is(TokenKind::Integer))
    return expected(what);
  if (!parseInteger(token_, number))
    return false;
  if (number < 0 || number > UINT32_MAX)
    return errorAt(token_, llvm::Twine(what) + " " + describe(token_) +
                               " is out of range (0 to 4294967295)");
  value = static_cast<unsigned>(number);
  consume();
  return true;
}

bool Parser::parseString(llvm::StringRef &value, std::string &storage, const llvm::Twine &what) {
  if (!token_.is(TokenKind::String))
    return expected(what);
  llvm::StringRef body = token_.spelling.drop_front().drop_back();
  if (body.contains('\\')) {
    decodeString(token_.spelling, storage);
    value = storage;
  } else {
    value = body;
  }
  consume();
  return true;
}

bool Parser::parseAttribute(Attribute &attribute, unsigned depth) {
  switch (token_.kind) {
  case TokenKind::Integer: {
    int64_t value;
    if (!parseInteger(token_, value))
      return false;
    attribute = Attribute::integer(value);
    consume();
    return true;
  }
  case TokenKind::Float: {
    double value;
    if (!parseFloat(token_, value))
      return false;
    attribute = Attribute::floating(value);
    consume();
    return true;
  }
  case TokenKind::String:
    decodeString(token_.spelling, scratch_);
    attribute = Attribute::string(scratch_);
    consume();
    return true;
  case TokenKind::SymbolName:
    attribute = Attribute::tensorRef(token_.spelling.drop_front().str());
    consume();
    return true;
  case TokenKind::LSquare: {
    // A short list on one line without strings, comments or nesting is
    // looked up by its spelling first; those exclusions guarantee that the
    // first ']' is the one that closes it.
    constexpr size_t kMaxCachedSpelling = 64;
    constexpr size_t kMaxCachedLists = 4096;
    const char *begin = lexer_.position() - 1, *end = lexer_.end();
    const char *close = begin + 1;
    while (close != end && static_cast<size_t>(close - begin) < kMaxCachedSpelling &&
           *close != ']' && *close != '[' && *close != '{' && *close != '"' && *close != '/' &&
           *close != '\n')
      ++close;
    llvm::StringRef spelling;
    if (close != end && *close == ']') {
      spelling = llvm::StringRef(begin, close + 1 - begin);
      auto it = flatLists_.find(spelling);
      if (it != flatLists_.end()) {
        attribute = it->second;
        lexer_.setPosition(close + 1);
        consume();
        return true;
      }
    }
    AttributeList list;
    if (!parseAttributeList(list, depth + 1))
      return false;
    attribute = Attribute::list(std::move(list));
    if (!spelling.empty() && flatLists_.size() < kMaxCachedLists)
      flatLists_.try_emplace(spelling, attribute);
    return true;
  }
  case TokenKind::LBrace: {
    AttributeDict dict;
    if (!parseAttributeDict(dict, depth + 1))
      return false;
    attribute = Attribute::dict(std::move(dict));
    return true;
  }
  case TokenKind::Identifier: {
    llvm::StringRef word = token_.spelling;
    if (word == "none")
      attribute = Attribute::none();
    else if (word == "true" || word == "false")
      attribute = Attribute::boolean(word == "true");
    else if (word == "inf")
      attribute = Attribute::floating(HUGE_VAL);
    else if (word == "nan")
      attribute = Attribute::floating(std::nan(""));
    else
      return expected("attribute value (none, true, false, a number, a \"string\", [list], "
                      "{dict} or @parameter)");
    consume();
    return true;
  }
  default:
    return expected("attribute value (none, true, false, a number, a \"string\", [list], "
                    "{dict} or @parameter)");
  }
}

bool Parser::parseAttributeList(AttributeList &list, unsigned depth) {
  if (depth > kMaxAttributeDepth)
    return errorAt(token_, "attribute nesting is deeper than " + llvm::Twine(kMaxAttributeDepth) +
                               " levels");
  consume(); // '['
  if (token_.is(TokenKind::RSquare)) {
    consume();
    return true;
  }
  // Collected on the stack and moved into a vector of the exact size: one
  // allocation per list instead of one per doubling.
  llvm::SmallVector<Attribute, 8> elements;
  while (true) {
    elements.emplace_back();
    if (!parseAttribute(elements.back(), depth))
      return false;
    if (!token_.is(TokenKind::Comma))
      break;
    consume();
  }
  if (!expect(TokenKind::RSquare, "',' or ']' in list"))
    return false;
  list.reserve(list.size() + elements.size());
  std::move(elements.begin(), elements.end(), std::back_inserter(list));
  return true;
}

bool Parser::parseAttributeDict(AttributeDict &dict, unsigned depth) {
  if (depth > kMaxAttributeDepth)
    return errorAt(token_, "attribute nesting is deeper than " + llvm::Twine(kMaxAttributeDepth) +
                               " levels");
  consume(); // '{'
  if (token_.is(TokenKind::RBrace)) {
    consume();
    return true;
  }
  // Duplicate keys: a linear scan for the usual handful of keys, a set
  // beyond that so a huge dictionary stays linear.
  constexpr size_t kLinearScanLimit = 16;
  llvm::StringSet<> keys;
  dict.reserve(4);
  while (true) {
    Token keyToken = token_;
    std::string key;
    if (token_.is(TokenKind::String)) {
      decodeString(token_.spelling, key);
    } else if (token_.is(TokenKind::Identifier) && isBareKey(token_.spelling)) {
      key = token_.spelling.str();
    } else {
      return expected("attribute name (an identifier or a \"string\")");
    }
    bool duplicate;
    if (dict.size() < kLinearScanLimit) {
      duplicate =
          llvm::any_of(dict, [&](const NamedAttribute &entry) { return entry.first == key; });
    } else {
      if (keys.empty())
        for (const NamedAttribute &entry : dict)
          keys.insert(entry.first);
      duplicate = !keys.insert(key).second;
    }
    if (duplicate)
      return errorAt(keyToken, "duplicate attribute '" + key + "': each key may appear once");
    consume();
    if (!expect(TokenKind::Equal, llvm::Twine("'=' after attribute name '") + key + "'"))
      return false;
    Attribute value;
    if (!parseAttribute(value, depth))
      return false;
    dict.emplace_back(std::move(key), std::move(value));
    if (!token_.is(TokenKind::Comma))
      break;
    consume();
  }
  return expect(TokenKind::RBrace, "',' or '}' in attribute dictionary");
}

} // namespace

std::unique_ptr<Graph> parseGraph(llvm::SourceMgr &sourceMgr, unsigned bufferId,
                                  DiagnosticEngine &diagnostics) {
  if (bufferId == 0 || bufferId > sourceMgr.getNumBuffers()) {
    diagnostics.error(Location(), "no source buffer #" + llvm::Twine(bufferId) + " to parse");
    return nullptr;
  }
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(bufferId);
  return Parser(buffer->getBuffer(), buffer->getBufferIdentifier(), diagnostics).parse();
}

std::unique_ptr<Graph> parseGraph(llvm::StringRef text, DiagnosticEngine &diagnostics,
                                  llvm::StringRef bufferName) {
  return Parser(text, bufferName, diagnostics).parse();
}

} // namespace qfx
