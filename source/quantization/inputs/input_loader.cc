#include "quantization/inputs/input_loader.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "core/base/file_io.h"
#include "quantization/inputs/image_decoder.h"

namespace qt {
namespace {

std::string LowerExtension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool IsImageExtension(const std::string& ext) {
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

Status CheckFinite(const std::string& path, const Tensor& t) {
  for (int64_t i = 0; i < t.count(); ++i) {
    if (!std::isfinite(t.data[i])) {
      return Status::InvalidArgument(path + ": value " + std::to_string(i) + " is NaN or Inf");
    }
  }
  return Status::Ok();
}

}  // namespace

Status LoadImage(const std::string& path, const Dims& dims, const Preprocess& pre, Tensor* out) {
  if (dims.size() != 4) return Status::InvalidArgument(path + ": images feed 4-D NCHW inputs, not " + DimsToString(dims));
  const int n = dims[0], c = dims[1], h = dims[2], w = dims[3];
  if (n != 1) return Status::InvalidArgument(path + ": an image fills batch 1, but the input has batch " + std::to_string(n));
  if (c != 1 && c != 3 && c != 4) {
    return Status::InvalidArgument(path + ": images feed inputs of 1, 3 or 4 channels, not " + std::to_string(c));
  }
  std::vector<uint8_t> bytes;
  QT_RETURN_IF_ERROR(ReadFileBytes(path, &bytes));
  cv::Mat img;
  QT_RETURN_IF_ERROR(DecodeImage(path, bytes.data(), bytes.size(), &img));
  if (img.depth() == CV_16U) img.convertTo(img, CV_8U, 1.0 / 257.0);
  if (img.depth() != CV_8U) return Status::Unsupported(path + ": only 8-bit and 16-bit images are supported");
  // OpenCV decodes to BGR(A); TNN's tool reads RGB(A) with stb, so channel order is converted to RGB(A) here
  // and reverse_channel gives BGR(A) back. A 3-channel image feeding 3 channels keeps OpenCV's order, and the
  // channels are picked in reverse below: resizing treats each channel alike, so the values are the same without
  // a pass over the full-size image.
  cv::Mat conv;
  const int src_c = img.channels();
  const bool bgr = c == 3 && src_c == 3;
  if (bgr) {
    conv = img;
  } else if (c == 1) {
    if (src_c == 1) conv = img;
    else cv::cvtColor(img, conv, src_c == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  } else if (c == 3) {
    if (src_c == 1) cv::cvtColor(img, conv, cv::COLOR_GRAY2RGB);
    else cv::cvtColor(img, conv, src_c == 4 ? cv::COLOR_BGRA2RGB : cv::COLOR_BGR2RGB);
  } else {
    if (src_c == 1) cv::cvtColor(img, conv, cv::COLOR_GRAY2RGBA);
    else cv::cvtColor(img, conv, src_c == 4 ? cv::COLOR_BGRA2RGBA : cv::COLOR_BGR2RGBA);
  }
  if (conv.rows != h || conv.cols != w) {
    cv::Mat resized;
    cv::resize(conv, resized, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
    conv = resized;
  }
  QT_RETURN_IF_ERROR(pre.Validate(c, path));
  *out = Tensor(dims);
  for (int dc = 0; dc < c; ++dc) {
    const int rgb = (pre.reverse_channel && c >= 3 && dc < 3) ? 2 - dc : dc;
    const int sc = bgr ? 2 - rgb : rgb;
    const float mean = pre.Mean(dc), scale = pre.Scale(dc);
    float* dst = out->data.data() + int64_t{dc} * h * w;
    for (int y = 0; y < h; ++y) {
      const uint8_t* row = conv.ptr<uint8_t>(y);
      for (int x = 0; x < w; ++x) dst[y * w + x] = (static_cast<float>(row[x * c + sc]) - mean) * scale;
    }
  }
  return Status::Ok();
}

Status LoadTxt(const std::string& path, const Dims& dims, Tensor* out) {
  std::string text;
  QT_RETURN_IF_ERROR(ReadFileText(path, &text));
  const int64_t want = DimsCount(dims);
  *out = Tensor(dims);
  int64_t count = 0;
  const char* p = text.c_str();
  const char* end = p + text.size();
  while (p < end) {
    while (p < end && std::isspace(static_cast<unsigned char>(*p))) ++p;
    if (p >= end) break;
    char* next = nullptr;
    const float v = std::strtof(p, &next);
    if (next == p || (next < end && !std::isspace(static_cast<unsigned char>(*next)))) {
      const char* tok_end = p;
      while (tok_end < end && !std::isspace(static_cast<unsigned char>(*tok_end))) ++tok_end;
      return Status::InvalidArgument(path + ": value " + std::to_string(count + 1) + " '" + std::string(p, tok_end) +
                                     "' is not a number");
    }
    if (!std::isfinite(v)) {
      return Status::InvalidArgument(path + ": value " + std::to_string(count + 1) + " is NaN or Inf");
    }
    if (count < want) out->data[count] = v;
    ++count;
    p = next;
  }
  if (count != want) {
    return Status::InvalidArgument(path + ": holds " + std::to_string(count) + " numbers, but the input " +
                                   DimsToString(dims) + " needs exactly " + std::to_string(want));
  }
  return Status::Ok();
}

Status LoadNpy(const std::string& path, const Dims& dims, Tensor* out) {
  std::string data;
  QT_RETURN_IF_ERROR(ReadFileText(path, &data));
  if (data.size() < 10 || data.compare(0, 6, "\x93NUMPY") != 0) {
    return Status::InvalidArgument(path + ": not a .npy file (bad magic)");
  }
  const int major = static_cast<unsigned char>(data[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(data[8]) | (static_cast<unsigned char>(data[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12) return Status::InvalidArgument(path + ": truncated .npy header");
    uint32_t len = 0;
    std::memcpy(&len, data.data() + 8, 4);
    header_len = len;
    offset = 12;
  } else {
    return Status::Unsupported(path + ": .npy version " + std::to_string(major) + " is not supported");
  }
  if (offset + header_len > data.size()) return Status::InvalidArgument(path + ": truncated .npy header");
  const std::string header = data.substr(offset, header_len);
  offset += header_len;
  auto field = [&](const std::string& key) -> std::string {
    const size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) return "";
    size_t v = header.find(':', k);
    if (v == std::string::npos) return "";
    ++v;
    while (v < header.size() && header[v] == ' ') ++v;
    const char open = header[v];
    const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
    const size_t e = header.find(close, v + 1);
    return header.substr(v, e == std::string::npos ? std::string::npos : e - v + 1);
  };
  const std::string descr = field("descr"), order = field("fortran_order"), shape = field("shape");
  if (order.find("True") != std::string::npos) {
    return Status::Unsupported(path + ": Fortran-order arrays are not supported (save with C order)");
  }
  int elem = 0;
  if (descr == "'<f4'") elem = 4;
  else if (descr == "'<f8'") elem = 8;
  else return Status::Unsupported(path + ": dtype " + descr + " is not supported (float32 '<f4' or float64 '<f8')");
  const int64_t want = DimsCount(dims);
  // The shape's product only has to be compared with `want`: it saturates just above it, so that huge dims
  // cannot overflow.
  int64_t count = 1;
  {
    const int64_t cap = want + 1;
    int64_t dim = 0;
    bool in_dim = false;
    for (char ch : shape + ",") {
      if (std::isdigit(static_cast<unsigned char>(ch))) {
        dim = std::min<int64_t>(cap, dim * 10 + (ch - '0'));
        in_dim = true;
      } else if (in_dim) {
        count = dim == 0 ? 0 : std::min<int64_t>(cap, count > cap / dim ? cap : count * dim);
        dim = 0;
        in_dim = false;
      }
    }
  }
  if (count != want) {
    return Status::InvalidArgument(path + ": shape " + shape + " holds " +
                                   (count > want ? "more than " + std::to_string(want) : std::to_string(count)) +
                                   " values, but the input " + DimsToString(dims) + " needs " + std::to_string(want));
  }
  if (data.size() - offset < static_cast<size_t>(count) * elem) {
    return Status::InvalidArgument(path + ": truncated data (" + std::to_string(data.size() - offset) + " bytes for " +
                                   std::to_string(count) + " values)");
  }
  *out = Tensor(dims);
  for (int64_t i = 0; i < count; ++i) {
    if (elem == 4) {
      std::memcpy(&out->data[i], data.data() + offset + 4 * i, 4);
    } else {
      double d;
      std::memcpy(&d, data.data() + offset + 8 * i, 8);
      out->data[i] = static_cast<float>(d);
    }
  }
  return CheckFinite(path, *out);
}

Status LoadInput(const std::string& path, const Dims& dims, const Preprocess& pre, Tensor* out) {
  const std::string ext = LowerExtension(path);
  if (IsImageExtension(ext)) return LoadImage(path, dims, pre, out);
  if (ext == ".txt") return LoadTxt(path, dims, out);
  if (ext == ".npy") return LoadNpy(path, dims, out);
  return Status::Unsupported(path + ": unsupported input type '" + ext + "' (.jpg .jpeg .png .bmp .txt .npy)");
}

Status ListInputFiles(const std::string& dir, std::vector<std::string>* files) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir + ": not a folder");
  files->clear();
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || !e.is_regular_file(ec)) continue;
    const std::string ext = LowerExtension(name);
    if (IsImageExtension(ext) || ext == ".txt" || ext == ".npy") files->push_back(e.path().string());
  }
  if (ec) return Status::IoError(dir + ": cannot list (" + ec.message() + ")");
  std::sort(files->begin(), files->end());
  if (files->empty()) return Status::NotFound(dir + ": no input file (.jpg .jpeg .png .bmp .txt .npy) in the folder");
  return Status::Ok();
}

Status ListCalibrationSamples(const std::string& dir, const std::vector<std::string>& input_names,
                              std::vector<CalibrationSample>* samples) {
  namespace fs = std::filesystem;
  samples->clear();
  if (input_names.size() == 1) {
    std::vector<std::string> files;
    QT_RETURN_IF_ERROR(ListInputFiles(dir, &files));
    for (const auto& f : files) samples->push_back({{input_names[0], f}});
    return Status::Ok();
  }
  std::map<std::string, CalibrationSample> by_stem;
  for (const auto& name : input_names) {
    const std::string sub = (fs::path(dir) / name).string();
    std::vector<std::string> files;
    QT_RETURN_IF_ERROR(ListInputFiles(sub, &files).WithContext("input '" + name + "' needs its own subfolder"));
    for (const auto& f : files) by_stem[fs::path(f).stem().string()][name] = f;
  }
  for (const auto& [stem, sample] : by_stem) {
    for (const auto& name : input_names) {
      if (!sample.count(name)) {
        return Status::InvalidArgument(dir + ": sample '" + stem + "' has no file for input '" + name + "' in " +
                                       (fs::path(dir) / name).string());
      }
    }
    samples->push_back(sample);
  }
  return Status::Ok();
}

}  // namespace qt
