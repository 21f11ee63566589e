//===- tools/ts2qfx.cpp - Convert TorchScript to qfx IR text and back -----===//
//
// A small converter so that lit tests (and people) can work on TorchScript
// models with text tools: `ts2qfx model.pt` prints the imported graph as qfx
// IR text (a `.pt` archive or a file of TorchScript IR text), and
// `ts2qfx --to-pt graph.qfx -o model.pt` exports qfx IR text as a loadable
// TorchScript module, taking parameter data (which the text form does not
// carry) from `--params-from=<model.pt>`. Errors go to stderr with exit
// status 1; the output file is written only when everything succeeded.
// Everything it does is the ir/torchscript API.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "ir/torchscript/TorchScript.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

using namespace qfx;

namespace {

llvm::cl::OptionCategory category("ts2qfx options");
llvm::cl::opt<std::string> inputFile(llvm::cl::Positional, llvm::cl::Required,
                                     llvm::cl::desc("<input: .pt or TorchScript IR text; with "
                                                    "--to-pt, qfx IR text ('-' for stdin)>"),
                                     llvm::cl::cat(category));
llvm::cl::opt<std::string> outputFile("o", llvm::cl::desc("Output file (default: stdout)"),
                                      llvm::cl::value_desc("filename"), llvm::cl::init("-"),
                                      llvm::cl::cat(category));
llvm::cl::opt<bool> toPt("to-pt",
                         llvm::cl::desc("Export qfx IR text to a TorchScript .pt file (needs -o)"),
                         llvm::cl::cat(category));
llvm::cl::opt<std::string>
    paramsFrom("params-from",
               llvm::cl::desc("With --to-pt: take parameter data from this TorchScript file"),
               llvm::cl::value_desc("model.pt"), llvm::cl::cat(category));
llvm::cl::list<std::string>
    inputTypes("input-type",
               llvm::cl::desc("Type of each graph input in qfx spelling (tensor<1x3x8x8xf32>); "
                              "given for all inputs, the model is run once to type every value"),
               llvm::cl::value_desc("type"), llvm::cl::cat(category));
llvm::cl::list<std::string>
    loadLibraries("load-library",
                  llvm::cl::desc("Load a TorchScript operator library first (as "
                                 "torch.ops.load_library), e.g. libqfx_torch_ops.so"),
                  llvm::cl::value_desc("lib.so"), llvm::cl::cat(category));
llvm::cl::opt<std::string> method("method", llvm::cl::desc("Method to import (default: forward)"),
                                  llvm::cl::init("forward"), llvm::cl::cat(category));
llvm::cl::opt<bool> training("training",
                             llvm::cl::desc("Read `training` attributes of scripted modules as "
                                            "true (default: false, inference)"),
                             llvm::cl::cat(category));
llvm::cl::opt<bool> noSourceInfo("no-source-info",
                                 llvm::cl::desc("Do not print module(...) and loc(...) provenance"),
                                 llvm::cl::cat(category));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "ts2qfx") << message << "\n";
  return 1;
}

/// A type in qfx's spelling, read by the IR parser itself so that the
/// accepted spellings cannot drift from the text form.
std::optional<Type> parseType(llvm::StringRef text) {
  DiagnosticEngine diagnostics;
  diagnostics.setHandler([](const Diagnostic &) {});
  std::unique_ptr<Graph> graph =
      parseGraph(("graph @t(%x: " + text + ") {\n  return\n}\n").str(), diagnostics);
  if (!graph || graph->inputs().size() != 1)
    return std::nullopt;
  return graph->inputs()[0]->type();
}

int importToText() {
  TorchScriptImportOptions options;
  options.methodName = method;
  options.training = training;
  for (const std::string &text : inputTypes) {
    std::optional<Type> type = parseType(text);
    if (!type)
      return fail("invalid --input-type '" + text + "': expected a qfx type such as " +
                  "tensor<1x3x224x224xf32>");
    options.inputTypes.push_back(*type);
  }
  llvm::Expected<std::unique_ptr<Graph>> graph = importTorchScriptFile(inputFile, options);
  if (!graph)
    return fail(llvm::toString(graph.takeError()));
  std::error_code error;
  llvm::ToolOutputFile output(outputFile, error, llvm::sys::fs::OF_Text);
  if (error)
    return fail("cannot write '" + outputFile + "': " + error.message());
  PrintOptions printOptions;
  printOptions.printSourceInfo = !noSourceInfo;
  printGraph(**graph, output.os(), printOptions);
  output.keep();
  return 0;
}

int exportToPt() {
  if (outputFile == "-")
    return fail("--to-pt writes a binary file: give it with -o");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!buffer)
    return fail("cannot read '" + inputFile + "': " + buffer.getError().message());
  DiagnosticEngine diagnostics;
  std::unique_ptr<Graph> graph = parseGraph((*buffer)->getBuffer(), diagnostics, inputFile);
  if (!graph || !verifyGraph(*graph, diagnostics))
    return 1; // the diagnostics are printed already
  if (!paramsFrom.empty())
    if (llvm::Error error = attachParameterData(*graph, paramsFrom))
      return fail(llvm::toString(std::move(error)));
  if (llvm::Error error = exportTorchScript(*graph, outputFile))
    return fail(llvm::toString(std::move(error)));
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::cl::HideUnrelatedOptions(category);
  llvm::cl::ParseCommandLineOptions(argc, argv,
                                    "ts2qfx: TorchScript (.pt or IR text) to qfx IR text, and "
                                    "qfx IR text to .pt with --to-pt\n");
  for (const std::string &library : loadLibraries)
    if (llvm::Error error = loadTorchLibrary(library))
      return fail(llvm::toString(std::move(error)));
  return toPt ? exportToPt() : importToText();
}
