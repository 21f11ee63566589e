//===- passes/Pass.h - The unit of transformation of a Graph --------------===//
//
// A Pass is a small class that rewrites a Graph in place. It has a registry
// name (`dce`), a one-line description, and typed options declared as members
// (see passes/PassOptions.h). Running it returns whether the graph changed or
// that it failed; a pass that fails always reports why through the
// PassContext's DiagnosticEngine, at the text location of the node it failed
// on and naming that node (Node::describe()), so a user of qfx-opt sees
// `file:line:col: error: ...` and never a bare non-zero exit. Passes do not
// print, throw or abort on bad input.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Graph.h"
#include "passes/PassOptions.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <string>
#include <utility>

namespace llvm {
class raw_ostream;
}

namespace qfx {

/// What running a pass did.
enum class PassResult {
  /// The graph is exactly as before.
  Unchanged,
  /// The graph was modified (and must still verify).
  Changed,
  /// The pass could not do its job; an error diagnostic was emitted. The graph
  /// may be partly transformed and must not be used further.
  Failed,
};

/// What a pass may use besides the graph: where to report diagnostics, and
/// services -- interfaces a pass needs whose implementation lives outside the
/// pass libraries (e.g. the weight quantizer of passes/quant, implemented by
/// the libtorch runtime, which the light core must not link). An interface T
/// declares `static char ID;`; getService<T>() returns the implementation set
/// on this context, else the process-wide default (a library registers one
/// when it is loaded, so linking it is enough), else null -- and the pass
/// then reports what is missing.
class PassContext {
public:
  explicit PassContext(DiagnosticEngine &diagnostics) : diagnostics_(diagnostics) {}
  DiagnosticEngine &diagnostics() const { return diagnostics_; }

  template <typename T> T *getService() const { return static_cast<T *>(lookupService(&T::ID)); }
  /// `service` (not owned) must outlive the context. Setting null hides the
  /// process-wide default (a test can run a pass as if nothing were linked).
  template <typename T> void setService(T *service) { setService(&T::ID, service); }

private:
  void *lookupService(const void *id) const;
  void setService(const void *id, void *service);

  DiagnosticEngine &diagnostics_;
  llvm::SmallVector<std::pair<const void *, void *>, 2> services_;
};

/// Sets the process-wide default implementation of service `T` (null removes
/// it); not owned. Thread-safe.
void setDefaultPassService(const void *id, void *service);
template <typename T> void setDefaultPassService(T *service) {
  setDefaultPassService(&T::ID, service);
}

class Pass {
public:
  Pass(const Pass &) = delete;
  Pass &operator=(const Pass &) = delete;
  virtual ~Pass() = default;

  /// The registry name, as written in pipelines: `dce`.
  llvm::StringRef name() const { return name_; }
  /// One line for `--help`.
  llvm::StringRef description() const { return description_; }

  virtual PassResult run(Graph &graph, PassContext &context) = 0;

  /// Options in declaration order.
  llvm::ArrayRef<PassOptionBase *> options() const { return options_; }
  /// Null when the pass has no option of that name.
  PassOptionBase *findOption(llvm::StringRef name) const;
  /// Sets option `name` from its text form; the error names the pass, the
  /// option, the value and what was expected (or the valid option names).
  llvm::Error setOption(llvm::StringRef name, llvm::StringRef value);

  /// The pass as a pipeline element: `canonicalize{training=true}`. Options
  /// that were explicitly set are printed, in declaration order.
  void printAsPipelineElement(llvm::raw_ostream &os) const;
  std::string pipelineElement() const;

protected:
  /// `name` and `description` must outlive the pass (string literals).
  Pass(llvm::StringRef name, llvm::StringRef description)
      : name_(name), description_(description) {}

  /// Reports that the pass failed on `node` and returns PassResult::Failed:
  /// `error: pass 'annotate' failed on 'aten::conv2d' in module 'conv1': ...`
  /// at the node's text location.
  PassResult fail(PassContext &context, const Node &node, const llvm::Twine &message) const;
  /// The same for failures that concern the whole graph rather than a node.
  PassResult fail(PassContext &context, const llvm::Twine &message) const;

private:
  friend class PassOptionBase;
  void registerOption(PassOptionBase *option) { options_.push_back(option); }

  llvm::StringRef name_;
  llvm::StringRef description_;
  llvm::SmallVector<PassOptionBase *, 4> options_;
};

/// `pass 'dce' has no option 'foo'; options of 'dce': remove-unused-parameters`
/// (or `pass 'cse' has no options`).
std::string unknownOptionMessage(const Pass &pass, llvm::StringRef optionName);
/// `invalid value 'maybe' for option 'training' of pass 'canonicalize':
/// expected a bool (true or false)`.
std::string invalidOptionValueMessage(const Pass &pass, const PassOptionBase &option,
                                      llvm::StringRef value);

} // namespace qfx
