//===- passes/quant/UnionFind.h - Disjoint sets over dense item ids -------===//
//
// The union-find share-observers groups observer items with: items are dense
// integers 0..N-1 (one per quantized edge or node output), unite() joins two
// sets, find() names a set by its root. find() is iterative (a loop up the
// parent chain, then a second loop pointing every visited item at the root),
// so neither long chains nor any input shape can exhaust the stack -- PT2E's
// recursive find overflowed on cycles of shared specs (executorch#13842).
// Union by size keeps trees shallow; with path compression every operation
// is effectively O(1). The partition a sequence of unite() calls produces is
// independent of their order; only which member is the root may differ, so
// callers that need a canonical representative (the first item in graph
// order) compute it from the partition, not from the root.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cassert>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

namespace qfx {

class UnionFind {
public:
  explicit UnionFind(uint32_t size = 0) { grow(size); }

  uint32_t size() const { return static_cast<uint32_t>(parent_.size()); }

  /// Adds a singleton set and returns its id.
  uint32_t add() {
    uint32_t id = size();
    parent_.push_back(id);
    setSize_.push_back(1);
    return id;
  }

  /// Makes ids size()..newSize-1 singletons.
  void grow(uint32_t newSize) {
    uint32_t old = size();
    if (newSize <= old)
      return;
    parent_.resize(newSize);
    std::iota(parent_.begin() + old, parent_.end(), old);
    setSize_.resize(newSize, 1);
  }

  /// The root of `item`'s set. Iterative, with full path compression.
  uint32_t find(uint32_t item) {
    assert(item < size() && "item out of range");
    uint32_t root = item;
    while (parent_[root] != root)
      root = parent_[root];
    while (parent_[item] != root) {
      uint32_t next = parent_[item];
      parent_[item] = root;
      item = next;
    }
    return root;
  }

  /// Joins the sets of `a` and `b`; returns false when they were one set
  /// already (so uniting an item with itself, or closing a cycle, is a no-op).
  bool unite(uint32_t a, uint32_t b) {
    a = find(a);
    b = find(b);
    if (a == b)
      return false;
    if (setSize_[a] < setSize_[b])
      std::swap(a, b);
    parent_[b] = a;
    setSize_[a] += setSize_[b];
    return true;
  }

  bool connected(uint32_t a, uint32_t b) { return find(a) == find(b); }

  /// Number of items in `item`'s set.
  uint32_t setSize(uint32_t item) { return setSize_[find(item)]; }

private:
  std::vector<uint32_t> parent_;
  std::vector<uint32_t> setSize_;
};

} // namespace qfx
