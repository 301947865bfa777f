// The bad-input table of doc/robustness.md, one test per row: untrusted model, tensor and statistics files whose
// counts, dims or lengths would make a reader allocate or loop far beyond the file are refused with one line
// naming the file and the rule, before any such allocation.
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "core/graph/shape_inference.h"
#include "core/io/model_loader.h"
#include "core/io/onnx_importer.h"
#include "core/io/tnn_io.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/quantizer/stats_file.h"

namespace qt {
namespace {

namespace fs = std::filesystem;

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qt_bad_input_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) const {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  fs::path dir_;
};

std::string Bytes(std::initializer_list<uint32_t> words) {
  std::string s;
  for (uint32_t w : words) s.append(reinterpret_cast<const char*>(&w), 4);
  return s;
}

// An error for the user: one line, naming the file (or layer) and the rule broken.
void ExpectOneLineError(const Status& s, const std::vector<std::string>& parts) {
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  for (const auto& p : parts) EXPECT_NE(s.message().find(p), std::string::npos) << s.message();
}

const char kProtoHead[] = "\"1 2 1 4206624772 ,\"\n\"data 4 1 4 8 8 0 ,\"\n\" data out ,\"\n\"out ,\"\n\" 1 ,\"\n";

TEST_F(BadInputTest, TnnModelByteLengthPastTheEnd) {
  // 20 bytes: magic, one resource, then a raw buffer claiming 2 GiB.
  Graph g;
  const std::string model = Bytes({0xFABC0004u, 1, 1, 0, 0x7FFFFFFFu});
  const std::vector<uint8_t> bytes(model.begin(), model.end());
  ExpectOneLineError(ParseTnnModel(bytes, "tiny.tnnmodel", &g), {"tiny.tnnmodel"});
  Graph g2;
  const std::string raw = Bytes({0xFABC0004u, 1, 0, 11}) + std::string("Convolution", 11) + Bytes({4}) + "conv" +
                          Bytes({4}) + "conv" + Bytes({0, 0xFABC0004u, 0, 0x7FFFFFF0u, 0});
  ExpectOneLineError(ParseTnnModel(std::vector<uint8_t>(raw.begin(), raw.end()), "conv.tnnmodel", &g2),
                     {"conv.tnnmodel", "byte_length 2147483632 past the end of the file"});
}

TEST_F(BadInputTest, TnnModelResourceCountBeyondTheLimit) {
  Graph g;
  const std::string model = Bytes({0xFABC0004u, 0x0FFFFFFFu, 0, 0, 0});
  ExpectOneLineError(ParseTnnModel(std::vector<uint8_t>(model.begin(), model.end()), "count.tnnmodel", &g),
                     {"count.tnnmodel", "resource count 268435455 is not in [0, 10000)"});
}

TEST_F(BadInputTest, InputDimsPastTheBlobLimit) {
  Graph g;
  const std::string proto = "\"1 2 1 4206624772 ,\"\n\"data 6 1048576 1048576 1048576 1 1 1 0 ,\"\n\" data out ,\"\n"
                            "\"out ,\"\n\" 1 ,\"\n\"ReLU relu 1 1 data out ,\"\n";
  ASSERT_TRUE(ParseTnnProto(proto, "big.tnnproto", &g).ok());
  BlobDims dims;
  ExpectOneLineError(InferShapes(g, {}, &dims), {"input 'data'", "more than 2^30 values"});
}

TEST_F(BadInputTest, LayerOutputOf2To40ValuesNamesTheLayer) {
  Graph g;
  const std::string proto =
      std::string(kProtoHead) + "\"Upsample up 1 1 data out 1 0 0 0 1048576 1048576 ,\"\n";
  ASSERT_TRUE(ParseTnnProto(proto, "up.tnnproto", &g).ok());
  BlobDims dims;
  ExpectOneLineError(InferShapes(g, {}, &dims), {"layer 'up' (Upsample)", "blob 'out'", "more than 2^30 values"});
}

TEST_F(BadInputTest, GraphPastTheTotalLimitNamesTheLayer) {
  // Each blob is 2^29 values, within the per-blob limit; the fourth takes the graph past 2^31.
  Graph g;
  const std::string proto =
      "\"1 5 1 4206624772 ,\"\n\"data 4 1 8 8192 8192 0 ,\"\n\" data a b c d ,\"\n\"d ,\"\n\" 3 ,\"\n"
      "\"ReLU r1 1 1 data a ,\"\n\"ReLU r2 1 1 a b ,\"\n\"ReLU r3 1 1 b c ,\"\n\"ReLU r4 1 1 c d ,\"\n";
  ASSERT_TRUE(ParseTnnProto(proto, "wide.tnnproto", &g).ok());
  BlobDims dims;
  ExpectOneLineError(InferShapes(g, {}, &dims), {"layer 'r4' (ReLU)", "past 2^31 values in all"});
}

TEST_F(BadInputTest, NpyShapeThatOverflowsInt64) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, 4), }";
  header += std::string(118 - header.size(), ' ') + "\n";
  const std::string npy = std::string("\x93NUMPY\x01\x00", 8) + std::string(1, char(header.size())) +
                          std::string(1, '\0') + header + std::string(64, '\0');
  Tensor t;
  ExpectOneLineError(LoadNpy(Write("huge.npy", npy), {1, 1, 4, 4}, &t),
                     {"huge.npy", "holds more than 16 values", "needs 16"});
}

TEST_F(BadInputTest, NpyHeaderLengthPastTheEnd) {
  const std::string npy = std::string("\x93NUMPY\x02\x00", 8) + Bytes({0xFFFFFFF0u}) + "{}";
  Tensor t;
  ExpectOneLineError(LoadNpy(Write("hdr.npy", npy), {1, 1, 4, 4}, &t), {"hdr.npy", "truncated .npy header"});
}

TEST_F(BadInputTest, TxtWithMoreNumbersThanTheInput) {
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "1 ";
  Tensor t;
  ExpectOneLineError(LoadTxt(Write("long.txt", text), {1, 1, 4, 4}, &t),
                     {"long.txt", "holds 100000 numbers", "needs exactly 16"});
}

std::string StatsHeader(uint32_t blobs) {
  std::string s("QTSTATS\0", 8);
  s += Bytes({2, 0x1234, 0, blobs});  // version, fingerprint (8 bytes), blob count
  return s;
}

TEST_F(BadInputTest, StatsChannelCountBeyondTheFile) {
  // 2^24 channels with per-channel histograms would be 256 GiB of histograms; the file holds 60 bytes.
  std::string s = StatsHeader(1) + Bytes({1}) + "b" + Bytes({1 << 24, 64, 0}) + std::string("\x01\x01", 2);
  s += std::string(24, '\0');
  std::map<std::string, BlobStats> stats;
  ExpectOneLineError(LoadBlobStats(Write("big.stats", s), 0x1234, true, &stats),
                     {"big.stats", "corrupt statistics file", "channel count 16777216"});
}

TEST_F(BadInputTest, StatsBlobCountBeyondTheFile) {
  std::map<std::string, BlobStats> stats;
  ExpectOneLineError(LoadBlobStats(Write("count.stats", StatsHeader(0xFFFFFFFFu)), 0x1234, false, &stats),
                     {"count.stats", "truncated statistics file"});
}

onnx::ModelProto OnnxWithShapeOp(const std::string& op, const std::vector<std::vector<int64_t>>& const_inputs) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  auto* in = g->add_input();
  in->set_name("x");
  in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  for (int d : {1, 1, 2, 2}) in->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
  auto* node = g->add_node();
  node->set_op_type(op);
  node->set_name("made");
  for (size_t i = 0; i < const_inputs.size(); ++i) {
    auto* t = g->add_initializer();
    t->set_name("c" + std::to_string(i));
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(const_inputs[i].size()));
    for (int64_t v : const_inputs[i]) t->add_int64_data(v);
    node->add_input(t->name());
  }
  node->add_output("big");
  auto* add = g->add_node();
  add->set_op_type("Add");
  add->add_input("x");
  add->add_input("big");
  add->add_output("y");
  g->add_output()->set_name("y");
  return m;
}

TEST_F(BadInputTest, OnnxConstantOfShapeOf2To40Values) {
  const std::string bytes = OnnxWithShapeOp("ConstantOfShape", {{1 << 20, 1 << 20}}).SerializeAsString();
  Graph g;
  ExpectOneLineError(ImportOnnxModel(std::vector<uint8_t>(bytes.begin(), bytes.end()), "cos.onnx", &g),
                     {"cos.onnx", "too large"});
}

TEST_F(BadInputTest, OnnxRangeOf2To40Values) {
  const std::string bytes = OnnxWithShapeOp("Range", {{0}, {int64_t{1} << 40}, {1}}).SerializeAsString();
  Graph g;
  ExpectOneLineError(ImportOnnxModel(std::vector<uint8_t>(bytes.begin(), bytes.end()), "range.onnx", &g),
                     {"range.onnx", "Range of more than 2^26 values"});
}

}  // namespace
}  // namespace qt
