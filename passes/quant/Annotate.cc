//===- passes/quant/Annotate.cc - The annotate pass ------------------------===//
//
// Decides which tensors get quantized with which spec (reference §2, §3.2)
// and records it on the nodes as QuantAnnotations in the format of
// docs/Quantization.md ("Annotation format"). The config is a preset or a
// YAML/JSON file (pass option `config`), applied with ConfigResolver.
//
// The steps, each linear or near-linear in the graph:
// 1. Match the pattern families below over the graph. A pattern is a head op
//    (by OpRole or trait) optionally followed by a batch_norm and/or an
//    activation (trait Activation) that consume its result as their first
//    operand and are its only user: an intermediate node used outside the
//    match prevents the longer match (§2.2). Every prefix of the longest chain
//    is a match of its own, as the reference registers every length.
// 2. Sort the matches by (config level, op config level, pattern length
//    descending, topological position) (§1.5) and annotate in that order,
//    skipping a match when any of its nodes is already annotated.
// 3. Apply module-boundary specs (§2.7), overwriting op-level entries.
// 4. Resolve weight axes from the consuming op's op-table defaults and reject
//    what cannot be resolved (§5.4); check axes against ranks.
// 5. Copy QAT schedules onto the nodes of scheduled modules.
//
// Decisions where the reference is loose or quirky (docs/Quantization.md,
// "Decisions on the reference's quirks"): the §3.4 re-tagging of
// relu/sigmoid/tanh outputs is not an annotation matter here (it has no
// numeric effect in the reference; the op table's NonNegative / FixedRange
// traits carry that knowledge to share-observers); output reuse looks at
// direct consumers only (what the reference effectively does); a spec reused
// across an edge is stored as an equal copy with `shared_with` dereferenced.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "passes/quant/config/ConfigIO.h"
#include "passes/quant/config/ConfigResolver.h"
#include "runtime/spec/SpecError.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <unordered_map>

namespace qfx {
namespace {

//===----------------------------------------------------------------------===//
// Pattern description (reference §2.2)
//===----------------------------------------------------------------------===//

/// One op position of a pattern: an op role, and/or trait bits that must all
/// be present. Role None means "any role".
struct OpMatcher {
  OpRole role = OpRole::None;
  uint32_t traits = 0;
  bool matches(const OpInfo &op) const {
    return (role == OpRole::None || op.role == role) && op.has(traits);
  }
};

enum class PatternKind : uint8_t {
  /// conv / conv_transpose / linear / embedding: inputs (incl. weight, bias)
  /// on the head, the output after the last op.
  Weighted,
  /// matmul / add / mul / sub: the same shape without state defaults.
  NAry,
  /// Shared-observer ops (§3): inputs and output share one observer.
  Shared,
};

struct PatternFamily {
  const char *name;
  PatternKind kind;
  OpMatcher head;
  bool optionalBatchNorm;
  bool optionalActivation;
};

const OpMatcher kBatchNorm{OpRole::BatchNorm, 0};
const OpMatcher kActivation{OpRole::None, optrait::Activation};

/// The pattern set, in the reference's registration order. Adding an op to a
/// family is an op-table change (its role or traits), never a change here.
const PatternFamily kPatternFamilies[] = {
    {"conv", PatternKind::Weighted, {OpRole::Conv, 0}, true, true},
    {"conv_transpose", PatternKind::Weighted, {OpRole::ConvTranspose, 0}, true, true},
    {"linear", PatternKind::Weighted, {OpRole::Linear, 0}, true, true},
    {"embedding", PatternKind::Weighted, {OpRole::Embedding, 0}, false, false},
    {"matmul", PatternKind::NAry, {OpRole::MatMul, 0}, false, true},
    {"add", PatternKind::NAry, {OpRole::Add, 0}, false, true},
    {"mul", PatternKind::NAry, {OpRole::Mul, 0}, false, true},
    {"sub", PatternKind::NAry, {OpRole::Sub, 0}, false, false},
    {"shared", PatternKind::Shared, {OpRole::None, optrait::SharesQParams}, false, false},
};

/// A node heading a pattern family, with the longest chain it starts and
/// its op config (resolved once). The chain is kept: each of its prefixes
/// is a match, and finding it again per match walked the users' use lists.
struct Head {
  Node *chain[3]; // chain[0] is the key node
  const OpQuantizerConfig *op;
  ConfigLevel level;
  OpConfigLevel opLevel;
  uint8_t family;
  uint8_t maxLength;
};

/// One match: the first `length` nodes of a head's chain. Compact, since
/// there are up to three per head.
struct Match {
  uint32_t head;
  uint8_t length;
};

/// The only node using `node`'s results, if that node uses result 0 as its
/// first operand and nothing else of `node` is used (graph outputs count as
/// outside users).
Node *soleFirstOperandUser(const Node &node) {
  Node *user = nullptr;
  for (unsigned r = 0; r < node.numResults(); ++r) {
    for (const Use &use : node.result(r)->uses()) {
      if (use.isGraphOutput() || (user && use.user != user))
        return nullptr;
      user = use.user;
    }
  }
  if (!user || user->numOperands() == 0 || user->operand(0) != node.result(0))
    return nullptr;
  return user;
}

//===----------------------------------------------------------------------===//
// Annotation entries
//===----------------------------------------------------------------------===//

constexpr const char *kSharedWith = "shared_with";

Attribute sharedWith(unsigned operand) {
  return Attribute::dict({{kSharedWith, Attribute::integer(operand)}});
}

/// The operand index of a `{shared_with = k}` entry, or -1.
int64_t sharedOperand(const Attribute &entry) {
  if (!entry.isDict() || entry.getDict().size() != 1)
    return -1;
  const NamedAttribute &only = entry.getDict().front();
  if (only.first != kSharedWith || !only.second.isInt())
    return -1;
  return only.second.getInt();
}

/// `entry` of `node` with a `shared_with` replaced by the entry it names.
Attribute dereference(const Node &node, const Attribute &entry) {
  int64_t operand = sharedOperand(entry);
  if (operand < 0)
    return entry;
  const QuantAnnotation *quant = node.quant();
  if (!quant || operand >= static_cast<int64_t>(quant->inputs.size()))
    return Attribute::none();
  const Attribute &target = quant->inputs[operand];
  return sharedOperand(target) < 0 ? target : Attribute::none();
}

bool isSpecEntry(const Attribute &entry) { return entry.isDict() && sharedOperand(entry) < 0; }

llvm::StringRef localName(llvm::StringRef parameterName) {
  size_t dot = parameterName.rfind('.');
  return dot == llvm::StringRef::npos ? parameterName : parameterName.drop_front(dot + 1);
}

bool isFloatTensor(const Value *value) { return value->type().isFloatTensor(); }

/// Operand positions grouped by distinct value: the reference's input index
/// counts a node's distinct input nodes in order of first appearance.
struct DistinctInputs {
  /// inputIndex[i]: the input index of operand i.
  llvm::SmallVector<unsigned, 4> inputIndex;
  /// firstOperand[k]: the first operand position of input index k.
  llvm::SmallVector<unsigned, 4> firstOperand;

  explicit DistinctInputs(const Node &node) {
    unsigned n = node.numOperands();
    inputIndex.resize(n);
    if (n <= 8) {
      // The common case: a quadratic scan of a handful of operands beats
      // hashing.
      for (unsigned i = 0; i < n; ++i) {
        unsigned k = 0;
        while (k < firstOperand.size() && node.operand(firstOperand[k]) != node.operand(i))
          ++k;
        if (k == firstOperand.size())
          firstOperand.push_back(i);
        inputIndex[i] = k;
      }
      return;
    }
    llvm::DenseMap<const Value *, unsigned> seen;
    for (unsigned i = 0; i < n; ++i) {
      auto inserted = seen.try_emplace(node.operand(i), firstOperand.size());
      if (inserted.second)
        firstOperand.push_back(i);
      inputIndex[i] = inserted.first->second;
    }
  }
};

//===----------------------------------------------------------------------===//
// The annotator
//===----------------------------------------------------------------------===//

class Annotator {
public:
  Annotator(Graph &graph, const ConfigResolver &resolver, DiagnosticEngine &diagnostics)
      : graph_(graph), resolver_(resolver), diagnostics_(diagnostics) {}

  /// False when errors were reported.
  bool run();
  bool changed() const { return changed_; }

private:
  // Diagnostics.
  void error(const Node &node, const llvm::Twine &message) {
    ++errors_;
    diagnostics_.error(node.textLocation(),
                       "pass 'annotate' failed on " + node.describe() + ": " + message);
  }
  void warning(const Node &node, const llvm::Twine &message) {
    diagnostics_.warning(node.textLocation(), "annotate: " + node.describe() + ": " + message);
  }

  /// The config entry a key node's op recipe comes from, for messages.
  std::string configPath(const Node &node) const {
    return resolver_.describe(resolver_.resolve(node));
  }
  unsigned position(const Node &node);
  /// Remembers the entries of `node`'s parameter operands (first consumer wins).
  void recordState(const Node &node);
  const Attribute &specAttribute(const QuantizationSpec &spec);
  void setAnnotation(Node &node, QuantEntryList inputs, Attribute output);

  Attribute resolveInput(Node &node, unsigned operand, unsigned inputIndex,
                         const OpQuantizerConfig &config);
  Attribute resolveState(Node &node, Value *parameter, const OpQuantizerConfig &config);
  Attribute resolveOutput(Node &node, const OpQuantizerConfig &config);
  void resolveInputs(Node &node, const OpQuantizerConfig &config, QuantEntryList &inputs);

  static unsigned chainOf(Node *key, const PatternFamily &family, Node *chain[3]);
  /// Also gathers nodes_ and records the state entries of annotations that
  /// exist before this run (their nodes go to `preAnnotated`).
  void collectMatches(std::vector<Match> &matches, llvm::DenseSet<const Node *> &preAnnotated);
  void annotateChain(const Head &head, unsigned length);
  /// The entry recorded for `parameter` (§2.5), or null.
  const Attribute *knownState(const Value *parameter) const {
    unsigned index = parameter->position();
    return index < hasStateEntry_.size() && hasStateEntry_[index] ? &stateEntries_[index] : nullptr;
  }
  /// Records `entry` for `parameter` unless one is recorded already.
  void rememberState(const Value *parameter, const Attribute &entry) {
    unsigned index = parameter->position();
    if (index >= hasStateEntry_.size()) {
      hasStateEntry_.resize(index + 1);
      stateEntries_.resize(index + 1);
    }
    if (!hasStateEntry_[index]) {
      hasStateEntry_[index] = true;
      stateEntries_[index] = entry;
    }
  }
  void annotateShared(Node &node, const OpQuantizerConfig &config);
  void shareFrom(Node &node, const Attribute &spec);
  void propagate(Node &producer, const Attribute &spec);

  void applyModuleSpecs();
  void applyModuleBoundary(unsigned module);
  void applyModuleState();
  void resolveAxes();
  /// Per-node finishing steps, run in one walk over nodes_ (on a million
  /// nodes every walk is a pass over memory): weight layouts, then axes.
  struct FinishCaches;
  void mapWeightLayout(Node &node, const llvm::DenseSet<const Node *> &preAnnotated,
                       FinishCaches &caches);
  void checkAxes(Node &node, FinishCaches &caches);
  void finishNodes(const llvm::DenseSet<const Node *> &preAnnotated);
  void attachSchedules();

  Graph &graph_;
  const ConfigResolver &resolver_;
  DiagnosticEngine &diagnostics_;
  unsigned errors_ = 0;
  bool changed_ = false;
  /// Program positions indexed by node id (numbered on first use): ids are
  /// dense, and a hash map of a million nodes cost more than the vector.
  std::vector<unsigned> position_;
  /// Spec -> its annotation dictionary, so equal entries share storage.
  std::unordered_map<const QuantizationSpec *, Attribute> specAttributes_;
  /// Entry of a parameter at its first annotated consumer (§2.5: shared
  /// parameters get one spec), by parameter position: graphs have up to a
  /// parameter per node, and a hash map of them was a tenth of this pass.
  std::vector<Attribute> stateEntries_;
  std::vector<bool> hasStateEntry_;
  std::vector<Head> heads_;
  /// The graph's nodes in program order, gathered by the first walk: later
  /// steps iterate this vector, whose independent loads the CPU overlaps,
  /// instead of chasing the node list's pointers one miss at a time.
  std::vector<Node *> nodes_;
  /// Nodes of each module (innermost), in program order; built for §2.7.
  std::vector<std::vector<Node *>> nodesByModule_;
};

const Attribute &Annotator::specAttribute(const QuantizationSpec &spec) {
  auto it = specAttributes_.find(&spec);
  if (it != specAttributes_.end())
    return it->second;
  SpecWriteOptions options;
  options.omitDefaults = true;
  return specAttributes_.emplace(&spec, spec.toAttribute(options)).first->second;
}

void Annotator::setAnnotation(Node &node, QuantEntryList inputs, Attribute output) {
  QuantAnnotation &quant = node.getOrCreateQuant();
  quant.inputs = std::move(inputs);
  quant.output = std::move(output);
  recordState(node);
  changed_ = true;
}

void Annotator::recordState(const Node &node) {
  const QuantAnnotation &quant = *node.quant();
  for (unsigned i = 0, e = node.numOperands(); i != e; ++i)
    if (node.operand(i)->isParameter())
      rememberState(node.operand(i), quant.inputs[i]);
}

unsigned Annotator::position(const Node &node) {
  // Program positions are needed rarely (ties between annotated consumers,
  // module-boundary specs), so they are numbered on first use.
  if (position_.empty()) {
    uint64_t maxId = 0;
    for (const Node *n : nodes_)
      maxId = std::max(maxId, n->id());
    position_.assign(maxId + 1, 0);
    unsigned index = 0;
    for (const Node *n : nodes_)
      position_[n->id()] = index++;
  }
  return node.id() < position_.size() ? position_[node.id()] : 0;
}

Attribute Annotator::resolveInput(Node &node, unsigned operand, unsigned inputIndex,
                                  const OpQuantizerConfig &config) {
  Value *value = node.operand(operand);
  bool exact = false;
  const OptionalSpec *configured = config.opInputSpec.lookup(inputIndex, &exact);
  if (value->isParameter()) {
    if (exact) {
      error(node, "Config is attempting to set op_input_spec idx " + llvm::Twine(inputIndex) +
                      ", but the input is a state tensor ('" + value->name() +
                      "'); address state tensors by local name in op_state_spec (e.g. '" +
                      localName(value->name()) + "') (config entry: " + configPath(node) + ")");
      return Attribute::none();
    }
    return resolveState(node, value, config);
  }
  if (!isFloatTensor(value)) {
    if (exact && configured && *configured)
      warning(node, "input " + llvm::Twine(inputIndex) + " is not a float tensor (" +
                        value->type().str() + "), so op_input_spec[" + llvm::Twine(inputIndex) +
                        "] of " + configPath(node) + " is ignored");
    return Attribute::none();
  }
  if (const Node *producer = value->producer()) {
    // A value that is already (fake-)quantized, or dequantized storage such
    // as lower-to-qdq's weights, is not quantized again: the reference
    // treats its compressed-weight ops the same way (§2.5).
    OpRole role = producer->op().role;
    if (role == OpRole::FakeQuant || role == OpRole::Quantize || role == OpRole::Dequantize)
      return Attribute::none();
  }
  // A producer that already decided its output spec decides this edge too,
  // even when this op's config says None (§2.5).
  if (const Node *producer = value->producer())
    if (const QuantAnnotation *quant = producer->quant()) {
      Attribute output = dereference(*producer, quant->output);
      if (!output.isNone())
        return output;
    }
  if (!configured || !*configured)
    return Attribute::none();
  return specAttribute(**configured);
}

Attribute Annotator::resolveState(Node &node, Value *parameter, const OpQuantizerConfig &config) {
  if (const Attribute *known = knownState(parameter))
    return *known;
  llvm::StringRef name = localName(parameter->name());
  bool exact = false;
  const OptionalSpec *configured = config.opStateSpec.lookup(name, &exact);
  if (!isFloatTensor(parameter)) {
    if (exact && configured && *configured)
      warning(node, "state tensor '" + parameter->name() + "' is not a float tensor (" +
                        parameter->type().str() + "), so op_state_spec['" + name + "'] of " +
                        configPath(node) + " is ignored");
    return Attribute::none();
  }
  if (!configured || !*configured)
    return Attribute::none();
  return specAttribute(**configured);
}

Attribute Annotator::resolveOutput(Node &node, const OpQuantizerConfig &config) {
  if (node.numResults() == 0 || !isFloatTensor(node.result(0)))
    return Attribute::none();
  const OptionalSpec *configured = config.opOutputSpec.lookup(0);
  if (!configured || !*configured)
    return Attribute::none();
  // An already annotated consumer that quantizes this very edge supplies the
  // spec (the first such consumer in program order), so the edge gets one
  // observer. Only direct consumers count: the reference's walk through
  // shared-observer users finds nothing more (its maps are keyed by the
  // shared op, not by this node).
  const Node *best = nullptr;
  Attribute reused;
  for (const Use &use : node.result(0)->uses()) {
    if (use.isGraphOutput() || !use.user->quant())
      continue;
    const QuantAnnotation &quant = *use.user->quant();
    if (use.operandIndex >= quant.inputs.size())
      continue;
    Attribute entry = dereference(*use.user, quant.inputs[use.operandIndex]);
    if (entry.isNone() || (best && position(*best) <= position(*use.user)))
      continue;
    best = use.user;
    reused = entry;
  }
  if (best)
    return reused;
  return specAttribute(**configured);
}

void Annotator::resolveInputs(Node &node, const OpQuantizerConfig &config, QuantEntryList &inputs) {
  DistinctInputs distinct(node);
  inputs.resize(node.numOperands());
  for (unsigned i = 0, e = node.numOperands(); i != e; ++i) {
    unsigned first = distinct.firstOperand[distinct.inputIndex[i]];
    inputs[i] = first == i ? resolveInput(node, i, distinct.inputIndex[i], config) : inputs[first];
  }
  // Explicit indices beyond the op's inputs configure nothing: say so.
  for (const SpecMap::Entry &entry : config.opInputSpec.entries())
    if (entry.first.isIndex() &&
        entry.first.getIndex() >= static_cast<int64_t>(distinct.firstOperand.size()))
      warning(node, "op_input_spec index " + llvm::Twine(entry.first.getIndex()) + " of " +
                        configPath(node) + " is beyond the op's " +
                        llvm::Twine(distinct.firstOperand.size()) + " input" +
                        (distinct.firstOperand.size() == 1 ? "" : "s") +
                        " (indices count distinct inputs from 0)");
}

unsigned Annotator::chainOf(Node *key, const PatternFamily &family, Node *chain[3]) {
  // The longest chain head [-> batch_norm] [-> activation].
  chain[0] = key;
  unsigned length = 1;
  if (family.optionalBatchNorm)
    if (Node *next = soleFirstOperandUser(*chain[length - 1]))
      if (kBatchNorm.matches(next->op()))
        chain[length++] = next;
  if (family.optionalActivation)
    if (Node *next = soleFirstOperandUser(*chain[length - 1]))
      if (kActivation.matches(next->op()))
        chain[length++] = next;
  return length;
}

void Annotator::collectMatches(std::vector<Match> &matches,
                               llvm::DenseSet<const Node *> &preAnnotated) {
  for (Node *node : graph_.nodes()) {
    nodes_.push_back(node);
    // Pre-existing annotations count: their state entries are reused too.
    if (const QuantAnnotation *quant = node->quant()) {
      preAnnotated.insert(node);
      for (unsigned i = 0, e = std::min<size_t>(quant->inputs.size(), node->numOperands()); i != e;
           ++i)
        if (node->operand(i)->isParameter())
          rememberState(node->operand(i), quant->inputs[i]);
    }
    for (unsigned f = 0; f < std::size(kPatternFamilies); ++f) {
      const PatternFamily &family = kPatternFamilies[f];
      if (!family.head.matches(node->op()))
        continue;
      Head head{{}, nullptr, {}, {}, static_cast<uint8_t>(f), 0};
      unsigned length = chainOf(node, family, head.chain);
      ResolvedOpConfig config = resolver_.resolve(*node);
      head.op = config.op;
      head.level = config.level;
      head.opLevel = config.opLevel;
      head.maxLength = static_cast<uint8_t>(length);
      uint32_t index = heads_.size();
      heads_.push_back(head);
      // Every prefix of the chain is a match of its own.
      for (unsigned l = length; l >= 1; --l)
        matches.push_back({index, static_cast<uint8_t>(l)});
      break; // a node heads patterns of one family only
    }
  }
  // §1.5: config level, op config level, longer patterns first, then
  // program order (then registration order, which never decides: a node
  // heads patterns of one family). Matches were collected in program order,
  // so a stable counting sort on the first three keys (27 buckets) gives the
  // whole order in linear time.
  auto bucket = [&](const Match &m) {
    const Head &h = heads_[m.head];
    return (static_cast<unsigned>(h.level) * 3 + static_cast<unsigned>(h.opLevel)) * 3 +
           (3 - m.length);
  };
  constexpr unsigned kBuckets = 27;
  std::array<size_t, kBuckets + 1> start{};
  for (const Match &m : matches)
    ++start[bucket(m) + 1];
  for (unsigned b = 0; b < kBuckets; ++b)
    start[b + 1] += start[b];
  std::vector<Match> sorted(matches.size());
  for (const Match &m : matches)
    sorted[start[bucket(m)]++] = m;
  matches = std::move(sorted);
}

void Annotator::annotateChain(const Head &head, unsigned length) {
  Node *const *chain = head.chain;
  Node &key = *chain[0];
  Node &last = *chain[length - 1];
  Attribute output = resolveOutput(last, *head.op);
  // Inputs on the key node; the output is quantized after the last op only:
  // none between conv and batch_norm, or between either and the activation.
  QuantAnnotation &quant = key.getOrCreateQuant();
  resolveInputs(key, *head.op, quant.inputs);
  if (length == 1)
    quant.output = output;
  recordState(key);
  for (unsigned i = 1; i < length; ++i) {
    QuantAnnotation &intermediate = chain[i]->getOrCreateQuant();
    if (chain[i] == &last)
      intermediate.output = output;
    recordState(*chain[i]);
  }
  changed_ = true;
  if (!output.isNone())
    propagate(last, output);
}

/// Gives a shared-observer op `spec` on its first float input; its other
/// float inputs and its output share that input's observer.
void Annotator::shareFrom(Node &node, const Attribute &spec) {
  unsigned anchor = 0;
  while (anchor < node.numOperands() && !isFloatTensor(node.operand(anchor)))
    ++anchor;
  QuantEntryList inputs(node.numOperands());
  for (unsigned i = 0, e = node.numOperands(); i != e; ++i) {
    if (i == anchor)
      inputs[i] = spec;
    else if (isFloatTensor(node.operand(i)) && anchor < e)
      inputs[i] = sharedWith(anchor);
  }
  Attribute output;
  if (anchor < node.numOperands() && node.numResults() > 0 && isFloatTensor(node.result(0)))
    output = sharedWith(anchor);
  setAnnotation(node, std::move(inputs), std::move(output));
}

/// §3.2(a): a quantized output flows into unannotated shared-observer users,
/// and on through theirs.
void Annotator::propagate(Node &producer, const Attribute &spec) {
  llvm::SmallVector<Node *, 8> worklist{&producer};
  while (!worklist.empty()) {
    Node *node = worklist.pop_back_val();
    if (node->numResults() == 0)
      continue;
    for (const Use &use : node->result(0)->uses()) {
      if (use.isGraphOutput() || use.user->quant() || !use.user->op().has(optrait::SharesQParams))
        continue;
      shareFrom(*use.user, spec);
      worklist.push_back(use.user);
    }
  }
}

/// §3.2(b): a shared-observer op reached unannotated in the sorted order.
void Annotator::annotateShared(Node &node, const OpQuantizerConfig &config) {
  QuantEntryList inputs;
  resolveInputs(node, config, inputs);
  // The *last* quantized input decides (reference behaviour).
  const Attribute *chosen = nullptr;
  for (const Attribute &input : inputs)
    if (!input.isNone())
      chosen = &input;
  if (chosen) {
    Attribute spec = *chosen;
    shareFrom(node, spec);
    propagate(node, spec);
    return;
  }
  Attribute output = resolveOutput(node, config);
  setAnnotation(node, QuantEntryList(node.numOperands()), output);
  if (!output.isNone())
    propagate(node, output);
}

//===----------------------------------------------------------------------===//
// Module-boundary specs (§2.7)
//===----------------------------------------------------------------------===//

void Annotator::applyModuleSpecs() {
  llvm::ArrayRef<ModuleInfo> modules = resolver_.modules();
  bool any = false;
  for (const ModuleInfo &module : modules)
    any |= module.direct && module.config->hasModuleSpecs();
  if (!any)
    return;
  nodesByModule_.assign(modules.size(), {});
  for (Node *node : nodes_)
    nodesByModule_[resolver_.moduleOf(*node)].push_back(node);
  // Type-level first, then name-level, so that name-level entries win.
  for (ConfigLevel level : {ConfigLevel::ModuleType, ConfigLevel::ModuleName})
    for (unsigned module : resolver_.preorder())
      if (modules[module].direct && modules[module].level == level &&
          (!modules[module].config->moduleInputSpec.empty() ||
           !modules[module].config->moduleOutputSpec.empty()))
        applyModuleBoundary(module);
  applyModuleState();
}

void Annotator::applyModuleBoundary(unsigned moduleIndex) {
  const ModuleInfo &module = resolver_.modules()[moduleIndex];
  const ModuleQuantizerConfig &config = *module.config;
  // The module's nodes in program order: the lists of the modules of its
  // subtree (a pre-order range), merged. Proportional to the module's size.
  std::vector<Node *> nodes;
  llvm::ArrayRef<unsigned> preorder = resolver_.preorder();
  for (unsigned p = module.first; p <= module.last; ++p) {
    const std::vector<Node *> &own = nodesByModule_[preorder[p]];
    nodes.insert(nodes.end(), own.begin(), own.end());
  }
  std::sort(nodes.begin(), nodes.end(),
            [&](const Node *a, const Node *b) { return position(*a) < position(*b); });
  auto inside = [&](const Node *node) {
    return node && resolver_.isWithin(resolver_.moduleOf(*node), moduleIndex);
  };
  auto entryFor = [&](const OptionalSpec &spec, const Value *value) {
    return spec && isFloatTensor(value) ? specAttribute(*spec) : Attribute::none();
  };

  unsigned inputIndex = 0;
  unsigned outputIndex = 0;
  for (Node *node : nodes) {
    if (!config.moduleInputSpec.empty()) {
      DistinctInputs distinct(*node);
      for (unsigned k = 0; k < distinct.firstOperand.size(); ++k) {
        Value *value = node->operand(distinct.firstOperand[k]);
        if (value->isParameter() || inside(value->producer()))
          continue;
        const OptionalSpec *spec = config.moduleInputSpec.lookup(inputIndex++);
        if (!spec)
          continue;
        QuantAnnotation &quant = node->getOrCreateQuant();
        for (unsigned i = 0, e = node->numOperands(); i != e; ++i)
          if (node->operand(i) == value)
            quant.inputs[i] = entryFor(*spec, value);
        changed_ = true;
      }
    }
    if (!config.moduleOutputSpec.empty() && node->numResults() > 0) {
      bool external = false;
      for (unsigned r = 0; r < node->numResults() && !external; ++r)
        for (const Use &use : node->result(r)->uses())
          if (use.isGraphOutput() || !inside(use.user)) {
            external = true;
            break;
          }
      if (!external)
        continue;
      if (const OptionalSpec *spec = config.moduleOutputSpec.lookup(outputIndex++)) {
        node->getOrCreateQuant().output = entryFor(*spec, node->result(0));
        changed_ = true;
      }
    }
  }
}

void Annotator::applyModuleState() {
  llvm::ArrayRef<ModuleInfo> modules = resolver_.modules();
  for (Value *parameter : graph_.parameters()) {
    if (!parameter->hasUses())
      continue;
    // Every module containing the parameter knows it under a local name: its
    // path relative to the module (`weight` for `fc`, `fc.weight` for the
    // root), as named_parameters() spells it. Among the directly matched
    // modules with module_state_spec, name level comes before type level and
    // later entries before earlier ones; the first whose dict has the local
    // name (or '*') decides.
    llvm::StringRef name = parameter->name();
    const OptionalSpec *chosen = nullptr;
    const ModuleInfo *chosenModule = nullptr;
    for (llvm::StringRef prefix = name;;) {
      size_t dot = prefix.rfind('.');
      prefix = dot == llvm::StringRef::npos ? llvm::StringRef() : prefix.take_front(dot);
      int index = resolver_.findModule(prefix);
      if (index >= 0) {
        const ModuleInfo &module = modules[index];
        if (module.direct && !module.config->moduleStateSpec.empty()) {
          llvm::StringRef local = prefix.empty() ? name : name.drop_front(prefix.size() + 1);
          const OptionalSpec *spec = module.config->moduleStateSpec.lookup(local);
          bool better = !chosenModule || module.level < chosenModule->level ||
                        (module.level == chosenModule->level && module.entry > chosenModule->entry);
          if (spec && better) {
            chosen = spec;
            chosenModule = &module;
          }
        }
      }
      if (prefix.empty())
        break;
    }
    if (!chosen)
      continue;
    Attribute entry =
        *chosen && isFloatTensor(parameter) ? specAttribute(**chosen) : Attribute::none();
    for (const Use &use : parameter->uses()) {
      if (use.isGraphOutput())
        continue;
      use.user->getOrCreateQuant().inputs[use.operandIndex] = entry;
      changed_ = true;
    }
  }
}

//===----------------------------------------------------------------------===//
// Axes (§5.4)
//===----------------------------------------------------------------------===//

llvm::StringRef granularityKindName(const Granularity &granularity) {
  return granularity.isPerChannel() ? "per-channel" : "per-block";
}

void Annotator::resolveAxes() {
  // Parsed granularity per distinct spec dictionary (entries share storage).
  llvm::DenseMap<const void *, std::optional<Granularity>> parsed;
  auto granularityOf = [&](const Attribute &entry) -> std::optional<Granularity> {
    auto it = parsed.find(&entry.getDict());
    if (it != parsed.end())
      return it->second;
    std::optional<Granularity> result;
    if (const Attribute *g = entry.lookup("granularity")) {
      llvm::Expected<Granularity> granularity = Granularity::fromAttribute(*g);
      if (granularity)
        result = *granularity;
      else
        llvm::consumeError(granularity.takeError());
    }
    parsed[&entry.getDict()] = result;
    return result;
  };

  // (source dictionary, axis) -> (source kept alive so its address stays unique, resolved).
  llvm::DenseMap<std::pair<const void *, int>, std::pair<Attribute, Attribute>> resolvedEntries;
  struct Consumer {
    Node *node;
    unsigned operand;
    Granularity granularity;
    int axis; // the op's default for this granularity kind, -1 if none
  };
  for (Value *parameter : graph_.parameters()) {
    llvm::SmallVector<Consumer, 2> consumers;
    for (const Use &use : parameter->uses()) {
      if (use.isGraphOutput() || !use.user->quant())
        continue;
      const Attribute &entry = use.user->quant()->inputs[use.operandIndex];
      if (!isSpecEntry(entry))
        continue;
      std::optional<Granularity> granularity = granularityOf(entry);
      if (!granularity || !granularity->needsAxis())
        continue;
      const OpInfo &op = use.user->op();
      int axis = -1;
      if (static_cast<int>(use.operandIndex) == op.weightOperand)
        axis = granularity->isPerChannel() ? op.channelAxis : op.blockAxis;
      consumers.push_back({use.user, use.operandIndex, *granularity, axis});
    }
    if (consumers.empty())
      continue;
    // One weight, one observer: every consumer that has a default must
    // agree; consumers without one follow the others.
    for (bool perChannel : {true, false}) {
      std::map<int, const Consumer *> axes;
      const Consumer *any = nullptr;
      for (const Consumer &c : consumers) {
        if (c.granularity.isPerChannel() != perChannel)
          continue;
        if (!any)
          any = &c; // diagnostics point at the first consumer
        if (c.axis >= 0)
          axes.emplace(c.axis, &c);
      }
      if (!any)
        continue;
      auto config = [&] { return configPath(*any->node); };
      if (axes.empty()) {
        error(*any->node,
              "unresolved axis=None remains for weight '" + parameter->name() + "' (" +
                  any->granularity.str() + "): '" + any->node->opName() + "' has no default " +
                  granularityKindName(any->granularity) +
                  " axis for this operand; set 'axis' explicitly in the weight spec of " +
                  config());
        continue;
      }
      if (axes.size() > 1) {
        std::string detail;
        for (const auto &entry : axes)
          detail += (detail.empty() ? "" : ", ") + entry.second->node->describe() + " (axis " +
                    std::to_string(entry.first) + ")";
        error(*any->node, "Conflicting default axes for weight '" + parameter->name() + "' (" +
                              any->granularity.str() + ") consumed by " + detail +
                              "; set 'axis' explicitly in the weight spec of " + config());
        continue;
      }
      int axis = axes.begin()->first;
      for (const Consumer &c : consumers) {
        if (c.granularity.isPerChannel() != perChannel)
          continue;
        Attribute &entry = c.node->getOrCreateQuant().inputs[c.operand];
        // Weights sharing a spec and an axis share one resolved dictionary.
        auto key = std::make_pair(static_cast<const void *>(&entry.getDict()), axis);
        auto cached = resolvedEntries.find(key);
        if (cached == resolvedEntries.end()) {
          llvm::Expected<QuantizationSpec> spec = QuantizationSpec::fromAttribute(entry);
          llvm::Expected<QuantizationSpec> resolved =
              spec ? spec->withGranularity(c.granularity.withAxis(axis))
                   : llvm::Expected<QuantizationSpec>(spec.takeError());
          if (!resolved) {
            error(*c.node, "the default " + granularityKindName(c.granularity) + " axis " +
                               llvm::Twine(axis) + " of '" + c.node->opName() + "' for weight '" +
                               parameter->name() +
                               "' is not usable: " + llvm::toString(resolved.takeError()) +
                               "; set 'axis' explicitly in the weight spec of " + config());
            continue;
          }
          SpecWriteOptions options;
          options.omitDefaults = true;
          cached = resolvedEntries.try_emplace(key, entry, resolved->toAttribute(options)).first;
        }
        entry = cached->second.second;
        changed_ = true;
      }
    }
  }
}

/// Specs name weight axes in the layout of PyTorch's op ([C_out, C_in, k...]);
/// a weight stored otherwise (TOSA's OHWI and HWIM, the op table's layout
/// traits) gets its resolved granularity moved to its own dims: a channel
/// axis through OpInfo::weightDim, a single-axis block (block B on axis a, 1
/// on the other of axes 0/1, whole kernel dims) and a block-size list become
/// the equivalent list in the weight's dims. Annotations that existed before
/// this run are already in the weight's dims and are left alone.
/// Caches of the finishing walk: results per distinct spec dictionary
/// (entries share storage), each keeping its source alive so its address
/// stays unique.
struct Annotator::FinishCaches {
  /// (source dictionary, rank and layout) -> (source, mapped entry).
  llvm::DenseMap<std::pair<const void *, int64_t>, std::pair<Attribute, Attribute>> mapped;
  /// Parsed granularity per spec dictionary.
  llvm::DenseMap<const void *, std::optional<Granularity>> parsed;
  /// (spec dictionary, type) pairs whose axes fitted (a few).
  llvm::SmallVector<std::pair<const void *, Type>, 16> fittedPairs;
};

void Annotator::mapWeightLayout(Node &node, const llvm::DenseSet<const Node *> &preAnnotated,
                                FinishCaches &caches) {
  auto &mapped = caches.mapped;
  const OpInfo &op = node.op();
  if (!op.has(optrait::WeightChannelsLast) && !op.has(optrait::WeightKernelFirst))
    return;
  if (!node.quant() || preAnnotated.count(&node) || op.weightOperand < 0 ||
      static_cast<size_t>(op.weightOperand) >= node.quant()->inputs.size())
    return;
  const Type &type = node.operand(op.weightOperand)->type();
  Attribute &entry = node.getOrCreateQuant().inputs[op.weightOperand];
  if (!isSpecEntry(entry) || !type.hasRank() || type.rank() < 2)
    return;
  int64_t rank = type.rank();
  auto key = std::make_pair(static_cast<const void *>(&entry.getDict()),
                            rank * 2 + (op.has(optrait::WeightKernelFirst) ? 1 : 0));
  auto cached = mapped.find(key);
  if (cached != mapped.end()) {
    entry = cached->second.second;
    return;
  }
  llvm::Expected<QuantizationSpec> spec = QuantizationSpec::fromAttribute(entry);
  if (!spec) {
    llvm::consumeError(spec.takeError()); // reported where the spec was made
    return;
  }
  const Granularity &granularity = spec->granularity();
  if (granularity.isPerTensor() || granularity.needsAxis())
    return;
  std::optional<Granularity> native;
  if (granularity.isPerChannel()) {
    llvm::Expected<int64_t> axis = normalizeAxis(*granularity.axis(), rank);
    if (!axis) {
      llvm::consumeError(axis.takeError()); // checkAxes reports it
      return;
    }
    native = Granularity::perChannel(op.weightDim(*axis, rank));
  } else {
    std::vector<int64_t> specBlock(rank, -1);
    if (granularity.hasBlockSizeList()) {
      if (static_cast<int64_t>(granularity.blockSizes().size()) != rank)
        return; // checkAxes reports the rank mismatch
      specBlock.assign(granularity.blockSizes().begin(), granularity.blockSizes().end());
    } else {
      int64_t axis = *granularity.axis();
      specBlock[axis] = granularity.blockSize();
      specBlock[1 - axis] = 1;
    }
    std::vector<int64_t> block(rank, -1);
    for (int64_t d = 0; d < rank; ++d)
      block[op.weightDim(d, rank)] = specBlock[d];
    native = Granularity::perBlock(block);
  }
  llvm::Expected<QuantizationSpec> resolved = spec->withGranularity(*native);
  if (!resolved) {
    error(node, "the weight spec of '" + node.opName() +
                    "' does not map to its weight layout: " + llvm::toString(resolved.takeError()));
    return;
  }
  SpecWriteOptions options;
  options.omitDefaults = true;
  Attribute result = resolved->toAttribute(options);
  mapped.try_emplace(key, entry, result);
  entry = result;
  changed_ = true;
}

/// Activations have no default axis (§5.4), and any explicit axis must fit
/// the tensor's rank (checked here rather than at the first forward).
void Annotator::checkAxes(Node &node, FinishCaches &caches) {
  auto &parsed = caches.parsed;
  auto &fittedPairs = caches.fittedPairs;
  auto check = [&](const Attribute &entry, const Value *value, bool isWeight,
                   const llvm::Twine &where) {
    if (!isSpecEntry(entry))
      return;
    auto it = parsed.find(&entry.getDict());
    if (it == parsed.end()) {
      std::optional<Granularity> g;
      if (const Attribute *attr = entry.lookup("granularity")) {
        llvm::Expected<Granularity> granularity = Granularity::fromAttribute(*attr);
        if (granularity)
          g = *granularity;
        else
          llvm::consumeError(granularity.takeError());
      }
      it = parsed.try_emplace(&entry.getDict(), g).first;
    }
    if (!it->second)
      return;
    const Granularity &granularity = *it->second;
    if (granularity.needsAxis()) {
      if (!isWeight)
        error(node, "Activation fake-quantize with unresolved axis=None on " + where + " (" +
                        granularity.str() +
                        "): activations have no default axis; set 'axis' in the spec of " +
                        resolver_.describe(resolver_.resolve(node)));
      return; // weights were reported by resolveAxes
    }
    const Type &type = value->type();
    if (granularity.isPerTensor() || !type.hasRank())
      return;
    // The outcome depends only on (spec, type): pairs that fitted once fit
    // again (graphs carry a few of them), so most nodes skip the check.
    for (const auto &fitted : fittedPairs)
      if (fitted.first == it->first && fitted.second == type)
        return;
    llvm::Error problem = llvm::Error::success();
    if (type.hasStaticShape()) {
      llvm::Expected<std::vector<int64_t>> block = computeBlockShape(granularity, type.shape());
      if (!block)
        problem = block.takeError();
    } else if (granularity.axis()) {
      llvm::Expected<int64_t> axis = normalizeAxis(*granularity.axis(), type.rank());
      if (!axis)
        problem = axis.takeError();
    }
    // A block size that does not divide the tensor is the runtime's business
    // (the reference warns and disables that fake-quant, §5.7).
    problem =
        llvm::handleErrors(std::move(problem), [](const BlockSizeMismatchError &) -> llvm::Error {
          return llvm::Error::success();
        });
    if (problem)
      error(node, granularity.str() + " does not fit " + where + " of type " + type.str() + ": " +
                      llvm::toString(std::move(problem)));
    else if (fittedPairs.size() < 16)
      fittedPairs.emplace_back(it->first, type);
  };
  const QuantAnnotation *quant = node.quant();
  if (!quant)
    return;
  for (unsigned i = 0, e = std::min<size_t>(quant->inputs.size(), node.numOperands()); i != e; ++i)
    check(quant->inputs[i], node.operand(i), node.operand(i)->isParameter(),
          "input " + llvm::Twine(i));
  if (node.numResults() > 0)
    check(quant->output, node.result(0), false, "the output");
}

void Annotator::finishNodes(const llvm::DenseSet<const Node *> &preAnnotated) {
  FinishCaches caches;
  for (Node *node : nodes_) {
    mapWeightLayout(*node, preAnnotated, caches);
    checkAxes(*node, caches);
  }
}

void Annotator::attachSchedules() {
  std::unordered_map<const ModuleQuantizerConfig *, Attribute> schedules;
  llvm::ArrayRef<ModuleInfo> modules = resolver_.modules();
  for (const ModuleInfo &module : modules)
    if (module.config->qatSchedule)
      schedules.emplace(module.config, module.config->qatSchedule->toAttribute());
  if (schedules.empty())
    return;
  for (Node *node : nodes_) {
    auto it = schedules.find(modules[resolver_.moduleOf(*node)].config);
    if (it != schedules.end()) {
      node->setAttribute("qat_schedule", it->second);
      changed_ = true;
    }
  }
}

bool Annotator::run() {
  stateEntries_.resize(graph_.parameters().size());
  hasStateEntry_.resize(graph_.parameters().size());
  nodes_.reserve(graph_.numNodes());
  llvm::DenseSet<const Node *> preAnnotated;
  std::vector<Match> matches;
  matches.reserve(2 * graph_.numNodes());
  heads_.reserve(graph_.numNodes()); // pages never touched cost nothing
  collectMatches(matches, preAnnotated);
  for (const Match &match : matches) {
    const Head &head = heads_[match.head];
    if (llvm::any_of(llvm::ArrayRef<Node *>(head.chain, match.length),
                     [](const Node *node) { return node->quant() != nullptr; }))
      continue;
    if (kPatternFamilies[head.family].kind == PatternKind::Shared)
      annotateShared(*head.chain[0], *head.op);
    else
      annotateChain(head, match.length);
  }
  applyModuleSpecs();
  resolveAxes();
  finishNodes(preAnnotated);
  attachSchedules();
  return errors_ == 0;
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

class AnnotatePass : public Pass {
public:
  AnnotatePass()
      : Pass("annotate", "Decide which tensors to quantize with which spec (quantization "
                         "config: a preset or a YAML/JSON file) and record it on the nodes") {}

  PassResult run(Graph &graph, PassContext &context) override {
    DiagnosticEngine &diagnostics = context.diagnostics();
    std::optional<QuantizerConfig> config = loadConfig(diagnostics);
    if (!config)
      return PassResult::Failed;
    for (const std::string &warning : configWarnings(*config))
      diagnostics.warning(Location(),
                          "annotate: config '" + configOption.value() + "': " + warning);
    if (config->executionMode == ExecutionMode::Eager)
      diagnostics.warning(Location(),
                          "annotate: config '" + configOption.value() +
                              "': execution_mode 'eager' has no meaning for graph passes; the "
                              "graph is annotated in graph mode");
    llvm::Expected<std::unique_ptr<ConfigResolver>> resolver =
        ConfigResolver::create(*config, graph);
    if (!resolver)
      return reportConfigErrors(context, resolver.takeError());
    Annotator annotator(graph, **resolver, diagnostics);
    if (!annotator.run())
      return PassResult::Failed;
    return annotator.changed() ? PassResult::Changed : PassResult::Unchanged;
  }

private:
  PassResult reportConfigErrors(PassContext &context, llvm::Error error) const {
    for (const std::string &message : errorMessages(std::move(error)))
      fail(context, "invalid quantization config '" + configOption.value() + "': " + message);
    return PassResult::Failed;
  }

  std::optional<QuantizerConfig> loadConfig(DiagnosticEngine &diagnostics) const {
    PassContext context(diagnostics);
    llvm::StringRef name = configOption.value();
    bool presetOptions = axisOption.isExplicitlySet() || blockSizeOption.isExplicitlySet();
    std::optional<int64_t> axis;
    if (axisOption.value() != "none") {
      int64_t parsed;
      if (llvm::StringRef(axisOption.value()).getAsInteger(10, parsed)) {
        fail(context, "option 'axis' must be an integer or 'none' (resolve per op), got '" +
                          axisOption.value() + "'");
        return std::nullopt;
      }
      axis = parsed;
    }
    if (name == "w8a8" || name == "none") {
      if (presetOptions) {
        fail(context, "options 'axis' and 'block-size' only apply to the w8, w4 and "
                      "w4_per_block presets, not to config '" +
                          name + "'");
        return std::nullopt;
      }
      QuantizerConfig config;
      if (name == "none")
        config.setGlobal(std::nullopt);
      return config;
    }
    if (name == "w8")
      return withoutBlockSize(context, QuantizerConfig::Presets::w8(axis));
    if (name == "w4")
      return withoutBlockSize(context, QuantizerConfig::Presets::w4(axis));
    if (name == "w4_per_block") {
      llvm::Expected<QuantizerConfig> config =
          QuantizerConfig::Presets::w4PerBlock(blockSizeOption.value(), axis);
      if (!config) {
        reportConfigErrors(context, config.takeError());
        return std::nullopt;
      }
      return std::move(*config);
    }
    llvm::StringRef extension = llvm::sys::path::extension(name);
    if (!(extension.equals_insensitive(".yaml") || extension.equals_insensitive(".yml") ||
          extension.equals_insensitive(".json"))) {
      fail(context, "unknown config '" + name +
                        "': expected a preset (w8a8, w8, w4, w4_per_block, none) or a path to a "
                        ".yaml, .yml or .json file");
      return std::nullopt;
    }
    if (presetOptions) {
      fail(context, "options 'axis' and 'block-size' only apply to the w8, w4 and w4_per_block "
                    "presets; set axes and block sizes in the config file '" +
                        name + "'");
      return std::nullopt;
    }
    std::vector<std::string> warnings;
    llvm::Expected<std::optional<QuantizerConfig>> loaded =
        loadQuantizerConfigFile(name, &warnings);
    for (const std::string &warning : warnings)
      diagnostics.warning(Location(), "annotate: config '" + name + "': " + warning);
    if (!loaded) {
      reportConfigErrors(context, loaded.takeError());
      return std::nullopt;
    }
    // An empty file means the default config, as in the reference.
    return loaded->value_or(QuantizerConfig());
  }

  std::optional<QuantizerConfig> withoutBlockSize(PassContext &context,
                                                  QuantizerConfig config) const {
    if (blockSizeOption.isExplicitlySet()) {
      fail(context, "option 'block-size' only applies to the w4_per_block preset, not to '" +
                        configOption.value() + "'");
      return std::nullopt;
    }
    return config;
  }

  StringOption configOption{
      *this, "config",
      "A preset (w8a8: the default W8A8; w8, w4, w4_per_block: weight-only; none: nothing "
      "quantized) or a .yaml/.yml/.json config file with a top-level quantization_config key",
      "w8a8"};
  StringOption axisOption{*this, "axis",
                          "Weight axis of the w8/w4/w4_per_block presets; none = the consuming "
                          "op's default (conv/linear/embedding 0 per-channel, 1 per-block)",
                          "none"};
  IntOption blockSizeOption{*this, "block-size", "Block size of the w4_per_block preset", 32};
};

} // namespace

std::unique_ptr<Pass> createAnnotatePass() { return std::make_unique<AnnotatePass>(); }

} // namespace qfx
