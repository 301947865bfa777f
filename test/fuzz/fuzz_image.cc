// The JPEG/PNG/BMP decoder (signatures, headers, palettes, RLE streams, libjpeg/libpng errors), then the image
// path of LoadInput (channel conversion and resize) on what it decoded.
#include "quantization/inputs/image_decoder.h"
#include "quantization/inputs/input_loader.h"
#include "test/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qt;
  cv::Mat image;
  // A mutated header can claim a gigapixel image that decodes fine but overruns the campaign's memory limit.
  const Status s = DecodeImage("fuzz.img", data, size, &image, int64_t{1} << 20);
  if (!s.ok()) {
    fuzz::CheckOneLine(s.message());
    return 0;
  }
  if (image.total() > (1u << 16)) return 0;  // a large valid image only slows the campaign down
  const std::string path = fuzz::WriteTemp(".png", data, size);
  Tensor t;
  const Status l = LoadInput(path, {1, 3, 5, 7}, Preprocess(), &t);
  if (!l.ok()) fuzz::CheckOneLine(l.message());
  return 0;
}
