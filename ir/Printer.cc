//===- ir/Printer.cc - Writing the qfx IR text form -----------------------===//
//
// Prints a Graph in the form ir/Parser.cc reads back (docs/TextFormat.md).
// Names are assigned once, up front, so the output is deterministic and a
// printed graph reparses to a graph that prints identically: parameters,
// inputs and result name hints keep their (sanitized) names, collisions get a
// `_N` suffix, and the remaining values are numbered in program order around
// the numbers names already use. Linear in the graph size: one hash map from
// Value to name, no per-node string building beyond Type::str().
//
//===----------------------------------------------------------------------===//
#include "ir/Printer.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/StringSaver.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

namespace qfx {

namespace {

/// Characters the parser accepts in `%value` and `@graph` names.
bool isNameChar(char c) { return llvm::isAlnum(c) || c == '_' || c == '.' || c == '$' || c == '-'; }

bool isAllDigits(llvm::StringRef text) {
  return !text.empty() && llvm::all_of(text, llvm::isDigit);
}

class Printer {
public:
  Printer(const Graph &graph, llvm::raw_ostream &os, const PrintOptions &options)
      : graph_(graph), os_(os), options_(options) {}

  void print();

private:
  /// A printed name: `text` when non-empty, otherwise the SSA number.
  struct Name {
    llvm::StringRef text;
    uint64_t number = 0;
  };

  void assignNames();
  /// Gives `value` its hint as name (made valid and unique), or queues it for
  /// numbering when there is no usable hint.
  void nameValue(const Value *value, llvm::StringRef hint, bool digitsAreNames);
  llvm::StringRef sanitize(llvm::StringRef name);
  void printValue(const Value *value);
  void printType(const Type &type);
  void printValueList(llvm::ArrayRef<Value *> values);
  void printNode(const Node &node);

  const Graph &graph_;
  llvm::raw_ostream &os_;
  const PrintOptions &options_;
  llvm::DenseMap<const Value *, Name> names_;
  llvm::DenseSet<llvm::StringRef> taken_;
  /// Numbers spelled by names (`%0` as an input name): numbering skips them.
  llvm::DenseSet<uint64_t> takenNumbers_;
  /// Next suffix to try per colliding base name, so that many values sharing
  /// one hint stay linear.
  llvm::DenseMap<llvm::StringRef, unsigned> nextSuffix_;
  std::vector<const Value *> unnamed_;
  /// Type::str() builds a string; graphs repeat few distinct types, so each
  /// spelling is built once and found again by a hash of the type.
  llvm::DenseMap<size_t, std::pair<Type, std::string>> typeSpellings_;
  llvm::BumpPtrAllocator allocator_;
  llvm::StringSaver saver_{allocator_};
};

llvm::StringRef Printer::sanitize(llvm::StringRef name) {
  if (llvm::all_of(name, isNameChar))
    return name;
  std::string fixed = name.str();
  for (char &c : fixed)
    if (!isNameChar(c))
      c = '_';
  return saver_.save(fixed);
}

void Printer::nameValue(const Value *value, llvm::StringRef hint, bool digitsAreNames) {
  llvm::StringRef base = sanitize(hint);
  // A result hint of digits only would read back as an SSA number, so it is
  // no name; inputs and parameters always have names, whatever they are.
  if (base.empty() || (!digitsAreNames && isAllDigits(base))) {
    unnamed_.push_back(value);
    return;
  }
  llvm::StringRef name = base;
  if (!taken_.insert(base).second) {
    unsigned suffix = nextSuffix_.lookup(base);
    do {
      name = saver_.save(base + "_" + llvm::Twine(++suffix));
    } while (!taken_.insert(name).second);
    nextSuffix_[base] = suffix;
  }
  uint64_t number;
  // Only the canonical spelling of a number can collide with numbering
  // (`%007` cannot).
  if (isAllDigits(name) && (name.size() == 1 || name[0] != '0') && !name.getAsInteger(10, number))
    takenNumbers_.insert(number);
  names_[value] = Name{name, 0};
}

void Printer::assignNames() {
  names_.reserve(graph_.inputs().size() + graph_.parameters().size() + graph_.numNodes());
  // Parameters first: their names are what `@name` attributes refer to, so
  // they win any collision.
  for (const Value *parameter : graph_.parameters())
    nameValue(parameter, parameter->name(), /*digitsAreNames=*/true);
  for (const Value *input : graph_.inputs())
    nameValue(input, input->name(), /*digitsAreNames=*/true);
  for (const Node *node : graph_.nodes())
    for (unsigned i = 0, e = node->numResults(); i != e; ++i)
      nameValue(node->result(i), node->result(i)->name(), /*digitsAreNames=*/false);
  uint64_t next = 0;
  for (const Value *value : unnamed_) {
    while (takenNumbers_.count(next))
      ++next;
    names_[value] = Name{llvm::StringRef(), next++};
  }
}

void Printer::printValue(const Value *value) {
  auto it = names_.find(value);
  if (it == names_.end()) {
    // Not in this graph (a broken graph being dumped): make it obvious, the
    // verifier says why.
    os_ << "%<<undefined>>";
    return;
  }
  os_ << '%';
  if (!it->second.text.empty())
    os_ << it->second.text;
  else
    os_ << it->second.number;
}

void Printer::printType(const Type &type) {
  size_t hash = llvm::hash_combine(
      static_cast<unsigned>(type.kind()), static_cast<unsigned>(type.listElement()),
      static_cast<unsigned>(type.dtype()), type.hasRank(),
      llvm::hash_combine_range(type.shape().begin(), type.shape().end()));
  auto inserted = typeSpellings_.try_emplace(hash);
  std::pair<Type, std::string> &entry = inserted.first->second;
  if (inserted.second) {
    entry = {type, type.str()};
  } else if (entry.first != type) {
    os_ << type.str(); // hash collision: rare, just spell it
    return;
  }
  os_ << entry.second;
}

void Printer::printValueList(llvm::ArrayRef<Value *> values) {
  for (size_t i = 0, e = values.size(); i != e; ++i) {
    if (i != 0)
      os_ << ", ";
    printValue(values[i]);
  }
}

void Printer::printNode(const Node &node) {
  os_ << "  ";
  unsigned numResults = node.numResults();
  for (unsigned i = 0; i != numResults; ++i) {
    if (i != 0)
      os_ << ", ";
    printValue(node.result(i));
  }
  if (numResults != 0)
    os_ << " = ";
  os_ << node.opName() << '(';
  printValueList(node.operands());
  os_ << ')';

  const AttributeDict &attributes = node.attributes();
  if (!attributes.empty()) {
    os_ << " {";
    for (size_t i = 0, e = attributes.size(); i != e; ++i) {
      if (i != 0)
        os_ << ", ";
      if (isBareKey(attributes[i].first))
        os_ << attributes[i].first;
      else
        printQuotedString(os_, attributes[i].first);
      os_ << " = ";
      attributes[i].second.print(os_);
    }
    os_ << '}';
  }

  for (unsigned i = 0; i != numResults; ++i) {
    os_ << (i == 0 ? " : " : ", ");
    printType(node.result(i)->type());
  }

  if (options_.printSourceInfo) {
    const SourceInfo &source = node.source();
    if (!source.modulePath.empty() || !source.moduleType.empty()) {
      os_ << " module(";
      printQuotedString(os_, source.modulePath);
      os_ << ", ";
      printQuotedString(os_, source.moduleType);
      os_ << ')';
    }
    if (source.line != 0) {
      os_ << " loc(";
      printQuotedString(os_, source.file);
      os_ << ':' << source.line << ':' << source.column << ')';
    }
  }

  if (options_.printAnnotations && node.quant()) {
    const QuantAnnotation &quant = *node.quant();
    os_ << " quant(inputs = [";
    for (size_t i = 0, e = quant.inputs.size(); i != e; ++i) {
      if (i != 0)
        os_ << ", ";
      quant.inputs[i].print(os_);
    }
    os_ << "], output = ";
    quant.output.print(os_);
    // A node without operands can still have an output group.
    if (quant.hasGroups() || quant.outputGroup != -1) {
      os_ << ", groups = [";
      for (size_t i = 0, e = quant.inputGroups.size(); i != e; ++i) {
        if (i != 0)
          os_ << ", ";
        os_ << quant.inputGroups[i];
      }
      os_ << "], output_group = " << quant.outputGroup;
    }
    os_ << ')';
  }
  os_ << '\n';
}

void Printer::print() {
  assignNames();

  llvm::StringRef graphName = graph_.name().empty() ? "main" : sanitize(graph_.name());
  os_ << "graph @" << graphName << '(';
  llvm::ArrayRef<Value *> inputs = graph_.inputs();
  for (size_t i = 0, e = inputs.size(); i != e; ++i) {
    if (i != 0)
      os_ << ", ";
    printValue(inputs[i]);
    os_ << ": ";
    printType(inputs[i]->type());
  }
  os_ << ") {\n";

  for (const Value *parameter : graph_.parameters()) {
    os_ << (parameter->isBuffer() ? "  buffer " : "  param ");
    printValue(parameter);
    os_ << " : ";
    printType(parameter->type());
    os_ << '\n';
  }
  for (const Node *node : graph_.nodes())
    printNode(*node);

  os_ << "  return";
  if (!graph_.outputs().empty()) {
    os_ << ' ';
    printValueList(graph_.outputs());
  }
  os_ << "\n}\n";
}

} // namespace

void printGraph(const Graph &graph, llvm::raw_ostream &os, const PrintOptions &options) {
  Printer(graph, os, options).print();
}

std::string printGraphToString(const Graph &graph, const PrintOptions &options) {
  std::string text;
  llvm::raw_string_ostream os(text);
  // raw_string_ostream appends to the string on every write; a buffer makes
  // large graphs several times faster.
  os.SetBuffered();
  printGraph(graph, os, options);
  os.flush();
  return text;
}

} // namespace qfx
