#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "quantization/inputs/input_loader.h"
#include "quantization/inputs/preprocess.h"

namespace qt {
namespace {

namespace fs = std::filesystem;

class InputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qt_inputs_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  fs::path dir_;
};

// A 2x2 BGR image whose B, G, R planes hold 10, 20, 30.
std::string WriteBgr(const fs::path& dir, const std::string& name) {
  cv::Mat img(2, 2, CV_8UC3, cv::Scalar(10, 20, 30));
  const std::string p = (dir / name).string();
  cv::imwrite(p, img);
  return p;
}

TEST_F(InputsTest, ImageChannelOrderMeanAndScale) {
  const std::string png = WriteBgr(dir_, "a.png");
  Tensor t;
  Preprocess pre;
  ASSERT_TRUE(LoadImage(png, {1, 3, 2, 2}, pre, &t).ok());
  EXPECT_EQ(t.data[0], 30.f);  // RGB by default, as TNN's stb-based reader
  EXPECT_EQ(t.data[8], 10.f);
  pre.reverse_channel = true;
  pre.mean = {1, 2, 3};
  pre.scale = {0.5f, 1, 2};
  ASSERT_TRUE(LoadImage(png, {1, 3, 2, 2}, pre, &t).ok());
  EXPECT_EQ(t.data[0], (10.f - 1) * 0.5f);  // -r 1: BGR; mean/scale per destination channel
  EXPECT_EQ(t.data[4], 20.f - 2);
  EXPECT_EQ(t.data[8], (30.f - 3) * 2);
}

TEST_F(InputsTest, ImageResizeAndChannelConversion) {
  const std::string bmp = WriteBgr(dir_, "a.bmp");
  Tensor t;
  ASSERT_TRUE(LoadImage(bmp, {1, 3, 5, 7}, Preprocess(), &t).ok());
  EXPECT_EQ(t.dims, (Dims{1, 3, 5, 7}));
  for (int i = 0; i < 35; ++i) ASSERT_EQ(t.data[i], 30.f);  // a constant image stays constant
  ASSERT_TRUE(LoadImage(bmp, {1, 1, 2, 2}, Preprocess(), &t).ok());
  EXPECT_NEAR(t.data[0], 0.299f * 30 + 0.587f * 20 + 0.114f * 10, 1.f);
  cv::Mat gray(2, 2, CV_8UC1, cv::Scalar(77));
  cv::imwrite((dir_ / "g.png").string(), gray);
  ASSERT_TRUE(LoadImage((dir_ / "g.png").string(), {1, 3, 2, 2}, Preprocess(), &t).ok());
  EXPECT_EQ(t.data[0], 77.f);
  EXPECT_EQ(t.data[11], 77.f);
}

// Colour images are resized in OpenCV's BGR order and their channels picked in reverse afterwards: the values
// must be those of converting to RGB first and resizing then, down and up, with and without -r.
TEST_F(InputsTest, ResizedColourImagesEqualConvertingFirst) {
  cv::Mat noise(23, 37, CV_8UC3);
  cv::randu(noise, cv::Scalar::all(0), cv::Scalar::all(256));
  const std::string png = (dir_ / "noise.png").string();
  ASSERT_TRUE(cv::imwrite(png, noise));
  cv::Mat rgb;
  cv::cvtColor(noise, rgb, cv::COLOR_BGR2RGB);
  for (const cv::Size size : {cv::Size(17, 11), cv::Size(50, 41)}) {
    cv::Mat want;
    cv::resize(rgb, want, size, 0, 0, cv::INTER_LINEAR);
    for (const bool reverse : {false, true}) {
      Preprocess pre;
      pre.reverse_channel = reverse;
      Tensor t;
      ASSERT_TRUE(LoadImage(png, {1, 3, size.height, size.width}, pre, &t).ok());
      int wrong = 0;
      for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < size.height; ++y) {
          for (int x = 0; x < size.width; ++x) {
            const float v = want.at<cv::Vec3b>(y, x)[reverse ? 2 - c : c];
            wrong += t.data[(int64_t{c} * size.height + y) * size.width + x] != v;
          }
        }
      }
      EXPECT_EQ(wrong, 0) << size << (reverse ? " -r 1" : "");
    }
  }
}

TEST_F(InputsTest, ImageErrors) {
  const std::string bad = Write("broken.jpg", "not a jpeg at all");
  Tensor t;
  Status s = LoadImage(bad, {1, 3, 2, 2}, Preprocess(), &t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("broken.jpg"), std::string::npos);
  EXPECT_NE(s.message().find("decode"), std::string::npos);
  Preprocess two;
  two.mean = {1, 2};
  s = LoadImage(WriteBgr(dir_, "b.png"), {1, 3, 2, 2}, two, &t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("-n has 2 values"), std::string::npos) << s.message();
}

TEST_F(InputsTest, TxtCountAndValues) {
  Tensor t;
  ASSERT_TRUE(LoadTxt(Write("ok.txt", "1 2.5\n-3e-2\n4\n"), {1, 1, 2, 2}, &t).ok());
  EXPECT_EQ(t.data, (std::vector<float>{1.f, 2.5f, -0.03f, 4.f}));
  Status s = LoadTxt(Write("short.txt", "1 2 3"), {1, 1, 2, 2}, &t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("short.txt: holds 3 numbers"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("exactly 4"), std::string::npos);
  s = LoadTxt(Write("long.txt", "1 2 3 4 5"), {1, 1, 2, 2}, &t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("holds 5"), std::string::npos);
  s = LoadTxt(Write("nan.txt", "1 nan 3 4"), {1, 1, 2, 2}, &t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("NaN"), std::string::npos);
  s = LoadTxt(Write("junk.txt", "1 x 3 4"), {1, 1, 2, 2}, &t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'x' is not a number"), std::string::npos);
}

std::string Npy(const std::string& descr, const std::string& shape, const void* data, size_t bytes,
                bool fortran = false) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(data), bytes);
  return out;
}

TEST_F(InputsTest, NpyFloat32Float64AndErrors) {
  const float f[4] = {1, 2, 3, 4};
  const double d[4] = {0.5, -1, 2, 8};
  Tensor t;
  ASSERT_TRUE(LoadNpy(Write("f.npy", Npy("<f4", "(1, 2, 2)", f, 16)), {1, 1, 2, 2}, &t).ok());
  EXPECT_EQ(t.data, (std::vector<float>{1, 2, 3, 4}));
  ASSERT_TRUE(LoadNpy(Write("d.npy", Npy("<f8", "(4,)", d, 32)), {1, 1, 2, 2}, &t).ok());
  EXPECT_EQ(t.data, (std::vector<float>{0.5f, -1, 2, 8}));
  EXPECT_FALSE(LoadNpy(Write("fo.npy", Npy("<f4", "(1, 2, 2)", f, 16, true)), {1, 1, 2, 2}, &t).ok());
  EXPECT_FALSE(LoadNpy(Write("tr.npy", Npy("<f4", "(1, 2, 2)", f, 10)), {1, 1, 2, 2}, &t).ok());
  EXPECT_FALSE(LoadNpy(Write("n.npy", Npy("<f4", "(3,)", f, 12)), {1, 1, 2, 2}, &t).ok());
  EXPECT_FALSE(LoadNpy(Write("i.npy", Npy("<i4", "(4,)", f, 16)), {1, 1, 2, 2}, &t).ok());
  Status s = LoadNpy(Write("m.npy", "PK\x03\x04 zip, not npy"), {1, 1, 2, 2}, &t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("m.npy"), std::string::npos);
}

TEST_F(InputsTest, FloatListsAndFolders) {
  std::vector<float> v;
  ASSERT_TRUE(ParseFloatList("1e-3, +1,0.0078125", "-s", &v).ok());
  EXPECT_EQ(v, (std::vector<float>{1e-3f, 1.f, 0.0078125f}));
  for (const char* bad : {"1,,2", "abc", "nan", "1,inf", ""}) EXPECT_FALSE(ParseFloatList(bad, "-n", &v).ok()) << bad;
  std::vector<std::string> files;
  EXPECT_FALSE(ListInputFiles((dir_ / "missing").string(), &files).ok());
  Status s = ListInputFiles(dir_.string(), &files);
  EXPECT_FALSE(s.ok());
  Write("b.TXT", "1");
  Write("a.png", "x");
  Write("notes.md", "x");
  Write(".hidden.txt", "1");
  ASSERT_TRUE(ListInputFiles(dir_.string(), &files).ok());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(fs::path(files[0]).filename(), "a.png");
  EXPECT_EQ(fs::path(files[1]).filename(), "b.TXT");
}

TEST(InputsSharedTest, SqueezeNetCalibrationImage) {
  const std::string path =
      std::string(QT_SHARED_DIR) + "/golden/squeezenet_v1.1/inputs/calib50/n01440764_tench.png";
  if (!fs::exists(path)) GTEST_SKIP() << "shared folder " << QT_SHARED_DIR << " is absent: skipping";
  Preprocess pre;
  pre.reverse_channel = true;
  pre.mean = {104, 117, 123};
  Tensor t;
  ASSERT_TRUE(LoadImage(path, {1, 3, 227, 227}, pre, &t).ok());
  const cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  for (int c = 0; c < 3; ++c) {
    for (int i : {0, 1000, 51528}) {
      const int y = i / 227, x = i % 227;
      EXPECT_EQ(t.data[c * 227 * 227 + i], bgr.at<cv::Vec3b>(y, x)[c] - pre.mean[c]);
    }
  }
}

}  // namespace
}  // namespace qt
