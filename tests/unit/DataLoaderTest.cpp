//===- tests/unit/DataLoaderTest.cpp - Tests of calibration data sources --===//
//
// The files are written by the real producers: Debian's /usr/bin/python3
// with torch 1.13 (torch.save of a tensor, of a tuple, of a list of tuples;
// one file per batch in a directory) and numpy (np.save in C and Fortran
// order, several dtypes), so the readers are tested against what users
// have, not against our own writer. Bad files (truncated, wrong content,
// big-endian, missing) must give errors naming the file. Synthetic data is
// deterministic per seed and repeats after reset().
//
//===----------------------------------------------------------------------===//
#include "runtime/interpreter/DataLoader.h"

#include "ir/Parser.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <fstream>
#include <string>

using namespace qfx;

namespace {

std::string tempDir() {
  static std::string dir = [] {
    const char *base = std::getenv("TEST_TMPDIR");
    llvm::SmallString<128> path(base ? base : "/tmp");
    llvm::sys::path::append(path, "data_loader_test");
    llvm::sys::fs::create_directories(path);
    return path.str().str();
  }();
  return dir;
}

std::string pathOf(const std::string &name) { return tempDir() + "/" + name; }

/// Runs a Python snippet with Debian's python3 (which has torch and numpy);
/// `D` is the temp directory inside it.
void python(const std::string &code) {
  std::string script = pathOf("script.py");
  {
    std::ofstream file(script);
    file << "import torch, numpy as np, os\nD = " << '"' << tempDir() << '"' << "\n" << code;
  }
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script).c_str()), 0) << code;
}

std::vector<Batch> drain(DataSource &source) {
  std::vector<Batch> batches;
  while (true) {
    llvm::Expected<std::optional<Batch>> batch = source.next();
    if (!batch) {
      ADD_FAILURE() << llvm::toString(batch.takeError());
      break;
    }
    if (!*batch)
      break;
    batches.push_back(std::move(**batch));
  }
  return batches;
}

template <typename T> std::string errorOf(llvm::Expected<T> value) {
  if (value) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(value.takeError());
}

// Reference values every Python snippet writes: torch.arange-based, so
// the C++ side can rebuild them.
at::Tensor expected(int64_t n, at::IntArrayRef shape, at::ScalarType dtype = at::kFloat) {
  return (at::arange(n, at::kDouble) * 0.5 - 3).reshape(shape).to(dtype);
}

TEST(DataLoaderTest, TorchSaveListOfTuplesIsManyBatches) {
  python(R"(
batches = [(torch.arange(12, dtype=torch.float64).reshape(3, 4).float() * 0.5 - 3 + i,
            torch.full((2,), i, dtype=torch.int64)) for i in range(3)]
torch.save(batches, os.path.join(D, "list.pt"))
)");
  llvm::Expected<std::unique_ptr<DataSource>> source = openDataSource(pathOf("list.pt"), 2);
  ASSERT_TRUE(static_cast<bool>(source)) << llvm::toString(source.takeError());
  EXPECT_EQ((*source)->numBatches(), 3u);
  std::vector<Batch> batches = drain(**source);
  ASSERT_EQ(batches.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(batches[i].size(), 2u);
    EXPECT_TRUE(at::equal(batches[i][0], expected(12, {3, 4}) + i));
    EXPECT_TRUE(at::equal(batches[i][1], at::full({2}, i, at::kLong)));
  }
  // reset() starts over.
  ASSERT_FALSE(static_cast<bool>((*source)->reset()));
  EXPECT_EQ(drain(**source).size(), 3u);
}

TEST(DataLoaderTest, TorchSaveTensorAndTupleAreOneBatch) {
  python(R"(
t = torch.arange(6, dtype=torch.float64).reshape(2, 3).float() * 0.5 - 3
torch.save(t, os.path.join(D, "tensor.pt"))
torch.save((t, t * 2), os.path.join(D, "tuple.pth"))
torch.save([t, t], os.path.join(D, "tensors.pt"))
torch.save({"x": t}, os.path.join(D, "dict.pt"))
)");
  llvm::Expected<std::vector<Batch>> one = loadTorchSaved(pathOf("tensor.pt"), 1);
  ASSERT_TRUE(static_cast<bool>(one)) << llvm::toString(one.takeError());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_TRUE(at::equal((*one)[0][0], expected(6, {2, 3})));
  llvm::Expected<std::vector<Batch>> tuple = loadTorchSaved(pathOf("tuple.pth"), 2);
  ASSERT_TRUE(static_cast<bool>(tuple)) << llvm::toString(tuple.takeError());
  ASSERT_EQ(tuple->size(), 1u);
  EXPECT_EQ((*tuple)[0].size(), 2u);
  // A list of tensors: many batches for a one-input model, one batch else.
  llvm::Expected<std::vector<Batch>> list1 = loadTorchSaved(pathOf("tensors.pt"), 1);
  ASSERT_TRUE(static_cast<bool>(list1));
  EXPECT_EQ(list1->size(), 2u);
  llvm::Expected<std::vector<Batch>> list2 = loadTorchSaved(pathOf("tensors.pt"), 2);
  ASSERT_TRUE(static_cast<bool>(list2));
  EXPECT_EQ(list2->size(), 1u);
  // A dict is not a batch (LibTorch's unpickler does not even read it).
  std::string message = errorOf(loadTorchSaved(pathOf("dict.pt"), 1));
  EXPECT_NE(message.find("dict.pt"), std::string::npos) << message;
}

TEST(DataLoaderTest, DirectoryOfTorchFilesStreamsInNameOrder) {
  llvm::sys::fs::create_directories(pathOf("dir_pt"));
  python(R"(
for i in [2, 0, 1]:
    torch.save(torch.full((1, 4), float(i)), os.path.join(D, "dir_pt", "batch_%d.pt" % i))
open(os.path.join(D, "dir_pt", "README.txt"), "w").write("ignored")
)");
  llvm::Expected<std::unique_ptr<DataSource>> source = openDataSource(pathOf("dir_pt"), 1);
  ASSERT_TRUE(static_cast<bool>(source)) << llvm::toString(source.takeError());
  std::vector<Batch> batches = drain(**source);
  ASSERT_EQ(batches.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(at::equal(batches[i][0], at::full({1, 4}, float(i))));
}

TEST(DataLoaderTest, NpyFilesInEveryLayoutAndDtype) {
  python(R"(
a = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 0.5 - 3
np.save(os.path.join(D, "f4.npy"), a.astype(np.float32))
np.save(os.path.join(D, "f2.npy"), a.astype(np.float16))
np.save(os.path.join(D, "f8.npy"), a)
np.save(os.path.join(D, "i8.npy"), np.arange(5, dtype=np.int64))
np.save(os.path.join(D, "u1.npy"), np.arange(5, dtype=np.uint8))
np.save(os.path.join(D, "b1.npy"), np.array([True, False]))
np.save(os.path.join(D, "fortran.npy"), np.asfortranarray(a.astype(np.float32)))
np.save(os.path.join(D, "scalar.npy"), np.float32(2.5))
np.save(os.path.join(D, "big.npy"), a.astype(">f4"))
raw = open(os.path.join(D, "f4.npy"), "rb").read()
open(os.path.join(D, "truncated.npy"), "wb").write(raw[:-10])
open(os.path.join(D, "junk.npy"), "wb").write(b"not an npy file at all")
)");
  at::Tensor a = expected(24, {2, 3, 4}, at::kDouble);
  struct Case {
    const char *file;
    at::ScalarType dtype;
  };
  for (Case c : {Case{"f4.npy", at::kFloat}, Case{"f2.npy", at::kHalf}, Case{"f8.npy", at::kDouble},
                 Case{"fortran.npy", at::kFloat}}) {
    llvm::Expected<at::Tensor> tensor = readNpyFile(pathOf(c.file));
    ASSERT_TRUE(static_cast<bool>(tensor)) << c.file << ": " << llvm::toString(tensor.takeError());
    EXPECT_EQ(tensor->scalar_type(), c.dtype) << c.file;
    EXPECT_TRUE(at::equal(*tensor, a.to(c.dtype))) << c.file;
    EXPECT_TRUE(tensor->is_contiguous()) << c.file;
  }
  llvm::Expected<at::Tensor> ints = readNpyFile(pathOf("i8.npy"));
  ASSERT_TRUE(static_cast<bool>(ints));
  EXPECT_TRUE(at::equal(*ints, at::arange(5, at::kLong)));
  llvm::Expected<at::Tensor> bytes = readNpyFile(pathOf("u1.npy"));
  ASSERT_TRUE(static_cast<bool>(bytes));
  EXPECT_EQ(bytes->scalar_type(), at::kByte);
  llvm::Expected<at::Tensor> bools = readNpyFile(pathOf("b1.npy"));
  ASSERT_TRUE(static_cast<bool>(bools));
  EXPECT_TRUE(bools->scalar_type() == at::kBool && bools->numel() == 2);
  llvm::Expected<at::Tensor> scalar = readNpyFile(pathOf("scalar.npy"));
  ASSERT_TRUE(static_cast<bool>(scalar));
  EXPECT_EQ(scalar->dim(), 0);
  EXPECT_EQ(scalar->item<float>(), 2.5f);

  std::string message = errorOf(readNpyFile(pathOf("big.npy")));
  EXPECT_NE(message.find("big-endian"), std::string::npos) << message;
  message = errorOf(readNpyFile(pathOf("truncated.npy")));
  EXPECT_NE(message.find("truncated.npy' is not a usable .npy file: truncated data"),
            std::string::npos)
      << message;
  message = errorOf(readNpyFile(pathOf("junk.npy")));
  EXPECT_NE(message.find("missing the \\x93NUMPY magic"), std::string::npos) << message;
  message = errorOf(readNpyFile(pathOf("missing.npy")));
  EXPECT_NE(message.find("cannot read"), std::string::npos) << message;
}

TEST(DataLoaderTest, NpyDirectoryGroupsFilesPerInput) {
  llvm::sys::fs::create_directories(pathOf("dir_npy"));
  python(R"(
for i in range(2):
    np.save(os.path.join(D, "dir_npy", "b%d_0.npy" % i), np.full((2,), i, dtype=np.float32))
    np.save(os.path.join(D, "dir_npy", "b%d_1.npy" % i), np.full((3,), i, dtype=np.int64))
)");
  llvm::Expected<std::unique_ptr<DataSource>> source = openDataSource(pathOf("dir_npy"), 2);
  ASSERT_TRUE(static_cast<bool>(source)) << llvm::toString(source.takeError());
  EXPECT_EQ((*source)->numBatches(), 2u);
  std::vector<Batch> batches = drain(**source);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_TRUE(at::equal(batches[1][0], at::full({2}, 1.0f)));
  EXPECT_TRUE(at::equal(batches[1][1], at::full({3}, 1, at::kLong)));
  // Three inputs do not divide four files: an error naming the directory.
  llvm::Expected<std::unique_ptr<DataSource>> three = openDataSource(pathOf("dir_npy"), 3);
  ASSERT_TRUE(static_cast<bool>(three));
  ASSERT_TRUE(static_cast<bool>((*three)->next()));
  std::string message = errorOf((*three)->next());
  EXPECT_NE(message.find("starts an incomplete group"), std::string::npos) << message;
}

TEST(DataLoaderTest, BadPathsAndFiles) {
  std::string message = errorOf(openDataSource(pathOf("nowhere.pt"), 1));
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
  {
    std::ofstream file(pathOf("data.csv"));
    file << "1,2,3\n";
  }
  message = errorOf(openDataSource(pathOf("data.csv"), 1));
  EXPECT_NE(message.find("expected a .pt/.pth file"), std::string::npos) << message;
  {
    std::ofstream file(pathOf("corrupt.pt"), std::ios::binary);
    file << "PK\x03\x04 this is no zip archive";
  }
  message = errorOf(openDataSource(pathOf("corrupt.pt"), 1));
  EXPECT_NE(message.find("cannot load"), std::string::npos) << message;
  EXPECT_NE(message.find("corrupt.pt"), std::string::npos) << message;
  llvm::sys::fs::create_directories(pathOf("empty_dir"));
  message = errorOf(openDataSource(pathOf("empty_dir"), 1));
  EXPECT_NE(message.find("contains no .pt, .pth or .npy files"), std::string::npos) << message;
}

TEST(DataLoaderTest, SyntheticDataIsDeterministicAndShapedLikeTheGraph) {
  DiagnosticEngine diagnostics;
  std::unique_ptr<Graph> graph = parseGraph(R"(
graph @g(%x: tensor<2x?x4xf32>, %ids: tensor<3xi64>) {
  return %x
}
)",
                                            diagnostics);
  ASSERT_TRUE(graph);
  llvm::Expected<std::unique_ptr<DataSource>> a = createSyntheticDataSource(*graph, 3, 42);
  llvm::Expected<std::unique_ptr<DataSource>> b = createSyntheticDataSource(*graph, 3, 42);
  llvm::Expected<std::unique_ptr<DataSource>> c = createSyntheticDataSource(*graph, 3, 43);
  ASSERT_TRUE(a && b && c);
  std::vector<Batch> first = drain(**a), second = drain(**b), other = drain(**c);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0][0].sizes(), at::IntArrayRef({2, 1, 4}));
  EXPECT_EQ(first[0][1].scalar_type(), at::kLong);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(at::equal(first[i][0], second[i][0]));
    EXPECT_FALSE(at::equal(first[i][0], other[i][0]));
  }
  EXPECT_FALSE(at::equal(first[0][0], first[1][0]));
  ASSERT_FALSE(static_cast<bool>((*a)->reset()));
  std::vector<Batch> again = drain(**a);
  EXPECT_TRUE(at::equal(again[2][0], first[2][0]));

  std::unique_ptr<Graph> untyped = parseGraph(R"(
graph @u(%x: tensor<*xf32>) {
  return %x
}
)",
                                              diagnostics);
  ASSERT_TRUE(untyped);
  std::string message = errorOf(createSyntheticDataSource(*untyped, 1));
  EXPECT_NE(message.find("pass calibration data instead"), std::string::npos) << message;
}

TEST(DataLoaderTest, ProgressBarDrawsOnlyWhenEnabled) {
  ProgressBar off("calibrating", 10, false);
  EXPECT_FALSE(off.enabled());
  off.update(5);
  off.finish();
  ProgressBar on("calibrating", 4, true);
  EXPECT_TRUE(on.enabled());
  for (size_t i = 1; i <= 4; ++i)
    on.update(i);
  on.finish();
}

} // namespace
