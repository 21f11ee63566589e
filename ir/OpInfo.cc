//===- ir/OpInfo.cc - Op knowledge looked up from the op table ------------===//
//
// Expands ir/OpTable.def into a static array and keeps the name index that
// also interns unknown ops.
//
//===----------------------------------------------------------------------===//
#include "ir/OpInfo.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/StringSaver.h"

#include <deque>
#include <mutex>

namespace qfx {

namespace {
using namespace optrait;

const OpInfo kKnownOps[] = {
#define QFX_OP(Id, Spelling, OpType, MinOperands, MaxOperands, NumResults, Role, Traits,           \
               WeightOperand, BiasOperand, ChannelAxis, BlockAxis, RequiredAttrs)                  \
  {OpCode::Id, Spelling,      OpType,      MinOperands, MaxOperands, NumResults,   OpRole::Role,   \
   (Traits),   WeightOperand, BiasOperand, ChannelAxis, BlockAxis,   RequiredAttrs},
#include "ir/OpTable.def"
};

/// Name index over known ops plus interned opaque entries for unknown names.
class OpRegistry {
public:
  OpRegistry() {
    for (const OpInfo &info : kKnownOps)
      index_[info.name] = &info;
  }

  const OpInfo *lookup(llvm::StringRef name) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = index_.find(name);
    if (it != index_.end())
      return it->second;
    llvm::StringRef saved = saver_.save(name);
    // The op type of an unknown op is its name after the dialect prefix.
    llvm::StringRef opType = saved;
    size_t sep = saved.rfind("::");
    if (sep != llvm::StringRef::npos)
      opType = saved.drop_front(sep + 2);
    else if ((sep = saved.find('.')) != llvm::StringRef::npos)
      opType = saved.drop_front(sep + 1);
    unknown_.push_back(
        OpInfo{OpCode::Unknown, saved, opType, 0, -1, -1, OpRole::None, 0, -1, -1, -1, -1, ""});
    index_[saved] = &unknown_.back();
    return &unknown_.back();
  }

private:
  std::mutex mutex_;
  llvm::StringMap<const OpInfo *> index_;
  llvm::BumpPtrAllocator allocator_;
  llvm::StringSaver saver_{allocator_};
  std::deque<OpInfo> unknown_; // deque: stable addresses
};

OpRegistry &registry() {
  static OpRegistry instance;
  return instance;
}
} // namespace

llvm::SmallVector<llvm::StringRef, 2> OpInfo::requiredAttributes() const {
  llvm::SmallVector<llvm::StringRef, 2> names;
  if (!requiredAttrs.empty())
    requiredAttrs.split(names, ',');
  return names;
}

int64_t OpInfo::weightDim(int64_t specAxis, int64_t rank) const {
  if (has(optrait::WeightChannelsLast) && rank >= 2) // [O, I, k...] -> [O, k..., I]
    return specAxis == 0 ? 0 : specAxis == 1 ? rank - 1 : specAxis - 1;
  if (has(optrait::WeightKernelFirst) && rank >= 2) // [C, M, k...] -> [k..., C, M]
    return specAxis < 2 ? rank - 2 + specAxis : specAxis - 2;
  return specAxis;
}

const OpInfo *lookupOp(llvm::StringRef name) { return registry().lookup(name); }

const OpInfo &opInfo(OpCode code) { return kKnownOps[static_cast<size_t>(code)]; }

llvm::ArrayRef<OpInfo> allKnownOps() { return kKnownOps; }

} // namespace qfx
