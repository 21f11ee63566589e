//===- tools/QfxOptMain.cc - The logic of the qfx-opt driver --------------===//
//
// Command line, input splitting, diagnostic rendering and verification, the
// round-trip check, and atomic output. See QfxOptMain.h for the contract.
//
//===----------------------------------------------------------------------===//
#include "tools/QfxOptMain.h"

#include "ir/Diagnostics.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/BuiltinPasses.h"
#include "passes/PassManager.h"
#include "passes/PassPipeline.h"
#include "passes/PassRegistry.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Pass.h" // llvm::TimePassesIsEnabled, the storage of -time-passes
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>

namespace qfx {
namespace {

constexpr llvm::StringLiteral kSplitMarker = "// -----";
constexpr llvm::StringLiteral kPipelineSourceName = "<pass-pipeline>";

//===----------------------------------------------------------------------===//
// Rendering diagnostics
//===----------------------------------------------------------------------===//

llvm::SourceMgr::DiagKind diagKind(Severity severity) {
  switch (severity) {
  case Severity::Error:
    return llvm::SourceMgr::DK_Error;
  case Severity::Warning:
    return llvm::SourceMgr::DK_Warning;
  case Severity::Note:
    return llvm::SourceMgr::DK_Note;
  case Severity::Remark:
    return llvm::SourceMgr::DK_Remark;
  }
  return llvm::SourceMgr::DK_Error;
}

/// A buffer diagnostics can point into: the input (or a chunk of it) or the
/// pipeline text.
struct SourceBuffer {
  llvm::SourceMgr *sourceMgr = nullptr;
  unsigned bufferId = 0;
  llvm::StringRef name;
};

/// Prints `diagnostic` (and its notes) as `file:line:col: error: message`
/// followed by the source line and a caret when the location is in `source`.
void renderDiagnostic(const Diagnostic &diagnostic, const SourceBuffer &source,
                      llvm::raw_ostream &os) {
  const Location &location = diagnostic.location;
  llvm::SourceMgr::DiagKind kind = diagKind(diagnostic.severity);
  bool inSource = source.sourceMgr && location.isKnown() &&
                  (location.file.empty() || location.file == source.name);
  llvm::SMLoc loc;
  if (inSource)
    loc = source.sourceMgr->FindLocForLineAndColumn(source.bufferId, location.line,
                                                    std::max(location.column, 1u));
  if (loc.isValid()) {
    source.sourceMgr->PrintMessage(os, loc, kind, diagnostic.message);
  } else if (location.isKnown()) {
    // Outside the buffers we hold (or past a line's end): no source line.
    llvm::StringRef file = location.file.empty() ? source.name : location.file;
    os << file << ":" << location.line << ":" << location.column << ": "
       << severityName(diagnostic.severity) << ": " << diagnostic.message << "\n";
  } else {
    llvm::SMDiagnostic(source.name, kind, diagnostic.message).print(nullptr, os);
  }
  for (const Diagnostic &note : diagnostic.notes)
    renderDiagnostic(note, source, os);
}

//===----------------------------------------------------------------------===//
// --split-input-file
//===----------------------------------------------------------------------===//

struct InputChunk {
  llvm::StringRef text;
  unsigned firstLine; // 1-based line of `text` in the whole input
};

bool isSplitMarker(llvm::StringRef line) { return line.trim() == kSplitMarker; }

/// Only blanks and `//` comments: what is left before a leading or after a
/// trailing `// -----`.
bool isBlankChunk(llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef, 16> lines;
  text.split(lines, '\n');
  return llvm::all_of(lines, [](llvm::StringRef line) {
    line = line.trim();
    return line.empty() || line.startswith("//");
  });
}

std::vector<InputChunk> splitInput(llvm::StringRef input, bool split) {
  if (!split)
    return {{input, 1}};
  std::vector<InputChunk> chunks;
  size_t chunkStart = 0;
  unsigned chunkFirstLine = 1;
  unsigned lineNumber = 1;
  size_t lineStart = 0;
  while (lineStart < input.size()) {
    size_t lineEnd = input.find('\n', lineStart);
    size_t next = lineEnd == llvm::StringRef::npos ? input.size() : lineEnd + 1;
    if (isSplitMarker(input.slice(lineStart, next))) {
      chunks.push_back({input.slice(chunkStart, lineStart), chunkFirstLine});
      chunkStart = next;
      chunkFirstLine = lineNumber + 1;
    }
    lineStart = next;
    ++lineNumber;
  }
  chunks.push_back({input.substr(chunkStart), chunkFirstLine});
  return chunks;
}

//===----------------------------------------------------------------------===//
// --verify-diagnostics
//===----------------------------------------------------------------------===//

/// One `// expected-error@+1 {{substring}}` comment.
struct Expectation {
  Severity severity;
  /// Line the diagnostic must be reported at; 0 for `@unknown` (a diagnostic
  /// without location).
  unsigned line;
  std::string substring;
  unsigned commentLine;
  unsigned commentColumn;
  bool matched = false;
};

std::optional<Severity> parseSeverity(llvm::StringRef word) {
  return llvm::StringSwitch<std::optional<Severity>>(word)
      .Case("error", Severity::Error)
      .Case("warning", Severity::Warning)
      .Case("note", Severity::Note)
      .Case("remark", Severity::Remark)
      .Default(std::nullopt);
}

/// Reads the expectations of `text` (lines numbered from 1). Malformed
/// expectation comments are reported to `diagnostics`; returns false then.
bool parseExpectations(llvm::StringRef text, llvm::StringRef fileName,
                       std::vector<Expectation> &expectations, DiagnosticEngine &diagnostics) {
  bool ok = true;
  unsigned lineNumber = 0;
  for (llvm::StringRef rest = text; !rest.empty();) {
    llvm::StringRef line;
    std::tie(line, rest) = rest.split('\n');
    ++lineNumber;
    for (size_t at = line.find("expected-"); at != llvm::StringRef::npos;
         at = line.find("expected-", at + 1)) {
      auto fail = [&](const llvm::Twine &message) {
        diagnostics.error({fileName, lineNumber, static_cast<unsigned>(at) + 1}, message);
        ok = false;
      };
      llvm::StringRef cursor = line.substr(at + strlen("expected-"));
      llvm::StringRef word = cursor.take_while(llvm::isAlpha);
      std::optional<Severity> severity = parseSeverity(word);
      cursor = cursor.drop_front(word.size());
      // Only a whole word followed by `@`, `{` or a blank is an expectation;
      // `'expected-error'` or `unexpected-error` in ordinary text is not.
      bool wordStart = at == 0 || !(llvm::isAlnum(line[at - 1]) || line[at - 1] == '-' ||
                                    line[at - 1] == '_' || line[at - 1] == '\'');
      if (!severity || !wordStart ||
          !(cursor.empty() || cursor.front() == '@' || cursor.front() == '{' ||
            llvm::isSpace(cursor.front())))
        continue;
      Expectation expectation{*severity, lineNumber, "", lineNumber, static_cast<unsigned>(at) + 1};
      if (cursor.consume_front("@")) {
        if (cursor.consume_front("unknown")) {
          expectation.line = 0;
        } else {
          bool down = cursor.consume_front("+");
          bool up = !down && cursor.consume_front("-");
          llvm::StringRef digits = cursor.take_while(llvm::isDigit);
          unsigned offset;
          if (!(down || up) || digits.getAsInteger(10, offset)) {
            fail("expected '@+N', '@-N' or '@unknown' after 'expected-" + word + "'");
            continue;
          }
          cursor = cursor.drop_front(digits.size());
          if (up && offset >= lineNumber) {
            fail("'expected-" + word + "@-" + digits + "' points before the first line");
            continue;
          }
          expectation.line = down ? lineNumber + offset : lineNumber - offset;
        }
      }
      cursor = cursor.ltrim();
      size_t close = cursor.find("}}");
      if (!cursor.startswith("{{") || close == llvm::StringRef::npos) {
        fail("expected '{{message}}' after 'expected-" + word + "'");
        continue;
      }
      expectation.substring = cursor.slice(2, close).str();
      expectations.push_back(std::move(expectation));
    }
  }
  return ok;
}

/// Matches `produced` against `expectations`. Every mismatch is reported to
/// `report` (unexpected diagnostics at their location, missing ones at their
/// comment). Returns true when everything matched.
bool verifyDiagnostics(const std::vector<Diagnostic> &produced,
                       std::vector<Expectation> &expectations, llvm::StringRef fileName,
                       DiagnosticEngine &report) {
  bool ok = true;
  // Notes are diagnostics of their own to expect; flatten them.
  std::vector<const Diagnostic *> all;
  std::vector<const Diagnostic *> stack;
  for (auto it = produced.rbegin(); it != produced.rend(); ++it)
    stack.push_back(&*it);
  while (!stack.empty()) {
    const Diagnostic *diagnostic = stack.back();
    stack.pop_back();
    all.push_back(diagnostic);
    for (auto it = diagnostic->notes.rbegin(); it != diagnostic->notes.rend(); ++it)
      stack.push_back(&*it);
  }

  for (const Diagnostic *diagnostic : all) {
    unsigned line = diagnostic->location.isKnown() ? diagnostic->location.line : 0;
    auto match = llvm::find_if(expectations, [&](const Expectation &expectation) {
      return !expectation.matched && expectation.severity == diagnostic->severity &&
             expectation.line == line &&
             llvm::StringRef(diagnostic->message).contains(expectation.substring);
    });
    if (match != expectations.end()) {
      match->matched = true;
      continue;
    }
    report.error(diagnostic->location,
                 "unexpected " + severityName(diagnostic->severity) + ": " + diagnostic->message);
    ok = false;
  }
  for (const Expectation &expectation : expectations) {
    if (expectation.matched)
      continue;
    report.error({fileName, expectation.commentLine, expectation.commentColumn},
                 "expected " + severityName(expectation.severity) + " \"" + expectation.substring +
                     "\" was not produced");
    ok = false;
  }
  return ok;
}

//===----------------------------------------------------------------------===//
// --verify-roundtrip
//===----------------------------------------------------------------------===//

/// print(parse(print(graph))) must equal print(graph). `stage` says when the
/// check ran, for the message.
bool checkRoundTrip(const Graph &graph, llvm::StringRef stage, DiagnosticEngine &diagnostics) {
  std::string printed = printGraphToString(graph);
  DiagnosticEngine reparseDiagnostics;
  std::vector<Diagnostic> reparseErrors;
  reparseDiagnostics.setHandler(
      [&](const Diagnostic &diagnostic) { reparseErrors.push_back(diagnostic); });
  std::unique_ptr<Graph> reparsed = parseGraph(printed, reparseDiagnostics, "<round-trip>");
  if (!reparsed) {
    std::string detail = reparseErrors.empty() ? "no diagnostic" : reparseErrors[0].message;
    unsigned line = reparseErrors.empty() ? 0 : reparseErrors[0].location.line;
    llvm::SmallVector<llvm::StringRef, 0> lines;
    llvm::StringRef(printed).split(lines, '\n');
    std::string shown = line >= 1 && line <= lines.size() ? lines[line - 1].trim().str() : "";
    diagnostics.error(Location(), "round trip " + stage +
                                      ": the printed graph does not parse back: line " +
                                      llvm::Twine(line) + " `" + shown + "`: " + detail);
    return false;
  }
  std::string reprinted = printGraphToString(*reparsed);
  if (printed == reprinted)
    return true;
  llvm::SmallVector<llvm::StringRef, 0> before, after;
  llvm::StringRef(printed).split(before, '\n');
  llvm::StringRef(reprinted).split(after, '\n');
  size_t line = 0;
  while (line < before.size() && line < after.size() && before[line] == after[line])
    ++line;
  llvm::StringRef was = line < before.size() ? before[line].trim() : "<end of text>";
  llvm::StringRef became = line < after.size() ? after[line].trim() : "<end of text>";
  diagnostics.error(Location(),
                    "round trip " + stage + ": printing the reparsed graph changes line " +
                        llvm::Twine(line + 1) + ": `" + was + "` became `" + became + "`");
  return false;
}

//===----------------------------------------------------------------------===//
// The run
//===----------------------------------------------------------------------===//

class QfxOptRun {
public:
  QfxOptRun(const QfxOptConfig &config, llvm::raw_ostream &errors)
      : config_(config), errors_(errors),
        registry_(config.registry ? *config.registry : builtinPassRegistry()),
        passManager_(diagnostics_) {
    diagnostics_.setHandler([this](const Diagnostic &diagnostic) { handle(diagnostic); });
  }

  bool configure();
  bool run(const llvm::MemoryBuffer &input, std::string &output);

private:
  void handle(const Diagnostic &diagnostic) {
    if (collecting_)
      collected_.push_back(diagnostic);
    else
      renderDiagnostic(diagnostic, current_, errors_);
  }
  bool processChunk(const llvm::MemoryBuffer &input, const InputChunk &chunk, std::string &output);
  bool processGraph(llvm::SourceMgr &sourceMgr, unsigned bufferId, std::string &output);

  const QfxOptConfig &config_;
  llvm::raw_ostream &errors_;
  const PassRegistry &registry_;
  DiagnosticEngine diagnostics_;
  PassManager passManager_;
  /// Where diagnostics currently point (the chunk being processed).
  SourceBuffer current_;
  /// Under --verify-diagnostics, a chunk's diagnostics are collected here.
  bool collecting_ = false;
  std::vector<Diagnostic> collected_;
  llvm::SourceMgr pipelineSource_;
};

bool QfxOptRun::configure() {
  unsigned pipelineBuffer = pipelineSource_.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(config_.passPipeline, kPipelineSourceName),
      llvm::SMLoc());
  current_ = {&pipelineSource_, pipelineBuffer, kPipelineSourceName};
  PassList passes;
  if (!parsePassPipeline(config_.passPipeline, registry_, passes, diagnostics_,
                         kPipelineSourceName))
    return false;
  passManager_.addPasses(std::move(passes));
  if (config_.dumpPassPipeline)
    errors_ << passManager_.pipelineText() << "\n";
  for (const std::string &name : config_.printIRAfter) {
    if (!registry_.contains(name)) {
      llvm::WithColor::error(errors_, "qfx-opt")
          << "--print-ir-after: " << registry_.unknownPassMessage(name) << "\n";
      return false;
    }
  }
  passManager_.enableVerifier(config_.verifyEach);
  if (config_.printIRAfterAll)
    passManager_.enablePrintIRAfterAll(errors_);
  else if (!config_.printIRAfter.empty())
    passManager_.enablePrintIRAfter(config_.printIRAfter, errors_);
  passManager_.enableTiming(config_.timePasses);
  return true;
}

bool QfxOptRun::run(const llvm::MemoryBuffer &input, std::string &output) {
  bool ok = true;
  std::vector<InputChunk> chunks = splitInput(input.getBuffer(), config_.splitInputFile);
  for (size_t i = 0, e = chunks.size(); i != e; ++i) {
    if (i != 0)
      output += (kSplitMarker + "\n").str();
    // Keep going after a failed chunk so one run shows every chunk's errors.
    ok &= processChunk(input, chunks[i], output);
  }
  if (config_.timePasses)
    passManager_.printTimingReport(errors_);
  return ok;
}

bool QfxOptRun::processChunk(const llvm::MemoryBuffer &input, const InputChunk &chunk,
                             std::string &output) {
  llvm::StringRef fileName = input.getBufferIdentifier();
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  if (chunk.firstLine == 1 && chunk.text.end() == input.getBufferEnd()) {
    // The whole input (no split): parse it in place, large graphs are big.
    buffer = llvm::MemoryBuffer::getMemBuffer(input.getMemBufferRef(), /*RequiresNullTerminator=*/
                                              false);
  } else {
    // Padding with the newlines of the chunks before keeps every line number
    // (diagnostics, expected-* comments, messages that quote lines) equal to
    // the line in the whole file. (Quadratic only in the number of chunks.)
    std::string padded(chunk.firstLine - 1, '\n');
    padded += chunk.text;
    buffer = llvm::MemoryBuffer::getMemBufferCopy(padded, fileName);
  }
  llvm::StringRef text = buffer->getBuffer();
  llvm::SourceMgr sourceMgr;
  unsigned bufferId = sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  current_ = {&sourceMgr, bufferId, fileName};

  // Diagnostics must not point into this chunk once it is gone.
  auto forgetChunk = llvm::make_scope_exit([&] { current_ = SourceBuffer{nullptr, 0, fileName}; });

  // A split file may start or end with a marker, leaving a chunk with nothing
  // to process; it produces no output (a whole file must hold a graph).
  bool blank = config_.splitInputFile && isBlankChunk(chunk.text);
  if (!config_.verifyDiagnostics)
    return blank || processGraph(sourceMgr, bufferId, output);

  std::vector<Expectation> expectations;
  if (!parseExpectations(text, fileName, expectations, diagnostics_))
    return false;
  if (blank)
    return verifyDiagnostics({}, expectations, fileName, diagnostics_);
  collecting_ = true;
  collected_.clear();
  std::string chunkOutput;
  processGraph(sourceMgr, bufferId, chunkOutput);
  collecting_ = false;
  // Under --verify-diagnostics, success means "the diagnostics were the
  // expected ones", whether or not the chunk itself failed.
  bool ok = verifyDiagnostics(collected_, expectations, fileName, diagnostics_);
  output += chunkOutput;
  return ok;
}

bool QfxOptRun::processGraph(llvm::SourceMgr &sourceMgr, unsigned bufferId, std::string &output) {
  std::unique_ptr<Graph> graph = parseGraph(sourceMgr, bufferId, diagnostics_);
  if (!graph || !verifyGraph(*graph, diagnostics_))
    return false;
  if (config_.verifyRoundtrip && !checkRoundTrip(*graph, "after parsing", diagnostics_))
    return false;
  if (passManager_.run(*graph) == PassResult::Failed)
    return false;
  if (config_.verifyRoundtrip && !passManager_.passes().empty() &&
      !checkRoundTrip(*graph, "after the pass pipeline", diagnostics_))
    return false;
  output += printGraphToString(*graph);
  return true;
}

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

/// qfx-opt's options, registered on first use (so that linking the library
/// into a test registers nothing).
struct CommandLine {
  llvm::cl::OptionCategory category{"qfx-opt options"};
  llvm::cl::opt<std::string> inputFile{llvm::cl::Positional, llvm::cl::desc("<input file>"),
                                       llvm::cl::init("-"), llvm::cl::cat(category)};
  llvm::cl::opt<std::string> outputFile{
      "o", llvm::cl::desc("Output file (default: stdout); written only if everything succeeds"),
      llvm::cl::value_desc("filename"), llvm::cl::init("-"), llvm::cl::cat(category)};
  llvm::cl::opt<std::string> passPipeline{
      "pass-pipeline",
      llvm::cl::desc("Passes to run (short: -p), e.g. 'cse,canonicalize{training=true},dce'"),
      llvm::cl::value_desc("pipeline"), llvm::cl::cat(category)};
  llvm::cl::alias passPipelineShort{"p", llvm::cl::desc("Alias for --pass-pipeline"),
                                    llvm::cl::aliasopt(passPipeline), llvm::cl::cat(category)};
  llvm::cl::opt<bool> dumpPassPipeline{
      "dump-pass-pipeline",
      llvm::cl::desc("Print the pipeline in canonical form to stderr before running it"),
      llvm::cl::cat(category)};
  llvm::cl::opt<bool> splitInputFile{
      "split-input-file",
      llvm::cl::desc("Process each chunk between '// -----' lines independently and join the "
                     "outputs with '// -----'"),
      llvm::cl::cat(category)};
  llvm::cl::opt<bool> verifyDiagnostics{
      "verify-diagnostics",
      llvm::cl::desc("Check that the diagnostics match the input's "
                     "'expected-(error|warning|note|remark)[@+N|@-N|@unknown] {{text}}' comments"),
      llvm::cl::cat(category)};
  llvm::cl::opt<bool> verifyEach{"verify-each",
                                 llvm::cl::desc("Verify the graph after each pass (default: on)"),
                                 llvm::cl::init(true), llvm::cl::cat(category)};
  llvm::cl::opt<bool> printIRAfterAll{"print-ir-after-all",
                                      llvm::cl::desc("Print the graph to stderr after each pass"),
                                      llvm::cl::cat(category)};
  llvm::cl::list<std::string> printIRAfter{
      "print-ir-after",
      llvm::cl::desc("Print the graph to stderr after each run of the named passes"),
      llvm::cl::value_desc("pass"), llvm::cl::CommaSeparated, llvm::cl::cat(category)};
  llvm::cl::opt<bool> verifyRoundtrip{
      "verify-roundtrip",
      llvm::cl::desc("After parsing and after the pipeline, check that print -> parse -> print "
                     "reproduces the printed text"),
      llvm::cl::cat(category)};
};

std::string passHelpText() {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "\nPASSES (for --pass-pipeline/-p: 'pass,pass{option=value option=value},...'):\n";
  builtinPassRegistry().printHelp(os);
  return text;
}

} // namespace

bool runQfxOpt(const QfxOptConfig &config, const llvm::MemoryBuffer &input, std::string &output,
               llvm::raw_ostream &errors) {
  output.clear();
  QfxOptRun run(config, errors);
  if (!run.configure())
    return false;
  return run.run(input, output);
}

int qfxOptMain(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  static CommandLine commandLine;

  // LLVM's own -time-passes (registered by libLLVM) is the one qfx-opt uses:
  // a second option of that name would abort at start-up.
  llvm::StringMap<llvm::cl::Option *> &options = llvm::cl::getRegisteredOptions();
  static std::unique_ptr<llvm::cl::opt<bool, true>> ownTimePasses;
  if (!options.count("time-passes"))
    ownTimePasses = std::make_unique<llvm::cl::opt<bool, true>>(
        "time-passes", llvm::cl::location(llvm::TimePassesIsEnabled));
  llvm::cl::Option *timePasses = options["time-passes"];
  timePasses->setDescription("Time each pass and report it at the end (to stderr)");
  timePasses->setHiddenFlag(llvm::cl::NotHidden);
  timePasses->addCategory(commandLine.category);

  static std::string passHelp = passHelpText();
  static llvm::cl::extrahelp passHelpPrinter(passHelp);
  llvm::cl::HideUnrelatedOptions(commandLine.category);
  llvm::cl::ParseCommandLineOptions(argc, argv, "qfx-opt: run qfx passes on qfx IR text\n", nullptr,
                                    "QFX_OPT_OPTIONS");

  QfxOptConfig config;
  config.passPipeline = commandLine.passPipeline;
  config.dumpPassPipeline = commandLine.dumpPassPipeline;
  config.splitInputFile = commandLine.splitInputFile;
  config.verifyDiagnostics = commandLine.verifyDiagnostics;
  config.verifyEach = commandLine.verifyEach;
  config.printIRAfterAll = commandLine.printIRAfterAll;
  config.printIRAfter.assign(commandLine.printIRAfter.begin(), commandLine.printIRAfter.end());
  config.timePasses = llvm::TimePassesIsEnabled;
  config.verifyRoundtrip = commandLine.verifyRoundtrip;

  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> input =
      llvm::MemoryBuffer::getFileOrSTDIN(commandLine.inputFile, /*IsText=*/true);
  if (!input) {
    llvm::WithColor::error(llvm::errs(), "qfx-opt")
        << "cannot read input file '" << commandLine.inputFile
        << "': " << input.getError().message() << "\n";
    return 1;
  }

  std::string output;
  if (!runQfxOpt(config, **input, output, llvm::errs()))
    return 1;

  // Temporary file + rename: readers never see a partial file, and nothing is
  // written unless the whole run succeeded.
  if (llvm::Error error = llvm::writeToOutput(commandLine.outputFile, [&](llvm::raw_ostream &os) {
        os << output;
        return llvm::Error::success();
      })) {
    llvm::WithColor::error(llvm::errs(), "qfx-opt")
        << "cannot write output file '" << commandLine.outputFile
        << "': " << llvm::toString(std::move(error)) << "\n";
    return 1;
  }
  return 0;
}

} // namespace qfx
