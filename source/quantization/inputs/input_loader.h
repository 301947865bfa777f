#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/base/tensor.h"
#include "quantization/inputs/preprocess.h"

namespace qt {

// Reads one input tensor of `dims` (NCHW) from a file, by extension (case-insensitive):
// - .jpg .jpeg .png .bmp: decoded as OpenCV's imdecode does (image_decoder.h), converted to the input's channel count (gray, RGB, RGBA),
//   resized straight to W×H with bilinear filtering when the size differs, preprocessed (see Preprocess),
//   written to batch 0 (an image input must have batch 1).
// - .txt: whitespace-separated floats, exactly N·C·H·W of them in NCHW order; no preprocessing.
// - .npy: float32 or float64, C order, with N·C·H·W elements; no preprocessing.
// Errors name the file and the rule broken (count found vs expected, NaN/Inf, undecodable image, ...).
Status LoadInput(const std::string& path, const Dims& dims, const Preprocess& pre, Tensor* out);
Status LoadImage(const std::string& path, const Dims& dims, const Preprocess& pre, Tensor* out);
Status LoadTxt(const std::string& path, const Dims& dims, Tensor* out);
Status LoadNpy(const std::string& path, const Dims& dims, Tensor* out);

// Input files of a folder (not recursive, supported extensions only, hidden files skipped), sorted by name.
Status ListInputFiles(const std::string& dir, std::vector<std::string>* files);

// One calibration sample: a file per model input.
using CalibrationSample = std::map<std::string, std::string>;

// With one input, every file of `dir`; with several, `dir/<input name>/` holds each input's files and files are
// matched across the subfolders by name without extension. A missing subfolder or a name missing from one of
// them is an error naming it. Samples are in sorted name order.
Status ListCalibrationSamples(const std::string& dir, const std::vector<std::string>& input_names,
                              std::vector<CalibrationSample>* samples);

}  // namespace qt
