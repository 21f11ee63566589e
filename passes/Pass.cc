//===- passes/Pass.cc - The unit of transformation of a Graph -------------===//
//
// Option lookup and setting by name, pipeline-element printing, the
// failure helpers that attach a pass's errors to the node they concern, and
// the service lookup of PassContext.
//
//===----------------------------------------------------------------------===//
#include "passes/Pass.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

namespace qfx {

namespace {
struct DefaultServices {
  std::mutex mutex;
  llvm::DenseMap<const void *, void *> services;
};
DefaultServices &defaultServices() {
  static DefaultServices instance;
  return instance;
}
} // namespace

void setDefaultPassService(const void *id, void *service) {
  DefaultServices &defaults = defaultServices();
  std::lock_guard<std::mutex> lock(defaults.mutex);
  if (service)
    defaults.services[id] = service;
  else
    defaults.services.erase(id);
}

void *PassContext::lookupService(const void *id) const {
  for (const auto &entry : services_)
    if (entry.first == id)
      return entry.second;
  DefaultServices &defaults = defaultServices();
  std::lock_guard<std::mutex> lock(defaults.mutex);
  return defaults.services.lookup(id);
}

void PassContext::setService(const void *id, void *service) {
  for (auto &entry : services_)
    if (entry.first == id) {
      entry.second = service;
      return;
    }
  services_.push_back({id, service});
}

PassOptionBase *Pass::findOption(llvm::StringRef name) const {
  for (PassOptionBase *option : options_)
    if (option->name() == name)
      return option;
  return nullptr;
}

std::string unknownOptionMessage(const Pass &pass, llvm::StringRef optionName) {
  std::string message;
  llvm::raw_string_ostream os(message);
  os << "pass '" << pass.name() << "' has no option '" << optionName << "'";
  if (pass.options().empty()) {
    os << "; it takes no options";
  } else {
    os << "; options of '" << pass.name() << "': ";
    llvm::ListSeparator separator;
    for (const PassOptionBase *option : pass.options())
      os << separator << option->name();
  }
  return message;
}

std::string invalidOptionValueMessage(const Pass &pass, const PassOptionBase &option,
                                      llvm::StringRef value) {
  return ("invalid value '" + value + "' for option '" + option.name() + "' of pass '" +
          pass.name() + "': expected " + option.expectedValue())
      .str();
}

llvm::Error Pass::setOption(llvm::StringRef name, llvm::StringRef value) {
  PassOptionBase *option = findOption(name);
  if (!option)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   unknownOptionMessage(*this, name));
  if (!option->parse(value))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   invalidOptionValueMessage(*this, *option, value));
  return llvm::Error::success();
}

void Pass::printAsPipelineElement(llvm::raw_ostream &os) const {
  os << name_;
  bool first = true;
  for (const PassOptionBase *option : options_) {
    if (!option->isExplicitlySet())
      continue;
    // Spaces between options, as in MLIR's pipelines (`{a=1 b=2}`).
    os << (first ? "{" : " ") << option->name() << "=" << option->valueText();
    first = false;
  }
  if (!first)
    os << "}";
}

std::string Pass::pipelineElement() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  printAsPipelineElement(os);
  return text;
}

PassResult Pass::fail(PassContext &context, const Node &node, const llvm::Twine &message) const {
  context.diagnostics().error(node.textLocation(),
                              "pass '" + name_ + "' failed on " + node.describe() + ": " + message);
  return PassResult::Failed;
}

PassResult Pass::fail(PassContext &context, const llvm::Twine &message) const {
  context.diagnostics().error(Location(), "pass '" + name_ + "' failed: " + message);
  return PassResult::Failed;
}

} // namespace qfx
