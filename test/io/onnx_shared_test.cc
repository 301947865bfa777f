// Real ONNX models from ../shared through the importer and the engine. SqueezeNet v1.1's ONNX file (with its 4
// all-zero Pads, Dropout(ratio=0) and ceil-mode MaxPools) must give the outputs of the TNN model TNN's own
// converter made from it, run on the same engine.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/io/model_loader.h"
#include "core/io/tnn_io.h"
#include "core/runtime/net.h"
#include "quantization/inputs/input_loader.h"

namespace qt {
namespace {

namespace fs = std::filesystem;

const fs::path kShared(QT_SHARED_DIR);
const fs::path kSqueezeNet = kShared / "models" / "squeezenet_v1.1";

std::vector<std::string> ValImages(size_t count) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(kShared / "data" / "imagenet_val")) {
    if (e.path().extension() == ".JPEG") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  files.resize(std::min(files.size(), count));
  return files;
}

Tensor Forward(Net& net, const Tensor& input, const std::string& output) {
  EXPECT_TRUE(net.SetInput(net.inputs()[0].name, input).ok());
  const Status s = net.Forward();
  EXPECT_TRUE(s.ok()) << s.message();
  Tensor out;
  EXPECT_TRUE(net.GetBlob(output, &out).ok());
  return out;
}

TEST(OnnxSharedTest, SqueezeNetOnnxMatchesTheTnnModelOnTheEngine) {
  if (!fs::exists(kSqueezeNet / "squeezenet_v1.1.onnx")) {
    GTEST_SKIP() << "shared folder " << QT_SHARED_DIR << " is absent: skipping";
  }
  Graph onnx, tnn;
  Status s = LoadModel((kSqueezeNet / "squeezenet_v1.1.onnx").string(), "", &onnx);
  ASSERT_TRUE(s.ok()) << s.message();
  s = LoadModel((kSqueezeNet / "squeezenet_v1.1.tnnproto").string(), (kSqueezeNet / "squeezenet_v1.1.tnnmodel").string(),
                &tnn);
  ASSERT_TRUE(s.ok()) << s.message();
  // The zero Pads and the Dropout are gone, each ReLU is fused into its convolution.
  int convs = 0;
  for (const auto& l : onnx.layers) {
    EXPECT_NE(l.type, LayerType::kPad) << l.name;
    EXPECT_NE(l.type, LayerType::kDropout) << l.name;
    EXPECT_NE(l.type, LayerType::kRelu) << l.name;
    if (l.type == LayerType::kConvolution) {
      ++convs;
      EXPECT_EQ(l.Params<ConvParams>().activation, kActivationRelu) << l.name;
    }
  }
  EXPECT_EQ(convs, 26);
  ASSERT_EQ(onnx.inputs.size(), 1u);
  EXPECT_EQ(onnx.inputs[0].name, "data_input");
  EXPECT_EQ(onnx.inputs[0].dims, (Dims{1, 3, 227, 227}));
  EXPECT_EQ(onnx.outputs, std::vector<std::string>{"prob"});

  // The imported graph written as TNN and read back runs identically.
  const fs::path dir = fs::temp_directory_path() / ("onnx_squeezenet_" + std::to_string(getpid()));
  fs::create_directories(dir);
  ASSERT_TRUE(WriteTnnModel(onnx, (dir / "s.tnnproto").string(), (dir / "s.tnnmodel").string()).ok());
  Graph rewritten;
  s = ReadTnnModel((dir / "s.tnnproto").string(), (dir / "s.tnnmodel").string(), &rewritten);
  fs::remove_all(dir);
  ASSERT_TRUE(s.ok()) << s.message();

  Net net_onnx, net_tnn, net_rewritten;
  ASSERT_TRUE(net_onnx.Init(onnx).ok());
  ASSERT_TRUE(net_tnn.Init(tnn).ok());
  ASSERT_TRUE(net_rewritten.Init(rewritten).ok());
  Preprocess pre;
  pre.mean = {104.f, 117.f, 123.f};
  pre.reverse_channel = true;
  double worst = 0;
  const auto images = ValImages(5);
  ASSERT_EQ(images.size(), 5u);
  for (const auto& path : images) {
    Tensor x;
    ASSERT_TRUE(LoadInput(path, {1, 3, 227, 227}, pre, &x).ok());
    const Tensor a = Forward(net_onnx, x, "prob");
    const Tensor b = Forward(net_tnn, x, "prob");
    const Tensor c = Forward(net_rewritten, x, "prob");
    ASSERT_EQ(a.count(), 1000);
    ASSERT_EQ(a.count(), b.count());
    double diff = 0;
    for (int64_t k = 0; k < a.count(); ++k) diff = std::max(diff, static_cast<double>(std::fabs(a.data[k] - b.data[k])));
    worst = std::max(worst, diff);
    EXPECT_LT(diff, 1e-5) << path;
    EXPECT_EQ(std::max_element(a.data.begin(), a.data.end()) - a.data.begin(),
              std::max_element(b.data.begin(), b.data.end()) - b.data.begin())
        << path;
    EXPECT_EQ(a.data, c.data) << path;
  }
  std::printf("SqueezeNet v1.1 ONNX vs TNN model on the engine, %zu images: max |dprob| %.3g\n", images.size(), worst);
}

}  // namespace
}  // namespace qt
