//===- runtime/interpreter/DataLoader.cc - Calibration data sources -------===//
//
// torch.save files are read with torch::jit::pickle_load, the reader
// LibTorch provides for exactly that format (a zip archive holding the
// pickle and one record per storage). .npy parsing is written here: the
// format is a magic string, a version, a Python-dict header (descr,
// fortran_order, shape) and raw element bytes -- small enough that a
// dependency would cost more than it saves. Directories are listed once and
// read lazily, one file per next().
//
//===----------------------------------------------------------------------===//
#include "runtime/interpreter/DataLoader.h"

#include "runtime/interpreter/Interpreter.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace qfx {

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool hasExtension(llvm::StringRef path, llvm::StringRef extension) {
  return llvm::sys::path::extension(path).equals_insensitive(extension);
}

bool isTorchFile(llvm::StringRef path) {
  return hasExtension(path, ".pt") || hasExtension(path, ".pth");
}

} // namespace

DataSource::~DataSource() = default;

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

llvm::Expected<at::Tensor> parseNpy(llvm::StringRef bytes, llvm::StringRef name) {
  auto fail = [&](const llvm::Twine &message) {
    return makeError("'" + name + "' is not a usable .npy file: " + message);
  };
  static const char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 10 || !bytes.startswith(llvm::StringRef(kMagic, 6)))
    return fail("missing the \\x93NUMPY magic");
  unsigned major = static_cast<uint8_t>(bytes[6]);
  size_t headerLength, offset;
  if (major == 1) {
    headerLength = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail("truncated header");
    headerLength = 0;
    for (int i = 3; i >= 0; --i)
      headerLength = (headerLength << 8) | static_cast<uint8_t>(bytes[8 + i]);
    offset = 12;
  } else {
    return fail("unsupported format version " + llvm::Twine(major));
  }
  if (bytes.size() < offset + headerLength)
    return fail("truncated header");
  llvm::StringRef header = bytes.substr(offset, headerLength);
  llvm::StringRef data = bytes.substr(offset + headerLength);

  // The header is a Python dict literal; read the three keys it always has.
  auto valueOf = [&](llvm::StringRef key) -> std::optional<llvm::StringRef> {
    size_t at = header.find("'" + key.str() + "'");
    if (at == llvm::StringRef::npos)
      return std::nullopt;
    llvm::StringRef rest = header.substr(at + key.size() + 2).ltrim();
    if (!rest.consume_front(":"))
      return std::nullopt;
    return rest.ltrim();
  };
  std::optional<llvm::StringRef> descr = valueOf("descr");
  std::optional<llvm::StringRef> fortran = valueOf("fortran_order");
  std::optional<llvm::StringRef> shapeText = valueOf("shape");
  if (!descr || !fortran || !shapeText)
    return fail("header without descr, fortran_order and shape");
  if (!descr->consume_front("'"))
    return fail("structured dtypes are not supported");
  llvm::StringRef type = descr->take_until([](char c) { return c == '\''; });
  bool fortranOrder = fortran->startswith("True");
  if (!shapeText->consume_front("("))
    return fail("malformed shape");
  std::vector<int64_t> shape;
  llvm::StringRef dims = shapeText->take_until([](char c) { return c == ')'; });
  llvm::SmallVector<llvm::StringRef, 4> parts;
  dims.split(parts, ',', -1, false);
  for (llvm::StringRef part : parts) {
    part = part.trim();
    if (part.empty())
      continue;
    int64_t dim;
    if (part.getAsInteger(10, dim) || dim < 0)
      return fail("malformed shape '(" + dims + ")'");
    shape.push_back(dim);
  }

  static const std::pair<const char *, at::ScalarType> kTypes[] = {
      {"<f4", at::kFloat}, {"<f2", at::kHalf}, {"<f8", at::kDouble},
      {"<i8", at::kLong},  {"<i4", at::kInt},  {"<i2", at::kShort},
      {"|i1", at::kChar},  {"|u1", at::kByte}, {"|b1", at::kBool}};
  std::optional<at::ScalarType> dtype;
  for (const auto &entry : kTypes)
    if (type == entry.first)
      dtype = entry.second;
  if (!dtype) {
    if (type.startswith(">"))
      return fail("big-endian data ('" + type + "'); save it as little-endian");
    return fail("unsupported dtype '" + type +
                "' (supported: float16/32/64, int8/16/32/64, uint8, bool, little-endian)");
  }
  int64_t numel = 1;
  for (int64_t dim : shape)
    numel *= dim;
  size_t size = static_cast<size_t>(numel) * c10::elementSize(*dtype);
  if (data.size() < size)
    return fail("truncated data: " + llvm::Twine(data.size()) + " bytes for shape (" + dims +
                ") of '" + type + "', which needs " + llvm::Twine(size));
  // Fortran order is the transpose of C order with reversed dims.
  std::vector<int64_t> storedShape = shape;
  if (fortranOrder)
    std::reverse(storedShape.begin(), storedShape.end());
  at::Tensor tensor = at::empty(storedShape, at::TensorOptions().dtype(*dtype));
  if (size)
    std::memcpy(tensor.data_ptr(), data.data(), size);
  if (fortranOrder && shape.size() > 1) {
    std::vector<int64_t> order(shape.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = static_cast<int64_t>(order.size() - 1 - i);
    tensor = tensor.permute(order).contiguous();
  }
  return tensor;
}

llvm::Expected<at::Tensor> readNpyFile(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError("cannot read '" + path + "': " + buffer.getError().message());
  return parseNpy((*buffer)->getBuffer(), path);
}

//===----------------------------------------------------------------------===//
// torch.save
//===----------------------------------------------------------------------===//

namespace {

/// One batch from an IValue: a tensor, or a tuple/list of tensors.
std::optional<Batch> asBatch(const c10::IValue &value) {
  if (value.isTensor())
    return Batch{value.toTensor()};
  std::vector<c10::IValue> elements;
  if (value.isTuple()) {
    const auto &tuple = value.toTupleRef().elements();
    elements.assign(tuple.begin(), tuple.end());
  } else if (value.isList()) {
    c10::List<c10::IValue> list = value.toList();
    elements.assign(list.begin(), list.end());
  } else {
    return std::nullopt;
  }
  Batch batch;
  for (const c10::IValue &element : elements) {
    if (!element.isTensor())
      return std::nullopt;
    batch.push_back(element.toTensor());
  }
  return batch;
}

} // namespace

llvm::Expected<std::vector<Batch>> loadTorchSaved(llvm::StringRef path, size_t numInputs) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError("cannot read '" + path + "': " + buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  c10::IValue value;
  try {
    value = torch::jit::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const c10::Error &error) {
    return makeError("cannot load '" + path + "' as a torch.save file (truncated, corrupted, " +
                     "or not saved by torch.save): " + error.what_without_backtrace());
  } catch (const std::exception &error) {
    return makeError("cannot load '" + path + "' as a torch.save file: " + error.what());
  }
  const char *expected = "expected a tensor, a tuple/list of tensors (one batch), or a list of "
                         "those (one per batch)";
  std::vector<Batch> batches;
  if (value.isTensor() || value.isTuple()) {
    std::optional<Batch> batch = asBatch(value);
    if (!batch)
      return makeError("'" + path + "': " + expected);
    batches.push_back(std::move(*batch));
    return batches;
  }
  if (!value.isList())
    return makeError("'" + path + "' holds a " + value.tagKind() + "; " + expected);
  c10::List<c10::IValue> list = value.toList();
  bool allTensors = llvm::all_of(list, [](const c10::IValue &v) { return v.isTensor(); });
  if (allTensors && numInputs != 1) {
    // [t0, t1, ...] for a multi-input model: one batch.
    batches.push_back(*asBatch(value));
    return batches;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    std::optional<Batch> batch = asBatch(list.get(i));
    if (!batch)
      return makeError("'" + path + "': element " + llvm::Twine(i) + " is a " +
                       list.get(i).tagKind() + "; " + expected);
    batches.push_back(std::move(*batch));
  }
  return batches;
}

//===----------------------------------------------------------------------===//
// Sources
//===----------------------------------------------------------------------===//

namespace {

class InMemorySource final : public DataSource {
public:
  explicit InMemorySource(std::vector<Batch> batches, std::string description = "")
      : batches_(std::move(batches)), description_(std::move(description)) {}
  llvm::Expected<std::optional<Batch>> next() override {
    if (position_ >= batches_.size())
      return std::nullopt;
    return std::optional<Batch>(batches_[position_++]);
  }
  llvm::Error reset() override {
    position_ = 0;
    return llvm::Error::success();
  }
  std::optional<size_t> numBatches() const override { return batches_.size(); }
  std::string describe() const override {
    return description_.empty() ? std::to_string(batches_.size()) + " batches in memory"
                                : description_;
  }

private:
  std::vector<Batch> batches_;
  std::string description_;
  size_t position_ = 0;
};

/// A directory: files in name order, read one at a time.
class DirectorySource final : public DataSource {
public:
  DirectorySource(std::string directory, std::vector<std::string> files, size_t numInputs)
      : directory_(std::move(directory)), files_(std::move(files)), numInputs_(numInputs) {}

  llvm::Expected<std::optional<Batch>> next() override {
    // Batches left over from a .pt file holding several.
    if (pendingPosition_ < pending_.size())
      return std::optional<Batch>(std::move(pending_[pendingPosition_++]));
    if (fileIndex_ >= files_.size())
      return std::nullopt;
    const std::string &file = files_[fileIndex_];
    if (isTorchFile(file)) {
      ++fileIndex_;
      llvm::Expected<std::vector<Batch>> batches = loadTorchSaved(file, numInputs_);
      if (!batches)
        return batches.takeError();
      pending_ = std::move(*batches);
      pendingPosition_ = 0;
      return next();
    }
    // .npy: numInputs_ consecutive files.
    Batch batch;
    for (size_t k = 0; k < numInputs_; ++k) {
      if (fileIndex_ >= files_.size() || isTorchFile(files_[fileIndex_]))
        return makeError("'" + directory_ + "': the model takes " + llvm::Twine(numInputs_) +
                         " inputs, so .npy files are read " + llvm::Twine(numInputs_) +
                         " at a time, but '" + file + "' starts an incomplete group");
      llvm::Expected<at::Tensor> tensor = readNpyFile(files_[fileIndex_++]);
      if (!tensor)
        return tensor.takeError();
      batch.push_back(std::move(*tensor));
    }
    return std::optional<Batch>(std::move(batch));
  }

  llvm::Error reset() override {
    fileIndex_ = 0;
    pending_.clear();
    pendingPosition_ = 0;
    return llvm::Error::success();
  }

  std::optional<size_t> numBatches() const override {
    // Known when every file is one .npy batch group.
    if (llvm::any_of(files_, isTorchFile))
      return std::nullopt;
    return files_.size() / numInputs_;
  }

  std::string describe() const override {
    return std::to_string(files_.size()) + " files in " + directory_;
  }

private:
  std::string directory_;
  std::vector<std::string> files_;
  size_t numInputs_;
  size_t fileIndex_ = 0;
  std::vector<Batch> pending_;
  size_t pendingPosition_ = 0;
};

struct InputShape {
  std::vector<int64_t> shape;
  at::ScalarType dtype;
};

class SyntheticSource final : public DataSource {
public:
  SyntheticSource(std::vector<InputShape> inputs, size_t numBatches, uint64_t seed)
      : inputs_(std::move(inputs)), numBatches_(numBatches), seed_(seed) {
    generator_ = makeGenerator();
  }

  llvm::Expected<std::optional<Batch>> next() override {
    if (produced_ >= numBatches_)
      return std::nullopt;
    ++produced_;
    Batch batch;
    for (const InputShape &input : inputs_) {
      auto options = at::TensorOptions().dtype(input.dtype);
      if (at::isFloatingType(input.dtype))
        batch.push_back(at::randn(input.shape, generator_, at::TensorOptions().dtype(at::kFloat))
                            .to(input.dtype));
      else if (input.dtype == at::kBool)
        batch.push_back(at::zeros(input.shape, options));
      else
        batch.push_back(at::randint(0, 2, input.shape, generator_, options));
    }
    return std::optional<Batch>(std::move(batch));
  }

  llvm::Error reset() override {
    produced_ = 0;
    generator_ = makeGenerator();
    return llvm::Error::success();
  }

  std::optional<size_t> numBatches() const override { return numBatches_; }
  std::string describe() const override {
    return std::to_string(numBatches_) + " synthetic batches (random normal, seed " +
           std::to_string(seed_) + ")";
  }

private:
  /// The seed is mixed with a constant first: a generator seeded with the
  /// plain number would replay the stream of any other generator given the
  /// same seed -- the random weights of a test model, say, which then turn
  /// "random" inputs into copies of weight rows (aligned with them, hence
  /// far from typical data).
  at::Generator makeGenerator() const {
    return at::make_generator<at::CPUGeneratorImpl>(seed_ ^ 0x5DEECE66DA3B9F1Dull);
  }

  std::vector<InputShape> inputs_;
  size_t numBatches_;
  uint64_t seed_;
  size_t produced_ = 0;
  at::Generator generator_;
};

} // namespace

std::unique_ptr<DataSource> createInMemoryDataSource(std::vector<Batch> batches) {
  return std::make_unique<InMemorySource>(std::move(batches));
}

llvm::Expected<std::unique_ptr<DataSource>> openDataSource(llvm::StringRef path, size_t numInputs) {
  if (numInputs == 0)
    return makeError("the model takes no inputs; there is nothing to calibrate with '" + path +
                     "'");
  if (llvm::sys::fs::is_directory(path)) {
    std::vector<std::string> files;
    std::error_code error;
    for (llvm::sys::fs::directory_iterator it(path, error), end; it != end && !error;
         it.increment(error)) {
      llvm::StringRef file = it->path();
      if (isTorchFile(file) || hasExtension(file, ".npy"))
        files.push_back(file.str());
    }
    if (error)
      return makeError("cannot list '" + path + "': " + error.message());
    if (files.empty())
      return makeError("'" + path + "' contains no .pt, .pth or .npy files");
    std::sort(files.begin(), files.end());
    return std::make_unique<DirectorySource>(path.str(), std::move(files), numInputs);
  }
  if (!llvm::sys::fs::exists(path))
    return makeError("calibration data '" + path + "' does not exist");
  if (isTorchFile(path)) {
    llvm::Expected<std::vector<Batch>> batches = loadTorchSaved(path, numInputs);
    if (!batches)
      return batches.takeError();
    return std::make_unique<InMemorySource>(std::move(*batches), path.str());
  }
  if (hasExtension(path, ".npy")) {
    if (numInputs != 1)
      return makeError("a single .npy file holds one tensor, but the model takes " +
                       llvm::Twine(numInputs) +
                       " inputs; put one .npy per input in a directory instead");
    llvm::Expected<at::Tensor> tensor = readNpyFile(path);
    if (!tensor)
      return tensor.takeError();
    return std::make_unique<InMemorySource>(std::vector<Batch>{{std::move(*tensor)}}, path.str());
  }
  return makeError("calibration data '" + path +
                   "': expected a .pt/.pth file saved with torch.save, a .npy file, or a "
                   "directory of them");
}

llvm::Expected<std::unique_ptr<DataSource>>
createSyntheticDataSource(const Graph &graph, size_t numBatches, uint64_t seed) {
  std::vector<InputShape> inputs;
  for (const Value *input : graph.inputs()) {
    const Type &type = input->type();
    std::optional<at::ScalarType> dtype =
        type.isTensor() ? toScalarType(type.dtype()) : std::nullopt;
    if (!dtype || !type.hasRank())
      return makeError("synthetic data needs tensor inputs of known dtype and rank; input %" +
                       input->name() + " is " + type.str() + "; pass calibration data instead");
    InputShape shape;
    shape.dtype = *dtype;
    for (int64_t dim : type.shape())
      shape.shape.push_back(dim == Type::kDynamic ? 1 : dim);
    inputs.push_back(std::move(shape));
  }
  return std::make_unique<SyntheticSource>(std::move(inputs), numBatches, seed);
}

//===----------------------------------------------------------------------===//
// ProgressBar
//===----------------------------------------------------------------------===//

ProgressBar::ProgressBar(std::string label, std::optional<size_t> total,
                         std::optional<bool> enabled)
    : label_(std::move(label)), total_(total),
      enabled_(enabled ? *enabled : ::isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(size_t done) {
  done_ = done;
  if (!enabled_ || finished_)
    return;
  auto now = std::chrono::steady_clock::now();
  if (now - lastDraw_ < std::chrono::milliseconds(100) && (!total_ || done != *total_))
    return;
  lastDraw_ = now;
  draw(done);
}

void ProgressBar::draw(size_t done) {
  drawn_ = done;
  std::string line = "\r" + label_ + " ";
  if (total_ && *total_ > 0) {
    const size_t width = 30;
    size_t filled = std::min(width, done * width / *total_);
    line += "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] " +
            std::to_string(done) + "/" + std::to_string(*total_);
  } else {
    line += std::to_string(done);
  }
  llvm::errs() << line;
  llvm::errs().flush();
}

void ProgressBar::finish() {
  if (!enabled_ || finished_)
    return;
  finished_ = true;
  if (drawn_ != done_)
    draw(done_);
  llvm::errs() << "\n";
}

} // namespace qfx
