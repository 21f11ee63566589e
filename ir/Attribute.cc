//===- ir/Attribute.cc - Typed constant attributes on nodes ---------------===//
//
// Construction, comparison and printing of Attribute.
//
//===----------------------------------------------------------------------===//
#include "ir/Attribute.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace qfx {

const llvm::StringRef AttributeKey::kEmpty = "";

const llvm::StringRef *AttributeKey::intern(llvm::StringRef key) {
  if (key.empty())
    return &kEmpty; // so that AttributeKey("") == AttributeKey()
  // Immortal (never destroyed), so keys stay valid during static
  // destruction too. Map entries never move when the table grows; each
  // holds the one StringRef that keys of its text point to.
  static std::mutex *mutex = new std::mutex;
  static llvm::StringMap<llvm::StringRef> *keys = new llvm::StringMap<llvm::StringRef>;
  std::lock_guard<std::mutex> lock(*mutex);
  auto [entry, inserted] = keys->try_emplace(key);
  if (inserted)
    entry->second = entry->getKey();
  return &entry->second;
}

llvm::raw_ostream &operator<<(llvm::raw_ostream &os, const AttributeKey &key) {
  return os << key.ref();
}

static_assert(sizeof(AttributeKey) == 8, "a key is a pointer to its interned text");
static_assert(sizeof(Attribute) == 16, "an Attribute is an 8-byte payload and its kind");
static_assert(sizeof(NamedAttribute) == 24, "a dictionary entry is a key and an Attribute");

void Attribute::destroyPayload() {
  switch (kind_) {
  case Kind::String:
  case Kind::TensorRef:
    delete static_cast<Boxed<std::string> *>(bits_.payload);
    break;
  case Kind::List:
    delete static_cast<Boxed<AttributeList> *>(bits_.payload);
    break;
  case Kind::Dict:
    delete static_cast<Boxed<AttributeDict> *>(bits_.payload);
    break;
  default:
    break;
  }
}

Attribute Attribute::integer(int64_t value) {
  Attribute attr;
  attr.kind_ = Kind::Int;
  attr.bits_.integer = value;
  return attr;
}

Attribute Attribute::floating(double value) {
  Attribute attr;
  attr.kind_ = Kind::Float;
  attr.bits_.floating = value;
  return attr;
}

Attribute Attribute::boolean(bool value) {
  Attribute attr;
  attr.kind_ = Kind::Bool;
  attr.bits_.integer = 0; // the whole word defined
  attr.bits_.boolean = value;
  return attr;
}

Attribute Attribute::string(std::string value) { return boxed(Kind::String, std::move(value)); }

Attribute Attribute::list(AttributeList elements) { return boxed(Kind::List, std::move(elements)); }

// Number lists are built in place in their shared storage: no temporary
// list per call (lower-to-qdq makes a scale list per weight).
Attribute Attribute::intList(llvm::ArrayRef<int64_t> values) {
  Attribute attr = boxed(Kind::List, AttributeList(values.size()));
  auto &elements = static_cast<Boxed<AttributeList> *>(attr.bits_.payload)->value;
  for (size_t i = 0, e = values.size(); i != e; ++i) {
    elements[i].kind_ = Kind::Int;
    elements[i].bits_.integer = values[i];
  }
  return attr;
}

Attribute Attribute::floatList(llvm::ArrayRef<double> values) {
  Attribute attr = boxed(Kind::List, AttributeList(values.size()));
  auto &elements = static_cast<Boxed<AttributeList> *>(attr.bits_.payload)->value;
  for (size_t i = 0, e = values.size(); i != e; ++i) {
    elements[i].kind_ = Kind::Float;
    elements[i].bits_.floating = values[i];
  }
  return attr;
}

Attribute Attribute::dict(AttributeDict entries) { return boxed(Kind::Dict, std::move(entries)); }

Attribute Attribute::tensorRef(std::string parameterName) {
  return boxed(Kind::TensorRef, std::move(parameterName));
}

std::optional<double> Attribute::asNumber() const {
  if (isInt())
    return static_cast<double>(getInt());
  if (isFloat())
    return getFloat();
  return std::nullopt;
}

std::optional<std::vector<int64_t>> Attribute::asIntList() const {
  if (!isList())
    return std::nullopt;
  std::vector<int64_t> values;
  values.reserve(getList().size());
  for (const Attribute &element : getList()) {
    if (!element.isInt())
      return std::nullopt;
    values.push_back(element.getInt());
  }
  return values;
}

const Attribute *Attribute::lookup(llvm::StringRef key) const {
  if (!isDict())
    return nullptr;
  for (const NamedAttribute &entry : getDict())
    if (entry.first == key)
      return &entry.second;
  return nullptr;
}

bool Attribute::operator==(const Attribute &other) const {
  if (kind() != other.kind())
    return false;
  switch (kind()) {
  case Kind::None:
    return true;
  case Kind::Int:
    return getInt() == other.getInt();
  case Kind::Float: {
    // Bitwise so that NaN equals NaN and -0.0 differs from 0.0: attributes
    // are compared for identity (CSE, round trip), not arithmetic.
    double a = getFloat(), b = other.getFloat();
    return std::memcmp(&a, &b, sizeof(double)) == 0;
  }
  case Kind::Bool:
    return getBool() == other.getBool();
  case Kind::String:
    return getString() == other.getString();
  case Kind::List:
    return getList() == other.getList();
  case Kind::Dict:
    return getDict() == other.getDict();
  case Kind::TensorRef:
    return getTensorRef() == other.getTensorRef();
  }
  return false;
}

llvm::StringRef kindName(Attribute::Kind kind) {
  switch (kind) {
  case Attribute::Kind::None:
    return "none";
  case Attribute::Kind::Int:
    return "int";
  case Attribute::Kind::Float:
    return "float";
  case Attribute::Kind::Bool:
    return "bool";
  case Attribute::Kind::String:
    return "string";
  case Attribute::Kind::List:
    return "list";
  case Attribute::Kind::Dict:
    return "dict";
  case Attribute::Kind::TensorRef:
    return "tensor reference";
  }
  return "none";
}

std::string formatFloat(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value < 0 ? "-inf" : "inf";
  char buffer[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  std::string text(buffer);
  if (text.find_first_of(".e") == std::string::npos)
    text += ".0";
  return text;
}

void printQuotedString(llvm::raw_ostream &os, llvm::StringRef text) {
  os << '"';
  for (char c : text) {
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
      if (static_cast<unsigned char>(c) < 0x20) {
        os << "\\x" << llvm::format_hex_no_prefix(static_cast<unsigned char>(c), 2);
      } else {
        os << c;
      }
    }
  }
  os << '"';
}

bool isBareKey(llvm::StringRef key) {
  if (key.empty() || !(std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_'))
    return false;
  for (char c : key)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'))
      return false;
  return true;
}

void Attribute::print(llvm::raw_ostream &os) const {
  switch (kind()) {
  case Kind::None:
    os << "none";
    return;
  case Kind::Int:
    os << getInt();
    return;
  case Kind::Float:
    os << formatFloat(getFloat());
    return;
  case Kind::Bool:
    os << (getBool() ? "true" : "false");
    return;
  case Kind::String:
    printQuotedString(os, getString());
    return;
  case Kind::List: {
    os << '[';
    bool first = true;
    for (const Attribute &element : getList()) {
      if (!first)
        os << ", ";
      first = false;
      element.print(os);
    }
    os << ']';
    return;
  }
  case Kind::Dict: {
    os << '{';
    bool first = true;
    for (const NamedAttribute &entry : getDict()) {
      if (!first)
        os << ", ";
      first = false;
      if (isBareKey(entry.first))
        os << entry.first;
      else
        printQuotedString(os, entry.first);
      os << " = ";
      entry.second.print(os);
    }
    os << '}';
    return;
  }
  case Kind::TensorRef:
    os << '@' << getTensorRef();
    return;
  }
}

std::string Attribute::str() const {
  std::string out;
  llvm::raw_string_ostream os(out);
  print(os);
  return os.str();
}

} // namespace qfx
