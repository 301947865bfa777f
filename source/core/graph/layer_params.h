#pragma once

#include <string>
#include <variant>
#include <vector>

#include "core/base/status.h"
#include "core/graph/layer_type.h"
#include "core/layers/activation.h"
#include "core/layers/axis_layers.h"
#include "core/layers/binary.h"
#include "core/layers/conv1d.h"
#include "core/layers/convolution.h"
#include "core/layers/dropout.h"
#include "core/layers/inner_product.h"
#include "core/layers/instance_norm.h"
#include "core/layers/matmul.h"
#include "core/layers/pad.h"
#include "core/layers/permute.h"
#include "core/layers/pooling.h"
#include "core/layers/pooling1d.h"
#include "core/layers/prelu.h"
#include "core/layers/reshape.h"
#include "core/layers/scale.h"
#include "core/layers/param_io.h"
#include "core/layers/split_v.h"
#include "core/layers/upsample.h"
#include "core/layers/unary.h"
#include "core/layers/strided_slice_v2.h"
#include "core/layers/reduce.h"
#include "core/layers/gather.h"
#include "core/layers/prior_box.h"
#include "core/layers/detection_output.h"
#include "core/layers/normalize.h"
#include "core/layers/shuffle_channel.h"
#include "core/layers/lrn.h"
#include "core/layers/strided_slice.h"

namespace qt {

// Per-layer parameters as a .tnnproto layer line carries them (§A.4 of tnn_format.md). Each struct lives with its
// layer kind under core/layers/, where its reader and writer sit side by side.
using LayerParams = std::variant<std::monostate, ConvParams, PoolParams, ClipParams, PReluParams,
                                 HardActivationParams, BinaryParams, AxisParams, InnerProductParams, ScaleParams,
                                 ReshapeParams, PermuteParams, PadParams, UpsampleParams, SplitVParams,
                                 MatMulParams, Conv1dParams, Pool1dParams, InstanceNormParams, EluParams,
                                 PowerParams, StridedSliceV2Params, ReduceParams, GatherParams,
                                 PriorBoxLayerParams, DetectionOutputLayerParams,
                                 NormalizeLayerParams, ShuffleChannelParams, LrnLayerParams, StridedSliceParams>;

// Default params for a type (what a layer line without params means).
LayerParams DefaultLayerParams(LayerType type);

// Parses the param tokens of one layer line (everything after the output blob names).
// Errors name the parameter and the rule broken; the caller adds file and layer context.
Status ParseLayerParams(LayerType type, const std::vector<std::string>& tokens, LayerParams* params);

// Writes every param of the type (defaults included), in file order.
void WriteLayerParams(LayerType type, const LayerParams& params, std::vector<std::string>* tokens);

}  // namespace qt
