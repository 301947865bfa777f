// Our JPEG/PNG/BMP decoder against OpenCV's cv::imdecode(IMREAD_UNCHANGED), which it replaces: the same type,
// size and every byte, on images written by OpenCV, by libjpeg and libpng with options OpenCV's writer lacks, and
// BMP variants built byte by byte (palettes, 15/16/32 bits, top-down, OS/2 headers, RLE4/RLE8 streams).
#include <array>
#include <csetjmp>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <jpeglib.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <png.h>

#include "core/base/file_io.h"
#include "quantization/inputs/image_decoder.h"

namespace qt {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// A smooth gradient with noise, so that JPEG's transforms and chroma subsampling have something to round.
cv::Mat TestImage(int h, int w, int type, uint32_t seed) {
  std::mt19937 rng(seed);
  cv::Mat m(h, w, type);
  const int channels = m.channels();
  const bool sixteen = m.depth() == CV_16U;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < channels; ++c) {
        const int v = (x * 7 + y * 3 + c * 50 + static_cast<int>(rng() % 40)) % 256;
        if (sixteen) {
          m.ptr<uint16_t>(y)[x * channels + c] = static_cast<uint16_t>(v * 257 + rng() % 200);
        } else {
          m.ptr<uint8_t>(y)[x * channels + c] = static_cast<uint8_t>(v);
        }
      }
    }
  }
  return m;
}

// Both decoders either fail or give the same Mat.
void ExpectSameAsOpenCv(const Bytes& bytes, const std::string& what) {
  SCOPED_TRACE(what);
  const cv::Mat reference = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  cv::Mat ours;
  const Status s = DecodeImage(what, bytes.data(), bytes.size(), &ours);
  ASSERT_EQ(s.ok(), !reference.empty()) << s.message();
  if (reference.empty()) return;
  ASSERT_EQ(ours.type(), reference.type());
  ASSERT_EQ(ours.size(), reference.size());
  EXPECT_EQ(cv::norm(ours, reference, cv::NORM_INF), 0.0);
}

Bytes Encode(const std::string& ext, const cv::Mat& m, const std::vector<int>& params = {}) {
  Bytes out;
  EXPECT_TRUE(cv::imencode(ext, m, out, params));
  return out;
}

TEST(ImageDecoderTest, JpegFromOpenCv) {
  for (const cv::Size size : {cv::Size(1, 1), cv::Size(17, 13), cv::Size(333, 257)}) {
    for (const int type : {CV_8UC1, CV_8UC3}) {
      const cv::Mat m = TestImage(size.height, size.width, type, 1);
      const std::string tag = std::to_string(size.width) + "x" + std::to_string(size.height) + " c" +
                              std::to_string(CV_MAT_CN(type));
      ExpectSameAsOpenCv(Encode(".jpg", m), tag);
      ExpectSameAsOpenCv(Encode(".jpg", m, {cv::IMWRITE_JPEG_QUALITY, 40}), tag + " q40");
      ExpectSameAsOpenCv(Encode(".jpg", m, {cv::IMWRITE_JPEG_QUALITY, 100}), tag + " q100");
      ExpectSameAsOpenCv(Encode(".jpg", m, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}), tag + " progressive");
      ExpectSameAsOpenCv(Encode(".jpg", m, {cv::IMWRITE_JPEG_OPTIMIZE, 1, cv::IMWRITE_JPEG_RST_INTERVAL, 3}),
                         tag + " optimized, restart markers");
    }
  }
}

// libjpeg directly: 4:4:4 and 4:1:1 colour sampling, and CMYK, which OpenCV only reads.
Bytes WriteJpeg(const cv::Mat& m, J_COLOR_SPACE space, int h_sampling, int v_sampling) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(m.cols);
  cinfo.image_height = static_cast<JDIMENSION>(m.rows);
  cinfo.input_components = m.channels();
  cinfo.in_color_space = space;
  jpeg_set_defaults(&cinfo);
  if (space == JCS_CMYK) jpeg_set_colorspace(&cinfo, JCS_YCCK);
  cinfo.comp_info[0].h_samp_factor = h_sampling;
  cinfo.comp_info[0].v_samp_factor = v_sampling;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(m.ptr<uint8_t>(static_cast<int>(cinfo.next_scanline)));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  Bytes out(buffer, buffer + size);
  free(buffer);
  return out;
}

TEST(ImageDecoderTest, JpegSamplingAndCmyk) {
  const cv::Mat rgb = TestImage(45, 61, CV_8UC3, 2);
  ExpectSameAsOpenCv(WriteJpeg(rgb, JCS_RGB, 1, 1), "4:4:4");
  ExpectSameAsOpenCv(WriteJpeg(rgb, JCS_RGB, 4, 1), "4:1:1");
  ExpectSameAsOpenCv(WriteJpeg(rgb, JCS_RGB, 1, 2), "4:4:0");
  const cv::Mat cmyk = TestImage(23, 31, CV_8UC4, 3);
  ExpectSameAsOpenCv(WriteJpeg(cmyk, JCS_CMYK, 2, 2), "YCCK");
}

TEST(ImageDecoderTest, TruncatedJpegIsAnError) {
  Bytes bytes = Encode(".jpg", TestImage(64, 64, CV_8UC3, 4));
  bytes.resize(bytes.size() / 2);
  cv::Mat m;
  const Status s = DecodeImage("half.jpg", bytes.data(), bytes.size(), &m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("half.jpg"), std::string::npos);
  EXPECT_NE(s.message().find("truncated"), std::string::npos);
  bytes.resize(100);
  EXPECT_FALSE(DecodeImage("short.jpg", bytes.data(), bytes.size(), &m).ok());
}

TEST(ImageDecoderTest, PngFromOpenCv) {
  for (const int type : {CV_8UC1, CV_8UC3, CV_8UC4, CV_16UC1, CV_16UC3, CV_16UC4}) {
    const cv::Mat m = TestImage(19, 23, type, 5);
    const std::string tag = "type " + std::to_string(type);
    ExpectSameAsOpenCv(Encode(".png", m), tag);
    ExpectSameAsOpenCv(Encode(".png", m, {cv::IMWRITE_PNG_COMPRESSION, 9}), tag + " level 9");
  }
  cv::Mat bilevel = TestImage(9, 13, CV_8UC1, 6) > 128;
  ExpectSameAsOpenCv(Encode(".png", bilevel, {cv::IMWRITE_PNG_BILEVEL, 1}), "1-bit");
}

struct PngSpec {
  int color_type;
  int bit_depth;
  bool interlaced;
  bool trns;
};

void PngAppend(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}

// libpng directly, for what OpenCV's writer never produces: palettes, 2/4-bit gray, gray with alpha, tRNS
// chunks, Adam7 interlacing.
Bytes WritePng(const PngSpec& spec, int w, int h, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    ADD_FAILURE() << "libpng could not write the test image";
    return {};
  }
  png_set_write_fn(png, &out, PngAppend, nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), spec.bit_depth, spec.color_type,
               spec.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (spec.color_type == PNG_COLOR_TYPE_PALETTE) {
    std::vector<png_color> palette(size_t{1} << spec.bit_depth);
    for (auto& c : palette) {
      c = {static_cast<png_byte>(rng()), static_cast<png_byte>(rng()), static_cast<png_byte>(rng())};
    }
    png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
    if (spec.trns) {
      std::vector<png_byte> alpha(palette.size() / 2 + 1);
      for (auto& a : alpha) a = static_cast<png_byte>(rng());
      png_set_tRNS(png, info, alpha.data(), static_cast<int>(alpha.size()), nullptr);
    }
  } else if (spec.trns) {
    png_color_16 key{};
    key.red = key.green = key.blue = key.gray = 1;
    png_set_tRNS(png, info, nullptr, 0, &key);
  }
  png_write_info(png, info);
  const int channels = spec.color_type == PNG_COLOR_TYPE_RGB         ? 3
                       : spec.color_type == PNG_COLOR_TYPE_RGB_ALPHA  ? 4
                       : spec.color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                                                                      : 1;
  const size_t row_bytes = (static_cast<size_t>(w) * channels * spec.bit_depth + 7) / 8;
  std::vector<Bytes> rows(static_cast<size_t>(h), Bytes(row_bytes));
  std::vector<png_bytep> pointers;
  for (auto& row : rows) {
    for (auto& b : row) b = static_cast<uint8_t>(rng() % 3 == 0 ? 1 : rng());
    pointers.push_back(row.data());
  }
  png_write_image(png, pointers.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

TEST(ImageDecoderTest, PngFromLibpng) {
  const PngSpec specs[] = {
      {PNG_COLOR_TYPE_PALETTE, 8, false, false}, {PNG_COLOR_TYPE_PALETTE, 8, false, true},
      {PNG_COLOR_TYPE_PALETTE, 4, false, false}, {PNG_COLOR_TYPE_PALETTE, 2, true, true},
      {PNG_COLOR_TYPE_PALETTE, 1, false, false}, {PNG_COLOR_TYPE_GRAY, 1, false, false},
      {PNG_COLOR_TYPE_GRAY, 2, false, false},    {PNG_COLOR_TYPE_GRAY, 4, true, false},
      {PNG_COLOR_TYPE_GRAY, 8, false, true},     {PNG_COLOR_TYPE_GRAY, 16, false, true},
      {PNG_COLOR_TYPE_GRAY_ALPHA, 8, false, false}, {PNG_COLOR_TYPE_GRAY_ALPHA, 16, true, false},
      {PNG_COLOR_TYPE_RGB, 8, true, false},      {PNG_COLOR_TYPE_RGB, 8, false, true},
      {PNG_COLOR_TYPE_RGB, 16, false, true},     {PNG_COLOR_TYPE_RGB_ALPHA, 8, true, false},
      {PNG_COLOR_TYPE_RGB_ALPHA, 16, false, false},
  };
  uint32_t seed = 10;
  for (const PngSpec& spec : specs) {
    const std::string tag = "color type " + std::to_string(spec.color_type) + ", " + std::to_string(spec.bit_depth) +
                            " bits" + (spec.interlaced ? ", interlaced" : "") + (spec.trns ? ", tRNS" : "");
    ExpectSameAsOpenCv(WritePng(spec, 21, 11, seed++), tag);
  }
}

TEST(ImageDecoderTest, BrokenPngIsAnError) {
  Bytes bytes = Encode(".png", TestImage(32, 32, CV_8UC3, 7));
  cv::Mat m;
  Bytes half(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2));
  Status s = DecodeImage("half.png", half.data(), half.size(), &m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("half.png"), std::string::npos);
  EXPECT_NE(s.message().find("truncated"), std::string::npos);
  bytes[40] ^= 0x55;  // inside IDAT: its CRC no longer matches
  s = DecodeImage("crc.png", bytes.data(), bytes.size(), &m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("crc.png"), std::string::npos);
}

// ---- BMP, built byte by byte

void Put16(Bytes* b, uint32_t v) {
  b->push_back(static_cast<uint8_t>(v));
  b->push_back(static_cast<uint8_t>(v >> 8));
}
void Put32(Bytes* b, uint32_t v) {
  Put16(b, v & 0xffff);
  Put16(b, v >> 16);
}

struct BmpSpec {
  int width = 0, height = 0;  // negative height: top-down rows
  int bpp = 24;
  uint32_t compression = 0;
  std::vector<std::array<uint8_t, 4>> palette;  // B, G, R, 0
  uint32_t colors_used = 0;
  std::vector<uint32_t> masks;  // BITFIELDS, after the header
  bool os2 = false;
};

Bytes BuildBmp(const BmpSpec& spec, const Bytes& pixels) {
  Bytes header;
  if (spec.os2) {
    Put32(&header, 12);
    Put16(&header, static_cast<uint32_t>(spec.width));
    Put16(&header, static_cast<uint32_t>(spec.height));
    Put16(&header, 1);
    Put16(&header, static_cast<uint32_t>(spec.bpp));
    for (const auto& c : spec.palette) header.insert(header.end(), c.begin(), c.begin() + 3);
  } else {
    Put32(&header, 40);
    Put32(&header, static_cast<uint32_t>(spec.width));
    Put32(&header, static_cast<uint32_t>(spec.height));
    Put16(&header, 1);
    Put16(&header, static_cast<uint32_t>(spec.bpp));
    Put32(&header, spec.compression);
    Put32(&header, static_cast<uint32_t>(pixels.size()));
    Put32(&header, 2835);
    Put32(&header, 2835);
    Put32(&header, spec.colors_used);
    Put32(&header, 0);
    for (uint32_t m : spec.masks) Put32(&header, m);
    for (const auto& c : spec.palette) header.insert(header.end(), c.begin(), c.end());
  }
  Bytes out = {'B', 'M'};
  Put32(&out, static_cast<uint32_t>(14 + header.size() + pixels.size()));
  Put32(&out, 0);
  Put32(&out, static_cast<uint32_t>(14 + header.size()));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

Bytes RandomRows(int width, int height, int bpp, uint32_t seed) {
  std::mt19937 rng(seed);
  const size_t pitch = ((static_cast<size_t>(width) * bpp + 7) / 8 + 3) & ~size_t{3};
  Bytes b(pitch * static_cast<size_t>(std::abs(height)));
  for (auto& v : b) v = static_cast<uint8_t>(rng());
  return b;
}

std::vector<std::array<uint8_t, 4>> Palette(int n, bool gray, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::array<uint8_t, 4>> p(static_cast<size_t>(n));
  for (auto& c : p) {
    const auto v = static_cast<uint8_t>(rng());
    c = gray ? std::array<uint8_t, 4>{v, v, v, 0}
             : std::array<uint8_t, 4>{v, static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()), 0};
  }
  return p;
}

TEST(ImageDecoderTest, BmpFromOpenCv) {
  for (const int type : {CV_8UC1, CV_8UC3, CV_8UC4}) {
    ExpectSameAsOpenCv(Encode(".bmp", TestImage(7, 13, type, 8)), "type " + std::to_string(type));
  }
}

TEST(ImageDecoderTest, BmpLayouts) {
  const int w = 13, h = 5;
  uint32_t seed = 20;
  for (const int bpp : {1, 4, 8}) {
    for (const bool gray : {false, true}) {
      for (const int height : {h, -h}) {
        BmpSpec spec;
        spec.width = w;
        spec.height = height;
        spec.bpp = bpp;
        spec.palette = Palette(1 << bpp, gray, seed);
        const std::string tag = std::to_string(bpp) + " bits, " + (gray ? "gray" : "colour") + " palette, " +
                                (height < 0 ? "top-down" : "bottom-up");
        ExpectSameAsOpenCv(BuildBmp(spec, RandomRows(w, height, bpp, seed++)), tag);
      }
    }
    BmpSpec partial;  // fewer colours than indices: the rest are black
    partial.width = w;
    partial.height = h;
    partial.bpp = bpp;
    partial.colors_used = bpp == 1 ? 1 : 3;
    partial.palette = Palette(static_cast<int>(partial.colors_used), false, seed);
    ExpectSameAsOpenCv(BuildBmp(partial, RandomRows(w, h, bpp, seed++)), std::to_string(bpp) + " bits, short palette");
  }
  for (const int bpp : {16, 24, 32}) {
    BmpSpec spec;
    spec.width = w;
    spec.height = -h;
    spec.bpp = bpp;
    ExpectSameAsOpenCv(BuildBmp(spec, RandomRows(w, h, bpp, seed++)), std::to_string(bpp) + " bits");
  }
  BmpSpec rgb565;
  rgb565.width = w;
  rgb565.height = h;
  rgb565.bpp = 16;
  rgb565.compression = 3;
  rgb565.masks = {0xf800, 0x7e0, 0x1f};
  ExpectSameAsOpenCv(BuildBmp(rgb565, RandomRows(w, h, 16, seed++)), "16 bits 5-6-5");
  rgb565.masks = {0x7c00, 0x3e0, 0x1f};
  ExpectSameAsOpenCv(BuildBmp(rgb565, RandomRows(w, h, 16, seed++)), "16 bits 5-5-5 bitfields");
  rgb565.masks = {0xf00, 0xf0, 0xf};
  ExpectSameAsOpenCv(BuildBmp(rgb565, RandomRows(w, h, 16, seed++)), "16 bits 4-4-4: unsupported");
  BmpSpec bitfields32;
  bitfields32.width = w;
  bitfields32.height = h;
  bitfields32.bpp = 32;
  bitfields32.compression = 3;
  ExpectSameAsOpenCv(BuildBmp(bitfields32, RandomRows(w, h, 32, seed++)), "32 bits bitfields");
  for (const int bpp : {8, 24}) {
    BmpSpec os2;
    os2.os2 = true;
    os2.width = w;
    os2.height = h;
    os2.bpp = bpp;
    if (bpp == 8) os2.palette = Palette(256, false, seed);
    ExpectSameAsOpenCv(BuildBmp(os2, RandomRows(w, h, bpp, seed++)), "OS/2 " + std::to_string(bpp) + " bits");
  }
  BmpSpec tall;  // OS/2 sizes are unsigned 16-bit: 40000 rows, not a negative (top-down) height
  tall.os2 = true;
  tall.width = 3;
  tall.height = 40000;
  tall.bpp = 24;
  ExpectSameAsOpenCv(BuildBmp(tall, RandomRows(3, 40000, 24, seed++)), "OS/2, 40000 rows");
}

TEST(ImageDecoderTest, BmpRle) {
  const int w = 10, h = 4;
  BmpSpec rle8;
  rle8.width = w;
  rle8.height = h;
  rle8.bpp = 8;
  rle8.compression = 1;
  rle8.palette = Palette(256, false, 30);
  // Row 0: a run of 4, an absolute run of 3 (padded), EOL mid-row. Row 1: a run filling it exactly, then EOL.
  // Row 2: a delta of (2, 1). Row 3: 5 pixels, end of bitmap.
  const Bytes stream8 = {4, 7, 0, 3, 1, 2, 3, 0, 0, 0, 10, 9, 0, 0, 0, 2, 2, 1, 5, 200, 0, 1};
  ExpectSameAsOpenCv(BuildBmp(rle8, stream8), "RLE8");
  const Bytes full8 = {10, 1, 0, 0, 10, 2, 0, 0, 10, 3, 0, 0, 10, 4, 0, 1};
  ExpectSameAsOpenCv(BuildBmp(rle8, full8), "RLE8, whole rows");
  rle8.palette = Palette(256, true, 31);
  ExpectSameAsOpenCv(BuildBmp(rle8, stream8), "RLE8 gray palette");
  const Bytes overrun8 = {11, 1, 0, 1};
  ExpectSameAsOpenCv(BuildBmp(rle8, overrun8), "RLE8 run beyond the row");
  const Bytes cut8 = {4, 7, 0, 3, 1};
  ExpectSameAsOpenCv(BuildBmp(rle8, cut8), "RLE8 cut short");

  BmpSpec rle4;
  rle4.width = w;
  rle4.height = h;
  rle4.bpp = 4;
  rle4.compression = 2;
  rle4.palette = Palette(16, false, 32);
  const Bytes stream4 = {5, 0x12, 0, 3, 0x34, 0x50, 0, 0, 10, 0xab, 0, 0, 0, 2, 3, 0, 7, 0xcd, 0, 0, 10, 0xef, 0, 1};
  ExpectSameAsOpenCv(BuildBmp(rle4, stream4), "RLE4");
  const Bytes overrun4 = {12, 0x11, 0, 1};
  ExpectSameAsOpenCv(BuildBmp(rle4, overrun4), "RLE4 run beyond the row");
}

TEST(ImageDecoderTest, BrokenBmpAndUnknownSignaturesAreErrors) {
  BmpSpec spec;
  spec.width = 8;
  spec.height = 8;
  Bytes bmp = BuildBmp(spec, RandomRows(8, 8, 24, 40));
  cv::Mat m;
  Bytes cut(bmp.begin(), bmp.end() - 10);
  Status s = DecodeImage("cut.bmp", cut.data(), cut.size(), &m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cut.bmp"), std::string::npos);
  ExpectSameAsOpenCv(cut, "cut BMP");
  spec.width = 1 << 21;
  spec.height = 1;
  Bytes huge = BuildBmp(spec, {});
  s = DecodeImage("huge.bmp", huge.data(), huge.size(), &m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("2^20"), std::string::npos);
  const Bytes text = {'h', 'e', 'l', 'l', 'o'};
  s = DecodeImage("text.jpg", text.data(), text.size(), &m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unknown signature"), std::string::npos);
  s = DecodeImage("empty.png", nullptr, 0, &m);
  EXPECT_FALSE(s.ok());
}

// Every image of ../shared/data decodes as OpenCV decodes it.
TEST(ImageDecoderSharedTest, EverySharedImage) {
  const fs::path root = fs::path(QT_SHARED_DIR) / "data";
  if (!fs::exists(root)) GTEST_SKIP() << "shared folder " << QT_SHARED_DIR << " is absent: skipping";
  int count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    std::string ext = entry.path().extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext != ".jpg" && ext != ".jpeg" && ext != ".png" && ext != ".bmp") continue;
    Bytes bytes;
    ASSERT_TRUE(ReadFileBytes(entry.path().string(), &bytes).ok()) << entry.path();
    ExpectSameAsOpenCv(bytes, entry.path().string());
    ++count;
  }
  EXPECT_GT(count, 100);
}

}  // namespace
}  // namespace qt
