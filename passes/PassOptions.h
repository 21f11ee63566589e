//===- passes/PassOptions.h - Typed, named options of a pass --------------===//
//
// A pass declares its options as members (`BoolOption training{*this,
// "training", "help", false};`); each option registers itself with its owning
// pass in declaration order, carries a default and help text, and parses the
// `name=value` text of a pipeline (`canonicalize{training=true}`). The option
// kinds are bool, int (int64_t), float (double), string, and enum: a string
// restricted to a list of allowed values. Parsing never throws and never
// prints: it reports success, and the caller (the pipeline parser, or
// Pass::setOption) turns a failure into a message naming the pass, the
// option, the bad value and what was expected.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qfx {

class Pass;

/// The type-independent face of an option: what the pipeline parser, the
/// pipeline printer and `--help` need.
class PassOptionBase {
public:
  PassOptionBase(const PassOptionBase &) = delete;
  PassOptionBase &operator=(const PassOptionBase &) = delete;
  virtual ~PassOptionBase() = default;

  llvm::StringRef name() const { return name_; }
  llvm::StringRef help() const { return help_; }

  /// Short type name for `--help`: `bool`, `int`, `float`, `string`, or the
  /// allowed values of an enum joined by `|`.
  virtual std::string typeName() const = 0;
  /// What a valid value looks like, for error messages: `a bool (true or
  /// false)`, `one of: w8a8, w4a8`, ...
  virtual std::string expectedValue() const = 0;
  /// Parses and stores `text`. Returns false (value unchanged) when `text` is
  /// not a valid value of this option.
  bool parse(llvm::StringRef text);
  /// Bool options may be written without a value (`dce{remove-unused-parameters}`).
  virtual bool allowsMissingValue() const { return false; }

  /// The current value in pipeline syntax (quoted if needed), so that parsing
  /// it back gives the same value.
  virtual std::string valueText() const = 0;
  virtual std::string defaultText() const = 0;

  /// True once the option was given a value by parse() or set(), even one
  /// equal to the default. The pipeline printer prints exactly these options
  /// so that a pipeline prints back to the text it was parsed from.
  bool isExplicitlySet() const { return explicitlySet_; }

protected:
  PassOptionBase(Pass &owner, llvm::StringRef name, llvm::StringRef help);
  virtual bool parseImpl(llvm::StringRef text) = 0;
  void markExplicitlySet() { explicitlySet_ = true; }

private:
  llvm::StringRef name_;
  llvm::StringRef help_;
  bool explicitlySet_ = false;
};

/// An option holding a value of type T (bool, int64_t, double, std::string).
template <typename T> class PassOption : public PassOptionBase {
public:
  /// `name` and `help` must outlive the pass (string literals).
  PassOption(Pass &owner, llvm::StringRef name, llvm::StringRef help, T defaultValue)
      : PassOptionBase(owner, name, help), value_(defaultValue), default_(std::move(defaultValue)) {
  }

  const T &value() const { return value_; }
  operator const T &() const { return value_; }
  const T &defaultValue() const { return default_; }
  void set(T value) {
    value_ = std::move(value);
    markExplicitlySet();
  }

  std::string typeName() const override;
  std::string expectedValue() const override;
  bool allowsMissingValue() const override;
  std::string valueText() const override;
  std::string defaultText() const override;

protected:
  bool parseImpl(llvm::StringRef text) override;

private:
  T value_;
  T default_;
};

using BoolOption = PassOption<bool>;
using IntOption = PassOption<int64_t>;
using FloatOption = PassOption<double>;
using StringOption = PassOption<std::string>;

extern template class PassOption<bool>;
extern template class PassOption<int64_t>;
extern template class PassOption<double>;
extern template class PassOption<std::string>;

/// A string option restricted to `allowedValues` (e.g. a config name).
class EnumOption : public PassOptionBase {
public:
  /// `defaultValue` must be one of `allowedValues`.
  EnumOption(Pass &owner, llvm::StringRef name, llvm::StringRef help, std::string defaultValue,
             std::vector<std::string> allowedValues);

  const std::string &value() const { return value_; }
  operator const std::string &() const { return value_; }
  llvm::ArrayRef<std::string> allowedValues() const { return allowed_; }
  /// Returns false (value unchanged) if `value` is not allowed.
  bool set(llvm::StringRef value) { return parse(value); }

  std::string typeName() const override;
  std::string expectedValue() const override;
  std::string valueText() const override;
  std::string defaultText() const override;

protected:
  bool parseImpl(llvm::StringRef text) override;

private:
  std::string value_;
  std::string default_;
  std::vector<std::string> allowed_;
};

/// Spells a string value so the pipeline parser reads it back unchanged:
/// bare when it consists of letters, digits and `_.-+/:@`, otherwise in
/// double quotes with `"` and `\` escaped.
std::string quotePipelineValue(llvm::StringRef value);

} // namespace qfx
