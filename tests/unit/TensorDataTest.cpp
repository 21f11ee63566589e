//===- tests/unit/TensorDataTest.cpp - Storage forms of TensorData --------===//
//
// ir/TensorData: the writtenBy form (a buffer its producer fills whole, never
// zero-filled) hands out exactly the bytes the producer wrote, through view()
// in place and through bytes() as a copy made once even under concurrent
// readers; copies share the buffer until one of them is written; a producer
// that throws leaves no tensor behind. The scaled form is covered with the
// interpreter and the weight quantizer (InterpreterTest, WeightQuantizerTest).
//
//===----------------------------------------------------------------------===//
#include "ir/TensorData.h"

#include "gtest/gtest.h"

#include <stdexcept>
#include <thread>
#include <vector>

using namespace qfx;

namespace {

std::vector<uint8_t> pattern(size_t size) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<uint8_t>(i * 7 + 3);
  return bytes;
}

TEST(TensorDataTest, WrittenByHoldsWhatTheProducerWrote) {
  const std::vector<uint8_t> expected = pattern(4096 + 5);
  const uint8_t *buffer = nullptr;
  TensorData data = TensorData::writtenBy(DType::I8, {4101}, expected.size(), [&](uint8_t *out) {
    buffer = out;
    std::copy(expected.begin(), expected.end(), out);
  });
  EXPECT_EQ(data.dtype, DType::I8);
  EXPECT_EQ(data.shape, (std::vector<int64_t>{4101}));
  EXPECT_EQ(data.byteSize(), expected.size());
  EXPECT_FALSE(data.needsMaterializing());
  EXPECT_EQ(data.scaledForm(), nullptr);
  // view() reads the producer's buffer in place.
  EXPECT_EQ(data.view().data(), buffer);
  EXPECT_EQ(std::vector<uint8_t>(data.view().begin(), data.view().end()), expected);
  // bytes() is a copy, made once.
  const std::vector<uint8_t> &bytes = data.bytes();
  EXPECT_EQ(bytes, expected);
  EXPECT_NE(bytes.data(), buffer);
  EXPECT_EQ(&data.bytes(), &bytes);
  EXPECT_EQ(data.view().data(), buffer) << "view() stays on the buffer after bytes()";
}

TEST(TensorDataTest, WrittenByCopiesShareUntilWritten) {
  const std::vector<uint8_t> expected = pattern(64);
  TensorData original = TensorData::writtenBy(DType::U8, {8, 8}, expected.size(), [&](uint8_t *o) {
    std::copy(expected.begin(), expected.end(), o);
  });
  TensorData copy = original;
  EXPECT_EQ(copy.view().data(), original.view().data());
  std::vector<uint8_t> &mutableCopy = copy.mutableBytes();
  EXPECT_EQ(mutableCopy, expected);
  mutableCopy[0] ^= 0xFF;
  EXPECT_NE(copy.view().data(), original.view().data());
  EXPECT_EQ(copy.byteSize(), expected.size());
  EXPECT_EQ(std::vector<uint8_t>(original.view().begin(), original.view().end()), expected);
  EXPECT_EQ(original.bytes(), expected);
  EXPECT_EQ(copy.bytes()[0], static_cast<uint8_t>(expected[0] ^ 0xFF));
}

TEST(TensorDataTest, WrittenByBytesOnceUnderConcurrentReaders) {
  const std::vector<uint8_t> expected = pattern(1 << 20);
  auto data = std::make_shared<const TensorData>(
      TensorData::writtenBy(DType::U8, {1 << 20}, expected.size(), [&](uint8_t *out) {
        std::copy(expected.begin(), expected.end(), out);
      }));
  std::vector<const std::vector<uint8_t> *> seen(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < seen.size(); ++t)
    threads.emplace_back([&, t] { seen[t] = &data->bytes(); });
  for (std::thread &thread : threads)
    thread.join();
  for (const std::vector<uint8_t> *bytes : seen)
    EXPECT_EQ(bytes, seen[0]);
  EXPECT_EQ(*seen[0], expected);
}

TEST(TensorDataTest, WrittenByProducerThatThrowsLeavesNothing) {
  bool called = false;
  EXPECT_THROW(TensorData::writtenBy(DType::U8, {16}, 16,
                                     [&](uint8_t *) {
                                       called = true;
                                       throw std::runtime_error("quantizer failed");
                                     }),
               std::runtime_error);
  EXPECT_TRUE(called);
  // Empty and zero-sized buffers are fine.
  TensorData empty = TensorData::writtenBy(DType::U8, {0}, 0, [](uint8_t *) {});
  EXPECT_EQ(empty.byteSize(), 0u);
  EXPECT_TRUE(empty.view().empty());
  EXPECT_TRUE(empty.bytes().empty());
}

} // namespace
