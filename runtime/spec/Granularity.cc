//===- runtime/spec/Granularity.cc - Quantization granularity and blocks --===//
//
// Granularity construction, validation, the dict form, and the block-shape
// rules of reference §5.4.
//
//===----------------------------------------------------------------------===//
#include "runtime/spec/Granularity.h"

#include "runtime/spec/SpecError.h"

#include "llvm/ADT/STLExtras.h"

namespace qfx {

Granularity Granularity::perChannel(std::optional<int64_t> axis) {
  Granularity g;
  g.kind_ = Kind::PerChannel;
  g.axis_ = axis;
  return g;
}

Granularity Granularity::perBlock(std::optional<int64_t> axis, int64_t blockSize) {
  return perBlockUnchecked(axis, {blockSize}, /*isList=*/false);
}

Granularity Granularity::perBlock(llvm::ArrayRef<int64_t> blockSizes) {
  return perBlockUnchecked(std::nullopt, blockSizes, /*isList=*/true);
}

Granularity Granularity::perBlockUnchecked(std::optional<int64_t> axis,
                                           llvm::ArrayRef<int64_t> blockSizes, bool isList) {
  Granularity g;
  g.kind_ = Kind::PerBlock;
  g.axis_ = axis;
  g.isList_ = isList;
  g.blockSizes_.assign(blockSizes.begin(), blockSizes.end());
  return g;
}

bool Granularity::needsAxis() const {
  if (axis_)
    return false;
  return isPerChannel() || (isPerBlock() && !isList_);
}

Granularity Granularity::withAxis(int64_t axis) const {
  if (isPerTensor() || hasBlockSizeList())
    return *this;
  Granularity g = *this;
  g.axis_ = axis;
  return g;
}

llvm::Error Granularity::verify(llvm::StringRef path) const {
  std::string axisPath = joinSpecPath(path, "axis");
  std::string sizePath = joinSpecPath(path, "block_size");
  switch (kind_) {
  case Kind::PerTensor:
    if (axis_)
      return makeSpecError(axisPath, "per_tensor granularity takes no axis, got " +
                                         std::to_string(*axis_) + "; allowed: null");
    return llvm::Error::success();
  case Kind::PerChannel:
    return llvm::Error::success();
  case Kind::PerBlock:
    break;
  }
  llvm::Error error = llvm::Error::success();
  if (isList_) {
    if (axis_)
      error = llvm::joinErrors(
          std::move(error),
          makeSpecError(axisPath, "per_block granularity with a block_size list takes no axis "
                                  "(the list gives one size per dim), got " +
                                      std::to_string(*axis_) + "; allowed: null"));
    if (blockSizes_.empty())
      error = llvm::joinErrors(std::move(error),
                               makeSpecError(sizePath, "block_size list must not be empty; "
                                                       "allowed: one entry per tensor dim, "
                                                       "each > 0 or -1 (whole dim)"));
    for (size_t i = 0; i < blockSizes_.size(); ++i) {
      if (blockSizes_[i] > 0 || blockSizes_[i] == -1)
        continue;
      error = llvm::joinErrors(
          std::move(error),
          makeSpecError(sizePath, "block_size entry " + std::to_string(i) + " is " +
                                      std::to_string(blockSizes_[i]) +
                                      "; allowed: an integer > 0, or -1 for the whole dim"));
    }
    return error;
  }
  if (axis_ && *axis_ != 0 && *axis_ != 1)
    error = llvm::joinErrors(std::move(error),
                             makeSpecError(axisPath, "per_block axis must be 0, 1 or null, got " +
                                                         std::to_string(*axis_)));
  if (blockSize() <= 0)
    error = llvm::joinErrors(
        std::move(error),
        makeSpecError(sizePath, "block_size must be an integer > 0 (or a list with one entry per "
                                "dim), got " +
                                    std::to_string(blockSize())));
  return error;
}

static std::string formatList(llvm::ArrayRef<int64_t> values) { return formatShape(values); }

std::string Granularity::str() const {
  auto axisText = [&] { return axis_ ? std::to_string(*axis_) : std::string("None"); };
  switch (kind_) {
  case Kind::PerTensor:
    return "per_tensor";
  case Kind::PerChannel:
    return "per_channel(axis=" + axisText() + ")";
  case Kind::PerBlock:
    if (isList_) {
      std::string text = "per_block(";
      if (axis_)
        text += "axis=" + axisText() + ", ";
      return text + "block_size=" + formatList(blockSizes_) + ")";
    }
    return "per_block(axis=" + axisText() + ", block_size=" + std::to_string(blockSize()) + ")";
  }
  return "per_tensor";
}

Attribute Granularity::toAttribute() const {
  AttributeDict entries;
  auto axisAttr = [&] { return axis_ ? Attribute::integer(*axis_) : Attribute::none(); };
  switch (kind_) {
  case Kind::PerTensor:
    entries.emplace_back("type", Attribute::string("per_tensor"));
    break;
  case Kind::PerChannel:
    entries.emplace_back("type", Attribute::string("per_channel"));
    entries.emplace_back("axis", axisAttr());
    break;
  case Kind::PerBlock:
    entries.emplace_back("type", Attribute::string("per_block"));
    entries.emplace_back("axis", axisAttr());
    entries.emplace_back("block_size", isList_ ? Attribute::intList(blockSizes_)
                                               : Attribute::integer(blockSize()));
    break;
  }
  return Attribute::dict(std::move(entries));
}

static std::string describe(const Attribute &attr) {
  return kindName(attr.kind()).str() + " " + attr.str();
}

llvm::Expected<Granularity> Granularity::fromAttribute(const Attribute &attr,
                                                       llvm::StringRef path) {
  if (!attr.isDict()) {
    std::string hint = attr.isString() ? " (a bare string is not accepted; write {\"type\": \"" +
                                             attr.getString() + "\"})"
                                       : "";
    return makeSpecError(path, "granularity must be a dict with a 'type' key, e.g. "
                               "{\"type\": \"per_channel\", \"axis\": 0}; got " +
                                   describe(attr) + hint);
  }
  const Attribute *type = attr.lookup("type");
  if (!type)
    return makeSpecError(path, "granularity dict has no 'type' key; allowed types: "
                               "'per_tensor', 'per_channel', 'per_block'");
  std::string typePath = joinSpecPath(path, "type");
  if (!type->isString())
    return makeSpecError(typePath, "expected a string, got " + describe(*type) +
                                       "; allowed: 'per_tensor', 'per_channel', 'per_block'");
  llvm::StringRef typeName = type->getString();
  Kind kind;
  llvm::ArrayRef<llvm::StringRef> allowedKeys;
  static const llvm::StringRef tensorKeys[] = {"type", "axis"};
  static const llvm::StringRef channelKeys[] = {"type", "axis"};
  static const llvm::StringRef blockKeys[] = {"type", "axis", "block_size"};
  if (typeName == "per_tensor") {
    kind = Kind::PerTensor;
    allowedKeys = tensorKeys;
  } else if (typeName == "per_channel") {
    kind = Kind::PerChannel;
    allowedKeys = channelKeys;
  } else if (typeName == "per_block") {
    kind = Kind::PerBlock;
    allowedKeys = blockKeys;
  } else {
    return makeSpecError(typePath, "unknown granularity type '" + typeName.str() +
                                       "'; allowed: 'per_tensor', 'per_channel', 'per_block'");
  }

  llvm::Error error = llvm::Error::success();
  for (const NamedAttribute &entry : attr.getDict()) {
    if (llvm::is_contained(allowedKeys, entry.first))
      continue;
    std::string allowed;
    for (llvm::StringRef key : allowedKeys)
      allowed += (allowed.empty() ? "'" : ", '") + key.str() + "'";
    error = llvm::joinErrors(std::move(error),
                             makeSpecError(joinSpecPath(path, entry.first),
                                           "extra field not permitted for " + typeName.str() +
                                               " granularity; allowed keys: " + allowed));
  }

  std::optional<int64_t> axis;
  if (const Attribute *axisAttr = attr.lookup("axis")) {
    if (axisAttr->isInt())
      axis = axisAttr->getInt();
    else if (!axisAttr->isNone())
      error = llvm::joinErrors(std::move(error), makeSpecError(joinSpecPath(path, "axis"),
                                                               "expected an integer or null, got " +
                                                                   describe(*axisAttr)));
  }

  Granularity result;
  switch (kind) {
  case Kind::PerTensor:
    result = perTensor();
    result.axis_ = axis;
    break;
  case Kind::PerChannel:
    result = perChannel(axis);
    break;
  case Kind::PerBlock: {
    const Attribute *size = attr.lookup("block_size");
    std::string sizePath = joinSpecPath(path, "block_size");
    if (!size) {
      error = llvm::joinErrors(std::move(error),
                               makeSpecError(sizePath, "per_block granularity needs a "
                                                       "block_size (an integer > 0, or a list "
                                                       "with one entry per dim)"));
      break;
    }
    if (size->isInt()) {
      result = perBlock(axis, size->getInt());
    } else if (std::optional<std::vector<int64_t>> sizes = size->asIntList()) {
      result = perBlockUnchecked(axis, *sizes, /*isList=*/true);
    } else {
      error = llvm::joinErrors(std::move(error),
                               makeSpecError(sizePath, "expected an integer > 0 or a list of "
                                                       "integers (> 0 or -1), got " +
                                                           describe(*size)));
    }
    break;
  }
  }
  if (error)
    return std::move(error);
  if (llvm::Error verifyError = result.verify(path))
    return std::move(verifyError);
  return result;
}

llvm::Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return makeSpecError("granularity.axis",
                         "axis " + std::to_string(axis) + " is out of range for a tensor of rank " +
                             std::to_string(rank) + "; allowed: [" + std::to_string(-rank) + ", " +
                             std::to_string(rank) + ")");
  return axis < 0 ? axis + rank : axis;
}

llvm::Expected<std::vector<int64_t>> computeBlockShape(const Granularity &granularity,
                                                       llvm::ArrayRef<int64_t> shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  for (int64_t dim : shape)
    if (dim < 0)
      return makeSpecError("",
                           "quantization blocks need a static shape, got " + formatShape(shape));
  std::vector<int64_t> block(shape.begin(), shape.end());
  auto mismatch = [&](unsigned dim, int64_t size) -> llvm::Error {
    return llvm::make_error<BlockSizeMismatchError>(
        std::vector<int64_t>(shape.begin(), shape.end()), granularity.str(), dim, size);
  };
  switch (granularity.kind()) {
  case Granularity::Kind::PerTensor:
    return block;
  case Granularity::Kind::PerChannel: {
    if (!granularity.axis())
      return makeSpecError("granularity.axis",
                           "per_channel granularity has axis=None at use; the axis must be "
                           "resolved first (weights take it from the consuming op, activations "
                           "need an explicit axis)");
    llvm::Expected<int64_t> axis = normalizeAxis(*granularity.axis(), rank);
    if (!axis)
      return axis.takeError();
    block[*axis] = 1;
    return block;
  }
  case Granularity::Kind::PerBlock:
    break;
  }

  if (granularity.hasBlockSizeList()) {
    if (granularity.axis())
      return makeSpecError("granularity.axis",
                           "per_block granularity with a block_size list takes no axis, got " +
                               std::to_string(*granularity.axis()));
    llvm::ArrayRef<int64_t> sizes = granularity.blockSizes();
    if (static_cast<int64_t>(sizes.size()) != rank)
      return makeSpecError("granularity.block_size",
                           "block_size list " + formatShape(sizes) + " has " +
                               std::to_string(sizes.size()) + " entries but the tensor of shape " +
                               formatShape(shape) + " has rank " + std::to_string(rank));
    for (int64_t d = 0; d < rank; ++d) {
      if (sizes[d] == -1)
        continue; // whole dim
      if (shape[d] % sizes[d] != 0)
        return mismatch(d, sizes[d]);
      block[d] = sizes[d];
    }
    return block;
  }

  if (!granularity.axis())
    return makeSpecError("granularity.axis",
                         "per_block granularity with an integer block_size has axis=None at "
                         "use; the axis must be resolved first (weights take it from the "
                         "consuming op, activations need an explicit axis)");
  int64_t axis = *granularity.axis();
  if (axis < 0 || axis >= rank)
    return makeSpecError("granularity.axis", "per_block axis " + std::to_string(axis) +
                                                 " is out of range for a tensor of rank " +
                                                 std::to_string(rank) +
                                                 "; allowed: 0 or 1, below the rank");
  int64_t size = granularity.blockSize();
  if (shape[axis] % size != 0)
    return mismatch(axis, size);
  block[axis] = size;
  // The other of dims 0/1 is split into single rows/columns; dims >= 2 (conv
  // kernels) stay whole so a block spans every kernel position.
  int64_t other = 1 - axis;
  if (other < rank)
    block[other] = 1;
  return block;
}

std::vector<int64_t> numBlocksPerDim(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> block) {
  std::vector<int64_t> counts(shape.size());
  for (size_t d = 0; d < shape.size(); ++d)
    counts[d] = block[d] == 0 ? 1 : shape[d] / block[d]; // a whole empty dim is one block
  return counts;
}

llvm::Expected<std::vector<int64_t>> computeQParamShape(const Granularity &granularity,
                                                        llvm::ArrayRef<int64_t> shape) {
  llvm::Expected<std::vector<int64_t>> block = computeBlockShape(granularity, shape);
  if (!block)
    return block.takeError();
  return numBlocksPerDim(shape, *block);
}

} // namespace qfx
