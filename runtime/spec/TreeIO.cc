//===- runtime/spec/TreeIO.cc - JSON and YAML as Attribute trees ----------===//
//
// YAML (and, for key order, JSON) reading walks llvm::yaml's streaming node
// tree once, converting as it goes: the stream cannot be re-read, so anchors
// are remembered as converted Attributes and aliases copy them (llvm::yaml
// parses aliases but does not resolve them). Writing is a small recursive
// emitter per format.
//
//===----------------------------------------------------------------------===//
#include "runtime/spec/TreeIO.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"
#include "llvm/Support/raw_ostream.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace qfx {

namespace {

//===----------------------------------------------------------------------===//
// Plain scalar typing (YAML 1.1, as PyYAML's safe_load resolves it)
//===----------------------------------------------------------------------===//

bool isOneOf(llvm::StringRef text, std::initializer_list<llvm::StringRef> words) {
  for (llvm::StringRef word : words)
    if (text == word)
      return true;
  return false;
}

std::optional<int64_t> parseYAMLInt(llvm::StringRef text) {
  std::string digits;
  for (char c : text)
    if (c != '_')
      digits += c;
  llvm::StringRef rest(digits);
  bool negative = false;
  if (rest.consume_front("-"))
    negative = true;
  else
    rest.consume_front("+");
  if (rest.empty())
    return std::nullopt;
  unsigned radix = 10;
  if (rest.consume_front("0x"))
    radix = 16;
  else if (rest.consume_front("0o"))
    radix = 8;
  else if (rest.consume_front("0b"))
    radix = 2;
  else if (rest.size() > 1 && rest.front() == '0')
    radix = 8; // YAML 1.1: a leading zero means octal
  if (rest.empty())
    return std::nullopt;
  uint64_t magnitude;
  if (rest.getAsInteger(radix, magnitude))
    return std::nullopt;
  if (negative) {
    if (magnitude > static_cast<uint64_t>(INT64_MAX) + 1)
      return std::nullopt;
    return static_cast<int64_t>(0 - magnitude);
  }
  if (magnitude > static_cast<uint64_t>(INT64_MAX))
    return std::nullopt;
  return static_cast<int64_t>(magnitude);
}

std::optional<double> parseYAMLFloat(llvm::StringRef text) {
  if (isOneOf(text, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}))
    return HUGE_VAL;
  if (isOneOf(text, {"-.inf", "-.Inf", "-.INF"}))
    return -HUGE_VAL;
  if (isOneOf(text, {".nan", ".NaN", ".NAN"}))
    return std::nan("");
  // Digits, at most one dot, an optional exponent; at least one digit. This
  // keeps words such as "inf" or "nan" (which strtod accepts) strings.
  std::string clean;
  bool sawDigit = false;
  for (char c : text) {
    if (c == '_')
      continue;
    if (std::isdigit(static_cast<unsigned char>(c)))
      sawDigit = true;
    else if (!(c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      return std::nullopt;
    clean += c;
  }
  if (!sawDigit)
    return std::nullopt;
  char *end = nullptr;
  double value = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size())
    return std::nullopt;
  return value;
}

Attribute resolvePlainScalar(llvm::StringRef text) {
  if (isOneOf(text, {"", "~", "null", "Null", "NULL"}))
    return Attribute::none();
  if (isOneOf(text, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"}))
    return Attribute::boolean(true);
  if (isOneOf(text, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"}))
    return Attribute::boolean(false);
  if (std::optional<int64_t> value = parseYAMLInt(text))
    return Attribute::integer(*value);
  if (std::optional<double> value = parseYAMLFloat(text))
    return Attribute::floating(*value);
  return Attribute::string(text.str());
}

//===----------------------------------------------------------------------===//
// YAML node tree -> Attribute
//===----------------------------------------------------------------------===//

class YAMLTreeReader {
public:
  YAMLTreeReader(llvm::StringRef text, llvm::StringRef bufferName)
      : text_(text), bufferName_(bufferName) {}

  llvm::Expected<Attribute> read() {
    sourceMgr_.setDiagHandler(
        [](const llvm::SMDiagnostic &diag, void *context) {
          auto *self = static_cast<YAMLTreeReader *>(context);
          if (self->parseError_.empty())
            self->parseError_ = (self->bufferName_ + ":" + llvm::Twine(diag.getLineNo()) + ":" +
                                 llvm::Twine(diag.getColumnNo() + 1) + ": " + diag.getMessage())
                                    .str();
        },
        this);
    llvm::yaml::Stream stream(llvm::MemoryBufferRef(text_, bufferName_), sourceMgr_,
                              /*ShowColors=*/false);
    Attribute result;
    llvm::yaml::document_iterator doc = stream.begin();
    if (doc != stream.end()) {
      if (llvm::yaml::Node *root = doc->getRoot())
        result = convert(root);
    }
    if (!parseError_.empty())
      return llvm::createStringError(std::errc::invalid_argument, "%s", parseError_.c_str());
    if (!error_.empty())
      return llvm::createStringError(std::errc::invalid_argument, "%s", error_.c_str());
    return result;
  }

private:
  void fail(llvm::yaml::Node *node, const llvm::Twine &message) {
    if (!error_.empty())
      return;
    llvm::SMLoc loc = node->getSourceRange().Start;
    if (auto *alias = llvm::dyn_cast<llvm::yaml::AliasNode>(node)) {
      // An alias node's range starts at the token after it; point at the
      // `*name` itself.
      size_t offset = static_cast<size_t>(loc.getPointer() - text_.data());
      if (offset <= text_.size()) {
        size_t pos = text_.substr(0, offset).rfind(("*" + alias->getName()).str());
        if (pos != llvm::StringRef::npos)
          loc = llvm::SMLoc::getFromPointer(text_.data() + pos);
      }
    }
    std::pair<unsigned, unsigned> lineCol = sourceMgr_.getLineAndColumn(loc);
    error_ = (bufferName_ + ":" + llvm::Twine(lineCol.first) + ":" + llvm::Twine(lineCol.second) +
              ": " + message)
                 .str();
  }

  bool failed() const { return !error_.empty() || !parseError_.empty(); }

  Attribute convert(llvm::yaml::Node *node) {
    Attribute result = convertUnanchored(node);
    if (!node->getAnchor().empty())
      anchors_[node->getAnchor()] = result;
    return result;
  }

  static bool isStringTag(llvm::StringRef tag) {
    return tag == "!!str" || tag == "tag:yaml.org,2002:str";
  }

  Attribute convertUnanchored(llvm::yaml::Node *node) {
    using namespace llvm::yaml;
    if (auto *scalar = llvm::dyn_cast<ScalarNode>(node)) {
      llvm::SmallString<64> storage;
      llvm::StringRef value = scalar->getValue(storage);
      llvm::StringRef raw = scalar->getRawValue();
      bool quoted = !raw.empty() && (raw.front() == '"' || raw.front() == '\'');
      // getVerbatimTag() reports the default !!str for untagged scalars, so
      // only an explicit tag counts.
      if (quoted || isStringTag(scalar->getRawTag()))
        return Attribute::string(value.str());
      // llvm::yaml keeps the line break after a plain scalar that ends a
      // line inside a flow collection; plain scalars never end in blanks.
      return resolvePlainScalar(value.trim(" \t\r\n"));
    }
    if (auto *block = llvm::dyn_cast<BlockScalarNode>(node))
      return Attribute::string(block->getValue().str());
    if (llvm::isa<NullNode>(node))
      return Attribute::none();
    if (auto *alias = llvm::dyn_cast<AliasNode>(node)) {
      auto it = anchors_.find(alias->getName());
      if (it == anchors_.end()) {
        fail(node, "unknown alias '*" + alias->getName() +
                       "' (anchors must be defined before "
                       "they are used)");
        return Attribute::none();
      }
      return it->second;
    }
    if (auto *sequence = llvm::dyn_cast<SequenceNode>(node)) {
      AttributeList elements;
      for (Node &element : *sequence) {
        if (failed())
          break;
        elements.push_back(convert(&element));
      }
      return Attribute::list(std::move(elements));
    }
    if (auto *mapping = llvm::dyn_cast<MappingNode>(node))
      return convertMapping(mapping);
    fail(node, "unsupported YAML node");
    return Attribute::none();
  }

  static void mergeInto(AttributeDict &merged, const Attribute &source) {
    for (const NamedAttribute &entry : source.getDict()) {
      bool present = false;
      for (const NamedAttribute &existing : merged)
        present |= existing.first == entry.first;
      if (!present)
        merged.push_back(entry);
    }
  }

  Attribute convertMapping(llvm::yaml::MappingNode *mapping) {
    using namespace llvm::yaml;
    AttributeDict merged;    // from merge keys, lower priority
    AttributeDict explicit_; // written in this mapping
    for (KeyValueNode &entry : *mapping) {
      if (failed())
        break;
      Node *keyNode = entry.getKey();
      if (!keyNode) {
        fail(mapping, "mapping entry without a key");
        break;
      }
      Attribute key = convert(keyNode);
      Node *valueNode = entry.getValue();
      Attribute value = valueNode ? convert(valueNode) : Attribute::none();
      if (failed())
        break;
      auto *plainKey = llvm::dyn_cast<ScalarNode>(keyNode);
      bool isMergeKey =
          plainKey && key.isString() && key.getString() == "<<" &&
          !(plainKey->getRawValue().startswith("\"") || plainKey->getRawValue().startswith("'"));
      if (isMergeKey) {
        // `<<: *a` or `<<: [*a, *b]`; earlier sources win over later ones.
        if (value.isDict()) {
          mergeInto(merged, value);
        } else if (value.isList()) {
          for (const Attribute &source : value.getList()) {
            if (!source.isDict()) {
              fail(valueNode, "merge key '<<' expects a mapping or a list of mappings");
              break;
            }
            mergeInto(merged, source);
          }
        } else {
          fail(valueNode, "merge key '<<' expects a mapping or a list of mappings");
        }
        continue;
      }
      std::string keyText;
      switch (key.kind()) {
      case Attribute::Kind::String:
        keyText = key.getString();
        break;
      case Attribute::Kind::Int:
      case Attribute::Kind::Float:
      case Attribute::Kind::Bool:
      case Attribute::Kind::None:
        // Keys such as `0:` (input indices) are kept as their spelling.
        keyText = plainKey ? plainKey->getRawValue().str() : key.str();
        break;
      default:
        fail(keyNode, "mapping keys must be scalars");
        return Attribute::none();
      }
      for (const NamedAttribute &existing : explicit_) {
        if (existing.first == keyText) {
          fail(keyNode, "duplicate key '" + keyText + "'");
          return Attribute::none();
        }
      }
      explicit_.emplace_back(std::move(keyText), std::move(value));
    }
    // Python dict semantics of PyYAML's flatten_mapping: merged keys come
    // first; an explicit key replaces a merged one in place.
    AttributeDict result = std::move(merged);
    for (NamedAttribute &entry : explicit_) {
      bool replaced = false;
      for (NamedAttribute &existing : result) {
        if (existing.first == entry.first) {
          existing.second = entry.second;
          replaced = true;
          break;
        }
      }
      if (!replaced)
        result.push_back(std::move(entry));
    }
    return Attribute::dict(std::move(result));
  }

  llvm::StringRef text_;
  std::string bufferName_;
  llvm::SourceMgr sourceMgr_;
  llvm::StringMap<Attribute> anchors_;
  std::string parseError_;
  std::string error_;
};

//===----------------------------------------------------------------------===//
// llvm::json::Value -> Attribute (fallback: loses key order)
//===----------------------------------------------------------------------===//

Attribute fromJSONValue(const llvm::json::Value &value) {
  switch (value.kind()) {
  case llvm::json::Value::Null:
    return Attribute::none();
  case llvm::json::Value::Boolean:
    return Attribute::boolean(*value.getAsBoolean());
  case llvm::json::Value::Number:
    if (std::optional<int64_t> integer = value.getAsInteger())
      return Attribute::integer(*integer);
    return Attribute::floating(*value.getAsNumber());
  case llvm::json::Value::String:
    return Attribute::string(value.getAsString()->str());
  case llvm::json::Value::Array: {
    AttributeList elements;
    for (const llvm::json::Value &element : *value.getAsArray())
      elements.push_back(fromJSONValue(element));
    return Attribute::list(std::move(elements));
  }
  case llvm::json::Value::Object: {
    const llvm::json::Object &object = *value.getAsObject();
    std::vector<std::string> keys;
    for (const auto &entry : object)
      keys.push_back(entry.first.str());
    std::sort(keys.begin(), keys.end());
    AttributeDict entries;
    for (const std::string &key : keys)
      entries.emplace_back(key, fromJSONValue(*object.get(key)));
    return Attribute::dict(std::move(entries));
  }
  }
  return Attribute::none();
}

//===----------------------------------------------------------------------===//
// Writers
//===----------------------------------------------------------------------===//

std::string jsonSafe(std::string text) {
  return llvm::json::isUTF8(text) ? text : llvm::json::fixUTF8(text);
}

void writeJSONValue(llvm::json::OStream &json, const Attribute &attr) {
  switch (attr.kind()) {
  case Attribute::Kind::None:
    json.value(nullptr);
    return;
  case Attribute::Kind::Bool:
    json.value(attr.getBool());
    return;
  case Attribute::Kind::Int:
    json.value(attr.getInt());
    return;
  case Attribute::Kind::Float:
    if (std::isfinite(attr.getFloat()))
      json.rawValue(formatFloat(attr.getFloat()));
    else
      json.value(formatFloat(attr.getFloat()));
    return;
  case Attribute::Kind::String:
    json.value(jsonSafe(attr.getString()));
    return;
  case Attribute::Kind::TensorRef:
    json.value(jsonSafe("@" + attr.getTensorRef()));
    return;
  case Attribute::Kind::List:
    json.arrayBegin();
    for (const Attribute &element : attr.getList())
      writeJSONValue(json, element);
    json.arrayEnd();
    return;
  case Attribute::Kind::Dict:
    json.objectBegin();
    for (const NamedAttribute &entry : attr.getDict()) {
      json.attributeBegin(jsonSafe(entry.first));
      writeJSONValue(json, entry.second);
      json.attributeEnd();
    }
    json.objectEnd();
    return;
  }
}

void writeYAMLQuoted(llvm::raw_ostream &os, llvm::StringRef text) {
  os << '"';
  for (unsigned char c : text) {
    switch (c) {
    case '"':
      os << "\\\"";
      break;
    case '\\':
      os << "\\\\";
      break;
    case '\n':
      os << "\\n";
      break;
    case '\t':
      os << "\\t";
      break;
    default:
      if (c < 0x20 || c == 0x7f)
        os << "\\x" << llvm::format_hex_no_prefix(c, 2);
      else
        os << c;
    }
  }
  os << '"';
}

void writeYAMLString(llvm::raw_ostream &os, llvm::StringRef text) {
  bool plain = !text.empty() &&
               (std::isalpha(static_cast<unsigned char>(text.front())) || text.front() == '_');
  for (char c : text)
    plain &=
        std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '/';
  // Words such as `yes`, `null` or `Off` would read back as non-strings.
  if (plain && !resolvePlainScalar(text).isString())
    plain = false;
  if (plain)
    os << text;
  else
    writeYAMLQuoted(os, text);
}

bool isScalar(const Attribute &attr) { return !attr.isList() && !attr.isDict(); }

/// Lists of scalars (or of such lists), and empty containers, go in flow style.
bool isFlowable(const Attribute &attr) {
  if (attr.isDict())
    return attr.getDict().empty();
  if (attr.isList()) {
    for (const Attribute &element : attr.getList())
      if (!(isScalar(element) || (element.isList() && isFlowable(element))))
        return false;
    return true;
  }
  return true;
}

void writeYAMLFlow(llvm::raw_ostream &os, const Attribute &attr) {
  switch (attr.kind()) {
  case Attribute::Kind::None:
    os << "null";
    return;
  case Attribute::Kind::Bool:
    os << (attr.getBool() ? "true" : "false");
    return;
  case Attribute::Kind::Int:
    os << attr.getInt();
    return;
  case Attribute::Kind::Float: {
    double value = attr.getFloat();
    if (std::isnan(value))
      os << ".nan";
    else if (std::isinf(value))
      os << (value < 0 ? "-.inf" : ".inf");
    else
      os << formatFloat(value);
    return;
  }
  case Attribute::Kind::String:
    writeYAMLString(os, attr.getString());
    return;
  case Attribute::Kind::TensorRef:
    writeYAMLQuoted(os, "@" + attr.getTensorRef());
    return;
  case Attribute::Kind::List: {
    os << '[';
    bool first = true;
    for (const Attribute &element : attr.getList()) {
      if (!first)
        os << ", ";
      first = false;
      writeYAMLFlow(os, element);
    }
    os << ']';
    return;
  }
  case Attribute::Kind::Dict: {
    os << '{';
    bool first = true;
    for (const NamedAttribute &entry : attr.getDict()) {
      if (!first)
        os << ", ";
      first = false;
      writeYAMLString(os, entry.first);
      os << ": ";
      writeYAMLFlow(os, entry.second);
    }
    os << '}';
    return;
  }
  }
}

void writeYAMLBlock(llvm::raw_ostream &os, const Attribute &attr, unsigned indent,
                    bool continuesLine);

/// Writes `value` after "key:" or "-": inline when flowable, else on the
/// following lines at `indent`.
void writeYAMLEntryValue(llvm::raw_ostream &os, const Attribute &value, unsigned indent) {
  if (isFlowable(value)) {
    os << ' ';
    writeYAMLFlow(os, value);
    os << '\n';
    return;
  }
  os << '\n';
  writeYAMLBlock(os, value, indent, /*continuesLine=*/false);
}

/// A non-flowable dict or list at `indent`. With `continuesLine`, the first
/// line's indentation has already been written (after "- ").
void writeYAMLBlock(llvm::raw_ostream &os, const Attribute &attr, unsigned indent,
                    bool continuesLine) {
  bool first = true;
  auto pad = [&] {
    if (!(first && continuesLine))
      os.indent(indent);
    first = false;
  };
  if (attr.isDict()) {
    for (const NamedAttribute &entry : attr.getDict()) {
      pad();
      writeYAMLString(os, entry.first);
      os << ':';
      writeYAMLEntryValue(os, entry.second, indent + 2);
    }
    return;
  }
  for (const Attribute &element : attr.getList()) {
    pad();
    os << '-';
    if (isFlowable(element)) {
      os << ' ';
      writeYAMLFlow(os, element);
      os << '\n';
    } else {
      os << ' ';
      writeYAMLBlock(os, element, indent + 2, /*continuesLine=*/true);
    }
  }
}

} // namespace

llvm::Expected<Attribute> parseYAMLTree(llvm::StringRef text, llvm::StringRef bufferName) {
  return YAMLTreeReader(text, bufferName).read();
}

llvm::Expected<Attribute> parseJSONTree(llvm::StringRef text, llvm::StringRef bufferName) {
  // llvm::json checks the syntax strictly (a YAML parser would accept much
  // more) but keeps objects unordered; the YAML reader, for which JSON is a
  // subset, then rebuilds the tree with its key order.
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(text);
  if (!value)
    return llvm::createStringError(
        std::errc::invalid_argument, "%s",
        (bufferName + ":" + llvm::toString(value.takeError())).str().c_str());
  llvm::Expected<Attribute> ordered = parseYAMLTree(text, bufferName);
  if (ordered)
    return ordered;
  llvm::consumeError(ordered.takeError());
  return fromJSONValue(*value);
}

void writeJSONTree(llvm::raw_ostream &os, const Attribute &tree, unsigned indent) {
  llvm::json::OStream json(os, indent);
  writeJSONValue(json, tree);
}

std::string toJSONString(const Attribute &tree, unsigned indent) {
  std::string text;
  llvm::raw_string_ostream os(text);
  writeJSONTree(os, tree, indent);
  os.flush();
  return text;
}

void writeYAMLTree(llvm::raw_ostream &os, const Attribute &tree) {
  if (isFlowable(tree)) {
    writeYAMLFlow(os, tree);
    os << '\n';
    return;
  }
  writeYAMLBlock(os, tree, 0, /*continuesLine=*/false);
}

std::string toYAMLString(const Attribute &tree) {
  std::string text;
  llvm::raw_string_ostream os(text);
  writeYAMLTree(os, tree);
  os.flush();
  return text;
}

} // namespace qfx
