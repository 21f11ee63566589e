//===- tests/unit/QuantConfigTest.cpp - Quantizer config model tests ------===//
//
// Unit tests of //passes/quant/config: the config classes and their None
// semantics (reference §1.3-1.4), presets and the default W8A8 (§1.6), the
// QAT schedule rules (§1.7), the reference's mutators, validation of every
// config error of §7 with its key path, reading YAML (anchors, aliases, merge
// keys) and JSON documents (§1.9), Python-style full-match regexes, and the
// §1.5 precedence of ConfigResolver on small graphs.
//
//===----------------------------------------------------------------------===//
#include "passes/quant/config/QuantConfig.h"
#include "passes/quant/config/ConfigIO.h"
#include "passes/quant/config/ConfigResolver.h"
#include "passes/quant/config/FullMatchRegex.h"

#include "ir/Parser.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace qfx;

namespace {

template <typename T> std::string errorOf(llvm::Expected<T> value) {
  if (value) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(value.takeError());
}

std::string errorOf(llvm::Error error) {
  if (!error) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(std::move(error));
}

QuantizerConfig mustYAML(llvm::StringRef text, std::vector<std::string> *warnings = nullptr) {
  llvm::Expected<std::optional<QuantizerConfig>> config =
      readQuantizerConfigYAML(text, "<test>", warnings);
  if (!config) {
    ADD_FAILURE() << llvm::toString(config.takeError());
    return QuantizerConfig();
  }
  if (!*config) {
    ADD_FAILURE() << "empty document";
    return QuantizerConfig();
  }
  return **config;
}

std::string yamlError(llvm::StringRef text) {
  return errorOf(readQuantizerConfigYAML(text, "<test>"));
}

QuantizationSpec spec(QuantDType dtype, Granularity granularity = Granularity::perTensor()) {
  QuantizationSpecFields fields;
  fields.dtype = dtype;
  fields.granularity = std::move(granularity);
  return llvm::cantFail(QuantizationSpec::create(fields));
}

//===----------------------------------------------------------------------===//
// Classes, defaults, None
//===----------------------------------------------------------------------===//

TEST(QuantConfigTest, DefaultIsW8A8) {
  QuantizerConfig config;
  const ModuleQuantizerConfig &global = config.globalConfig;
  const OptionalSpec *input = global.opInputSpec.lookup(0);
  ASSERT_TRUE(input && *input);
  EXPECT_EQ(**input, defaultActivationQuantizationSpec());
  const OptionalSpec *output = global.opOutputSpec.lookup(0);
  ASSERT_TRUE(output && *output);
  EXPECT_EQ(**output, defaultActivationQuantizationSpec());
  const OptionalSpec *weight = global.opStateSpec.lookup("weight");
  ASSERT_TRUE(weight && *weight);
  EXPECT_EQ(**weight, defaultWeightQuantizationSpec());
  // Bias (and any other state) stays float by default.
  EXPECT_EQ(global.opStateSpec.lookup("bias"), nullptr);
  EXPECT_TRUE(config.moduleTypeConfigs.empty());
  EXPECT_TRUE(config.moduleNameConfigs.empty());
  EXPECT_EQ(config.executionMode, ExecutionMode::Graph);
  EXPECT_FALSE(bool(config.validate()));
}

TEST(QuantConfigTest, NoneDisablesAScopeButStillClaimsIt) {
  QuantizerConfig config;
  config.setGlobal(std::nullopt);
  EXPECT_EQ(config.globalConfig, ModuleQuantizerConfig::disabled());
  config.setModuleType("torch.nn.modules.linear.Linear", std::nullopt);
  ASSERT_EQ(config.moduleTypeConfigs.size(), 1u);
  EXPECT_EQ(config.moduleTypeConfigs[0].second, ModuleQuantizerConfig::disabled());
  ModuleQuantizerConfig module;
  module.setOpType("linear", std::nullopt);
  EXPECT_TRUE(module.opTypeConfig[0].second.isDisabled());
  // Setting the same key again replaces in place (dict assignment).
  config.setModuleType("torch.nn.modules.linear.Linear", ModuleQuantizerConfig());
  ASSERT_EQ(config.moduleTypeConfigs.size(), 1u);
  EXPECT_EQ(config.moduleTypeConfigs[0].second, ModuleQuantizerConfig());
}

TEST(QuantConfigTest, SpecKeysAndLookup) {
  EXPECT_TRUE(SpecKey::parse("*").isAny());
  EXPECT_EQ(SpecKey::parse("0"), SpecKey::index(0));
  EXPECT_EQ(SpecKey::parse("00"), SpecKey::index(0));
  EXPECT_EQ(SpecKey::parse("12"), SpecKey::index(12));
  EXPECT_EQ(SpecKey::parse("weight"), SpecKey::name("weight"));
  EXPECT_EQ(SpecKey::parse("-1"), SpecKey::name("-1"));

  SpecMap map{{SpecKey::index(1), std::nullopt}, {SpecKey::any(), spec(QuantDType::Int4)}};
  bool exact = false;
  const OptionalSpec *one = map.lookup(1, &exact);
  ASSERT_NE(one, nullptr);
  EXPECT_TRUE(exact);
  EXPECT_FALSE(one->has_value()); // explicitly None
  const OptionalSpec *zero = map.lookup(0, &exact);
  ASSERT_TRUE(zero && *zero);
  EXPECT_FALSE(exact);
  EXPECT_EQ((*zero)->dtype(), QuantDType::Int4);
  EXPECT_EQ(SpecMap().lookup(0), nullptr);
}

TEST(QuantConfigTest, Presets) {
  QuantizerConfig w8 = QuantizerConfig::Presets::w8();
  EXPECT_TRUE(w8.globalConfig.opInputSpec.empty());
  EXPECT_TRUE(w8.globalConfig.opOutputSpec.empty());
  const OptionalSpec *weight = w8.globalConfig.opStateSpec.lookup("weight");
  ASSERT_TRUE(weight && *weight);
  EXPECT_EQ((*weight)->dtype(), QuantDType::Int8);
  EXPECT_EQ((*weight)->granularity(), Granularity::perChannel()); // axis resolved later
  EXPECT_EQ((*weight)->qparamsCalculator(), "default");

  QuantizerConfig w4 = QuantizerConfig::Presets::w4(1);
  weight = w4.globalConfig.opStateSpec.lookup("weight");
  ASSERT_TRUE(weight && *weight);
  EXPECT_EQ((*weight)->dtype(), QuantDType::Int4);
  EXPECT_EQ((*weight)->granularity(), Granularity::perChannel(1));

  llvm::Expected<QuantizerConfig> block = QuantizerConfig::Presets::w4PerBlock();
  ASSERT_TRUE(bool(block));
  weight = block->globalConfig.opStateSpec.lookup("weight");
  ASSERT_TRUE(weight && *weight);
  EXPECT_EQ((*weight)->granularity(), Granularity::perBlock(std::nullopt, 32));
  EXPECT_NE(errorOf(QuantizerConfig::Presets::w4PerBlock(0)).find("block_size"), std::string::npos);
  EXPECT_NE(errorOf(QuantizerConfig::Presets::w4PerBlock(32, 2)).find("axis"), std::string::npos);

  EXPECT_EQ(ModuleQuantizerConfig::Presets::w8(), w8.globalConfig);
}

TEST(QuantConfigTest, QATSchedule) {
  EXPECT_TRUE(bool(QATSchedule::create(0, 0, std::nullopt)));
  EXPECT_TRUE(bool(QATSchedule::create(2, 5, 5))); // disable == enable_fake_quant is fine
  EXPECT_NE(errorOf(QATSchedule::create(3, 2, std::nullopt)).find("enable_fake_quant (2)"),
            std::string::npos);
  EXPECT_NE(errorOf(QATSchedule::create(3, 3, 3)).find("must come after enable_observer"),
            std::string::npos);
  EXPECT_NE(errorOf(QATSchedule::create(0, 5, 4)).find("must not come before enable_fake_quant"),
            std::string::npos);
  EXPECT_NE(errorOf(QATSchedule::create(-1, 0, std::nullopt)).find("enable_observer must be >= 0"),
            std::string::npos);
  EXPECT_NE(errorOf(QATSchedule::create(0, 0, 0)).find("disable_observer must be > 0"),
            std::string::npos);

  QATSchedule schedule = llvm::cantFail(QATSchedule::create(2, 4, 6));
  EXPECT_FALSE(schedule.observerEnabledAt(1));
  EXPECT_TRUE(schedule.observerEnabledAt(2));
  EXPECT_TRUE(schedule.observerEnabledAt(5));
  EXPECT_FALSE(schedule.observerEnabledAt(6));
  EXPECT_FALSE(schedule.fakeQuantEnabledAt(3));
  EXPECT_TRUE(schedule.fakeQuantEnabledAt(4));
}

TEST(QuantConfigTest, OnlyForAndWithout) {
  QuantizerConfig config;
  ASSERT_FALSE(bool(config.onlyFor(
      {ConfigTarget::moduleType("torch.nn.modules.conv.Conv2d"), ConfigTarget::moduleName("fc")})));
  EXPECT_EQ(config.globalConfig, ModuleQuantizerConfig::disabled());
  ASSERT_EQ(config.moduleTypeConfigs.size(), 1u);
  EXPECT_EQ(config.moduleTypeConfigs[0].second, ModuleQuantizerConfig());
  ASSERT_EQ(config.moduleNameConfigs.size(), 1u);
  EXPECT_EQ(config.moduleNameConfigs[0].first, "fc");
  // The global config is disabled now: a second only_for has nothing to move.
  EXPECT_NE(errorOf(config.onlyFor({ConfigTarget::moduleName("x")})).find("already disabled"),
            std::string::npos);
  EXPECT_NE(errorOf(QuantizerConfig().onlyFor({})).find("at least one"), std::string::npos);

  config.without({ConfigTarget::moduleName("fc")});
  EXPECT_EQ(config.moduleNameConfigs[0].second, ModuleQuantizerConfig::disabled());
}

TEST(QuantConfigTest, ExecutionMode) {
  QuantizerConfig config;
  std::vector<std::string> warnings;
  ASSERT_FALSE(bool(config.setExecutionMode("eager", &warnings)));
  EXPECT_EQ(config.executionMode, ExecutionMode::Eager);
  ASSERT_FALSE(bool(config.setExecutionMode("pt2e", &warnings)));
  EXPECT_EQ(config.executionMode, ExecutionMode::Graph);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("deprecated"), std::string::npos);
  EXPECT_NE(errorOf(config.setExecutionMode("fast")).find("'graph' or 'eager'"), std::string::npos);
}

TEST(QuantConfigTest, ValidateReportsEveryProblemWithItsPath) {
  QuantizerConfig config;
  config.globalConfig.moduleInputSpec.set(SpecKey::any(), defaultActivationQuantizationSpec());
  config.setModuleType("Linear", ModuleQuantizerConfig());
  ModuleQuantizerConfig named;
  named.opInputSpec.set(SpecKey::name("x"), std::nullopt);
  named.opOutputSpec.set(SpecKey::index(1), std::nullopt);
  named.setOpName("linear_(", std::nullopt);
  named.qatSchedule = QATSchedule{5, 1, std::nullopt};
  config.setModuleName("fc[", named);
  std::vector<std::string> messages = errorMessages(config.validate());
  std::string all;
  for (const std::string &message : messages)
    all += message + "\n";
  EXPECT_EQ(messages.size(), 7u) << all;
  EXPECT_NE(all.find("quantization_config.global_config: global_config must not set"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("module_type_configs['Linear']: module type keys are fully qualified"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("module_name_configs['fc[']: invalid regex 'fc['"), std::string::npos) << all;
  EXPECT_NE(all.find("op_input_spec['x']: Only integer indices or '*'"), std::string::npos) << all;
  EXPECT_NE(all.find("op_output_spec[1]: op_output_spec currently supports setting for '*' or 0"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("op_name_config['linear_(']: invalid regex"), std::string::npos) << all;
  EXPECT_NE(all.find("qat_schedule: enable_fake_quant (1) must not come before"), std::string::npos)
      << all;
}

//===----------------------------------------------------------------------===//
// Regexes
//===----------------------------------------------------------------------===//

TEST(QuantConfigTest, FullMatchRegex) {
  auto matches = [](llvm::StringRef pattern, llvm::StringRef text) {
    llvm::Expected<FullMatchRegex> regex = FullMatchRegex::compile(pattern);
    if (!regex) {
      ADD_FAILURE() << llvm::toString(regex.takeError());
      return false;
    }
    return regex->matches(text);
  };
  EXPECT_TRUE(matches("linear", "linear"));
  EXPECT_FALSE(matches("linear", "linear_1")); // full match, not search
  EXPECT_FALSE(matches("inner", "inner.linear"));
  EXPECT_TRUE(matches("linear_\\d+", "linear_12"));
  EXPECT_TRUE(matches("layer\\d\\.\\w+", "layer1.conv_a"));
  EXPECT_TRUE(matches("a|b", "b"));
  EXPECT_FALSE(matches("a|b", "ab")); // the alternation is grouped before anchoring
  EXPECT_TRUE(matches("layers\\..*?", "layers.3.fc")); // lazy quantifiers are fine
  EXPECT_TRUE(matches("[\\d_]+", "1_2"));
  EXPECT_TRUE(matches(".*", ""));
  EXPECT_NE(errorOf(FullMatchRegex::compile("(?:a)")).find("'(?...)'"), std::string::npos);
  EXPECT_NE(errorOf(FullMatchRegex::compile("(a)\\1")).find("back-references"), std::string::npos);
  EXPECT_NE(errorOf(FullMatchRegex::compile("fc[")).find("invalid regex 'fc['"), std::string::npos);
  EXPECT_NE(errorOf(FullMatchRegex::compile("(a")).find("invalid regex"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// YAML and JSON
//===----------------------------------------------------------------------===//

TEST(QuantConfigTest, YAMLWithAnchorsAliasesAndMergeKeys) {
  QuantizerConfig config = mustYAML(R"(
quantization_spec:
  int4: &int4
    dtype: int4
    qscheme: symmetric
    granularity: {type: per_tensor}
  act: &act {dtype: int8, qparam_calculator_cls: moving_average}
  base: &base
    op_input_spec: {"*": *act}
    op_output_spec: null
quantization_config:
  global_config: null
  module_type_configs:
    torch.nn.modules.linear.Linear:
      <<: *base
      op_state_spec: {weight: *int4, bias: null}
  module_name_configs:
    "layers\\.\\d+":
      op_input_spec: {0: *int4, "1": null}
      op_type_config: {add: null, linear: {}}
      op_name_config: {"linear_1": {op_output_spec: {"*": *act}}}
      qat_schedule: {enable_observer: 0, enable_fake_quant: 2, disable_observer: null}
  preserved_attributes: [names]
  execution_mode: graph
)");
  EXPECT_EQ(config.globalConfig, ModuleQuantizerConfig::disabled());
  ASSERT_EQ(config.moduleTypeConfigs.size(), 1u);
  const ModuleQuantizerConfig &linear = config.moduleTypeConfigs[0].second;
  const OptionalSpec *input = linear.opInputSpec.lookup(3);
  ASSERT_TRUE(input && *input);
  EXPECT_EQ((*input)->dtype(), QuantDType::Int8);
  EXPECT_EQ((*input)->qparamsCalculator(), "moving_average");
  EXPECT_TRUE(linear.opOutputSpec.empty()); // null = empty dict
  const OptionalSpec *weight = linear.opStateSpec.lookup("weight");
  ASSERT_TRUE(weight && *weight);
  EXPECT_EQ((*weight)->dtype(), QuantDType::Int4);
  const OptionalSpec *bias = linear.opStateSpec.lookup("bias");
  ASSERT_NE(bias, nullptr);
  EXPECT_FALSE(bias->has_value()); // explicitly not quantized

  ASSERT_EQ(config.moduleNameConfigs.size(), 1u);
  EXPECT_EQ(config.moduleNameConfigs[0].first, "layers\\.\\d+");
  const ModuleQuantizerConfig &layers = config.moduleNameConfigs[0].second;
  // Digit-string keys are indices.
  ASSERT_NE(layers.opInputSpec.find(SpecKey::index(0)), nullptr);
  ASSERT_NE(layers.opInputSpec.find(SpecKey::index(1)), nullptr);
  // Fields left out keep their defaults.
  EXPECT_EQ(layers.opStateSpec, ModuleQuantizerConfig().opStateSpec);
  ASSERT_EQ(layers.opTypeConfig.size(), 2u);
  EXPECT_TRUE(layers.opTypeConfig[0].second.isDisabled());       // add: null
  EXPECT_EQ(layers.opTypeConfig[1].second, OpQuantizerConfig()); // linear: {} = defaults
  ASSERT_EQ(layers.opNameConfig.size(), 1u);
  ASSERT_TRUE(layers.qatSchedule.has_value());
  EXPECT_EQ(layers.qatSchedule->enableFakeQuant, 2);
  ASSERT_TRUE(config.preservedAttributes.has_value());
  EXPECT_EQ(*config.preservedAttributes, std::vector<std::string>{"names"});
}

TEST(QuantConfigTest, EmptyBodyIsTheDefaultAndEmptyDocumentWarns) {
  EXPECT_EQ(mustYAML("quantization_config: {}"), QuantizerConfig());
  std::vector<std::string> warnings;
  llvm::Expected<std::optional<QuantizerConfig>> empty =
      readQuantizerConfigYAML("# nothing\n", "empty.yaml", &warnings);
  ASSERT_TRUE(bool(empty));
  EXPECT_FALSE(empty->has_value());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("empty"), std::string::npos);
}

TEST(QuantConfigTest, DocumentErrors) {
  EXPECT_NE(yamlError("quantization_config: {}\nextra: 1\n")
                .find("Found unexpected key 'extra' at the top level"),
            std::string::npos);
  EXPECT_NE(yamlError("global_config: null\n").find("Did not find 'quantization_config'"),
            std::string::npos);
  EXPECT_NE(yamlError("quantization_config:\n").find("the config body is null"), std::string::npos);
  EXPECT_NE(yamlError("- 1\n- 2\n").find("must be a mapping"), std::string::npos);
  EXPECT_NE(yamlError("quantization_confg: {}\n").find("did you mean 'quantization_config'?"),
            std::string::npos);
}

TEST(QuantConfigTest, FieldErrorsNameTheKeyPath) {
  std::string error = yamlError(R"(
quantization_config:
  global_config:
    op_input_spec: {"0": null, "00": null}
    op_state_spc: {}
    qat_schedule: {enable_observer: 3, enable_fake_quant: 1}
  module_type_configs:
    torch.nn.modules.linear.Linear:
      op_state_spec: {weight: {dtype: float16}}
  execution_mode: fast
)");
  EXPECT_NE(error.find("quantization_config.global_config.op_input_spec[00]: key '00' collides "
                       "with key '0': both mean index 0"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("unknown key 'op_state_spc' in a module config; did you mean "
                       "'op_state_spec'?"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("quantization_config.global_config.qat_schedule: enable_fake_quant (1)"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("module_type_configs['torch.nn.modules.linear.Linear'].op_state_spec["
                       "'weight'].dtype"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("Unsupported dtype"), std::string::npos) << error;
  EXPECT_NE(error.find("quantization_config.execution_mode: invalid execution mode 'fast'"),
            std::string::npos)
      << error;
}

TEST(QuantConfigTest, KindErrors) {
  EXPECT_NE(yamlError("quantization_config: {global_config: 3}")
                .find("global_config: expected a module config mapping or null"),
            std::string::npos);
  EXPECT_NE(yamlError("quantization_config: {global_config: {op_input_spec: [1]}}")
                .find("expected a mapping of input/output index or '*' to a spec"),
            std::string::npos);
  EXPECT_NE(yamlError("quantization_config: {global_config: {op_input_spec: {'*': int8}}}")
                .find("expected a quantization spec mapping"),
            std::string::npos);
  EXPECT_NE(yamlError("quantization_config: {preserved_attributes: x}")
                .find("expected a list of attribute names or null"),
            std::string::npos);
  EXPECT_NE(yamlError("quantization_config: {global_config: {qat_schedule: {enable_observer: "
                      "x}}}")
                .find("enable_observer: expected an integer"),
            std::string::npos);
}

TEST(QuantConfigTest, DeprecatedExecutionModeWarns) {
  std::vector<std::string> warnings;
  QuantizerConfig config = mustYAML("quantization_config: {execution_mode: pt2e}", &warnings);
  EXPECT_EQ(config.executionMode, ExecutionMode::Graph);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("deprecated"), std::string::npos);
}

TEST(QuantConfigTest, JSONKeepsKeyOrderAndRoundTrips) {
  llvm::Expected<QuantizerConfig> config = readQuantizerConfigJSON(R"({
    "quantization_config": {
      "module_name_configs": {
        "b": {"op_input_spec": null},
        "a": {"op_output_spec": {"0": null}}
      }
    }
  })");
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  ASSERT_EQ(config->moduleNameConfigs.size(), 2u);
  EXPECT_EQ(config->moduleNameConfigs[0].first, "b");
  EXPECT_EQ(config->moduleNameConfigs[1].first, "a");

  // to_dict -> from_dict gives an equal config.
  llvm::Expected<QuantizerConfig> back = parseQuantizerConfigBody(config->toAttribute());
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(*back, *config);
  llvm::Expected<QuantizerConfig> preset = parseQuantizerConfigBody(
      llvm::cantFail(QuantizerConfig::Presets::w4PerBlock(16)).toAttribute());
  ASSERT_TRUE(bool(preset)) << llvm::toString(preset.takeError());
  EXPECT_EQ(*preset, llvm::cantFail(QuantizerConfig::Presets::w4PerBlock(16)));
}

TEST(QuantConfigTest, FilesByExtension) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("qfx-config", dir));
  auto write = [&](llvm::StringRef name, llvm::StringRef text) {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    os << text;
    return std::string(path);
  };
  std::string yaml = write("c.yml", "quantization_config: {global_config: null}\n");
  std::string json = write("c.json", R"({"quantization_config": {"global_config": null}})");
  std::string txt = write("c.txt", "");
  llvm::Expected<std::optional<QuantizerConfig>> fromYAML = loadQuantizerConfigFile(yaml);
  ASSERT_TRUE(bool(fromYAML) && fromYAML->has_value());
  llvm::Expected<std::optional<QuantizerConfig>> fromJSON = loadQuantizerConfigFile(json);
  ASSERT_TRUE(bool(fromJSON) && fromJSON->has_value());
  EXPECT_EQ(**fromYAML, **fromJSON);
  EXPECT_NE(errorOf(loadQuantizerConfigFile(txt)).find("must end in .yaml, .yml or .json"),
            std::string::npos);
  EXPECT_NE(errorOf(loadQuantizerConfigFile((dir + "/missing.yaml").str())).find("cannot read"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// Resolution (§1.5)
//===----------------------------------------------------------------------===//

std::unique_ptr<Graph> parse(llvm::StringRef text) {
  DiagnosticEngine diagnostics;
  std::unique_ptr<Graph> graph = parseGraph(text, diagnostics);
  EXPECT_TRUE(graph != nullptr);
  return graph;
}

Node *nodeAt(Graph &graph, unsigned index) {
  for (Node *node : graph.nodes())
    if (index-- == 0)
      return node;
  return nullptr;
}

const char *kNested = R"(
graph @nested(%x: tensor<2x2xf32>) {
  param %linear1.weight : tensor<2x2xf32>
  param %inner.linear_middle.weight : tensor<2x2xf32>
  param %inner.linear_out1.weight : tensor<2x2xf32>
  %0 = aten::linear(%x, %linear1.weight) : tensor<2x2xf32> module("linear1", "torch.nn.modules.linear.Linear")
  %1 = aten::add(%x, %0) : tensor<2x2xf32> module("inner", "test.InnerModel")
  %2 = aten::linear(%1, %inner.linear_middle.weight) : tensor<2x2xf32> module("inner.linear_middle", "torch.nn.modules.linear.Linear")
  %3 = aten::linear(%2, %inner.linear_out1.weight) : tensor<2x2xf32> module("inner.linear_out1", "torch.nn.modules.linear.Linear")
  %4 = aten::sub(%x, %3) : tensor<2x2xf32>
  return %4
}
)";

TEST(QuantConfigTest, ResolverPrecedence) {
  std::unique_ptr<Graph> graph = parse(kNested);
  ASSERT_TRUE(graph);
  QuantizerConfig config;
  config.setModuleType("torch.nn.modules.linear.Linear", ModuleQuantizerConfig::Presets::w4());
  // The last matching entry wins even though it is less specific.
  config.setModuleName("inner.linear_middle", ModuleQuantizerConfig::Presets::w8());
  config.setModuleName("inner", std::nullopt);
  llvm::Expected<std::unique_ptr<ConfigResolver>> resolver = ConfigResolver::create(config, *graph);
  ASSERT_TRUE(bool(resolver)) << llvm::toString(resolver.takeError());
  ConfigResolver &r = **resolver;

  ResolvedOpConfig linear1 = r.resolve(*nodeAt(*graph, 0));
  EXPECT_EQ(linear1.level, ConfigLevel::ModuleType);
  EXPECT_EQ(linear1.module, &config.moduleTypeConfigs[0].second);
  for (unsigned i : {1u, 2u, 3u}) {
    ResolvedOpConfig inner = r.resolve(*nodeAt(*graph, i));
    EXPECT_EQ(inner.level, ConfigLevel::ModuleName) << i;
    EXPECT_EQ(inner.module, &config.moduleNameConfigs[1].second) << i; // "inner", inherited
    EXPECT_TRUE(inner.op->isDisabled()) << i;
  }
  ResolvedOpConfig sub = r.resolve(*nodeAt(*graph, 4));
  EXPECT_EQ(sub.level, ConfigLevel::Global);
  EXPECT_EQ(sub.opLevel, OpConfigLevel::Default);
  EXPECT_EQ(r.describe(sub), "global_config");

  // The module tree: root, linear1, inner and its children; inner is matched
  // directly, its children inherit.
  int inner = r.findModule("inner");
  int middle = r.findModule("inner.linear_middle");
  ASSERT_GE(inner, 0);
  ASSERT_GE(middle, 0);
  EXPECT_TRUE(r.modules()[inner].direct);
  EXPECT_FALSE(r.modules()[middle].direct);
  EXPECT_TRUE(r.isWithin(middle, inner));
  EXPECT_FALSE(r.isWithin(inner, middle));
  EXPECT_EQ(r.modules()[inner].type, "test.InnerModel");
}

TEST(QuantConfigTest, GlobalOnlyConfigsNeedNoModuleTree) {
  std::unique_ptr<Graph> graph = parse(kNested);
  ASSERT_TRUE(graph);
  QuantizerConfig config = QuantizerConfig::Presets::w8();
  llvm::Expected<std::unique_ptr<ConfigResolver>> resolver = ConfigResolver::create(config, *graph);
  ASSERT_TRUE(bool(resolver));
  // The root stands for every module.
  ASSERT_EQ((*resolver)->modules().size(), 1u);
  for (const Node *node : graph->nodes()) {
    ResolvedOpConfig resolved = (*resolver)->resolve(*node);
    EXPECT_EQ(resolved.level, ConfigLevel::Global);
    EXPECT_EQ(resolved.module, &config.globalConfig);
    EXPECT_EQ(resolved.moduleIndex, 0u);
  }
}

TEST(QuantConfigTest, OpNameOverOpTypeOverDefault) {
  std::unique_ptr<Graph> graph = parse(kNested);
  ASSERT_TRUE(graph);
  QuantizerConfig config;
  config.globalConfig.setOpType("linear", OpQuantizerConfig::disabled());
  OpQuantizerConfig int4;
  int4.opInputSpec = {{SpecKey::any(), spec(QuantDType::Int4)}};
  config.globalConfig.setOpName("linear_[12]", int4);
  llvm::Expected<std::unique_ptr<ConfigResolver>> resolver = ConfigResolver::create(config, *graph);
  ASSERT_TRUE(bool(resolver));
  ConfigResolver &r = **resolver;
  EXPECT_EQ(r.nodeName(*nodeAt(*graph, 0)), "linear");
  EXPECT_EQ(r.nodeName(*nodeAt(*graph, 1)), "add");
  EXPECT_EQ(r.nodeName(*nodeAt(*graph, 2)), "linear_1");
  EXPECT_EQ(r.nodeName(*nodeAt(*graph, 3)), "linear_2");

  ResolvedOpConfig first = r.resolve(*nodeAt(*graph, 0));
  EXPECT_EQ(first.opLevel, OpConfigLevel::OpType);
  EXPECT_EQ(r.describe(first), "global_config.op_type_config['linear']");
  ResolvedOpConfig second = r.resolve(*nodeAt(*graph, 2));
  EXPECT_EQ(second.opLevel, OpConfigLevel::OpName);
  EXPECT_EQ(second.op, &config.globalConfig.opNameConfig[0].second);
  EXPECT_EQ(r.describe(second), "global_config.op_name_config['linear_[12]']");
  EXPECT_EQ(r.resolve(*nodeAt(*graph, 1)).opLevel, OpConfigLevel::Default);
}

TEST(QuantConfigTest, Warnings) {
  QuantizerConfig config;
  config.globalConfig.setOpType("lienar", std::nullopt);
  config.setModuleType("torch.nn.Linear", ModuleQuantizerConfig());
  std::vector<std::string> warnings = configWarnings(config);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("unknown op type 'lienar' matches no op; did you mean 'linear'?"),
            std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[0].find("known op types: "), std::string::npos);
  EXPECT_NE(warnings[1].find("'torch.nn.Linear' is an import alias and never matches"),
            std::string::npos)
      << warnings[1];
}

} // namespace
