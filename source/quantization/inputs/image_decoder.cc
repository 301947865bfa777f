#include "quantization/inputs/image_decoder.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

namespace qt {
namespace {

// OpenCV's limit on a side of a decoded image (CV_IO_MAX_IMAGE_WIDTH/HEIGHT).
constexpr int64_t kMaxSide = int64_t{1} << 20;

bool SizeOk(int64_t width, int64_t height, int64_t max_pixels) {
  return width > 0 && height > 0 && width <= kMaxSide && height <= kMaxSide && width * height <= max_pixels;
}

Status CheckSize(const std::string& path, const char* format, int64_t width, int64_t height, int64_t max_pixels) {
  if (!SizeOk(width, height, max_pixels)) {
    return Status::InvalidArgument(path + ": " + format + " image of " + std::to_string(width) + "x" +
                                   std::to_string(height) + " pixels is empty or larger than 2^20 per side or " +
                                   std::to_string(max_pixels) + " in all");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------- JPEG

struct JpegErrors {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  bool truncated;
  bool too_many_scans;
};

// A progressive JPEG may hold any number of scans, each a pass over the whole image; real files have about ten.
// Thousands of them (a crafted or corrupt file) would take minutes, so decoding stops, as djpeg's -maxscans does.
constexpr int kMaxJpegScans = 500;

[[noreturn]] void JpegErrorExit(j_common_ptr cinfo) {
  std::longjmp(reinterpret_cast<JpegErrors*>(cinfo->err)->jump, 1);
}

void JpegProgress(j_common_ptr common) {
  auto* cinfo = reinterpret_cast<j_decompress_ptr>(common);
  if (cinfo->input_scan_number > kMaxJpegScans) {
    auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
    errors->too_many_scans = true;
    std::longjmp(errors->jump, 1);
  }
}

// Warnings are not printed; the one that means the data ran out (libjpeg then pads the image with gray) is kept.
void JpegMessage(j_common_ptr cinfo, int level) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  if (level < 0 && errors->mgr.msg_code == JWRN_JPEG_EOF) errors->truncated = true;
}

// The rows of libjpeg's CMYK output turned into BGR as OpenCV does (icvCvt_CMYK2BGR_8u_C4C3R).
void CmykRowToBgr(const uint8_t* cmyk, int width, uint8_t* bgr) {
  for (int x = 0; x < width; ++x, cmyk += 4, bgr += 3) {
    const int k = cmyk[3];
    bgr[2] = static_cast<uint8_t>(k - ((255 - cmyk[0]) * k >> 8));
    bgr[1] = static_cast<uint8_t>(k - ((255 - cmyk[1]) * k >> 8));
    bgr[0] = static_cast<uint8_t>(k - ((255 - cmyk[2]) * k >> 8));
  }
}

// Everything between setjmp and a longjmp out of libjpeg lives in `cinfo`, `errors` and `*image`, all in memory
// the caller owns, so nothing is left indeterminate by the jump.
bool RunJpeg(jpeg_decompress_struct* cinfo, JpegErrors* errors, jpeg_progress_mgr* progress, const uint8_t* data,
             size_t size, int64_t max_pixels, int64_t* width, int64_t* height, cv::Mat* image,
             std::vector<uint8_t>* row) {
  if (setjmp(errors->jump)) return false;
  jpeg_create_decompress(cinfo);
  cinfo->progress = progress;
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  *width = cinfo->image_width;
  *height = cinfo->image_height;
  if (!SizeOk(*width, *height, max_pixels)) return true;
  // OpenCV: one component stays gray, four are CMYK (YCCK comes out as CMYK too) converted to BGR, anything else
  // goes to BGR.
  const bool cmyk = cinfo->num_components == 4;
  if (cinfo->num_components == 1) {
    cinfo->out_color_space = JCS_GRAYSCALE;
  } else {
    cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_EXT_BGR;
  }
  jpeg_start_decompress(cinfo);
  const int w = static_cast<int>(cinfo->output_width), h = static_cast<int>(cinfo->output_height);
  image->create(h, w, cinfo->num_components == 1 ? CV_8UC1 : CV_8UC3);
  if (cmyk) row->resize(size_t{4} * w);
  while (cinfo->output_scanline < cinfo->output_height) {
    const int y = static_cast<int>(cinfo->output_scanline);
    JSAMPROW dst = cmyk ? row->data() : image->ptr<uint8_t>(y);
    jpeg_read_scanlines(cinfo, &dst, 1);
    if (cmyk) CmykRowToBgr(row->data(), w, image->ptr<uint8_t>(y));
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

Status DecodeJpeg(const std::string& path, const uint8_t* data, size_t size, int64_t max_pixels, cv::Mat* image) {
  jpeg_decompress_struct cinfo;
  JpegErrors errors;
  cinfo.err = jpeg_std_error(&errors.mgr);
  errors.mgr.error_exit = JpegErrorExit;
  errors.mgr.emit_message = JpegMessage;
  errors.truncated = false;
  errors.too_many_scans = false;
  jpeg_progress_mgr progress{};
  progress.progress_monitor = JpegProgress;
  int64_t width = 0, height = 0;
  std::vector<uint8_t> row;
  const bool ok = RunJpeg(&cinfo, &errors, &progress, data, size, max_pixels, &width, &height, image, &row);
  std::string message = "more than " + std::to_string(kMaxJpegScans) + " scans";
  if (!ok && !errors.too_many_scans) {
    char text[JMSG_LENGTH_MAX] = {};
    errors.mgr.format_message(reinterpret_cast<j_common_ptr>(&cinfo), text);
    message = text;
  }
  jpeg_destroy_decompress(&cinfo);
  if (!ok) {
    image->release();
    return Status::InvalidArgument(path + ": cannot decode JPEG (" + message + ")");
  }
  QT_RETURN_IF_ERROR(CheckSize(path, "JPEG", width, height, max_pixels));
  if (errors.truncated) {
    image->release();
    return Status::InvalidArgument(path + ": JPEG data ends before the image does (truncated file)");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------- PNG

struct PngSource {
  const uint8_t* data;
  size_t size;
  size_t pos;
  char message[256];
};

[[noreturn]] void PngError(png_structp png, png_const_charp message) {
  auto* source = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(source->message, sizeof(source->message), "%s", message);
  png_longjmp(png, 1);
}

void PngWarning(png_structp, png_const_charp) {}

void PngRead(png_structp png, png_bytep dst, png_size_t n) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (source->size - source->pos < n) png_error(png, "PNG data ends before the image does (truncated file)");
  std::memcpy(dst, source->data + source->pos, n);
  source->pos += n;
}

// OpenCV 4.6's PngDecoder::readHeader and readData with IMREAD_UNCHANGED: the output type from the header (a tRNS
// chunk on RGB or palette images adds alpha; gray stays one channel), then the same libpng transforms.
bool RunPng(png_structp png, png_infop info, png_infop end, PngSource* source, int64_t max_pixels, int64_t* width,
            int64_t* height, cv::Mat* image, std::vector<png_bytep>* rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_read_fn(png, source, PngRead);
  png_read_info(png, info);
  png_uint_32 w = 0, h = 0;
  int bit_depth = 0, color_type = 0;
  png_get_IHDR(png, info, &w, &h, &bit_depth, &color_type, nullptr, nullptr, nullptr);
  *width = w;
  *height = h;
  if (!SizeOk(*width, *height, max_pixels)) return true;
  int channels = 1;
  if (color_type == PNG_COLOR_TYPE_RGB || color_type == PNG_COLOR_TYPE_PALETTE) {
    png_bytep trans = nullptr;
    int num_trans = 0;
    png_color_16p trans_values = nullptr;
    png_get_tRNS(png, info, &trans, &num_trans, &trans_values);
    channels = num_trans > 0 ? 4 : 3;
  } else if (color_type == PNG_COLOR_TYPE_GRAY_ALPHA || color_type == PNG_COLOR_TYPE_RGB_ALPHA) {
    channels = 4;
  }
  const bool sixteen = bit_depth == 16;
  if (sixteen) png_set_swap(png);  // x86 is little-endian; OpenCV swaps there too
  if (channels < 4) {
    png_set_strip_alpha(png);
  } else {
    png_set_tRNS_to_alpha(png);
  }
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0 && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  const bool color = channels > 1;
  if ((color_type & PNG_COLOR_MASK_COLOR) && color) {
    png_set_bgr(png);
  } else if (color) {
    png_set_gray_to_rgb(png);
  } else {
    png_set_rgb_to_gray(png, 1, 0.299, 0.587);
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  image->create(static_cast<int>(h), static_cast<int>(w), CV_MAKETYPE(sixteen ? CV_16U : CV_8U, channels));
  rows->resize(h);
  for (png_uint_32 y = 0; y < h; ++y) (*rows)[y] = image->ptr<png_byte>(static_cast<int>(y));
  png_read_image(png, rows->data());
  png_read_end(png, end);
  return true;
}

Status DecodePng(const std::string& path, const uint8_t* data, size_t size, int64_t max_pixels, cv::Mat* image) {
  PngSource source{data, size, 0, {}};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, PngError, PngWarning);
  if (png == nullptr) return Status::Internal(path + ": libpng could not start");
  png_infop info = png_create_info_struct(png);
  png_infop end = png_create_info_struct(png);
  if (info == nullptr || end == nullptr) {
    png_destroy_read_struct(&png, &info, &end);
    return Status::Internal(path + ": libpng could not start");
  }
  int64_t width = 0, height = 0;
  std::vector<png_bytep> rows;
  const bool ok = RunPng(png, info, end, &source, max_pixels, &width, &height, image, &rows);
  png_destroy_read_struct(&png, &info, &end);
  if (!ok) {
    image->release();
    return Status::InvalidArgument(path + ": cannot decode PNG (" + source.message + ")");
  }
  return CheckSize(path, "PNG", width, height, max_pixels);
}

// ---------------------------------------------------------------------------------------------------- BMP

// OpenCV's fixed-point BGR to gray (icvCvt_BGR2Gray_8u_C3C1R): an all-gray palette maps to itself.
uint8_t BgrToGray(int b, int g, int r) {
  constexpr int kShift = 14;
  constexpr int kR = static_cast<int>(0.299 * (1 << kShift) + 0.5);
  constexpr int kG = static_cast<int>(0.587 * (1 << kShift) + 0.5);
  constexpr int kB = (1 << kShift) - kR - kG;
  return static_cast<uint8_t>((b * kB + g * kG + r * kR + (1 << (kShift - 1))) >> kShift);
}

struct BmpReader {
  const uint8_t* data;
  size_t size;
  size_t pos;
  bool overrun = false;

  // Past the end, OpenCV's stream throws; here the reads return zeros and `overrun` records it.
  uint32_t Byte() {
    if (pos >= size) {
      overrun = true;
      return 0;
    }
    return data[pos++];
  }
  uint32_t Word() {
    const uint32_t lo = Byte();
    return lo | (Byte() << 8);
  }
  uint32_t DWord() {
    const uint32_t lo = Word();
    return lo | (Word() << 16);
  }
  void Bytes(uint8_t* dst, size_t n) {
    if (pos > size || size - pos < n) {
      overrun = true;
      std::memset(dst, 0, n);
      pos = size;
      return;
    }
    std::memcpy(dst, data + pos, n);
    pos += n;
  }
  void Skip(int64_t n) {
    if (n < 0 || static_cast<uint64_t>(n) > size - std::min(pos, size)) {
      overrun = true;
      pos = size;
      return;
    }
    pos += static_cast<size_t>(n);
  }
};

// Writes decoded pixels in file order (rows bottom-up unless the height was negative) as OpenCV's BmpDecoder does,
// including its RLE cursor: runs and skips move a cursor over rows of `width` pixels, wrapping to the next row.
class BmpCanvas {
 public:
  BmpCanvas(cv::Mat* image, bool bottom_up, const uint8_t (*palette)[4], const uint8_t* gray_palette)
      : image_(image), bottom_up_(bottom_up), palette_(palette), gray_palette_(gray_palette),
        width_(image->cols), height_(image->rows), channels_(image->channels()) {}

  int x = 0, y = 0;
  int width() const { return width_; }
  int height() const { return height_; }

  uint8_t* Row(int row) { return image_->ptr<uint8_t>(bottom_up_ ? height_ - 1 - row : row); }

  void PutIndex(int index) {
    uint8_t* p = Row(y) + static_cast<size_t>(x) * channels_;
    if (channels_ == 1) {
      *p = gray_palette_[index];
    } else {
      p[0] = palette_[index][0];
      p[1] = palette_[index][1];
      p[2] = palette_[index][2];
    }
    ++x;
  }

  // FillUniColor/FillUniGray: `count` pixels of palette entry `index`, wrapping rows; stops past the last row.
  void Fill(int64_t count, int index) {
    do {
      const int64_t n = std::min<int64_t>(count, width_ - x);
      count -= n;
      for (int64_t i = 0; i < n; ++i) PutIndex(index);
      if (x >= width_) {
        x = 0;
        if (++y >= height_) break;
      }
    } while (count > 0);
  }

 private:
  cv::Mat* image_;
  bool bottom_up_;
  const uint8_t (*palette_)[4];
  const uint8_t* gray_palette_;
  int width_, height_, channels_;
};

enum BmpCompression { kBmpRgb = 0, kBmpRle8 = 1, kBmpRle4 = 2, kBmpBitfields = 3 };

bool DecodeRle8(BmpReader* in, BmpCanvas* canvas) {
  const int width = canvas->width(), height = canvas->height();
  int line_end_flag = 0;
  for (;;) {
    const uint32_t word = in->Word();
    if (in->overrun) return false;
    const int len = static_cast<int>(word & 255), code = static_cast<int>(word >> 8);
    if (len != 0) {
      const int prev_y = canvas->y;
      if (canvas->x + len > width) return false;
      canvas->Fill(len, code);
      line_end_flag = canvas->y - prev_y;
      if (canvas->y >= height) return true;
    } else if (code > 2) {
      if (canvas->x + code > width) return false;
      uint8_t src[256];
      in->Bytes(src, static_cast<size_t>((code + 1) & ~1));
      if (in->overrun) return false;
      for (int i = 0; i < code; ++i) canvas->PutIndex(src[i]);
      line_end_flag = 0;
    } else {
      int64_t x_shift = width - canvas->x, y_shift = height - canvas->y;
      if (code != 0 || line_end_flag == 0 || canvas->x > 0) {
        if (code == 2) {
          x_shift = in->Byte();
          y_shift = in->Byte();
          if (in->overrun) return false;
        }
        if (code != 0) x_shift += y_shift * width;
        if (canvas->y >= height) return true;
        canvas->Fill(x_shift, 0);
        if (canvas->y >= height) return true;
      }
      line_end_flag = 0;
      if (canvas->y >= height) return true;
    }
  }
}

bool DecodeRle4(BmpReader* in, BmpCanvas* canvas) {
  const int width = canvas->width(), height = canvas->height();
  for (;;) {
    const uint32_t word = in->Word();
    if (in->overrun) return false;
    const int len = static_cast<int>(word & 255), code = static_cast<int>(word >> 8);
    if (len != 0) {
      if (canvas->x + len > width) return false;
      for (int i = 0; i < len; ++i) canvas->PutIndex(i % 2 == 0 ? code >> 4 : code & 15);
    } else if (code > 2) {
      if (canvas->x + code > width) return false;
      uint8_t src[130];
      in->Bytes(src, static_cast<size_t>((((code + 1) >> 1) + 1) & ~1));
      if (in->overrun) return false;
      for (int i = 0; i < code; ++i) canvas->PutIndex(i % 2 == 0 ? src[i / 2] >> 4 : src[i / 2] & 15);
    } else {
      // OpenCV's RLE4 moves only along the row here: a delta's rows and the end of bitmap's remaining rows are
      // not skipped (the next codes are read instead).
      int64_t x_shift = width - canvas->x;
      if (code == 2) {
        x_shift = in->Byte();
        in->Byte();
        if (in->overrun) return false;
      }
      canvas->Fill(x_shift, 0);
      if (canvas->y >= height) return true;
    }
  }
}

Status DecodeBmp(const std::string& path, const uint8_t* data, size_t size, int64_t max_pixels, cv::Mat* image) {
  const auto bad = [&](const std::string& rule) {
    image->release();
    return Status::InvalidArgument(path + ": cannot decode BMP (" + rule + ")");
  };
  BmpReader in{data, size, 0};
  in.Skip(10);
  const int64_t offset = static_cast<int32_t>(in.DWord());
  const int32_t header = static_cast<int32_t>(in.DWord());
  if (in.overrun) return bad("file shorter than its headers");
  if (header <= 0) return bad("header size " + std::to_string(header));
  int64_t width = 0, height = 0;
  int bpp = 0;
  uint32_t compression = kBmpRgb;
  bool color = false;
  uint8_t palette[256][4] = {};
  if (header >= 36) {
    width = static_cast<int32_t>(in.DWord());
    height = static_cast<int32_t>(in.DWord());
    bpp = static_cast<int>(in.DWord() >> 16);
    compression = in.DWord();
    in.Skip(12);
    const int32_t colors_used = static_cast<int32_t>(in.DWord());
    in.Skip(header - 36);
    const bool known = ((bpp == 1 || bpp == 4 || bpp == 8 || bpp == 24 || bpp == 32) && compression == kBmpRgb) ||
                       ((bpp == 16 || bpp == 32) && (compression == kBmpRgb || compression == kBmpBitfields)) ||
                       (bpp == 4 && compression == kBmpRle4) || (bpp == 8 && compression == kBmpRle8);
    if (width <= 0 || height == 0 || !known) {
      return bad(std::to_string(bpp) + " bits per pixel with compression " + std::to_string(compression) + " at " +
                 std::to_string(width) + "x" + std::to_string(height) + " is not a supported layout");
    }
    color = true;
    if (bpp <= 8) {
      if (colors_used < 0 || colors_used > 256) return bad("palette of " + std::to_string(colors_used) + " colours");
      in.Bytes(&palette[0][0], static_cast<size_t>(colors_used == 0 ? 1 << bpp : colors_used) * 4);
      color = false;
      for (int i = 0; i < (1 << bpp); ++i) {
        if (palette[i][0] != palette[i][1] || palette[i][0] != palette[i][2]) color = true;
      }
    } else if (bpp == 16 && compression == kBmpBitfields) {
      const uint32_t red = in.DWord(), green = in.DWord(), blue = in.DWord();
      if (blue == 0x1f && green == 0x3e0 && red == 0x7c00) {
        bpp = 15;
      } else if (!(blue == 0x1f && green == 0x7e0 && red == 0xf800)) {
        return bad("16-bit masks other than 5-5-5 and 5-6-5");
      }
    } else if (bpp == 16) {
      bpp = 15;
    }
  } else if (header == 12) {
    // OS/2 headers: OpenCV decodes them to gray, whatever their colours.
    width = in.Word();  // unsigned, as OpenCV reads them: an OS/2 bitmap is always bottom-up
    height = in.Word();
    bpp = static_cast<int>(in.DWord() >> 16);
    if (width <= 0 || height == 0 || !(bpp == 1 || bpp == 4 || bpp == 8 || bpp == 24 || bpp == 32)) {
      return bad(std::to_string(bpp) + " bits per pixel at " + std::to_string(width) + "x" + std::to_string(height) +
                 " is not a supported OS/2 layout");
    }
    if (bpp <= 8) {
      for (int i = 0; i < (1 << bpp); ++i) {
        palette[i][0] = static_cast<uint8_t>(in.Byte());
        palette[i][1] = static_cast<uint8_t>(in.Byte());
        palette[i][2] = static_cast<uint8_t>(in.Byte());
      }
    }
  } else {
    return bad("header size " + std::to_string(header));
  }
  if (in.overrun) return bad("file shorter than its headers and palette");
  const bool bottom_up = height > 0;
  height = height < 0 ? -height : height;
  QT_RETURN_IF_ERROR(CheckSize(path, "BMP", width, height, max_pixels));
  if (offset < 0 || static_cast<uint64_t>(offset) > size) return bad("pixel data offset beyond the file");

  const int w = static_cast<int>(width), h = static_cast<int>(height);
  // OpenCV 4.6 keeps a 32-bit BMP's fourth byte as alpha only with BITFIELDS compression.
  const int channels = color ? (bpp == 32 && compression != kBmpRgb ? 4 : 3) : 1;
  image->create(h, w, CV_8UC(channels));
  uint8_t gray_palette[256] = {};
  for (int i = 0; i < 256; ++i) gray_palette[i] = BgrToGray(palette[i][0], palette[i][1], palette[i][2]);
  BmpCanvas canvas(image, bottom_up, palette, gray_palette);
  in.pos = static_cast<size_t>(offset);

  if (compression == kBmpRle8 || compression == kBmpRle4) {
    const bool ok = compression == kBmpRle8 ? DecodeRle8(&in, &canvas) : DecodeRle4(&in, &canvas);
    if (!ok) return bad(in.overrun ? "RLE data ends before the image does" : "RLE run beyond the end of a row");
    return Status::Ok();
  }
  const size_t pitch = ((static_cast<size_t>(w) * (bpp != 15 ? bpp : 16) + 7) / 8 + 3) & ~size_t{3};
  std::vector<uint8_t> src(pitch);
  for (int y = 0; y < h; ++y) {
    in.Bytes(src.data(), pitch);
    if (in.overrun) return bad("pixel data ends at row " + std::to_string(y) + " of " + std::to_string(h));
    uint8_t* dst = canvas.Row(y);
    canvas.x = 0;
    canvas.y = y;
    switch (bpp) {
      case 1:
        for (int x = 0; x < w; ++x) canvas.PutIndex((src[x >> 3] >> (7 - (x & 7))) & 1);
        break;
      case 4:
        for (int x = 0; x < w; ++x) canvas.PutIndex(x % 2 == 0 ? src[x / 2] >> 4 : src[x / 2] & 15);
        break;
      case 8:
        for (int x = 0; x < w; ++x) canvas.PutIndex(src[x]);
        break;
      case 15:
      case 16:
        for (int x = 0; x < w; ++x) {
          const int t = src[2 * x] | (src[2 * x + 1] << 8);
          const int b = (t << 3) & 255;
          const int g = bpp == 15 ? (t >> 2) & 0xf8 : (t >> 3) & 0xfc;
          const int r = bpp == 15 ? (t >> 7) & 0xf8 : (t >> 8) & 0xf8;
          if (color) {
            dst[3 * x] = static_cast<uint8_t>(b);
            dst[3 * x + 1] = static_cast<uint8_t>(g);
            dst[3 * x + 2] = static_cast<uint8_t>(r);
          } else {
            dst[x] = BgrToGray(b, g, r);
          }
        }
        break;
      case 24:
        if (color) {
          std::memcpy(dst, src.data(), static_cast<size_t>(w) * 3);
        } else {
          for (int x = 0; x < w; ++x) dst[x] = BgrToGray(src[3 * x], src[3 * x + 1], src[3 * x + 2]);
        }
        break;
      case 32:
        if (channels == 4) {
          std::memcpy(dst, src.data(), static_cast<size_t>(w) * 4);
        } else if (color) {
          for (int x = 0; x < w; ++x) std::memcpy(dst + 3 * x, &src[4 * x], 3);
        } else {
          for (int x = 0; x < w; ++x) dst[x] = BgrToGray(src[4 * x], src[4 * x + 1], src[4 * x + 2]);
        }
        break;
      default:
        return bad(std::to_string(bpp) + " bits per pixel");
    }
  }
  return Status::Ok();
}

}  // namespace

Status DecodeImage(const std::string& path, const uint8_t* data, size_t size, cv::Mat* image, int64_t max_pixels) {
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) {
    return DecodeJpeg(path, data, size, max_pixels, image);
  }
  if (size >= 8 && std::memcmp(data, kPng, 8) == 0) return DecodePng(path, data, size, max_pixels, image);
  if (size >= 2 && data[0] == 'B' && data[1] == 'M') return DecodeBmp(path, data, size, max_pixels, image);
  return Status::InvalidArgument(path + ": cannot decode image (not a JPEG, PNG or BMP: unknown signature)");
}

}  // namespace qt
