#pragma once

#include <set>
#include <string>

#include "core/base/status.h"
#include "core/graph/graph.h"
#include "core/graph/shape_inference.h"

namespace qt {

// The blobs whose statistics calibration collects: every input and output of Convolution, Add, Concat,
// InnerProduct, ReLU and Pooling layers (§D.1 step 2), in layer order without duplicates.
std::vector<std::string> CalibratedBlobs(const Graph& graph);

// Blobs that must have a single (per-tensor) scale whatever the merge type: inputs and outputs of
// InnerProduct, whose int8 kernel takes one input scale (§D.5).
std::set<std::string> PerTensorBlobs(const Graph& graph);

// Whether a layer is one quantization_cmd turns into an int8 layer by itself (Conv, FC, a two-input Add of
// same-shape inputs, Concat), before scale merging extends the int8 region through ReLU and max pooling. An Add
// that broadcasts stays float (TNN's int8 Add kernel does not broadcast), and so does a convolution with a fused
// swish (its int8 kernel would drop it), and so does a Concat of PriorBox outputs (SSD's prior boxes).
bool IsQuantizableLayer(const Graph& graph, const Layer& layer, const BlobDims& dims);

// ReLU and max pooling: int8 layers whose output keeps their input's scale (tnn_format.md §D.7).
bool PassesScaleThrough(const Layer& l);

// Blobs from which no int8 layer is reachable: everything after them up to the model outputs stays float (an
// average pooling, a softmax, ...), so their values are the model's scores in all but the last float steps.
std::set<std::string> HeadBlobs(const Graph& graph, const BlobDims& dims);

// TNN's MergeBlobScale (§D.7): a ReLU or max Pooling whose producer is quantized and whose input and output
// both have scales is marked quantized and its input blob takes its output blob's scale, repeated back along
// chains (ReLU → MaxPool). Returns the names of the layers marked.
std::vector<std::string> MergeBlobScales(Graph* graph);

// A Pad stays float in TNN's runtime, between a dequantization of its input and a quantization of its output. Its
// output holds its input's values and the constant, so it takes its input's scale (where both blobs have scales of
// the same length and the constant is within the input's range): each byte then comes back unchanged instead of
// being rounded twice, and our engine copies bytes (PadInt8). Returns the output blobs whose scale changed.
std::vector<std::string> ShareScaleThroughPads(Graph* graph);

}  // namespace qt
