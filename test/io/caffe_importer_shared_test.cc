// The Caffe importer on the real models of ../shared: SqueezeNet v1.1 imported from Caffe runs to the same
// probabilities as its TNN conversion (made by TNN's own converters), and survives writing as TNN and reading
// back; the V1 and V2 files of LeNet import to the same graph and the same outputs.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/io/model_loader.h"
#include "core/io/tnn_io.h"
#include "core/runtime/net.h"
#include "quantization/inputs/input_loader.h"
#include "test/io/graph_compare.h"

namespace qt {
namespace {

namespace fs = std::filesystem;

const fs::path kShared(QT_SHARED_DIR);

std::vector<std::string> FirstFiles(const fs::path& dir, const std::string& ext, size_t n) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ext) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  files.resize(std::min(n, files.size()));
  return files;
}

// Runs the graph on each image (preprocessed with `pre`) and returns the "prob" output of each.
std::vector<std::vector<float>> Probabilities(const Graph& g, const std::vector<std::string>& images,
                                              const Preprocess& pre) {
  std::vector<std::vector<float>> out;
  Net net;
  Status s = net.Init(g);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return out;
  const InputSpec& in = net.inputs()[0];
  for (const auto& image : images) {
    Tensor x, y;
    s = LoadInput(image, in.dims, pre, &x);
    EXPECT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(net.SetInput(in.name, x).ok());
    s = net.Forward();
    EXPECT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(net.GetBlob("prob", &y).ok());
    out.push_back(y.data);
  }
  return out;
}

float MaxAbsDiff(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  EXPECT_EQ(a.size(), b.size());
  float worst = 0.f;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    EXPECT_EQ(a[i].size(), b[i].size());
    for (size_t k = 0; k < std::min(a[i].size(), b[i].size()); ++k) worst = std::max(worst, std::fabs(a[i][k] - b[i][k]));
  }
  return worst;
}

TEST(CaffeImporterSharedTest, SqueezeNetMatchesItsTnnConversionAndRoundTrips) {
  const fs::path dir = kShared / "models" / "squeezenet_v1.1";
  if (!fs::exists(dir)) GTEST_SKIP() << "shared folder " << QT_SHARED_DIR << " is absent: skipping";
  Graph caffe, tnn;
  Status s = LoadModel((dir / "deploy.prototxt").string(), (dir / "squeezenet_v1.1.caffemodel").string(), &caffe);
  ASSERT_TRUE(s.ok()) << s.message();
  s = LoadModel((dir / "squeezenet_v1.1.tnnproto").string(), (dir / "squeezenet_v1.1.tnnmodel").string(), &tnn);
  ASSERT_TRUE(s.ok()) << s.message();
  // Conv+ReLU fused, Dropout dropped: 26 convolutions, 8 concats, 4 poolings, the softmax.
  EXPECT_EQ(caffe.layers.size(), 39u);
  EXPECT_EQ(caffe.outputs, (std::vector<std::string>{"prob"}));

  Preprocess pre;
  pre.mean = {104, 117, 123};
  pre.reverse_channel = true;
  const auto images = FirstFiles(kShared / "data" / "imagenet_val", ".JPEG", 5);
  ASSERT_EQ(images.size(), 5u);
  const auto from_caffe = Probabilities(caffe, images, pre);
  const auto from_tnn = Probabilities(tnn, images, pre);
  const float diff = MaxAbsDiff(from_caffe, from_tnn);
  std::cout << "SqueezeNet v1.1, " << images.size() << " images: max |prob(Caffe import) - prob(TNN model)| = " << diff
            << "\n";
  EXPECT_LT(diff, 1e-5f);

  const fs::path tmp = fs::path(::testing::TempDir()) / ("caffe_shared_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  s = WriteTnnModel(caffe, (tmp / "sq.tnnproto").string(), (tmp / "sq.tnnmodel").string());
  ASSERT_TRUE(s.ok()) << s.message();
  Graph back;
  s = ReadTnnModel((tmp / "sq.tnnproto").string(), (tmp / "sq.tnnmodel").string(), &back);
  fs::remove_all(tmp);
  ASSERT_TRUE(s.ok()) << s.message();
  ExpectSameGraph(caffe, back);
  EXPECT_EQ(Probabilities(back, images, pre), from_caffe);
}

TEST(CaffeImporterSharedTest, LeNetV1AndV2ImportAlike) {
  const fs::path dir = kShared / "models" / "lenet";
  if (!fs::exists(dir)) GTEST_SKIP() << "shared folder " << QT_SHARED_DIR << " is absent: skipping";
  Graph v1, v2, tnn;
  Status s = LoadModel((dir / "lenet.prototxt").string(), (dir / "lenet_iter_10000.caffemodel").string(), &v1);
  ASSERT_TRUE(s.ok()) << s.message();
  s = LoadModel((dir / "lenet_deploy_v2.prototxt").string(), (dir / "lenet_v2.caffemodel").string(), &v2);
  ASSERT_TRUE(s.ok()) << s.message();
  s = LoadModel((dir / "lenet.tnnproto").string(), (dir / "lenet.tnnmodel").string(), &tnn);
  ASSERT_TRUE(s.ok()) << s.message();
  // The V1 file declares batch 64; it imports with batch 1.
  ASSERT_EQ(v1.inputs.size(), 1u);
  EXPECT_EQ(v1.inputs[0].dims, (Dims{1, 1, 28, 28}));
  ExpectSameGraph(v1, v2);
  EXPECT_EQ(SerializeTnnProto(v1), SerializeTnnProto(v2));

  Preprocess pre;
  pre.scale = {0.00390625f};
  const auto images = FirstFiles(kShared / "data" / "mnist" / "val", ".png", 20);
  ASSERT_EQ(images.size(), 20u);
  const auto a = Probabilities(v1, images, pre);
  EXPECT_EQ(a, Probabilities(v2, images, pre));
  const float diff = MaxAbsDiff(a, Probabilities(tnn, images, pre));
  std::cout << "LeNet, " << images.size() << " digits: V1 and V2 identical; max |prob(Caffe) - prob(TNN model)| = "
            << diff << "\n";
  EXPECT_LT(diff, 1e-5f);
}

}  // namespace
}  // namespace qt
