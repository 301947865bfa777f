#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "quantization/quantizer/quantizer.h"

namespace qt {
namespace {

namespace fs = std::filesystem;

// Two inputs added together: each input must be calibrated on its own files.
Graph TwoInputAdd() {
  Graph g;
  g.inputs = {{"a", {1, 2, 1, 2}, DataType::kFloat}, {"b", {1, 2, 1, 2}, DataType::kFloat}};
  Layer add;
  add.type = LayerType::kAdd;
  add.type_str = "Add";
  add.name = "add";
  add.inputs = {"a", "b"};
  add.outputs = {"c"};
  add.params = BinaryParams{};
  g.layers = {add};
  g.outputs = {"c"};
  g.RefreshBlobNames();
  return g;
}

class QuantizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qt_quantizer_" + std::string(
        ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "a");
    fs::create_directories(dir_ / "b");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(dir_ / rel) << text; }
  fs::path dir_;
};

TEST_F(QuantizerTest, TwoInputModelCalibratesEachInputFromItsSubfolder) {
  Write("a/s1.txt", "1 -2 0.5 0.25");
  Write("b/s1.txt", "10 20 -30 1");
  Write("a/s2.txt", "3 0 0 0");
  Write("b/s2.txt", "0 0 0 5");
  std::vector<CalibrationSample> samples;
  ASSERT_TRUE(ListCalibrationSamples(dir_.string(), {"a", "b"}, &samples).ok());
  ASSERT_EQ(samples.size(), 2u);
  QuantizeOptions o;
  o.merge = MergeType::kMixed;
  Graph q;
  const Status s = QuantizeGraph(TwoInputAdd(), samples, o, [](const std::string&) {}, &q);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(q.layers[0].quantized);
  EXPECT_FLOAT_EQ(q.blob_scales.at("a").scale[0], 3.f / 127);
  EXPECT_FLOAT_EQ(q.blob_scales.at("b").scale[0], 30.f / 127);
  EXPECT_FLOAT_EQ(q.blob_scales.at("c").scale[0], 29.5f / 127);  // |0.5 + -30|
}

TEST_F(QuantizerTest, PerChannelScalesHaveOneValuePerChannel) {
  Write("a/s1.txt", "1 -2 0.5 0.25");
  Write("b/s1.txt", "10 20 -30 1");
  std::vector<CalibrationSample> samples;
  ASSERT_TRUE(ListCalibrationSamples(dir_.string(), {"a", "b"}, &samples).ok());
  QuantizeOptions o;
  o.merge = MergeType::kPerChannel;
  Graph q;
  ASSERT_TRUE(QuantizeGraph(TwoInputAdd(), samples, o, [](const std::string&) {}, &q).ok());
  EXPECT_EQ(q.blob_scales.at("a").scale, (std::vector<float>{2.f / 127, 0.5f / 127}));
  EXPECT_EQ(q.blob_scales.at("b").scale.size(), 2u);
}

TEST_F(QuantizerTest, MismatchedSubfoldersAreErrors) {
  Write("a/s1.txt", "1 2 3 4");
  Write("b/other.txt", "1 2 3 4");
  std::vector<CalibrationSample> samples;
  Status s = ListCalibrationSamples(dir_.string(), {"a", "b"}, &samples);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no file for input"), std::string::npos) << s.message();
  s = ListCalibrationSamples(dir_.string(), {"a", "missing"}, &samples);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace qt
