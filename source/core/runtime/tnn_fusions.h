#pragma once

#include "core/graph/graph.h"

namespace qt {

// The load-time graph rewrites of TNN's runtime that change the numbers of a quantized model, as its NAIVE and X86
// devices apply them (source/tnn/optimizer/net_optimizer_fuse_conv_post.cc and net_optimizer_fuse_conv_add.cc @
// f0cb081), so that our engine computes what TNN deploys:
// 1. a quantized convolution followed, in layer order, by the ReLU/ReLU6 that reads its output takes it as its
//    fused activation (when nothing later reads the convolution's output and it has no activation yet);
// 2. a quantized 1x1 convolution (stride 1, no pad, one group) followed, in layer order, by a quantized Add that
//    reads its output takes the Add: the Add's other operand becomes its second input, its output the Add's
//    output, and the accumulator is requantized straight to the Add's output scale (ConvAddInt8);
// 3. then 1 again (a ReLU after the fused Add). Float-only graphs are left alone.
// Where TNN's rule is unsound (an activation that does not read the convolution, an Add of the convolution with
// itself), the layers are left unfused: TNN's own result there is undefined.
void FuseQuantizedLikeTnn(Graph* graph);

}  // namespace qt
