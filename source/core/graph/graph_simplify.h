#pragma once

#include <set>
#include <string>

#include "core/base/status.h"
#include "core/graph/graph.h"

namespace qt {

// Graph clean-up passes shared by the model importers and the quantizer. Each returns the number of rewrites it
// made. A removed layer's output name survives (its producer takes it over), so model outputs and the blob names
// a user knows keep their names. The declared blob list (Graph::blob_names) is kept as is, as TNN keeps it.

// Fuses Convolution → ReLU / ReLU6 as TNN's runtime optimizer does on every device (tnn_format.md §C.2): when the
// convolution has no activation yet and its output is read only by that one activation layer (and is not a model
// output), the activation layer disappears, the convolution's `activation` becomes 1 or 2 and its output takes
// the activation's output name. A convolution whose output is in `keep` keeps its activation layer (a blob another
// graph refers to by name).
int FuseConvActivation(Graph* graph, const std::set<std::string>& keep = {});

// Folds a BatchNorm or Scale that directly follows a Convolution (whose output feeds nothing else and which has
// no fused activation) into the convolution's weights and bias: w'[o] = w[o]·s[o], b'[o] = b[o]·s[o] + t[o].
// Folded resources are float32 (fp16 inputs are widened).
int FoldConvBatchNorm(Graph* graph);

// Removes Dropout layers (identities at inference): consumers read the Dropout's input instead. A Dropout whose
// output is a model output is removed only when its producer's output can take the name over.
int RemoveDropouts(Graph* graph);

struct SimplifyCounts {
  int dropouts = 0, folded_norms = 0, fused_activations = 0;
};

// Every pass above, in an order where each enables the next: dropouts, norm folding, activation fusion.
SimplifyCounts SimplifyGraph(Graph* graph);

}  // namespace qt
