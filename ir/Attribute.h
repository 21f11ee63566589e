//===- ir/Attribute.h - Typed constant attributes on nodes ----------------===//
//
// Constants that TorchScript passes as arguments (strides, dims, flags) and
// anything a pass wants to record on a node become Attributes: none, int,
// float, bool, string, list, dictionary or a reference to a named graph
// parameter. Dictionaries hold structured data such as quantization specs.
// Attributes are immutable values with cheap copies (strings, lists and
// dictionaries share their storage), compared structurally, and print in a
// spelling that parses back to an equal attribute (floats use the shortest
// exact form). An Attribute is 24 bytes and a dictionary entry 40: keys are
// AttributeKeys, views of strings interned once per process, because graphs
// carry millions of small dictionaries (a fake-quant's, a weight's
// dequantize) over a few dozen distinct keys, and a std::string per key was
// most of their size.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace qfx {

class Attribute;

/// A dictionary key: a StringRef to the process-wide interned copy of its
/// text, so it is 16 bytes, never dangles and copies for free. It converts
/// from string literals, std::strings and StringRefs (interning them: one
/// hash lookup under a lock, so hot loops build their keys once), compares
/// and prints as its text, and is a StringRef everywhere one is expected.
/// The table only grows; it holds the distinct keys ever used. Code written
/// when keys were std::strings keeps working: a key converts to one, and
/// concatenating a key with text gives a std::string.
class AttributeKey : public llvm::StringRef {
public:
  AttributeKey() = default;
  AttributeKey(const char *key) : llvm::StringRef(intern(key)) {}
  AttributeKey(const std::string &key) : llvm::StringRef(intern(key)) {}
  AttributeKey(llvm::StringRef key) : llvm::StringRef(intern(key)) {}
  operator std::string() const { return str(); }

private:
  static llvm::StringRef intern(llvm::StringRef key);
};

inline std::string operator+(const char *text, const AttributeKey &key) { return text + key.str(); }
inline std::string operator+(const AttributeKey &key, const char *text) { return key.str() + text; }
inline std::string operator+(const std::string &text, const AttributeKey &key) {
  return text + key.str();
}
inline std::string operator+(const AttributeKey &key, const std::string &text) {
  return key.str() + text;
}
inline std::string operator+(char c, const AttributeKey &key) { return c + key.str(); }
inline std::string operator+(const AttributeKey &key, char c) { return key.str() + c; }

using AttributeList = std::vector<Attribute>;
using NamedAttribute = std::pair<AttributeKey, Attribute>;
using AttributeDict = std::vector<NamedAttribute>;

class Attribute {
public:
  enum class Kind : uint8_t { None, Int, Float, Bool, String, List, Dict, TensorRef };

  /// The none attribute.
  Attribute() = default;
  static Attribute none() { return Attribute(); }
  static Attribute integer(int64_t value);
  static Attribute floating(double value);
  static Attribute boolean(bool value);
  static Attribute string(std::string value);
  static Attribute list(AttributeList elements);
  static Attribute intList(llvm::ArrayRef<int64_t> values);
  static Attribute floatList(llvm::ArrayRef<double> values);
  /// Keys keep their given order; duplicate keys are the caller's mistake.
  static Attribute dict(AttributeDict entries);
  /// Reference to a graph parameter or buffer by its qualified name.
  static Attribute tensorRef(std::string parameterName);

  Kind kind() const { return static_cast<Kind>(storage_.index()); }
  bool isNone() const { return kind() == Kind::None; }
  bool isInt() const { return kind() == Kind::Int; }
  bool isFloat() const { return kind() == Kind::Float; }
  bool isBool() const { return kind() == Kind::Bool; }
  bool isString() const { return kind() == Kind::String; }
  bool isList() const { return kind() == Kind::List; }
  bool isDict() const { return kind() == Kind::Dict; }
  bool isTensorRef() const { return kind() == Kind::TensorRef; }

  // Accessors assume the matching kind (check first).
  int64_t getInt() const { return std::get<int64_t>(storage_); }
  double getFloat() const { return std::get<double>(storage_); }
  bool getBool() const { return std::get<bool>(storage_); }
  const std::string &getString() const { return *std::get<StringPtr>(storage_); }
  const AttributeList &getList() const { return *std::get<ListPtr>(storage_); }
  const AttributeDict &getDict() const { return *std::get<DictPtr>(storage_); }
  const std::string &getTensorRef() const { return *std::get<TensorRefName>(storage_).name; }

  /// Int or float as a double (ints widen); nullopt otherwise.
  std::optional<double> asNumber() const;
  /// A list whose elements are all ints; nullopt otherwise.
  std::optional<std::vector<int64_t>> asIntList() const;
  /// Dictionary lookup; nullptr when absent or not a dictionary.
  const Attribute *lookup(llvm::StringRef key) const;

  bool operator==(const Attribute &other) const;
  bool operator!=(const Attribute &other) const { return !(*this == other); }

  void print(llvm::raw_ostream &os) const;
  std::string str() const;

private:
  // Strings are shared like lists: a pointer keeps every alternative at 16
  // bytes (a std::string inline made every attribute 40 bytes).
  using StringPtr = std::shared_ptr<const std::string>;
  struct TensorRefName {
    StringPtr name;
  };
  using ListPtr = std::shared_ptr<const AttributeList>;
  using DictPtr = std::shared_ptr<const AttributeDict>;
  // Order must follow Kind.
  std::variant<std::monostate, int64_t, double, bool, StringPtr, ListPtr, DictPtr, TensorRefName>
      storage_;
};

llvm::StringRef kindName(Attribute::Kind kind);
/// Shortest decimal spelling of `value` that parses back to the same double;
/// always contains '.', 'e', "inf" or "nan" so it never reads as an integer.
std::string formatFloat(double value);
/// True when a dictionary key prints without quotes ([A-Za-z_][A-Za-z0-9_.]*);
/// other keys print as quoted strings.
bool isBareKey(llvm::StringRef key);
/// Prints `text` as a double-quoted string with the escapes the parser reads
/// (\" \\ \n \t \xNN); shared by attributes and the graph printer.
void printQuotedString(llvm::raw_ostream &os, llvm::StringRef text);

inline llvm::raw_ostream &operator<<(llvm::raw_ostream &os, const Attribute &attr) {
  attr.print(os);
  return os;
}

} // namespace qfx
