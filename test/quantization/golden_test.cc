// Compares our quantizer under --compat tnn with the outputs of TNN's own quantization_cmd in ../shared/golden:
// int8 weights identical, every scale within 1e-6 relative, zero points and biases identical (biases of -t 2
// cases are skipped: TNN corrupts them, tnn_format.md §D.4.5).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/io/tnn_io.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/quantizer/equalization.h"
#include "quantization/quantizer/quantizer.h"

namespace qt {
namespace {

namespace fs = std::filesystem;

struct GoldenCase {
  std::string folder, name, model, inputs;
  QuantizeOptions options;
};

std::vector<GoldenCase> LoadCases() {
  std::vector<GoldenCase> cases;
  const fs::path root = fs::path(QT_SHARED_DIR) / "golden";
  if (!fs::exists(root)) return cases;
  for (const char* folder : {"tiny", "squeezenet_v1.1"}) {
    std::ifstream in(root / folder / "cases.txt");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      GoldenCase c;
      c.folder = (root / folder).string();
      ls >> c.name >> c.model >> c.inputs;
      c.options.tnn_compat = true;
      c.options.merge = MergeType::kPerChannel;
      std::string flag, value;
      while (ls >> flag >> value) {
        if (flag == "-b") {
          EXPECT_TRUE(ParseBlobMethod(std::stoi(value), &c.options.blob_method).ok());
        }
        if (flag == "-w") {
          EXPECT_TRUE(ParseWeightMethod(std::stoi(value), &c.options.weight_method).ok());
        }
        if (flag == "-t") c.options.merge = static_cast<MergeType>(std::stoi(value));
        if (flag == "-r") c.options.preprocess.reverse_channel = value == "1";
        if (flag == "-n") {
          EXPECT_TRUE(ParseFloatList(value, "-n", &c.options.preprocess.mean).ok());
        }
        if (flag == "-s") {
          EXPECT_TRUE(ParseFloatList(value, "-s", &c.options.preprocess.scale).ok());
        }
      }
      if (!c.name.empty()) cases.push_back(c);
    }
  }
  return cases;
}

void ExpectClose(const std::vector<float>& ours, const std::vector<float>& theirs, const std::string& what) {
  ASSERT_EQ(ours.size(), theirs.size()) << what;
  for (size_t i = 0; i < ours.size(); ++i) {
    const float tol = 1e-6f * std::max(std::fabs(theirs[i]), 1e-30f);
    EXPECT_LE(std::fabs(ours[i] - theirs[i]), tol) << what << "[" << i << "] ours " << ours[i] << " theirs "
                                                   << theirs[i];
  }
}

// Number of differing elements (or -1 when the sizes differ), so a failure prints a count, not the bytes.
int64_t CountDiff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size()) return -1;
  int64_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
  return n;
}

void CompareGraphs(const Graph& ours, const Graph& theirs, bool compare_bias) {
  ASSERT_EQ(ours.layers.size(), theirs.layers.size());
  for (size_t i = 0; i < ours.layers.size(); ++i) {
    const Layer& a = ours.layers[i];
    const Layer& b = theirs.layers[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.quantized, b.quantized) << a.name;
    EXPECT_EQ(a.inputs, b.inputs) << a.name;
    EXPECT_EQ(a.outputs, b.outputs) << a.name;
    std::vector<std::string> pa, pb;
    WriteLayerParams(a.type, a.params, &pa);
    WriteLayerParams(b.type, b.params, &pb);
    EXPECT_EQ(pa, pb) << a.name;
  }
  for (const auto& [name, s] : theirs.blob_scales) {
    bool used = false;
    for (const auto& l : theirs.layers) {
      if (!l.quantized) continue;
      for (const auto* v : {&l.inputs, &l.outputs}) used |= std::count(v->begin(), v->end(), name) > 0;
    }
    if (!used) continue;
    auto it = ours.blob_scales.find(name);
    ASSERT_NE(it, ours.blob_scales.end()) << "missing blob scale " << name;
    ExpectClose(it->second.scale, s.scale, "blob scale " + name);
    EXPECT_EQ(it->second.zero_point, s.zero_point) << "blob zero point " << name;
  }
  for (const auto& [name, r] : theirs.resources) {
    const auto& mine = ours.resources.at(name);
    if (const auto* c = std::get_if<ConvResource>(&r)) {
      const auto& m = std::get<ConvResource>(mine);
      EXPECT_EQ(CountDiff(m.filter.bytes(), c->filter.bytes()), 0) << "int8 weights of " << name;
      ExpectClose(m.scale.As<float>(), c->scale.As<float>(), "weight scale " + name);
      EXPECT_EQ(m.zero_point.bytes(), c->zero_point.bytes()) << name;
      if (compare_bias) {
        EXPECT_EQ(m.bias.As<int32_t>(), c->bias.As<int32_t>()) << "bias of " << name;
      }
    } else if (const auto* f = std::get_if<InnerProductResource>(&r)) {
      const auto& m = std::get<InnerProductResource>(mine);
      EXPECT_EQ(CountDiff(m.weight.bytes(), f->weight.bytes()), 0) << "int8 weights of " << name;
      ExpectClose(m.scale.As<float>(), f->scale.As<float>(), "weight scale " + name);
      EXPECT_EQ(m.zero_point.bytes(), f->zero_point.bytes()) << name;
      if (compare_bias) {
        EXPECT_EQ(m.bias.As<int32_t>(), f->bias.As<int32_t>()) << "bias of " << name;
      }
    }
  }
}

TEST(GoldenTest, CompatModeReproducesTnnQuantizationCmd) {
  const auto cases = LoadCases();
  if (cases.empty()) GTEST_SKIP() << "shared folder " << QT_SHARED_DIR << " is absent: skipping";
  for (const auto& c : cases) {
    SCOPED_TRACE(c.folder + " case " + c.name);
    std::cout << "[ case     ] " << fs::path(c.folder).filename().string() << "/" << c.name << std::endl;
    Graph fp32, expected;
    ASSERT_TRUE(ReadTnnModel(c.folder + "/" + c.model + ".tnnproto", c.folder + "/" + c.model + ".tnnmodel", &fp32).ok());
    const std::string prefix = c.folder + "/expected/" + c.name + ".quantized";
    ASSERT_TRUE(ReadTnnModel(prefix + ".tnnproto", prefix + ".tnnmodel", &expected).ok());
    std::vector<CalibrationSample> files;
    ASSERT_TRUE(ListCalibrationSamples(c.folder + "/" + c.inputs, {fp32.inputs[0].name}, &files).ok());
    QuantizeResult ours;
    const Status s = QuantizeGraph(fp32, files, c.options, {}, &ours);
    ASSERT_TRUE(s.ok()) << s.message();
    CompareGraphs(ours.graph, expected, c.options.merge != MergeType::kPerTensor);
  }
}

// TNN's tool never equalizes: model_eval must compare its files with the model as given, although ADMM weights
// (-w 1) shrink some rows by up to 3 %.
TEST(GoldenTest, TnnFilesAreNotTakenForEqualizedOnes) {
  const auto cases = LoadCases();
  if (cases.empty()) GTEST_SKIP() << "shared folder " << QT_SHARED_DIR << " is absent: skipping";
  for (const auto& c : cases) {
    SCOPED_TRACE(c.folder + " case " + c.name);
    Graph fp32, expected, reference;
    ASSERT_TRUE(ReadTnnModel(c.folder + "/" + c.model + ".tnnproto", c.folder + "/" + c.model + ".tnnmodel", &fp32).ok());
    const std::string prefix = c.folder + "/expected/" + c.name + ".quantized";
    ASSERT_TRUE(ReadTnnModel(prefix + ".tnnproto", prefix + ".tnnmodel", &expected).ok());
    std::vector<std::string> rescaled;
    ASSERT_TRUE(EqualizedReference(fp32, expected, &reference, &rescaled).ok());
    EXPECT_TRUE(rescaled.empty()) << rescaled.size() << " blobs, the first " << rescaled.front();
  }
}

}  // namespace
}  // namespace qt
