#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/kernels/detection_fp32.h"

namespace qt {
namespace {

// Boxes and scores against OpenCV and against hand-computed values.
constexpr float kTol = 1e-5f;

// ---- OpenCV fixtures (test/kernels/data/*_opencv.txt, written by make_detection_fixtures.py) ---------------------

using Fixture = std::map<std::string, std::vector<double>>;

std::vector<std::pair<std::string, Fixture>> ReadFixtures(const std::string& file) {
  const std::string path = std::string(QT_SOURCE_DIR) + "/test/kernels/data/" + file;
  std::ifstream in(path);
  std::vector<std::pair<std::string, Fixture>> cases;
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return cases;
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::string key;
    s >> key;
    if (key == "case") {
      cases.emplace_back();
      s >> cases.back().first;
    } else if (key != "end") {
      size_t count = 0;
      s >> count;
      std::vector<double> values(count);
      for (double& v : values) s >> v;
      if (cases.empty() || !s) {
        ADD_FAILURE() << path << ": bad line: " << line.substr(0, 80);
        return {};
      }
      cases.back().second[key] = std::move(values);
    }
  }
  return cases;
}

// Values read as float from the text, as OpenCV was fed (the text holds them exactly).
std::vector<float> Floats(const Fixture& f, const std::string& key) {
  auto it = f.find(key);
  if (it == f.end()) {
    ADD_FAILURE() << "fixture has no " << key;
    return {};
  }
  std::vector<float> v;
  for (double d : it->second) v.push_back(static_cast<float>(d));
  return v;
}

double Scalar(const Fixture& f, const std::string& key) {
  auto it = f.find(key);
  if (it == f.end() || it->second.size() != 1) {
    ADD_FAILURE() << "fixture has no single " << key;
    return 0.;
  }
  return it->second[0];
}

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

// ---- PriorBox ----------------------------------------------------------------------------------------------------

std::vector<float> RunPriorBox(const PriorBoxParams& p, int fh, int fw, int ih, int iw) {
  std::vector<float> out(size_t{2} * fh * fw * PriorBoxNumPriors(p) * 4, -7.f);
  Status s = PriorBoxFp32(p, fh, fw, ih, iw, out.data());
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

TEST(PriorBox, AspectRatiosAsCaffeExpandsThem) {
  PriorBoxParams p;
  p.aspect_ratios = {2.f, 3.f, 2.f};
  EXPECT_EQ(PriorBoxAspectRatios(p), (std::vector<float>{1.f, 2.f, 0.5f, 3.f, 1.f / 3.f}));
  p.aspect_ratios = {0.5f, 2.f, 1.f};  // 2 is 0.5's flip and 1 is always there: both duplicates
  EXPECT_EQ(PriorBoxAspectRatios(p), (std::vector<float>{1.f, 0.5f, 2.f}));
  p.flip = false;
  EXPECT_EQ(PriorBoxAspectRatios(p), (std::vector<float>{1.f, 0.5f, 2.f}));
  p.aspect_ratios = {2.f};
  EXPECT_EQ(PriorBoxAspectRatios(p), (std::vector<float>{1.f, 2.f}));

  p.min_sizes = {30.f, 60.f};
  p.max_sizes = {60.f, 110.f};
  p.flip = true;
  p.aspect_ratios = {2.f, 3.f};
  EXPECT_EQ(PriorBoxNumPriors(p), 2 * 5 + 2);  // SSD300's conv7-style layer, two scales
}

// A 2x2 map of an 8x8 image (step 4), min size 4, ratio 2 without flip: per cell the 4x4 square, then the
// 4·sqrt2 × 4/sqrt2 box.
TEST(PriorBox, HandComputedTwoByTwo) {
  PriorBoxParams p;
  p.min_sizes = {4.f};
  p.aspect_ratios = {2.f};
  p.flip = false;
  p.variances = {0.1f, 0.1f, 0.2f, 0.2f};
  ASSERT_EQ(PriorBoxNumPriors(p), 2);
  const std::vector<float> out = RunPriorBox(p, 2, 2, 8, 8);
  const float r2 = std::sqrt(2.f);
  std::vector<float> want;
  for (float cy : {2.f, 6.f}) {
    for (float cx : {2.f, 6.f}) {
      for (float v : {cx - 2, cy - 2, cx + 2, cy + 2}) want.push_back(v / 8);
      for (float v : {cx - 2 * r2, cy - r2, cx + 2 * r2, cy + r2}) want.push_back(v / 8);
    }
  }
  for (int i = 0; i < 8; ++i) {
    for (float v : {0.1f, 0.1f, 0.2f, 0.2f}) want.push_back(v);
  }
  ExpectNear(out, want, 1e-6f);
  EXPECT_FLOAT_EQ(out[0], 0.f);
  EXPECT_FLOAT_EQ(out[2], 0.5f);
  EXPECT_NEAR(out[4], -0.1035534f, 1e-6f);  // (2 − 2·sqrt2) / 8: outside the image unless clipped

  p.clip = true;
  p.variances = {0.3f};
  const std::vector<float> clipped = RunPriorBox(p, 2, 2, 8, 8);
  EXPECT_FLOAT_EQ(clipped[4], 0.f);
  EXPECT_FLOAT_EQ(clipped[5], out[5]);
  for (size_t i = clipped.size() / 2; i < clipped.size(); ++i) EXPECT_FLOAT_EQ(clipped[i], 0.3f);
}

// Caffe truncates min/max sizes to int; OpenCV and ncnn keep them.
TEST(PriorBox, SizesTruncatedAsCaffeUnlessAskedNot) {
  PriorBoxParams p;
  p.min_sizes = {4.5f};
  p.max_sizes = {9.f};
  std::vector<float> out = RunPriorBox(p, 1, 1, 10, 10);  // centre (5, 5)
  EXPECT_FLOAT_EQ(out[0], (5.f - 2.f) / 10);                // 4.5 → 4
  EXPECT_FLOAT_EQ(out[4], (5.f - 3.f) / 10);                // sqrt(4·9) = 6
  EXPECT_FLOAT_EQ(out[8], 0.1f);                            // default variance
  p.truncate_sizes = false;
  out = RunPriorBox(p, 1, 1, 10, 10);
  EXPECT_FLOAT_EQ(out[0], (5.f - 2.25f) / 10);
  EXPECT_NEAR(out[4], (5.f - std::sqrt(40.5f) / 2) / 10, 1e-7f);
}

TEST(PriorBox, ImageSizeAndStepParameters) {
  PriorBoxParams p;
  p.min_sizes = {2.f};
  // img_h/img_w override the image input (which OpenCV 4.6 does not do).
  p.img_h = 20;
  p.img_w = 10;
  std::vector<float> out = RunPriorBox(p, 2, 1, 999, 999);  // steps 10 (h) and 10 (w): centres (5, 5), (5, 15)
  ExpectNear({out.begin(), out.begin() + 8}, {0.4f, 0.2f, 0.6f, 0.3f, 0.4f, 0.7f, 0.6f, 0.8f}, 1e-6f);
  // Either of img_h/img_w 0 takes both from the image input.
  p.img_w = 0;
  out = RunPriorBox(p, 2, 1, 8, 4);  // steps 4 and 4: centres (2, 2), (2, 6)
  ExpectNear({out.begin(), out.begin() + 8}, {0.25f, 0.125f, 0.75f, 0.375f, 0.25f, 0.625f, 0.75f, 0.875f}, 1e-6f);
  // Explicit steps and offset; one of step_h/step_w 0 computes both.
  p.step_h = 3.f;
  p.step_w = 1.f;
  p.offset = 0.f;
  out = RunPriorBox(p, 2, 1, 8, 4);  // centres (0, 0), (0, 3)
  ExpectNear({out.begin(), out.begin() + 8}, {-0.25f, -0.125f, 0.25f, 0.125f, -0.25f, 0.25f, 0.25f, 0.5f}, 1e-6f);
  p.step_w = 0.f;
  p.offset = 0.5f;
  out = RunPriorBox(p, 2, 1, 8, 4);
  EXPECT_FLOAT_EQ(out[5], 0.625f);
}

TEST(PriorBox, RejectsBadParameters) {
  std::vector<float> out(1024);
  auto status = [&](const PriorBoxParams& p, int fh = 2, int fw = 2, int ih = 8, int iw = 8) {
    return PriorBoxFp32(p, fh, fw, ih, iw, out.data());
  };
  PriorBoxParams p;
  EXPECT_EQ(status(p).code(), StatusCode::kInvalidArgument);  // no min size
  p.min_sizes = {4.f};
  EXPECT_TRUE(status(p).ok());
  p.max_sizes = {3.f};
  const Status small_max = status(p);
  EXPECT_EQ(small_max.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(small_max.message().find("max_size"), std::string::npos) << small_max.message();
  p.max_sizes = {8.f, 9.f};
  EXPECT_EQ(status(p).code(), StatusCode::kInvalidArgument);
  p.max_sizes.clear();
  p.variances = {0.1f, 0.2f};
  EXPECT_EQ(status(p).code(), StatusCode::kInvalidArgument);
  p.variances = {0.f};
  EXPECT_EQ(status(p).code(), StatusCode::kInvalidArgument);
  p.variances.clear();
  EXPECT_EQ(status(p, 0, 2).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status(p, 2, 2, 0, 8).code(), StatusCode::kInvalidArgument);
  p.img_h = p.img_w = 8;
  EXPECT_TRUE(status(p, 2, 2, 0, 0).ok());
}

TEST(PriorBox, MatchesOpenCv) {
  const auto cases = ReadFixtures("prior_box_opencv.txt");
  EXPECT_EQ(cases.size(), 3u);
  for (const auto& [name, f] : cases) {
    SCOPED_TRACE(name);
    PriorBoxParams p;
    p.min_sizes = Floats(f, "min_sizes");
    p.max_sizes = Floats(f, "max_sizes");
    p.aspect_ratios = Floats(f, "aspect_ratios");
    p.flip = Scalar(f, "flip") != 0;
    p.clip = Scalar(f, "clip") != 0;
    p.variances = Floats(f, "variances");
    p.step_h = p.step_w = static_cast<float>(Scalar(f, "step"));
    p.offset = static_cast<float>(Scalar(f, "offset"));
    const std::vector<float> feature = Floats(f, "feature_hw"), image = Floats(f, "image_hw");
    ASSERT_EQ(feature.size(), 2u);
    ASSERT_EQ(image.size(), 2u);
    const std::vector<float> out = RunPriorBox(p, static_cast<int>(feature[0]), static_cast<int>(feature[1]),
                                               static_cast<int>(image[0]), static_cast<int>(image[1]));
    ExpectNear(out, Floats(f, "expected"), kTol);
  }
}

// ---- DetectionOutput ---------------------------------------------------------------------------------------------

// One prior per box, CORNER with the variance in the target and zero offsets, so the decoded boxes are the priors.
struct BoxCase {
  std::vector<float> priors;  // [2][n][4]
  std::vector<float> loc;
  std::vector<float> conf;    // [n][num_classes]
};

BoxCase Boxes(const std::vector<std::vector<float>>& boxes, const std::vector<std::vector<float>>& scores) {
  BoxCase c;
  for (const auto& b : boxes) c.priors.insert(c.priors.end(), b.begin(), b.end());
  c.priors.resize(c.priors.size() * 2, 1.f);
  c.loc.assign(boxes.size() * 4, 0.f);
  for (const auto& s : scores) c.conf.insert(c.conf.end(), s.begin(), s.end());
  return c;
}

DetectionOutputParams CornerParams(int num_classes, float nms) {
  DetectionOutputParams p;
  p.num_classes = num_classes;
  p.nms_threshold = nms;
  p.code_type = BoxCodeType::kCorner;
  p.variance_encoded_in_target = true;
  return p;
}

std::vector<DetectionRow> Detect(const DetectionOutputParams& p, const BoxCase& c, int batch = 1) {
  std::vector<DetectionRow> rows;
  const int num_priors = static_cast<int>(c.priors.size() / 8);
  Status s = DetectionOutputFp32(p, batch, num_priors, c.loc.data(), c.conf.data(), c.priors.data(), &rows);
  EXPECT_TRUE(s.ok()) << s.message();
  return rows;
}

std::string Describe(const std::vector<DetectionRow>& rows) {
  std::ostringstream s;
  for (const auto& r : rows) {
    s << "\n  [";
    for (float v : r) s << " " << v;
    s << " ]";
  }
  return s.str();
}

// Compares the image, label, score and box of each row.
void ExpectRows(const std::vector<DetectionRow>& got, const std::vector<DetectionRow>& want, float tol = 1e-6f) {
  ASSERT_EQ(got.size(), want.size()) << "got" << Describe(got) << "\nwant" << Describe(want);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i][0], want[i][0]) << "row " << i << Describe(got);
    EXPECT_EQ(got[i][1], want[i][1]) << "row " << i << Describe(got);
    for (int k = 2; k < 7; ++k) EXPECT_NEAR(got[i][k], want[i][k], tol) << "row " << i << " field " << k;
  }
}

TEST(DetectionOutput, NmsSuppressesTheLowerOfTwoOverlappingBoxes) {
  // A and B overlap with IoU 0.14 / 0.18 = 0.78; B scores higher, so A goes; C is apart. Class 0 is background.
  const BoxCase c = Boxes({{0.f, 0.f, 0.4f, 0.4f}, {0.05f, 0.f, 0.45f, 0.4f}, {0.6f, 0.6f, 0.9f, 0.9f}},
                          {{0.4f, 0.6f}, {0.1f, 0.9f}, {0.7f, 0.3f}});
  ExpectRows(Detect(CornerParams(2, 0.5f), c),
             {{0, 1, 0.9f, 0.05f, 0.f, 0.45f, 0.4f}, {0, 1, 0.3f, 0.6f, 0.6f, 0.9f, 0.9f}});
  // Above the IoU both stay, in score order.
  ExpectRows(Detect(CornerParams(2, 0.8f), c), {{0, 1, 0.9f, 0.05f, 0.f, 0.45f, 0.4f},
                                            {0, 1, 0.6f, 0.f, 0.f, 0.4f, 0.4f},
                                            {0, 1, 0.3f, 0.6f, 0.6f, 0.9f, 0.9f}});
}

TEST(DetectionOutput, IouAtTheThresholdIsKeptAndTouchingBoxesDoNotOverlap) {
  // IoU of B with A is exactly 0.5 (B is A's lower half); D only touches A's right edge.
  const BoxCase c = Boxes({{0.f, 0.f, 1.f, 1.f}, {0.f, 0.f, 1.f, 0.5f}, {1.f, 0.f, 2.f, 1.f}},
                          {{0.f, 0.9f}, {0.f, 0.8f}, {0.f, 0.7f}});
  EXPECT_EQ(Detect(CornerParams(2, 0.5f), c).size(), 3u);
  const auto rows = Detect(CornerParams(2, 0.49f), c);
  ASSERT_EQ(rows.size(), 2u) << Describe(rows);
  EXPECT_EQ(rows[1][2], 0.7f);
  EXPECT_EQ(Detect(CornerParams(2, 0.f), c).size(), 2u);  // touching: IoU 0, kept even at threshold 0
}

TEST(DetectionOutput, AdaptiveEtaLowersTheThresholdAfterEachKeptBox) {
  // IoU(A, B) = 0.5. With eta 0.5 the threshold 0.8 drops to 0.4 once A is kept, so B goes.
  const BoxCase c = Boxes({{0.f, 0.f, 1.f, 1.f}, {0.f, 0.f, 1.f, 0.5f}}, {{0.f, 0.9f}, {0.f, 0.8f}});
  DetectionOutputParams p = CornerParams(2, 0.8f);
  EXPECT_EQ(Detect(p, c).size(), 2u);
  p.eta = 0.5f;
  EXPECT_EQ(Detect(p, c).size(), 1u);
  // Below 0.5 the threshold stays.
  p.nms_threshold = 0.5f;
  EXPECT_EQ(Detect(p, c).size(), 2u);
}

TEST(DetectionOutput, TiesKeepPriorOrderAndTopKCutsCandidates) {
  const BoxCase c = Boxes({{0.f, 0.f, 0.1f, 0.1f}, {0.2f, 0.2f, 0.3f, 0.3f}, {0.4f, 0.4f, 0.5f, 0.5f}},
                          {{0.f, 0.5f}, {0.f, 0.7f}, {0.f, 0.5f}});
  auto rows = Detect(CornerParams(2, 0.5f), c);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][3], 0.f);   // of the two 0.5s, prior 0 first
  EXPECT_EQ(rows[2][3], 0.4f);
  DetectionOutputParams p = CornerParams(2, 0.5f);
  p.top_k = 2;
  rows = Detect(p, c);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][3], 0.f);
  p.top_k = 0;  // Caffe keeps no candidate (OpenCV would keep all)
  EXPECT_TRUE(Detect(p, c).empty());
  p.top_k = -1;
  p.confidence_threshold = 0.5f;  // strictly above
  EXPECT_EQ(Detect(p, c).size(), 1u);

  // Enough tied candidates that an unstable sort (introsort past 16 elements) would reorder them: 48 disjoint
  // boxes scoring 0.3 or 0.6 in turn come out by score, then by prior index.
  std::vector<std::vector<float>> boxes, scores;
  for (int i = 0; i < 48; ++i) {
    boxes.push_back({0.02f * i, 0.f, 0.02f * i + 0.01f, 0.01f});
    scores.push_back({0.f, i % 2 ? 0.3f : 0.6f});
  }
  rows = Detect(CornerParams(2, 0.5f), Boxes(boxes, scores));
  ASSERT_EQ(rows.size(), 48u);
  for (int i = 0; i < 48; ++i) {
    const int prior = i < 24 ? 2 * i : 2 * (i - 24) + 1;
    EXPECT_FLOAT_EQ(rows[i][3], 0.02f * prior) << "row " << i;
  }
}

TEST(DetectionOutput, KeepTopKOverAllClassesThenLabelOrder) {
  // Three disjoint boxes, classes 1 and 2 (0 is background). Best four scores: 0.95 (c2), 0.9 (c1), 0.8 (c2),
  // 0.7 (c1); keep_top_k 3 drops 0.7 and the rest. Output: label 1 first, then label 2 by score.
  const BoxCase c = Boxes({{0.f, 0.f, 0.1f, 0.1f}, {0.2f, 0.2f, 0.3f, 0.3f}, {0.4f, 0.4f, 0.5f, 0.5f}},
                          {{0.f, 0.9f, 0.8f}, {0.f, 0.7f, 0.95f}, {0.f, 0.2f, 0.1f}});
  DetectionOutputParams p = CornerParams(3, 0.5f);
  p.keep_top_k = 3;
  ExpectRows(Detect(p, c), {{0, 1, 0.9f, 0.f, 0.f, 0.1f, 0.1f},
                         {0, 2, 0.95f, 0.2f, 0.2f, 0.3f, 0.3f},
                         {0, 2, 0.8f, 0.f, 0.f, 0.1f, 0.1f}});
  p.keep_top_k = 6;  // as many as there are: no cut, label then NMS order
  EXPECT_EQ(Detect(p, c).size(), 6u);
  p.keep_top_k = 0;
  EXPECT_TRUE(Detect(p, c).empty());
}

TEST(DetectionOutput, DecodesEachCodeTypeAsCaffe) {
  DetectionOutputParams p;
  p.num_classes = 2;
  BoxCase c;
  c.priors = {0.2f, 0.2f, 0.6f, 0.4f, 0.1f, 0.1f, 0.2f, 0.2f};
  c.conf = {0.1f, 0.9f};
  // CORNER: prior corner + variance · offset.
  c.loc = {1.f, -1.f, 0.5f, 2.f};
  p.code_type = BoxCodeType::kCorner;
  ExpectRows(Detect(p, c), {{0, 1, 0.9f, 0.3f, 0.1f, 0.7f, 0.8f}});
  // CENTER_SIZE: centre (0.4, 0.3) moved by 0.1·1·0.4 and 0.1·2·0.2; width 0.4·exp(0.2·ln2/0.2) = 0.8.
  c.loc = {1.f, 2.f, std::log(2.f) / 0.2f, 0.f};
  p.code_type = BoxCodeType::kCenterSize;
  ExpectRows(Detect(p, c), {{0, 1, 0.9f, 0.04f, 0.24f, 0.84f, 0.44f}});
  // CORNER_SIZE: prior corner + variance · offset · prior size.
  c.loc = {1.f, 1.f, 1.f, 1.f};
  p.code_type = BoxCodeType::kCornerSize;
  ExpectRows(Detect(p, c), {{0, 1, 0.9f, 0.24f, 0.22f, 0.68f, 0.44f}});
  // Variance in the target: the offsets are used as they are.
  p.variance_encoded_in_target = true;
  ExpectRows(Detect(p, c), {{0, 1, 0.9f, 0.6f, 0.4f, 1.f, 0.6f}});
}

TEST(DetectionOutput, PerClassLocationsAndNoBackground) {
  // Two classes, both scored (background -1), each with its own box offsets for the one prior.
  DetectionOutputParams p = CornerParams(2, 0.5f);
  p.share_location = false;
  p.background_label_id = -1;
  BoxCase c;
  c.priors = {0.1f, 0.1f, 0.3f, 0.3f, 1.f, 1.f, 1.f, 1.f};
  c.loc = {0.f, 0.f, 0.f, 0.f, 0.1f, 0.1f, 0.1f, 0.1f};
  c.conf = {0.6f, 0.4f};
  ExpectRows(Detect(p, c), {{0, 0, 0.6f, 0.1f, 0.1f, 0.3f, 0.3f}, {0, 1, 0.4f, 0.2f, 0.2f, 0.4f, 0.4f}});
  // Shared locations with no background (which Caffe, OpenCV and TNN cannot run): both classes on the one box.
  p.share_location = true;
  c.loc.resize(4);
  ExpectRows(Detect(p, c), {{0, 0, 0.6f, 0.1f, 0.1f, 0.3f, 0.3f}, {0, 1, 0.4f, 0.1f, 0.1f, 0.3f, 0.3f}});
}

TEST(DetectionOutput, BatchAndNoDetection) {
  // Two images sharing the priors; the second has nothing above the threshold.
  BoxCase c = Boxes({{0.f, 0.f, 0.5f, 0.5f}}, {{0.2f, 0.8f}, {0.9f, 0.1f}});
  c.loc.resize(8, 0.f);
  DetectionOutputParams p = CornerParams(2, 0.5f);
  p.confidence_threshold = 0.5f;
  ExpectRows(Detect(p, c, 2), {{0, 1, 0.8f, 0.f, 0.f, 0.5f, 0.5f}});
  p.confidence_threshold = 0.95f;
  EXPECT_TRUE(Detect(p, c, 2).empty());
  ExpectRows(DetectionOutputEmptyRows(2), {{0, -1, -1, -1, -1, -1, -1}, {1, -1, -1, -1, -1, -1, -1}});
}

TEST(DetectionOutput, RejectsBadParametersAndDegeneratePriors) {
  BoxCase c = Boxes({{0.2f, 0.2f, 0.2f, 0.4f}}, {{0.1f, 0.9f}});  // zero width
  std::vector<DetectionRow> rows;
  auto status = [&](const DetectionOutputParams& p) {
    return DetectionOutputFp32(p, 1, 1, c.loc.data(), c.conf.data(), c.priors.data(), &rows);
  };
  DetectionOutputParams p = CornerParams(2, 0.5f);
  EXPECT_TRUE(status(p).ok());  // CORNER does not use the prior size
  p.code_type = BoxCodeType::kCenterSize;
  const Status degenerate = status(p);
  EXPECT_EQ(degenerate.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(degenerate.message().find("prior 0"), std::string::npos) << degenerate.message();
  p.code_type = static_cast<BoxCodeType>(4);
  EXPECT_EQ(status(p).code(), StatusCode::kInvalidArgument);
  p = CornerParams(0, 0.5f);
  EXPECT_EQ(status(p).code(), StatusCode::kInvalidArgument);
  p = CornerParams(2, -0.1f);
  EXPECT_EQ(status(p).code(), StatusCode::kInvalidArgument);
  p = CornerParams(2, 0.5f);
  p.eta = 0.f;
  EXPECT_EQ(status(p).code(), StatusCode::kInvalidArgument);
}

// OpenCV orders an image's rows by score over all labels and Caffe by label; both sorted here by image, label and
// descending score (no fixture has tied scores) before the row-by-row comparison.
std::vector<DetectionRow> Canonical(std::vector<DetectionRow> rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const DetectionRow& a, const DetectionRow& b) {
    if (a[0] != b[0]) return a[0] < b[0];
    if (a[1] != b[1]) return a[1] < b[1];
    return a[2] > b[2];
  });
  return rows;
}

TEST(DetectionOutput, MatchesOpenCv) {
  const auto cases = ReadFixtures("detection_output_opencv.txt");
  EXPECT_EQ(cases.size(), 4u);
  for (const auto& [name, f] : cases) {
    SCOPED_TRACE(name);
    DetectionOutputParams p;
    p.num_classes = static_cast<int>(Scalar(f, "num_classes"));
    p.share_location = Scalar(f, "share_location") != 0;
    p.background_label_id = static_cast<int>(Scalar(f, "background_label_id"));
    p.code_type = static_cast<BoxCodeType>(static_cast<int>(Scalar(f, "code_type")));
    p.nms_threshold = static_cast<float>(Scalar(f, "nms_threshold"));
    p.top_k = static_cast<int>(Scalar(f, "top_k"));
    p.keep_top_k = static_cast<int>(Scalar(f, "keep_top_k"));
    p.confidence_threshold = static_cast<float>(Scalar(f, "confidence_threshold"));
    p.variance_encoded_in_target = Scalar(f, "variance_encoded_in_target") != 0;
    const int batch = static_cast<int>(Scalar(f, "batch"));
    const int num_priors = static_cast<int>(Scalar(f, "num_priors"));
    const std::vector<float> loc = Floats(f, "loc"), conf = Floats(f, "conf"), priors = Floats(f, "priors");
    const int loc_classes = p.share_location ? 1 : p.num_classes;
    ASSERT_EQ(loc.size(), size_t{1} * batch * num_priors * loc_classes * 4);
    ASSERT_EQ(conf.size(), size_t{1} * batch * num_priors * p.num_classes);
    ASSERT_EQ(priors.size(), size_t{1} * num_priors * 8);

    std::vector<DetectionRow> rows;
    const Status s = DetectionOutputFp32(p, batch, num_priors, loc.data(), conf.data(), priors.data(), &rows);
    ASSERT_TRUE(s.ok()) << s.message();
    const std::vector<float> flat = Floats(f, "expected");
    std::vector<DetectionRow> want(flat.size() / 7);
    for (size_t i = 0; i < want.size(); ++i) std::copy_n(flat.begin() + i * 7, 7, want[i].begin());
    ExpectRows(Canonical(rows), Canonical(want), kTol);
  }
}

// ---- Normalize ---------------------------------------------------------------------------------------------------

std::vector<float> RunNormalize(const NormalizeParams& p, const std::vector<float>& in, const Dims& dims,
                                const float* scale) {
  std::vector<float> out(in.size(), -7.f);
  const Status s = NormalizeFp32(p, in.data(), dims, scale, out.data());
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

TEST(Normalize, HandComputed) {
  // Per position over 2 channels of a 1x2x1x2 blob: (3, 4) has norm 5, (0.3, 0.4) norm 0.5.
  NormalizeParams p;
  p.across_spatial = false;
  p.channel_shared = false;
  const std::vector<float> x = {3.f, 0.3f, 4.f, 0.4f};
  const float scale[] = {2.f, 0.5f};
  ExpectNear(RunNormalize(p, x, {1, 2, 1, 2}, scale), {1.2f, 1.2f, 0.4f, 0.4f}, 1e-6f);
  // eps inside the root, as Caffe: sqrt(0.25 + 0.75) = 1 leaves (0.3, 0.4) as it is; TNN's max(sqrt(0.25), 0.75)
  // would divide by 0.75.
  p.eps = 0.75f;
  const std::vector<float> y = RunNormalize(p, x, {1, 2, 1, 2}, nullptr);
  EXPECT_NEAR(y[1], 0.3f, 1e-6f);
  EXPECT_NEAR(y[3], 0.4f, 1e-6f);
  // Across the image: norm sqrt(9 + 0.09 + 16 + 0.16) = sqrt(25.25), one shared scale.
  p = NormalizeParams();
  const float shared[] = {2.5f};
  const float k = 2.5f / std::sqrt(25.25f);
  ExpectNear(RunNormalize(p, x, {1, 2, 1, 2}, shared), {3 * k, 0.3f * k, 4 * k, 0.4f * k}, 1e-6f);
  // Each image of a batch on its own; in place.
  std::vector<float> batch = {3.f, 4.f, 0.f, 2.f};
  ASSERT_TRUE(NormalizeFp32(p, batch.data(), {2, 2}, nullptr, batch.data()).ok());
  ExpectNear(batch, {0.6f, 0.8f, 0.f, 1.f}, 1e-6f);
  EXPECT_EQ(NormalizeFp32(p, batch.data(), {4}, nullptr, batch.data()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeFp32(p, batch.data(), {1, 0, 2}, nullptr, batch.data()).code(), StatusCode::kInvalidArgument);
}

TEST(Normalize, MatchesOpenCv) {
  const auto cases = ReadFixtures("normalize_opencv.txt");
  EXPECT_EQ(cases.size(), 3u);
  for (const auto& [name, f] : cases) {
    SCOPED_TRACE(name);
    NormalizeParams p;
    p.across_spatial = Scalar(f, "across_spatial") != 0;
    p.channel_shared = Scalar(f, "channel_shared") != 0;
    p.eps = static_cast<float>(Scalar(f, "eps"));
    Dims dims;
    for (float d : Floats(f, "dims")) dims.push_back(static_cast<int>(d));
    const std::vector<float> scale = Floats(f, "scale");
    ExpectNear(RunNormalize(p, Floats(f, "input"), dims, scale.data()), Floats(f, "expected"), kTol);
  }
}

}  // namespace
}  // namespace qt
