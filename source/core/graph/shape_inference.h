#pragma once

#include <map>
#include <string>

#include "core/base/status.h"
#include "core/base/tensor.h"
#include "core/graph/graph.h"

namespace qt {

using BlobDims = std::map<std::string, Dims>;

// Infers every blob's dims from the model inputs' dims (graph.inputs unless overridden in `input_dims`), layer by
// layer through each kind's shape rule (core/layers/). Errors name the layer and the mismatch (e.g. a conv whose
// input has 4 channels but expects 3).
Status InferShapes(const Graph& graph, const BlobDims& input_dims, BlobDims* blob_dims);

}  // namespace qt
