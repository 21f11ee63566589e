//===- ir/Attribute.h - Typed constant attributes on nodes ----------------===//
//
// Constants that TorchScript passes as arguments (strides, dims, flags) and
// anything a pass wants to record on a node become Attributes: none, int,
// float, bool, string, list, dictionary or a reference to a named graph
// parameter. Dictionaries hold structured data such as quantization specs.
// Attributes are immutable values with cheap copies (strings, lists and
// dictionaries share their storage), compared structurally, and print in a
// spelling that parses back to an equal attribute (floats use the shortest
// exact form). An Attribute is 16 bytes and a dictionary entry 24: keys are
// AttributeKeys, pointers to strings interned once per process, because
// graphs carry millions of small dictionaries (a fake-quant's, a weight's
// dequantize) over a few dozen distinct keys, and a std::string per key was
// most of their size.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <atomic>
#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace qfx {

class Attribute;

/// A dictionary key: a pointer to the process-wide interned copy of its
/// text, so it is 8 bytes, never dangles, copies for free and compares by
/// pointer with another key. It converts from string literals, std::strings
/// and StringRefs (interning them: one hash lookup under a lock, so hot loops
/// build their keys once), compares with text without interning it, prints
/// as its text, and converts to a StringRef wherever one is expected. The
/// table only grows; it holds the distinct keys ever used.
class AttributeKey {
public:
  AttributeKey() : text_(&kEmpty) {}
  AttributeKey(const char *key) : text_(intern(key)) {}
  AttributeKey(const std::string &key) : text_(intern(key)) {}
  AttributeKey(llvm::StringRef key) : text_(intern(key)) {}

  llvm::StringRef ref() const { return *text_; }
  operator llvm::StringRef() const { return *text_; }
  operator std::string() const { return text_->str(); }
  std::string str() const { return text_->str(); }
  const char *data() const { return text_->data(); }
  size_t size() const { return text_->size(); }
  bool empty() const { return text_->empty(); }
  const char *begin() const { return text_->begin(); }
  const char *end() const { return text_->end(); }

  friend bool operator==(const AttributeKey &a, const AttributeKey &b) {
    return a.text_ == b.text_;
  }
  friend bool operator<(const AttributeKey &a, const AttributeKey &b) { return a.ref() < b.ref(); }
  // Comparisons with text compare the text: no interning. Hidden friends,
  // so they never take part in comparisons without a key.
  friend bool operator==(const AttributeKey &a, llvm::StringRef b) { return a.ref() == b; }
  friend bool operator==(llvm::StringRef a, const AttributeKey &b) { return a == b.ref(); }
  friend bool operator==(const AttributeKey &a, const char *b) {
    return a.ref() == llvm::StringRef(b);
  }
  friend bool operator==(const char *a, const AttributeKey &b) {
    return b.ref() == llvm::StringRef(a);
  }
  friend bool operator==(const AttributeKey &a, const std::string &b) {
    return a.ref() == llvm::StringRef(b);
  }
  friend bool operator==(const std::string &a, const AttributeKey &b) {
    return b.ref() == llvm::StringRef(a);
  }
  friend bool operator!=(const AttributeKey &a, const AttributeKey &b) { return !(a == b); }
  friend bool operator!=(const AttributeKey &a, llvm::StringRef b) { return !(a == b); }
  friend bool operator!=(llvm::StringRef a, const AttributeKey &b) { return !(a == b); }
  friend bool operator!=(const AttributeKey &a, const char *b) { return !(a == b); }
  friend bool operator!=(const char *a, const AttributeKey &b) { return !(a == b); }
  friend bool operator!=(const AttributeKey &a, const std::string &b) { return !(a == b); }
  friend bool operator!=(const std::string &a, const AttributeKey &b) { return !(a == b); }

private:
  static const llvm::StringRef kEmpty;
  /// The interned text's one StringRef (immortal).
  static const llvm::StringRef *intern(llvm::StringRef key);

  const llvm::StringRef *text_;
};

llvm::raw_ostream &operator<<(llvm::raw_ostream &os, const AttributeKey &key);

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

  Kind kind() const { return kind_; }
  bool isNone() const { return kind() == Kind::None; }
  bool isInt() const { return kind() == Kind::Int; }
  bool isFloat() const { return kind() == Kind::Float; }
  bool isBool() const { return kind() == Kind::Bool; }
  bool isString() const { return kind() == Kind::String; }
  bool isList() const { return kind() == Kind::List; }
  bool isDict() const { return kind() == Kind::Dict; }
  bool isTensorRef() const { return kind() == Kind::TensorRef; }

  Attribute(const Attribute &other) : kind_(other.kind_), bits_(other.bits_) { retain(); }
  Attribute(Attribute &&other) noexcept : kind_(other.kind_), bits_(other.bits_) {
    other.kind_ = Kind::None;
  }
  Attribute &operator=(const Attribute &other) {
    Attribute copy(other);
    swap(copy);
    return *this;
  }
  Attribute &operator=(Attribute &&other) noexcept {
    Attribute moved(std::move(other));
    swap(moved);
    return *this;
  }
  ~Attribute() { release(); }
  void swap(Attribute &other) noexcept {
    std::swap(kind_, other.kind_);
    std::swap(bits_, other.bits_);
  }

  // Accessors assume the matching kind (check first).
  int64_t getInt() const {
    assert(isInt());
    return bits_.integer;
  }
  double getFloat() const {
    assert(isFloat());
    return bits_.floating;
  }
  bool getBool() const {
    assert(isBool());
    return bits_.boolean;
  }
  const std::string &getString() const {
    assert(isString());
    return static_cast<const Boxed<std::string> *>(bits_.payload)->value;
  }
  const AttributeList &getList() const {
    assert(isList());
    return static_cast<const Boxed<AttributeList> *>(bits_.payload)->value;
  }
  const AttributeDict &getDict() const {
    assert(isDict());
    return static_cast<const Boxed<AttributeDict> *>(bits_.payload)->value;
  }
  const std::string &getTensorRef() const {
    assert(isTensorRef());
    return static_cast<const Boxed<std::string> *>(bits_.payload)->value;
  }

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
  /// Strings, lists and dictionaries live in one reference-counted heap
  /// block each, shared by copies (an Attribute never changes, so sharing is
  /// safe). An intrusive count keeps an Attribute at 16 bytes, where a
  /// std::shared_ptr made it 24 and every dictionary entry 40 instead of 24.
  struct Payload {
    mutable std::atomic<uint32_t> references{1};
  };
  template <typename T> struct Boxed : Payload {
    explicit Boxed(T value) : value(std::move(value)) {}
    T value;
  };
  bool hasPayload() const {
    return kind_ == Kind::String || kind_ == Kind::List || kind_ == Kind::Dict ||
           kind_ == Kind::TensorRef;
  }
  void retain() const {
    if (hasPayload())
      bits_.payload->references.fetch_add(1, std::memory_order_relaxed);
  }
  void release() {
    if (hasPayload() && bits_.payload->references.fetch_sub(1, std::memory_order_acq_rel) == 1)
      destroyPayload();
  }
  void destroyPayload();
  template <typename T> static Attribute boxed(Kind kind, T value) {
    Attribute attr;
    attr.kind_ = kind;
    attr.bits_.payload = new Boxed<T>(std::move(value));
    return attr;
  }

  Kind kind_ = Kind::None;
  union Bits {
    int64_t integer;
    double floating;
    bool boolean;
    Payload *payload;
  } bits_{0};
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
