//===- tests/unit/SpecTest.cpp - QuantizationSpec model tests -------------===//
//
// Unit tests of //runtime/spec: dtype tables and quant ranges (reference
// §5.1), spec defaults and factories (§1.1), every spec/granularity
// validation error of §7 with its message, the block-shape rules of §5.4, and
// the JSON / YAML / Attribute forms with their round trips (YAML anchors and
// merge keys included).
//
//===----------------------------------------------------------------------===//
#include "runtime/spec/Granularity.h"
#include "runtime/spec/QuantTypes.h"
#include "runtime/spec/QuantizationSpec.h"
#include "runtime/spec/SpecError.h"
#include "runtime/spec/TreeIO.h"

#include "llvm/Support/Error.h"

#include <cmath>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace qfx;

namespace qfx {
// Readable gtest output for failed comparisons.
void PrintTo(const QuantizationSpec &spec, std::ostream *os) { *os << spec.str(); }
void PrintTo(const Granularity &granularity, std::ostream *os) { *os << granularity.str(); }
void PrintTo(const Attribute &attr, std::ostream *os) { *os << attr.str(); }
} // namespace qfx
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

/// The message of a failed Expected (fails the test if it succeeded).
template <typename T> std::string errorOf(llvm::Expected<T> value) {
  if (value) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(value.takeError());
}

llvm::Expected<QuantizationSpec> specFromYAML(llvm::StringRef text) {
  return QuantizationSpec::fromYAML(text);
}

std::string yamlError(llvm::StringRef text) { return errorOf(specFromYAML(text)); }

QuantizationSpec mustSpec(llvm::Expected<QuantizationSpec> spec) {
  if (!spec) {
    ADD_FAILURE() << llvm::toString(spec.takeError());
    return QuantizationSpec();
  }
  return *spec;
}

//===----------------------------------------------------------------------===//
// Dtypes and ranges
//===----------------------------------------------------------------------===//

TEST(QuantTypes, NamesAndAliases) {
  EXPECT_EQ(lookupQuantDType("int8"), QuantDType::Int8);
  EXPECT_EQ(lookupQuantDType("float4_e2m1fn"), QuantDType::Float4E2M1FNx2);
  EXPECT_EQ(lookupQuantDType("float8_e4m3"), QuantDType::Float8E4M3FN);
  EXPECT_EQ(lookupQuantDType("float8_e8m0"), QuantDType::Float8E8M0FNU);
  EXPECT_EQ(lookupQuantDType("half"), QuantDType::Float16);
  EXPECT_EQ(lookupQuantDType("torch.uint4"), QuantDType::UInt4);
  EXPECT_EQ(lookupQuantDType("int9"), std::nullopt);
  EXPECT_EQ(quantDTypeName(QuantDType::Float4E2M1FNx2), "float4_e2m1fn_x2");
  EXPECT_EQ(supportedQuantDTypeNames(), "float4_e2m1fn_x2, float8_e4m3fn, float8_e5m2, int2, "
                                        "int4, int8, uint2, uint4, uint8");
}

TEST(QuantTypes, BitsAndContainers) {
  EXPECT_EQ(quantDTypeBits(QuantDType::Int4), 4u);
  EXPECT_EQ(quantDTypeBits(QuantDType::UInt2), 2u);
  EXPECT_EQ(quantDTypeBits(QuantDType::Float4E2M1FNx2), 4u);
  EXPECT_EQ(quantDTypeBits(QuantDType::Float8E5M2), 8u);
  EXPECT_EQ(containerDType(QuantDType::Int2), QuantDType::Int8);
  EXPECT_EQ(containerDType(QuantDType::Int8), QuantDType::Int8);
  EXPECT_EQ(containerDType(QuantDType::UInt4), QuantDType::UInt8);
  EXPECT_EQ(containerDType(QuantDType::Float4E2M1FNx2), QuantDType::Float8E4M3FN);
  EXPECT_EQ(containerDType(QuantDType::Float8E5M2), QuantDType::Float8E5M2);
  EXPECT_EQ(containerDType(QuantDType::Int16), QuantDType::Int16);
  EXPECT_EQ(toIRDType(QuantDType::Int8), DType::I8);
  EXPECT_EQ(toIRDType(QuantDType::Int4), std::nullopt);
}

TEST(QuantTypes, QuantRangeTable) {
  // Reference §5.1, row by row.
  struct Row {
    QuantDType dtype;
    double symMin, symMax, clipMin, clipMax;
  };
  const Row rows[] = {
      {QuantDType::Int2, -2, 1, -1, 1},         {QuantDType::Int4, -8, 7, -7, 7},
      {QuantDType::Int8, -128, 127, -127, 127}, {QuantDType::UInt2, 0, 3, 0, 3},
      {QuantDType::UInt4, 0, 15, 0, 15},        {QuantDType::UInt8, 0, 255, 0, 255},
  };
  for (const Row &row : rows) {
    SCOPED_TRACE(quantDTypeName(row.dtype).str());
    for (QScheme scheme : {QScheme::Symmetric, QScheme::Asymmetric}) {
      QuantRange range = quantRange(row.dtype, scheme);
      EXPECT_EQ(range.min, row.symMin);
      EXPECT_EQ(range.max, row.symMax);
      EXPECT_FALSE(range.isFloat);
    }
    QuantRange clip = quantRange(row.dtype, QScheme::SymmetricWithClipping);
    EXPECT_EQ(clip.min, row.clipMin);
    EXPECT_EQ(clip.max, row.clipMax);
  }
  EXPECT_EQ(quantRange(QuantDType::Float8E4M3FN, QScheme::Symmetric),
            (QuantRange{-448, 448, true}));
  EXPECT_EQ(quantRange(QuantDType::Float8E5M2, QScheme::Symmetric),
            (QuantRange{-57344, 57344, true}));
  EXPECT_EQ(quantRange(QuantDType::Float4E2M1FNx2, QScheme::Symmetric), (QuantRange{-6, 6, true}));
}

TEST(QuantTypes, ExtraIntegerWidthsForTests) {
  EXPECT_FALSE(isSupportedQuantDType(QuantDType::Int3));
  {
    ScopedExtraIntegerDTypes extra;
    EXPECT_TRUE(isSupportedQuantDType(QuantDType::Int3));
    EXPECT_TRUE(isSupportedQuantDType(QuantDType::UInt7));
    EXPECT_TRUE(isSupportedQuantDType(QuantDType::Int16));
    EXPECT_FALSE(isSupportedQuantDType(QuantDType::UInt16));
    QuantizationSpecFields fields;
    fields.dtype = QuantDType::Int3;
    QuantizationSpec spec = mustSpec(QuantizationSpec::create(fields));
    EXPECT_EQ(spec.nBits(), 3u);
    EXPECT_EQ(spec.targetDType(), QuantDType::Int8);
    EXPECT_EQ(spec.quantMin(), -4);
    EXPECT_EQ(spec.quantMax(), 3);
    fields.dtype = QuantDType::Int16;
    spec = mustSpec(QuantizationSpec::create(fields));
    EXPECT_EQ(spec.targetDType(), QuantDType::Int16);
    EXPECT_EQ(spec.quantMin(), -32768);
  }
  EXPECT_FALSE(isSupportedQuantDType(QuantDType::Int3));
}

//===----------------------------------------------------------------------===//
// Spec defaults and computed fields
//===----------------------------------------------------------------------===//

TEST(QuantizationSpec, Defaults) {
  QuantizationSpec spec;
  EXPECT_EQ(spec.dtype(), QuantDType::Int8);
  EXPECT_EQ(spec.qscheme(), QScheme::Symmetric);
  EXPECT_EQ(spec.qformulation(), QFormulation::ZP);
  EXPECT_TRUE(spec.granularity().isPerTensor());
  EXPECT_EQ(spec.fakeQuantize(), "default");
  EXPECT_EQ(spec.qparamsCalculator(), "default");
  EXPECT_EQ(spec.rangeCalculator(), "minmax");
  EXPECT_FALSE(spec.floatRange().anySet());
  EXPECT_EQ(spec.scaleDType(), std::nullopt);
  EXPECT_EQ(spec.nBits(), 8u);
  EXPECT_EQ(spec.targetDType(), QuantDType::Int8);
  EXPECT_EQ(spec.quantMin(), -128);
  EXPECT_EQ(spec.quantMax(), 127);
  EXPECT_EQ(spec.averagingConstant(), 0.01);
  EXPECT_EQ(spec.resolvedQParamsCalculator(QuantTarget::Weight), "static");
  EXPECT_EQ(spec.resolvedQParamsCalculator(QuantTarget::Activation), "moving_average");
}

TEST(QuantizationSpec, Factories) {
  QuantizationSpec weight = defaultWeightQuantizationSpec();
  EXPECT_EQ(weight.dtype(), QuantDType::Int8);
  EXPECT_EQ(weight.qscheme(), QScheme::Symmetric);
  EXPECT_EQ(weight.granularity(), Granularity::perChannel(0));
  EXPECT_EQ(weight.qparamsCalculator(), "static");
  EXPECT_EQ(weight.rangeCalculator(), "minmax");
  EXPECT_EQ(weight.fakeQuantize(), "default");
  EXPECT_EQ(weight.qformulation(), QFormulation::ZP);
  EXPECT_EQ(weight.resolvedQParamsCalculator(QuantTarget::Activation), "static");

  QuantizationSpec activation = defaultActivationQuantizationSpec();
  EXPECT_TRUE(activation.granularity().isPerTensor());
  EXPECT_EQ(activation.qparamsCalculator(), "moving_average");
  EXPECT_EQ(activation.str(), "{dtype = \"int8\", qscheme = \"symmetric\", granularity = {type = "
                              "\"per_tensor\"}, qparam_calculator_cls = \"moving_average\"}");
}

TEST(QuantizationSpec, FloatDTypesAndScaleDType) {
  QuantizationSpec fp4 = mustSpec(specFromYAML("dtype: float4_e2m1fn"));
  EXPECT_EQ(fp4.dtype(), QuantDType::Float4E2M1FNx2);
  EXPECT_EQ(fp4.scaleDType(), QuantDType::Float8E8M0FNU);
  EXPECT_TRUE(fp4.usesE8M0Scale());
  EXPECT_EQ(fp4.targetDType(), QuantDType::Float8E4M3FN);
  EXPECT_EQ(fp4.nBits(), 4u);
  EXPECT_EQ(fp4.quantMin(), -6.0);
  EXPECT_FALSE(fp4.hasOffsets());

  QuantizationSpec fp8 = mustSpec(specFromYAML("dtype: float8_e4m3"));
  EXPECT_EQ(fp8.scaleDType(), std::nullopt);
  EXPECT_EQ(fp8.quantMax(), 448.0);
  QuantizationSpec fp8mx = mustSpec(specFromYAML("{dtype: float8_e5m2, scale_dtype: float8_e8m0}"));
  EXPECT_EQ(fp8mx.scaleDType(), QuantDType::Float8E8M0FNU);
}

//===----------------------------------------------------------------------===//
// Validation errors (reference §7), one test per rule
//===----------------------------------------------------------------------===//

TEST(SpecValidation, UnknownDTypeName) {
  EXPECT_THAT(yamlError("dtype: int9"),
              AllOf(HasSubstr("field 'dtype'"), HasSubstr("Unsupported dtype: 'int9'"),
                    HasSubstr("Allowed dtypes: float4_e2m1fn_x2, float8_e4m3fn")));
}

TEST(SpecValidation, DTypeOutsideAllowedSet) {
  for (const char *name : {"float16", "bfloat16", "float32", "float8_e4m3fnuz", "int16", "int3"}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(
        yamlError(std::string("dtype: ") + name),
        AllOf(HasSubstr("field 'dtype'"), HasSubstr(std::string("Unsupported dtype: ") + name +
                                                    ". Allowed dtypes: "
                                                    "float4_e2m1fn_x2, "
                                                    "float8_e4m3fn, "
                                                    "float8_e5m2, int2, "
                                                    "int4, int8, uint2, "
                                                    "uint4, uint8")));
  }
  EXPECT_THAT(yamlError("dtype: 8"), AllOf(HasSubstr("field 'dtype'"),
                                           HasSubstr("expected a dtype name string, got int 8")));
}

TEST(SpecValidation, FloatNeedsSymmetric) {
  for (const char *scheme : {"asymmetric", "symmetric_with_clipping"}) {
    EXPECT_THAT(yamlError(std::string("{dtype: float8_e4m3fn, qscheme: ") + scheme + "}"),
                AllOf(HasSubstr("field 'qscheme'"),
                      HasSubstr("FP quantization (dtype=float8_e4m3fn) requires symmetric "
                                "quantization scheme, got qscheme=" +
                                std::string(scheme) + ". Valid option: 'symmetric'")));
  }
}

TEST(SpecValidation, FloatNeedsZeroPointFormulation) {
  EXPECT_THAT(yamlError("{dtype: float4_e2m1fn_x2, qformulation: minval}"),
              AllOf(HasSubstr("field 'qformulation'"),
                    HasSubstr("FP quantization (dtype=float4_e2m1fn_x2) requires zero-point "
                              "quantization formulation, got qformulation=minval. Valid option: "
                              "'zp'")));
}

TEST(SpecValidation, ScaleDType) {
  EXPECT_THAT(yamlError("{dtype: float8_e4m3fn, scale_dtype: float16}"),
              AllOf(HasSubstr("field 'scale_dtype'"),
                    HasSubstr("Unsupported scale_dtype: float16. Only null or float8_e8m0fnu "
                              "are supported.")));
  EXPECT_THAT(yamlError("{dtype: int8, scale_dtype: float8_e8m0fnu}"),
              AllOf(HasSubstr("field 'scale_dtype'"),
                    HasSubstr("scale_dtype must be null for integer dtypes, got "
                              "scale_dtype=float8_e8m0fnu with dtype=int8.")));
  EXPECT_THAT(yamlError("{dtype: float8_e4m3fn, scale_dtype: e8m0}"),
              AllOf(HasSubstr("field 'scale_dtype'"), HasSubstr("Unsupported dtype: 'e8m0'")));
}

TEST(SpecValidation, FloatRange) {
  EXPECT_THAT(yamlError("float_range: 5"),
              AllOf(HasSubstr("field 'float_range'"),
                    HasSubstr("Float range must be a list or tuple, got int 5")));
  EXPECT_THAT(yamlError("float_range: [1]"), HasSubstr("Float range must have length 2, got 1"));
  EXPECT_THAT(yamlError("float_range: [-1, 0, 1]"),
              HasSubstr("Float range must have length 2, got 3"));
  EXPECT_THAT(yamlError("float_range: [true, 1]"),
              HasSubstr("Float range entries must be ints, floats or None (null), got [true, 1]"));
  EXPECT_THAT(yamlError("float_range: [low, 1]"),
              HasSubstr("Float range entries must be ints, floats or None"));
  EXPECT_THAT(yamlError("float_range: [-1, -2]"),
              HasSubstr("Float range [float_min, float_max] expects float_min < float_max, got "
                        "[-1.0, -2.0]."));
  EXPECT_THAT(yamlError("float_range: [0, 0]"), HasSubstr("expects float_min < float_max"));
  EXPECT_THAT(yamlError("float_range: [0.5, 1]"),
              HasSubstr("Float range min value must be less than or equal to 0, got 0.5."));
  EXPECT_THAT(yamlError("float_range: [null, -0.5]"),
              HasSubstr("Float range max value must be greater than or equal to 0, got -0.5."));
  EXPECT_THAT(yamlError("float_range: [-.inf, 1]"),
              HasSubstr("Float range entries must be finite numbers or null, got -inf."));
  // Ints are normalized to floats; [null, null] and one-sided ranges are fine.
  QuantizationSpec spec = mustSpec(specFromYAML("float_range: [-5, null]"));
  EXPECT_EQ(spec.floatRange().min, -5.0);
  EXPECT_EQ(spec.floatRange().max, std::nullopt);
}

TEST(SpecValidation, QSchemeAndFormulationNames) {
  EXPECT_THAT(yamlError("qscheme: affine"),
              AllOf(HasSubstr("field 'qscheme'"), HasSubstr("invalid qscheme string \"affine\""),
                    HasSubstr("allowed: 'symmetric', 'symmetric_with_clipping', 'asymmetric'")));
  EXPECT_THAT(yamlError("qformulation: offset"),
              AllOf(HasSubstr("field 'qformulation'"),
                    HasSubstr("invalid qformulation string \"offset\"; allowed: 'zp', "
                              "'minval'")));
  EXPECT_THAT(yamlError("qscheme: 1"), HasSubstr("invalid qscheme int 1"));
}

TEST(SpecValidation, RegistryKeys) {
  EXPECT_THAT(yamlError("qparam_calculator_cls: ema"),
              AllOf(HasSubstr("field 'qparam_calculator_cls'"),
                    HasSubstr("No class is registered with key: 'ema' in the qparams-calculator "
                              "registry. Available keys: 'default', 'global_minmax', "
                              "'moving_average', 'static'")));
  EXPECT_THAT(yamlError("range_calculator_cls: percentile"),
              AllOf(HasSubstr("field 'range_calculator_cls'"),
                    HasSubstr("No class is registered with key: 'percentile' in the "
                              "range-calculator registry. Available keys: 'minmax'")));
  EXPECT_THAT(yamlError("fake_quantize_cls: lsq"),
              HasSubstr("No class is registered with key: 'lsq' in the fake-quantize registry. "
                        "Available keys: 'default'"));
  EXPECT_THAT(yamlError("fake_quantize_cls: [a]"),
              HasSubstr("field 'fake_quantize_cls': expected a registry key string"));
  // Registered custom keys become valid.
  registerSpecClassKey(SpecRegistry::RangeCalculator, "percentile_for_test");
  EXPECT_TRUE(specFromYAML("range_calculator_cls: percentile_for_test").operator bool());
}

TEST(SpecValidation, GranularityForms) {
  EXPECT_THAT(yamlError("granularity: per_tensor"),
              AllOf(HasSubstr("field 'granularity'"),
                    HasSubstr("granularity must be a dict with a 'type' key"),
                    HasSubstr("a bare string is not accepted")));
  EXPECT_THAT(yamlError("granularity: {axis: 0}"),
              HasSubstr("granularity dict has no 'type' key; allowed types: 'per_tensor', "
                        "'per_channel', 'per_block'"));
  EXPECT_THAT(yamlError("granularity: {type: per_row}"),
              AllOf(HasSubstr("field 'granularity.type'"),
                    HasSubstr("unknown granularity type 'per_row'")));
  EXPECT_THAT(yamlError("granularity: {type: per_channel, axis: 0, block_size: 4}"),
              AllOf(HasSubstr("field 'granularity.block_size'"),
                    HasSubstr("extra field not permitted for per_channel granularity; allowed "
                              "keys: 'type', 'axis'")));
  EXPECT_THAT(yamlError("granularity: {type: per_tensor, axis: 1}"),
              AllOf(HasSubstr("field 'granularity.axis'"),
                    HasSubstr("per_tensor granularity takes no axis, got 1")));
  EXPECT_THAT(yamlError("granularity: {type: per_channel, axis: x}"),
              HasSubstr("field 'granularity.axis': expected an integer or null, got string"));
}

TEST(SpecValidation, PerBlockRules) {
  EXPECT_THAT(yamlError("granularity: {type: per_block, axis: 2, block_size: 4}"),
              AllOf(HasSubstr("field 'granularity.axis'"),
                    HasSubstr("per_block axis must be 0, 1 or null, got 2")));
  EXPECT_THAT(yamlError("granularity: {type: per_block, axis: -1, block_size: 4}"),
              HasSubstr("per_block axis must be 0, 1 or null, got -1"));
  EXPECT_THAT(yamlError("granularity: {type: per_block, axis: 0, block_size: 0}"),
              AllOf(HasSubstr("field 'granularity.block_size'"),
                    HasSubstr("block_size must be an integer > 0")));
  EXPECT_THAT(yamlError("granularity: {type: per_block, axis: 0, block_size: -4}"),
              HasSubstr("block_size must be an integer > 0"));
  EXPECT_THAT(yamlError("granularity: {type: per_block, block_size: [4, 0]}"),
              HasSubstr("block_size entry 1 is 0; allowed: an integer > 0, or -1 for the whole "
                        "dim"));
  EXPECT_THAT(yamlError("granularity: {type: per_block, block_size: [4, -2]}"),
              HasSubstr("block_size entry 1 is -2"));
  EXPECT_THAT(yamlError("granularity: {type: per_block, axis: 0, block_size: [4, 2]}"),
              HasSubstr("per_block granularity with a block_size list takes no axis"));
  EXPECT_THAT(yamlError("granularity: {type: per_block, axis: 0}"),
              HasSubstr("per_block granularity needs a block_size"));
  EXPECT_THAT(yamlError("granularity: {type: per_block, block_size: 2.5}"),
              HasSubstr("expected an integer > 0 or a list of integers"));
  // Valid forms.
  EXPECT_EQ(mustSpec(specFromYAML("granularity: {type: per_block, block_size: 32}")).granularity(),
            Granularity::perBlock(std::nullopt, 32));
  EXPECT_EQ(mustSpec(specFromYAML("granularity: {type: per_block, block_size: [4, 2, -1, 1]}"))
                .granularity(),
            Granularity::perBlock({4, 2, -1, 1}));
}

TEST(SpecValidation, ExtraKeysAndComputedKeys) {
  EXPECT_THAT(yamlError("{dtype: int8, bits: 8}"),
              AllOf(HasSubstr("field 'bits'"),
                    HasSubstr("Extra inputs are not permitted in a quantization spec")));
  // The computed fields of a model_dump are ignored on reading.
  QuantizationSpec spec = mustSpec(
      specFromYAML("{dtype: int4, n_bits: 4, target_dtype: int8, quant_min: -8, quant_max: 7}"));
  EXPECT_EQ(spec.dtype(), QuantDType::Int4);
  EXPECT_THAT(errorOf(QuantizationSpec::fromAttribute(Attribute::string("int8"))),
              HasSubstr("a quantization spec must be a dict"));
}

TEST(SpecValidation, AveragingConstant) {
  QuantizationSpec spec =
      mustSpec(specFromYAML("{qparam_calculator_cls: moving_average, averaging_constant: 0.9}"));
  EXPECT_EQ(spec.averagingConstant(), 0.9);
  EXPECT_THAT(yamlError("{qparam_calculator_cls: moving_average, averaging_constant: 0}"),
              HasSubstr("averaging_constant must be in (0, 1], got 0.0."));
  EXPECT_THAT(yamlError("{qparam_calculator_cls: static, averaging_constant: 0.5}"),
              HasSubstr("averaging_constant is only used by qparam_calculator_cls "
                        "'moving_average' (or 'default' on activations), got 'static'."));
}

TEST(SpecValidation, AllErrorsAreReportedWithPathPrefix) {
  llvm::Expected<Attribute> tree =
      parseYAMLTree("{dtype: float8_e4m3fn, qscheme: asymmetric, qformulation: minval}");
  ASSERT_TRUE(bool(tree));
  std::string message =
      errorOf(QuantizationSpec::fromAttribute(*tree, "global_config.op_state_spec.weight"));
  EXPECT_THAT(message, HasSubstr("field 'global_config.op_state_spec.weight.qscheme'"));
  EXPECT_THAT(message, HasSubstr("field 'global_config.op_state_spec.weight.qformulation'"));
  // Paths are available programmatically too.
  llvm::Expected<QuantizationSpec> spec = QuantizationSpec::fromAttribute(*tree, "w");
  std::vector<std::string> paths;
  llvm::handleAllErrors(spec.takeError(),
                        [&](const SpecError &error) { paths.push_back(error.path().str()); });
  EXPECT_EQ(paths, (std::vector<std::string>{"w.qscheme", "w.qformulation"}));
}

TEST(SpecValidation, CreateValidatesTypedFields) {
  QuantizationSpecFields fields;
  fields.granularity = Granularity::perBlock(std::nullopt, 0);
  EXPECT_THAT(errorOf(QuantizationSpec::create(fields)),
              HasSubstr("field 'granularity.block_size'"));
  fields = QuantizationSpecFields();
  fields.floatRange.min = 1.0;
  EXPECT_THAT(errorOf(QuantizationSpec::create(fields)),
              HasSubstr("Float range min value must be less than or equal to 0"));
  QuantizationSpec spec;
  EXPECT_THAT(errorOf(spec.withGranularity(Granularity::perBlock(3, 8))),
              HasSubstr("per_block axis must be 0, 1 or null, got 3"));
  EXPECT_EQ(mustSpec(spec.withGranularity(Granularity::perChannel(1))).granularity(),
            Granularity::perChannel(1));
}

//===----------------------------------------------------------------------===//
// Block shapes (reference §5.4)
//===----------------------------------------------------------------------===//

std::vector<int64_t> mustBlock(const Granularity &g, std::vector<int64_t> shape) {
  llvm::Expected<std::vector<int64_t>> block = computeBlockShape(g, shape);
  if (!block) {
    ADD_FAILURE() << llvm::toString(block.takeError());
    return {};
  }
  return *block;
}

using Shape = std::vector<int64_t>;

TEST(BlockShape, ReferenceExamples) {
  EXPECT_EQ(mustBlock(Granularity::perChannel(0), {10, 20, 30}), (Shape{1, 20, 30}));
  EXPECT_EQ(mustBlock(Granularity::perBlock(0, 5), {10, 20}), (Shape{5, 1}));
  EXPECT_EQ(mustBlock(Granularity::perBlock(1, 8), {7, 16, 3, 3}), (Shape{1, 8, 3, 3}));
  EXPECT_EQ(mustBlock(Granularity::perBlock({4, 2, -1, 1}), {8, 16, 3, 3}), (Shape{4, 2, 3, 1}));
}

TEST(BlockShape, QParamShapes) {
  auto qshape = [](const Granularity &g, Shape shape) {
    return llvm::cantFail(computeQParamShape(g, shape));
  };
  EXPECT_EQ(qshape(Granularity::perTensor(), {10, 20, 30}), (Shape{1, 1, 1}));
  EXPECT_EQ(qshape(Granularity::perTensor(), {}), (Shape{}));
  EXPECT_EQ(qshape(Granularity::perChannel(0), {10, 20, 30}), (Shape{10, 1, 1}));
  EXPECT_EQ(qshape(Granularity::perChannel(-1), {10, 20, 30}), (Shape{1, 1, 30}));
  EXPECT_EQ(qshape(Granularity::perChannel(-3), {10, 20, 30}), (Shape{10, 1, 1}));
  EXPECT_EQ(qshape(Granularity::perBlock(0, 5), {10, 20}), (Shape{2, 20}));
  EXPECT_EQ(qshape(Granularity::perBlock(1, 8), {7, 16, 3, 3}), (Shape{7, 2, 1, 1}));
  EXPECT_EQ(qshape(Granularity::perBlock({4, 2, -1, 1}), {8, 16, 3, 3}), (Shape{2, 8, 1, 3}));
  EXPECT_EQ(qshape(Granularity::perBlock(0, 4), {8}), (Shape{2}));
  EXPECT_EQ(qshape(Granularity::perTensor(), {0, 4}), (Shape{1, 1}));
  EXPECT_EQ(qshape(Granularity::perChannel(0), {0, 4}), (Shape{0, 1}));
}

TEST(BlockShape, UseErrors) {
  EXPECT_THAT(errorOf(computeBlockShape(Granularity::perChannel(), {4, 4})),
              AllOf(HasSubstr("field 'granularity.axis'"),
                    HasSubstr("per_channel granularity has axis=None at use")));
  EXPECT_THAT(errorOf(computeBlockShape(Granularity::perChannel(2), {4, 4})),
              HasSubstr("axis 2 is out of range for a tensor of rank 2; allowed: [-2, 2)"));
  EXPECT_THAT(errorOf(computeBlockShape(Granularity::perChannel(-3), {4, 4})),
              HasSubstr("axis -3 is out of range"));
  EXPECT_THAT(errorOf(computeBlockShape(Granularity::perBlock(std::nullopt, 2), {4, 4})),
              HasSubstr("per_block granularity with an integer block_size has axis=None at use"));
  EXPECT_THAT(errorOf(computeBlockShape(Granularity::perBlock(1, 2), {4})),
              HasSubstr("per_block axis 1 is out of range for a tensor of rank 1"));
  EXPECT_THAT(errorOf(computeBlockShape(Granularity::perBlock({2, 2}), {4, 4, 4})),
              HasSubstr("block_size list [2, 2] has 2 entries but the tensor of shape [4, 4, 4] "
                        "has rank 3"));
  EXPECT_THAT(errorOf(computeBlockShape(Granularity::perBlockUnchecked(0, {2, 2}, /*isList=*/true),
                                        {4, 4})),
              HasSubstr("per_block granularity with a block_size list takes no axis"));
  EXPECT_THAT(errorOf(computeBlockShape(Granularity::perTensor(), {-1, 4})),
              HasSubstr("quantization blocks need a static shape"));
}

TEST(BlockShape, MismatchIsADistinctErrorKind) {
  auto expectMismatch = [](const Granularity &g, Shape shape, unsigned dim, int64_t size,
                           const std::string &message) {
    llvm::Expected<std::vector<int64_t>> block = computeBlockShape(g, shape);
    ASSERT_FALSE(bool(block));
    bool sawMismatch = false;
    llvm::handleAllErrors(
        block.takeError(),
        [&](const BlockSizeMismatchError &error) {
          sawMismatch = true;
          EXPECT_EQ(error.dim(), dim);
          EXPECT_EQ(error.blockSize(), size);
          EXPECT_EQ(error.shape(), llvm::ArrayRef<int64_t>(shape));
          EXPECT_EQ(error.message(), message);
        },
        [&](const llvm::ErrorInfoBase &other) { ADD_FAILURE() << other.message(); });
    EXPECT_TRUE(sawMismatch);
  };
  expectMismatch(Granularity::perBlock(0, 32), {1000, 768}, 0, 32,
                 "tensor of shape [1000, 768] is incompatible with block size configuration "
                 "per_block(axis=0, block_size=32): dim 0 of size 1000 is not divisible by block "
                 "size 32");
  expectMismatch(Granularity::perBlock(1, 5), {4, 12}, 1, 5,
                 "tensor of shape [4, 12] is incompatible with block size configuration "
                 "per_block(axis=1, block_size=5): dim 1 of size 12 is not divisible by block "
                 "size 5");
  expectMismatch(Granularity::perBlock({4, 3}), {8, 16}, 1, 3,
                 "tensor of shape [8, 16] is incompatible with block size configuration "
                 "per_block(block_size=[4, 3]): dim 1 of size 16 is not divisible by block size "
                 "3");
}

TEST(Granularity, StrAndWithAxis) {
  EXPECT_EQ(Granularity::perTensor().str(), "per_tensor");
  EXPECT_EQ(Granularity::perChannel().str(), "per_channel(axis=None)");
  EXPECT_EQ(Granularity::perChannel(-1).str(), "per_channel(axis=-1)");
  EXPECT_EQ(Granularity::perBlock(std::nullopt, 32).str(), "per_block(axis=None, block_size=32)");
  EXPECT_EQ(Granularity::perBlock({1, 16}).str(), "per_block(block_size=[1, 16])");
  EXPECT_TRUE(Granularity::perChannel().needsAxis());
  EXPECT_TRUE(Granularity::perBlock(std::nullopt, 4).needsAxis());
  EXPECT_FALSE(Granularity::perBlock({1, 16}).needsAxis());
  EXPECT_EQ(Granularity::perBlock(std::nullopt, 4).withAxis(1), Granularity::perBlock(1, 4));
  EXPECT_EQ(Granularity::perTensor().withAxis(1), Granularity::perTensor());
}

//===----------------------------------------------------------------------===//
// JSON / YAML / Attribute forms
//===----------------------------------------------------------------------===//

QuantizationSpec richSpec() {
  QuantizationSpecFields fields;
  fields.dtype = QuantDType::UInt4;
  fields.qscheme = QScheme::Asymmetric;
  fields.qformulation = QFormulation::MinVal;
  fields.granularity = Granularity::perBlock(1, 32);
  fields.qparamsCalculator = "moving_average";
  fields.floatRange.min = -2.5;
  fields.averagingConstant = 0.125;
  return mustSpec(QuantizationSpec::create(fields));
}

std::vector<QuantizationSpec> sampleSpecs() {
  std::vector<QuantizationSpec> specs = {QuantizationSpec(), defaultWeightQuantizationSpec(),
                                         defaultActivationQuantizationSpec(), richSpec()};
  for (const char *yaml :
       {"{dtype: float4_e2m1fn_x2, granularity: {type: per_block, axis: 1, block_size: 32}}",
        "{dtype: float8_e5m2, scale_dtype: float8_e8m0fnu, qparam_calculator_cls: static}",
        "{dtype: int2, qscheme: symmetric_with_clipping, float_range: [-1, 1]}",
        "{granularity: {type: per_channel}}",
        "{granularity: {type: per_block, block_size: [4, 2, -1, 1]}, qparam_calculator_cls: "
        "global_minmax}"})
    specs.push_back(mustSpec(specFromYAML(yaml)));
  return specs;
}

TEST(SpecForms, FullAttributeForm) {
  EXPECT_EQ(defaultWeightQuantizationSpec().toAttribute().str(),
            "{dtype = \"int8\", qscheme = \"symmetric\", qformulation = \"zp\", granularity = "
            "{type = \"per_channel\", axis = 0}, fake_quantize_cls = \"default\", "
            "qparam_calculator_cls = \"static\", range_calculator_cls = \"minmax\", float_range = "
            "[none, none], scale_dtype = none}");
  SpecWriteOptions computed;
  computed.omitDefaults = true;
  computed.includeComputed = true;
  EXPECT_EQ(mustSpec(specFromYAML("dtype: float4_e2m1fn")).toAttribute(computed).str(),
            "{dtype = \"float4_e2m1fn_x2\", qscheme = \"symmetric\", granularity = {type = "
            "\"per_tensor\"}, qparam_calculator_cls = \"default\", n_bits = 4, target_dtype = "
            "\"float8_e4m3fn\", quant_min = -6.0, quant_max = 6.0}");
  EXPECT_EQ(richSpec().str(),
            "{dtype = \"uint4\", qscheme = \"asymmetric\", qformulation = \"minval\", granularity "
            "= {type = \"per_block\", axis = 1, block_size = 32}, qparam_calculator_cls = "
            "\"moving_average\", float_range = [-2.5, none], averaging_constant = 0.125}");
}

TEST(SpecForms, AttributeRoundTrip) {
  for (const QuantizationSpec &spec : sampleSpecs()) {
    SCOPED_TRACE(spec.str());
    for (bool omit : {false, true}) {
      for (bool computed : {false, true}) {
        SpecWriteOptions options;
        options.omitDefaults = omit;
        options.includeComputed = computed;
        Attribute attr = spec.toAttribute(options);
        QuantizationSpec back = mustSpec(QuantizationSpec::fromAttribute(attr));
        EXPECT_EQ(back, spec);
        // And the attribute form is canonical: writing the re-read spec gives
        // the same attribute.
        EXPECT_EQ(back.toAttribute(options), attr);
      }
    }
  }
}

TEST(SpecForms, JSONRoundTrip) {
  for (const QuantizationSpec &spec : sampleSpecs()) {
    SCOPED_TRACE(spec.str());
    for (unsigned indent : {0u, 2u}) {
      std::string json = spec.toJSON({}, indent);
      QuantizationSpec back = mustSpec(QuantizationSpec::fromJSON(json));
      EXPECT_EQ(back, spec);
      EXPECT_EQ(back.toJSON({}, indent), json);
    }
  }
  EXPECT_EQ(defaultWeightQuantizationSpec().toJSON({}, 0),
            "{\"dtype\":\"int8\",\"qscheme\":\"symmetric\",\"qformulation\":\"zp\","
            "\"granularity\":{\"type\":\"per_channel\",\"axis\":0},\"fake_quantize_cls\":"
            "\"default\",\"qparam_calculator_cls\":\"static\",\"range_calculator_cls\":"
            "\"minmax\",\"float_range\":[null,null],\"scale_dtype\":null}");
}

TEST(SpecForms, JSONReferenceDictForms) {
  QuantizationSpec spec = mustSpec(QuantizationSpec::fromJSON(R"({
      "dtype": "int4",
      "qscheme": "symmetric",
      "granularity": {"type": "per_block", "axis": 1, "block_size": 32},
      "fake_quantize_cls": "default",
      "qparam_calculator_cls": "default",
      "range_calculator_cls": "minmax",
      "float_range": [-1.0, 1]
  })"));
  EXPECT_EQ(spec.dtype(), QuantDType::Int4);
  EXPECT_EQ(spec.granularity(), Granularity::perBlock(1, 32));
  EXPECT_EQ(spec.floatRange(), (FloatRange{-1.0, 1.0}));
  EXPECT_THAT(errorOf(QuantizationSpec::fromJSON("{\"dtype\": \"int8\",}")), HasSubstr("<json>:"));
  EXPECT_THAT(errorOf(QuantizationSpec::fromJSON(R"({"granularity": {"type": "per_channel",
      "axis": 0, "block_size": 3}})")),
              HasSubstr("field 'granularity.block_size': extra field not permitted"));
}

TEST(SpecForms, YAMLRoundTrip) {
  for (const QuantizationSpec &spec : sampleSpecs()) {
    SCOPED_TRACE(spec.str());
    for (bool omit : {false, true}) {
      SpecWriteOptions options;
      options.omitDefaults = omit;
      std::string yaml = spec.toYAML(options);
      QuantizationSpec back = mustSpec(QuantizationSpec::fromYAML(yaml));
      EXPECT_EQ(back, spec) << yaml;
      EXPECT_EQ(back.toYAML(options), yaml);
    }
  }
  EXPECT_EQ(richSpec().toYAML({/*omitDefaults=*/true}), "dtype: uint4\n"
                                                        "qscheme: asymmetric\n"
                                                        "qformulation: minval\n"
                                                        "granularity:\n"
                                                        "  type: per_block\n"
                                                        "  axis: 1\n"
                                                        "  block_size: 32\n"
                                                        "qparam_calculator_cls: moving_average\n"
                                                        "float_range: [-2.5, null]\n"
                                                        "averaging_constant: 0.125\n");
}

TEST(SpecForms, YAMLAnchorsAliasesAndMergeKeys) {
  llvm::Expected<Attribute> tree = parseYAMLTree(R"(
quantization_spec:
  w4: &w4
    dtype: int4
    qscheme: symmetric
    granularity: &blocks {type: per_block, axis: 1, block_size: 32}
  range: &unit [-1, 1]
specs:
  weight: *w4
  act:
    <<: *w4
    dtype: uint8
    qscheme: asymmetric
    granularity: {type: per_tensor}
    float_range: *unit
  blocked:
    granularity: *blocks
)");
  ASSERT_TRUE(bool(tree)) << llvm::toString(tree.takeError());
  const Attribute *specs = tree->lookup("specs");
  ASSERT_NE(specs, nullptr);
  QuantizationSpec weight = mustSpec(QuantizationSpec::fromAttribute(*specs->lookup("weight")));
  EXPECT_EQ(weight.dtype(), QuantDType::Int4);
  EXPECT_EQ(weight.granularity(), Granularity::perBlock(1, 32));
  QuantizationSpec act = mustSpec(QuantizationSpec::fromAttribute(*specs->lookup("act")));
  EXPECT_EQ(act.dtype(), QuantDType::UInt8);
  EXPECT_EQ(act.qscheme(), QScheme::Asymmetric);
  EXPECT_TRUE(act.granularity().isPerTensor());
  EXPECT_EQ(act.floatRange(), (FloatRange{-1.0, 1.0}));
  // Merged keys come first, explicit keys replace them in place.
  std::vector<std::string> keys;
  for (const NamedAttribute &entry : specs->lookup("act")->getDict())
    keys.push_back(entry.first);
  EXPECT_EQ(keys, (std::vector<std::string>{"dtype", "qscheme", "granularity", "float_range"}));
  QuantizationSpec blocked = mustSpec(QuantizationSpec::fromAttribute(*specs->lookup("blocked")));
  EXPECT_EQ(blocked.granularity(), Granularity::perBlock(1, 32));
}

//===----------------------------------------------------------------------===//
// Tree readers and writers
//===----------------------------------------------------------------------===//

TEST(TreeIO, YAMLScalarTyping) {
  llvm::Expected<Attribute> tree = parseYAMLTree(
      "a: ~\nb: null\nc: yes\nd: Off\ne: 12\nf: -0x1F\ng: 1_000\nh: 1.5\ni: 1e-3\nj: .inf\n"
      "k: '12'\nl: \"true\"\nm: !!str 7\nn: text\no:\np: 010\nq: inf\n");
  ASSERT_TRUE(bool(tree)) << llvm::toString(tree.takeError());
  EXPECT_EQ(tree->str(), "{a = none, b = none, c = true, d = false, e = 12, f = -31, g = 1000, "
                         "h = 1.5, i = 0.001, j = inf, k = \"12\", l = \"true\", m = \"7\", n = "
                         "\"text\", o = none, p = 8, q = \"inf\"}");
}

TEST(TreeIO, YAMLMergeListsAndAnchorsInSequences) {
  llvm::Expected<Attribute> tree = parseYAMLTree(R"(
base: &base {dtype: int4, qscheme: symmetric}
act: &act {dtype: uint8, qformulation: minval}
list:
  - &first {a: 1}
  - *first
merged:
  <<: [*act, *base]
  granularity: {type: per_tensor}
)");
  ASSERT_TRUE(bool(tree)) << llvm::toString(tree.takeError());
  EXPECT_EQ(tree->lookup("list")->str(), "[{a = 1}, {a = 1}]");
  // Earlier merge sources win over later ones; explicit keys come last.
  EXPECT_EQ(tree->lookup("merged")->str(),
            "{dtype = \"uint8\", qformulation = \"minval\", qscheme = \"symmetric\", "
            "granularity = {type = \"per_tensor\"}}");
}

TEST(TreeIO, NonFiniteFloatsInJSON) {
  Attribute tree = Attribute::list({Attribute::floating(HUGE_VAL), Attribute::floating(0.25)});
  EXPECT_EQ(toJSONString(tree, 0), R"(["inf",0.25])");
  EXPECT_EQ(toYAMLString(tree), "[.inf, 0.25]\n");
}

TEST(TreeIO, YAMLErrors) {
  EXPECT_THAT(errorOf(parseYAMLTree("a: *missing\n", "cfg.yaml")),
              HasSubstr("cfg.yaml:1:4: unknown alias '*missing'"));
  EXPECT_THAT(errorOf(parseYAMLTree("a: 1\nb: 2\na: 3\n", "cfg.yaml")),
              HasSubstr("cfg.yaml:3:1: duplicate key 'a'"));
  // An integer key and its quoted spelling collide, like 0 and "0" in configs.
  EXPECT_THAT(errorOf(parseYAMLTree("0: a\n\"0\": b\n")), HasSubstr("duplicate key '0'"));
  EXPECT_THAT(errorOf(parseYAMLTree("a: [1, 2\n", "bad.yaml")), HasSubstr("bad.yaml:"));
  EXPECT_THAT(errorOf(parseYAMLTree("a:\n  <<: 3\n")),
              HasSubstr("merge key '<<' expects a mapping or a list of mappings"));
  llvm::Expected<Attribute> empty = parseYAMLTree("");
  ASSERT_TRUE(bool(empty));
  EXPECT_TRUE(empty->isNone());
}

TEST(TreeIO, JSONKeepsKeyOrderAndTypes) {
  llvm::Expected<Attribute> tree =
      parseJSONTree(R"({"z": 1, "a": [1.0, null, true, "x"], "m": {"k": -2.5e3}})");
  ASSERT_TRUE(bool(tree)) << llvm::toString(tree.takeError());
  EXPECT_EQ(tree->str(), "{z = 1, a = [1.0, none, true, \"x\"], m = {k = -2.5e+03}}");
  EXPECT_EQ(toJSONString(*tree, 0), R"({"z":1,"a":[1.0,null,true,"x"],"m":{"k":-2.5e+03}})");
  EXPECT_THAT(errorOf(parseJSONTree("{\"a\": yes}", "c.json")), HasSubstr("c.json:"));
  // JSON without spaces is read as well.
  llvm::Expected<Attribute> compact = parseJSONTree(R"({"b":{"c":[1,2]},"a":"s"})");
  ASSERT_TRUE(bool(compact)) << llvm::toString(compact.takeError());
  EXPECT_EQ(compact->str(), "{b = {c = [1, 2]}, a = \"s\"}");
}

TEST(TreeIO, YAMLWriterQuotesWhatWouldNotReadBack) {
  Attribute tree = Attribute::dict({
      {"plain", Attribute::string("per_tensor")},
      {"word", Attribute::string("yes")},
      {"number", Attribute::string("12")},
      {"empty", Attribute::string("")},
      {"spaced", Attribute::string("a b: c")},
      {"list",
       Attribute::list({Attribute::dict({{"k", Attribute::integer(1)}, {"j", Attribute::list({})}}),
                        Attribute::integer(2)})},
      {"nested", Attribute::dict({})},
      {"0", Attribute::floating(-0.5)},
  });
  std::string yaml = toYAMLString(tree);
  EXPECT_EQ(yaml, "plain: per_tensor\n"
                  "word: \"yes\"\n"
                  "number: \"12\"\n"
                  "empty: \"\"\n"
                  "spaced: \"a b: c\"\n"
                  "list:\n"
                  "  - k: 1\n"
                  "    j: []\n"
                  "  - 2\n"
                  "nested: {}\n"
                  "\"0\": -0.5\n");
  llvm::Expected<Attribute> back = parseYAMLTree(yaml);
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(*back, tree);
}

} // namespace
