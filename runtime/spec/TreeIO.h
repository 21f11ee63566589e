//===- runtime/spec/TreeIO.h - JSON and YAML as Attribute trees -----------===//
//
// Reading and writing JSON and YAML documents as qfx::Attribute trees (none,
// bool, int, float, string, list, dict). Specs and configs are validated from
// that one tree form, so JSON files, YAML files and node annotations in the IR
// share a single reader and produce the same messages.
//
// Reading keeps the key order of mappings (configs where "the last matching
// entry wins" depend on it) and rejects duplicate keys. YAML follows what the
// reference's `yaml.safe_load` does: anchors and aliases are resolved (an
// alias is a copy of the anchored value), merge keys (`<<: *base`) insert the
// anchored mapping's entries before the explicit ones, and plain scalars are
// typed with YAML 1.1 rules (null/~, true/false/yes/no/on/off, ints incl.
// 0x/0o/0b, floats incl. .inf/.nan). Unlike PyYAML, a float without a dot
// such as `1e-3` reads as a float, not a string. Quoted scalars and `!!str`
// are strings. Only the first document of a stream is read; an empty document
// is the none attribute.
//
// Writing: JSON via llvm::json::OStream (floats in their shortest exact form;
// non-finite floats, which JSON cannot express, as the strings "inf", "-inf",
// "nan"); YAML as block mappings with scalar lists in flow style, strings
// quoted only when they would otherwise read back as something else. Tensor
// references are written as strings "@name".
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Attribute.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace llvm {
class raw_ostream;
}

namespace qfx {

/// Parses a JSON document (strict JSON syntax, checked by llvm::json::parse).
/// Errors are StringErrors that start with `bufferName` and a line:col.
llvm::Expected<Attribute> parseJSONTree(llvm::StringRef text,
                                        llvm::StringRef bufferName = "<json>");

/// Parses the first YAML document of `text`.
llvm::Expected<Attribute> parseYAMLTree(llvm::StringRef text,
                                        llvm::StringRef bufferName = "<yaml>");

/// Writes `tree` as JSON; `indent` 0 gives one line.
void writeJSONTree(llvm::raw_ostream &os, const Attribute &tree, unsigned indent = 2);
std::string toJSONString(const Attribute &tree, unsigned indent = 2);

/// Writes `tree` as a YAML document (ends with a newline).
void writeYAMLTree(llvm::raw_ostream &os, const Attribute &tree);
std::string toYAMLString(const Attribute &tree);

} // namespace qfx
