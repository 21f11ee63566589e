//===- passes/quant/config/ConfigIO.h - Configs from YAML and JSON --------===//
//
// Reads a QuantizerConfig from the reference's document form (§1.9):
//
//   quantization_spec:            # optional scratch area for YAML anchors
//     w4: &w4 {dtype: int4, granularity: {type: per_channel, axis: null}}
//   quantization_config:          # required; the keyword args of QuantizerConfig
//     global_config: null
//     module_type_configs:
//       torch.nn.modules.linear.Linear:
//         op_state_spec: {weight: *w4}
//
// from YAML (anchors, aliases and merge keys resolved by runtime/spec/TreeIO)
// or JSON. Every field is checked the way the reference's pydantic models
// check it (unknown keys are errors, digit-string keys of index-keyed dicts
// become indices, colliding keys are errors, None means what §1.4 says) and
// then QuantizerConfig::validate() runs; all problems are reported together,
// each as a ConfigError or SpecError whose path names the offending key
// (`quantization_config.module_name_configs['fc'].op_input_spec['x']`) and
// whose message says how to fix it. Non-fatal findings (a deprecated
// execution mode, an empty document) go to `warnings`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "passes/quant/config/QuantConfig.h"

#include "ir/Attribute.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace qfx {

/// Reads the body of `quantization_config:` (the QuantizerConfig keyword
/// arguments) and validates it.
llvm::Expected<QuantizerConfig>
parseQuantizerConfigBody(const Attribute &body, std::vector<std::string> *warnings = nullptr);

/// Reads a whole document: a mapping with `quantization_config` (required)
/// and `quantization_spec` (optional, ignored), like the reference's
/// QuantizerConfig.from_dict.
llvm::Expected<QuantizerConfig> parseQuantizerConfig(const Attribute &document,
                                                     std::vector<std::string> *warnings = nullptr);

/// YAML text. An empty document gives std::nullopt and a warning (the
/// reference's from_yaml returns None, which means the default W8A8 config).
llvm::Expected<std::optional<QuantizerConfig>>
readQuantizerConfigYAML(llvm::StringRef text, llvm::StringRef bufferName = "<yaml>",
                        std::vector<std::string> *warnings = nullptr);

/// JSON text (strict JSON; key order kept).
llvm::Expected<QuantizerConfig>
readQuantizerConfigJSON(llvm::StringRef text, llvm::StringRef bufferName = "<json>",
                        std::vector<std::string> *warnings = nullptr);

/// A `.yaml` / `.yml` / `.json` file, by extension. Errors name the file.
llvm::Expected<std::optional<QuantizerConfig>>
loadQuantizerConfigFile(llvm::StringRef path, std::vector<std::string> *warnings = nullptr);

/// The closest of `candidates` to `word` when it is a plausible typo
/// (edit distance at most 2 and less than half the word), else empty.
std::string closestMatch(llvm::StringRef word, llvm::ArrayRef<std::string> candidates);

} // namespace qfx
