#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

#include "core/base/status.h"

namespace qt {

// Decodes a JPEG, PNG or BMP image (told apart by signature, not by extension) into what OpenCV 4.6's
// cv::imdecode(bytes, IMREAD_UNCHANGED) returns for it, pixel for pixel: 8-bit BGR, BGRA or gray (16-bit for
// 16-bit PNG), with the same libjpeg/libpng transforms and OpenCV's own BMP rules (gray for an all-gray palette,
// BGRA for 32 bits only with BITFIELDS, RLE4/RLE8). Linking OpenCV's imgcodecs instead costs every tool about
// 0.1 s of start-up (it pulls in GDAL, GDCM, HDF5 and some ninety other libraries).
//
// Unlike OpenCV, a JPEG whose data stops early is an error rather than an image padded with gray, and nothing is
// printed: every failure is returned, naming `path` and the rule broken.
//
// Images of more than `max_pixels` (OpenCV's limit by default; every side at most 2^20) are refused before their
// pixels are allocated.
constexpr int64_t kMaxImagePixels = int64_t{1} << 30;
Status DecodeImage(const std::string& path, const uint8_t* data, size_t size, cv::Mat* image,
                   int64_t max_pixels = kMaxImagePixels);

}  // namespace qt
