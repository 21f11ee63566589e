//===- runtime/spec/SpecError.cc - Errors of the spec layer ---------------===//
//
// Messages and path handling for SpecError and BlockSizeMismatchError.
//
//===----------------------------------------------------------------------===//
#include "runtime/spec/SpecError.h"

#include "llvm/Support/raw_ostream.h"

namespace qfx {

char SpecError::ID = 0;
char BlockSizeMismatchError::ID = 0;

void SpecError::log(llvm::raw_ostream &os) const {
  if (!path_.empty())
    os << "field '" << path_ << "': ";
  os << message_;
}

std::error_code SpecError::convertToErrorCode() const {
  return std::make_error_code(std::errc::invalid_argument);
}

llvm::Error makeSpecError(const llvm::Twine &path, const llvm::Twine &message) {
  return llvm::make_error<SpecError>(path.str(), message.str());
}

std::string joinSpecPath(llvm::StringRef prefix, llvm::StringRef field) {
  if (prefix.empty())
    return field.str();
  if (field.empty())
    return prefix.str();
  return (prefix + "." + field).str();
}

llvm::Error prefixSpecErrorPath(llvm::Error error, llvm::StringRef prefix) {
  if (prefix.empty())
    return error;
  // handleErrors visits every member of a joined ErrorList; whatever the
  // handlers return is joined again in order.
  return llvm::handleErrors(std::move(error), [&](const SpecError &specError) -> llvm::Error {
    return llvm::make_error<SpecError>(joinSpecPath(prefix, specError.path()),
                                       specError.detail().str());
  });
}

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

void BlockSizeMismatchError::log(llvm::raw_ostream &os) const {
  os << "tensor of shape " << formatShape(shape_)
     << " is incompatible with block size configuration " << granularity_ << ": dim " << dim_
     << " of size " << shape_[dim_] << " is not divisible by block size " << blockSize_;
}

std::error_code BlockSizeMismatchError::convertToErrorCode() const {
  return std::make_error_code(std::errc::invalid_argument);
}

} // namespace qfx
