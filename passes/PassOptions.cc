//===- passes/PassOptions.cc - Typed, named options of a pass -------------===//
//
// Parsing and spelling of option values. The spellings printed here are the
// ones the pipeline parser accepts, so a printed pipeline parses back to the
// same configuration.
//
//===----------------------------------------------------------------------===//
#include "passes/PassOptions.h"

#include "ir/Attribute.h"
#include "passes/Pass.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>

namespace qfx {

PassOptionBase::PassOptionBase(Pass &owner, llvm::StringRef name, llvm::StringRef help)
    : name_(name), help_(help) {
  owner.registerOption(this);
}

bool PassOptionBase::parse(llvm::StringRef text) {
  if (!parseImpl(text))
    return false;
  explicitlySet_ = true;
  return true;
}

//===----------------------------------------------------------------------===//
// Value spellings
//===----------------------------------------------------------------------===//

static bool isBareValueChar(char c) {
  return llvm::isAlnum(c) || llvm::StringRef("_.-+/:@").contains(c);
}

std::string quotePipelineValue(llvm::StringRef value) {
  if (!value.empty() && llvm::all_of(value, isBareValueChar))
    return value.str();
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

static std::string spell(bool value) { return value ? "true" : "false"; }
static std::string spell(int64_t value) { return std::to_string(value); }
// formatFloat gives the shortest text that reads back as the same double.
static std::string spell(double value) { return formatFloat(value); }
static std::string spell(const std::string &value) { return quotePipelineValue(value); }

static bool parseAs(llvm::StringRef text, bool &out) {
  // The spellings llvm::cl accepts for booleans, minus the capitalized ones.
  if (text == "true" || text == "1") {
    out = true;
    return true;
  }
  if (text == "false" || text == "0") {
    out = false;
    return true;
  }
  return false;
}

static bool parseAs(llvm::StringRef text, int64_t &out) {
  int64_t value;
  // getAsInteger returns true on failure (and on overflow).
  if (text.getAsInteger(10, value))
    return false;
  out = value;
  return true;
}

static bool parseAs(llvm::StringRef text, double &out) {
  double value;
  if (text.getAsDouble(value))
    return false;
  out = value;
  return true;
}

static bool parseAs(llvm::StringRef text, std::string &out) {
  out = text.str();
  return true;
}

//===----------------------------------------------------------------------===//
// PassOption<T>
//===----------------------------------------------------------------------===//

// Per-type names, overloaded on a tag pointer so the class template's members
// stay generic (no explicit specializations to keep declared everywhere).
static const char *typeNameOf(const bool *) { return "bool"; }
static const char *typeNameOf(const int64_t *) { return "int"; }
static const char *typeNameOf(const double *) { return "float"; }
static const char *typeNameOf(const std::string *) { return "string"; }

static const char *expectedValueOf(const bool *) { return "a bool (true or false)"; }
static const char *expectedValueOf(const int64_t *) { return "an integer"; }
static const char *expectedValueOf(const double *) { return "a number"; }
static const char *expectedValueOf(const std::string *) { return "a string"; }

template <typename T> std::string PassOption<T>::typeName() const {
  return typeNameOf(static_cast<const T *>(nullptr));
}

template <typename T> std::string PassOption<T>::expectedValue() const {
  return expectedValueOf(static_cast<const T *>(nullptr));
}

template <typename T> bool PassOption<T>::allowsMissingValue() const {
  return std::is_same<T, bool>::value;
}

template <typename T> std::string PassOption<T>::valueText() const { return spell(value_); }
template <typename T> std::string PassOption<T>::defaultText() const { return spell(default_); }

template <typename T> bool PassOption<T>::parseImpl(llvm::StringRef text) {
  return parseAs(text, value_);
}

template class PassOption<bool>;
template class PassOption<int64_t>;
template class PassOption<double>;
template class PassOption<std::string>;

//===----------------------------------------------------------------------===//
// EnumOption
//===----------------------------------------------------------------------===//

EnumOption::EnumOption(Pass &owner, llvm::StringRef name, llvm::StringRef help,
                       std::string defaultValue, std::vector<std::string> allowedValues)
    : PassOptionBase(owner, name, help), value_(defaultValue), default_(std::move(defaultValue)),
      allowed_(std::move(allowedValues)) {}

std::string EnumOption::typeName() const { return llvm::join(allowed_, "|"); }

std::string EnumOption::expectedValue() const { return "one of: " + llvm::join(allowed_, ", "); }

std::string EnumOption::valueText() const { return quotePipelineValue(value_); }
std::string EnumOption::defaultText() const { return quotePipelineValue(default_); }

bool EnumOption::parseImpl(llvm::StringRef text) {
  if (!llvm::is_contained(allowed_, text))
    return false;
  value_ = text.str();
  return true;
}

} // namespace qfx
