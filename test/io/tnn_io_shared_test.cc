// Round trips of the real TNN files in ../shared: the models, and the quantized outputs of TNN's own tool.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/io/tnn_io.h"
#include "test/io/graph_compare.h"

namespace qt {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> SharedModels() {
  std::vector<std::string> prefixes;
  const fs::path shared(QT_SHARED_DIR);
  if (!fs::exists(shared)) return prefixes;
  for (const char* dir : {"models", "golden"}) {
    for (const auto& e : fs::recursive_directory_iterator(shared / dir)) {
      if (e.path().extension() == ".tnnproto") {
        prefixes.push_back((e.path().parent_path() / e.path().stem()).string());
      }
    }
  }
  std::sort(prefixes.begin(), prefixes.end());
  return prefixes;
}

TEST(TnnIoSharedTest, EveryModelRoundTripsAndRewritesByteIdentically) {
  const auto models = SharedModels();
  if (models.empty()) GTEST_SKIP() << "shared folder " << QT_SHARED_DIR << " is absent: skipping";
  for (const auto& prefix : models) {
    SCOPED_TRACE(prefix);
    Graph g;
    Status s = ReadTnnModel(prefix + ".tnnproto", prefix + ".tnnmodel", &g);
    ASSERT_TRUE(s.ok()) << s.message();
    const std::string proto1 = SerializeTnnProto(g);
    const std::vector<uint8_t> model1 = SerializeTnnModel(g);
    Graph g2;
    ASSERT_TRUE(ParseTnnProto(proto1, "rewritten proto", &g2).ok());
    s = ParseTnnModel(model1, "rewritten model", &g2);
    ASSERT_TRUE(s.ok()) << s.message();
    ExpectSameGraph(g, g2);
    EXPECT_EQ(SerializeTnnProto(g2), proto1);
    EXPECT_EQ(SerializeTnnModel(g2), model1);
  }
}

// TNN's own writer and ours agree byte for byte on the v2 files it wrote (fp32, fp16, quantized).
TEST(TnnIoSharedTest, RewritingTnnWrittenFilesReproducesThem) {
  const auto models = SharedModels();
  if (models.empty()) GTEST_SKIP() << "shared folder " << QT_SHARED_DIR << " is absent: skipping";
  int compared = 0;
  for (const auto& prefix : models) {
    SCOPED_TRACE(prefix);
    std::string proto;
    std::vector<uint8_t> model;
    ASSERT_TRUE(ReadFileText(prefix + ".tnnproto", &proto).ok());
    ASSERT_TRUE(ReadFileBytes(prefix + ".tnnmodel", &model).ok());
    Graph g;
    ASSERT_TRUE(ReadTnnModel(prefix + ".tnnproto", prefix + ".tnnmodel", &g).ok());
    // v1 files (the model zoo's, older converters') are rewritten as v2, with every param spelled out.
    if (g.magic != kTnnMagicV2) continue;
    EXPECT_EQ(SerializeTnnModel(g), model);
    EXPECT_EQ(SerializeTnnProto(g), proto);
    ++compared;
  }
  EXPECT_GT(compared, 10);
}

}  // namespace
}  // namespace qt
