#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/base/tensor.h"
#include "core/graph/graph.h"
#include "core/graph/shape_inference.h"
#include "core/kernels/kernels_fp32.h"

namespace qt {

class LayerExec;
class PadInt8;

// The values of a network's blobs, held outside it (Net::SwapValues).
class NetValues {
 public:
  NetValues();
  ~NetValues();
  NetValues(NetValues&&) noexcept;
  NetValues& operator=(NetValues&&) noexcept;

 private:
  friend class Net;
  struct Value;
  std::vector<Value> values_;
};

// Called after each layer has run, with the layer and its output blobs as float tensors (int8 outputs are
// dequantized for the callback). Returning a non-ok Status stops the forward pass.
using LayerCallback = std::function<Status(const Layer& layer, const std::vector<const Tensor*>& outputs)>;

// Executes a graph on the CPU. Layers marked quantized run on int8 kernels with TNN's runtime semantics
// (tnn_format.md §C.8); the conversions between int8 and float blobs that TNN's runtime inserts as Reformat
// layers happen where a consumer needs the other representation.
class Net {
 public:
  Net();
  ~Net();
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  // Prepares the layers (fp16 weights converted to float, int8 requantization multipliers precomputed) and
  // allocates every blob. `input_dims` overrides the model's declared input dims.
  // `tnn_naive` runs float convolutions with TNN's NAIVE-device arithmetic (see Conv2dFp32Tnn).
  Status Init(const Graph& graph, const BlobDims& input_dims = {}, bool tnn_naive = false);
  // The same, taking the graph over instead of copying it (a copy of its weights can be megabytes).
  Status Init(Graph&& graph, const BlobDims& input_dims = {}, bool tnn_naive = false);

  const std::vector<InputSpec>& inputs() const { return inputs_; }
  const std::vector<std::string>& outputs() const { return graph_.outputs; }
  const Graph& graph() const { return graph_; }
  const BlobDims& blob_dims() const { return blob_dims_; }

  // With recycling on, an intermediate blob's memory goes back to a pool once its last consumer has run, and later
  // layers take their outputs from that pool (a buffer of exactly their size, so nothing is cleared or
  // reallocated after the first pass). Activations then stay within a few buffers that remain in cache, and the
  // network holds the live blobs only. After Forward only the model's inputs and outputs keep their values
  // (GetBlob/ViewBlob of another blob fail); the layer callback still sees every layer's outputs. Off by default.
  void set_recycle_blobs(bool on) { recycle_ = on; }

  // Copies a float input; its dims must equal the input's dims.
  Status SetInput(const std::string& name, const Tensor& input);
  Status Forward(const LayerCallback& callback = nullptr);
  // Runs layers [begin, end) of graph().layers (the graph after TNN's load-time fusions) on the values the blobs
  // hold, so that a pass can be taken one layer at a time: Forward(cb) is ForwardLayers(0, size, cb) after the
  // blobs are cleared. Needs recycling off.
  Status ForwardLayers(size_t begin, size_t end, const LayerCallback& callback = nullptr);
  // Frees the values of the blobs no layer from `begin` on reads (the model's outputs keep theirs), so that a pass
  // taken one layer at a time holds its live blobs only. The layers before `begin` cannot be run again until the
  // next Forward, for which a released input must be set again.
  void ReleaseBlobsBefore(size_t begin);
  // Exchanges the values of every blob with *values (which hold none at first), so that one network, its layers
  // prepared once, runs several inputs in turn: an input's values are swapped in, its layers run (SetInput,
  // ForwardLayers, ReleaseBlobsBefore and ViewBlob as usual) and the values swapped out again. A network of the
  // same graph, prepared the same way, may take them next. Needs recycling off (the pooled buffers stay here).
  void SwapValues(NetValues* values);
  // Replaces a layer's weights (same shapes and kinds) and prepares its executor again; the blobs keep their values.
  Status SetLayerResource(const std::string& layer, LayerResource resource);

  // The float value of a blob after Forward (an int8 blob is dequantized on demand).
  Status GetBlob(const std::string& name, Tensor* out) const;
  // The same without a copy when the blob holds floats: *value points at the blob itself, valid until the next
  // Forward; an int8 blob is dequantized into `scratch`, which *value then points at.
  Status ViewBlob(const std::string& name, const Tensor** value, Tensor* scratch) const;

 private:
  struct Blob;
  Blob* FindBlob(const std::string& name);
  const Blob* FindBlob(const std::string& name) const;

  Graph graph_;
  std::vector<InputSpec> inputs_;
  BlobDims blob_dims_;
  std::map<std::string, std::unique_ptr<Blob>> blobs_;
  std::vector<std::unique_ptr<LayerExec>> execs_;
  // Recycling: the blobs whose last reader is layer i (or, never read, its writer), and the free buffers.
  bool recycle_ = false;
  std::vector<std::vector<Blob*>> release_after_;
  // Each model input and the last layer that reads it (ReleaseBlobsBefore; recycling keeps the inputs).
  std::vector<std::pair<Blob*, size_t>> input_last_read_;
  std::vector<std::vector<float>> free_float_;
  std::vector<std::vector<int8_t>> free_int8_;
  void Release(Blob* b);
  // Layer i's only output is read by layer i + 1 alone and is no model output: with recycling on and no callback,
  // a float 1x1 convolution there and the depthwise one after it (and a 1x1 projection after that, the same way)
  // run fused (ConvFp32::RunWithDepthwise), the blobs between them never written. RunFused returns the number of
  // layers it ran from layer i on (0: none), before `end`; it also runs the Pad plans below (pad_add_,
  // padded_conv_).
  std::vector<bool> feeds_next_only_;
  // The same for a float convolution and the max pooling after it (ConvFp32::RunWithMaxPool) or the global average
  // pooling after it (ConvFp32::RunWithGlobalAverage): the pooling's parameters by the convolution's layer index,
  // where the next layer is a float Pooling.
  std::map<size_t, Pool2dParams> pool_after_;
  size_t RunFused(size_t i, size_t end);
  // A float Concat along channels of a batch-1 blob whose inputs are each written by a float convolution and read
  // by the Concat alone: with recycling on and no callback, each convolution writes its output straight into its
  // slice of the Concat's output, and the Concat itself copies nothing (SqueezeNet's fire modules). Per blob, the
  // Concat output it lands in (nullptr: none) and its offset there in floats; per layer, whether it is such a Concat.
  std::map<const Blob*, std::pair<Blob*, int64_t>> concat_slot_;
  // A float Pad or PReLU between int8 layers (its input written by one, every reader of its output one, and not a
  // model output), which TNN's runtime runs between a dequantizing and a quantizing Reformat: with recycling on and
  // no callback it runs on the bytes (PadInt8, the same values), so neither its input nor its output is ever
  // float. Where a float layer also reads the output (or it is a model output), the layer runs in float as well
  // and PadInt8 gives the int8 readers their bytes without the quantization. Per layer, its kernel (nullptr: none)
  // and whether the float run is kept.
  std::vector<std::unique_ptr<PadInt8>> int8_pad_;
  std::vector<bool> int8_pad_keeps_float_;
  // A float Pad or PReLU after an int8 layer whose output only a float max Pooling reads, every reader of the
  // pooling's output int8 (MTCNN's PReLU → MaxPool → convolution): with recycling on and no callback the map goes
  // straight to the pooling's output scale and the pooling runs on the bytes (MaxPool2dInt8): the max of quantized
  // values is the quantized max wherever quantizing is non-decreasing, which positive scales make it (the map's
  // PReLU comes before the max either way). Per layer index of the Pad or PReLU, its map and the pooling's
  // parameters.
  std::map<size_t, std::pair<std::unique_ptr<PadInt8>, Pool2dParams>> int8_pool_;
  void PlanInt8Pads(const std::map<std::string, int>& readers);
  // A float Add of two same-shape blobs, one of them written by a float channel Pad (constant, no spatial pads)
  // that nothing else reads and that is no model output, and, where the next layer is a float ReLU that alone
  // reads the Add's output, that ReLU (BlazeFace's blocks: the shortcut widened by a Pad, added, rectified): with
  // recycling on and no callback the Pad is skipped and AddChannelPaddedFp32 computes the Add (and the ReLU) from
  // the Pad's input, so neither the padded tensor nor the Add's output is written. By the Add's layer index; the
  // Pad's input is then released after the Add instead of after its other readers.
  struct PadAdd {
    Blob* x = nullptr;
    Blob* z = nullptr;
    PadParams4d params;
    bool pad_first = false, relu = false;
  };
  std::map<size_t, PadAdd> pad_add_;
  std::vector<bool> pad_skipped_;
  void PlanPadAdds(const std::map<std::string, int>& readers);
  // A float Pad of zeros around the planes only, whose output only a float direct convolution reads (BlazeFace's
  // bottom/right border before a stride-2 window): with recycling on and no callback the Pad is skipped and a
  // second ConvFp32, prepared for the Pad's input with the border as its own padding, runs instead. Zeros outside
  // the input are what the border held, and the convolution's sums start from 0 and add its products in tap order
  // either way, so the values are the same. By the convolution's layer index: the Pad's input and the convolution.
  std::map<size_t, std::pair<Blob*, std::unique_ptr<ConvFp32>>> padded_conv_;
  void PlanPaddedConvs(const std::map<std::string, int>& readers);
  // Moves b's release to after layer j where it came earlier (a skipped layer's input read later in its place).
  void KeepUntil(Blob* b, size_t j);
  // The layer that writes each blob.
  std::map<std::string, size_t> Writers() const;
  std::vector<bool> concat_in_place_;
  // `readers`: how many layers read each blob, a model output counting once more.
  void PlanConcatsInPlace(const std::map<std::string, int>& readers);
  // The buffer a float layer's output goes to on the fast path: its slice of a Concat's output, or its own.
  float* FloatOutput(Blob* b);
  Status PrepareLayer(size_t i);
  bool tnn_naive_ = false;
};

}  // namespace qt
