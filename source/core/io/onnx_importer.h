#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/graph/graph.h"

namespace qt {

// Imports an ONNX model (a binary ModelProto, opsets 1-17 of the default domain) into a graph of TNN layer
// types, ready to run, quantize or write as TNN:
// - static shapes: symbolic or unknown input dims (a batch `N`) become 1; Shape/Gather/Concat/... chains and
//   every other subgraph of constants are evaluated at import;
// - each supported op maps to the TNN layer types that express it exactly (see the table in onnx_ops.cc);
// - names are made valid for a .tnnproto (',', '"', ':', spaces and control characters become '_', clashes get
//   a numeric suffix); graph inputs and outputs keep the model's order;
// - the graph is simplified afterwards (SimplifyGraph: Dropouts removed, BatchNorm folded into convolutions,
//   Conv+ReLU fused).
// Errors are one line starting with `source`: bytes that are not a ModelProto, a node reading a value nobody
// defines, inconsistent shapes (naming the node), or ONE message listing every unsupported op type with its nodes.
// `input_shapes` gives the dims of the inputs it names; otherwise a symbolic or unknown batch dim (axis 0) is 1 and
// any other symbolic or unknown dim is an error naming the input.
Status ImportOnnxModel(const std::vector<uint8_t>& bytes, const std::string& source, Graph* graph,
                       const InputShapes& input_shapes = {});

// Whether input `index` of ONNX op `op_type` must be a constant (initializer, Constant or folded value) for the
// importer: weights, biases, shapes, pads, scales. The ONNX backend node tests feed such inputs as graph inputs,
// so their driver turns them into initializers first.
bool OnnxInputMustBeConstant(const std::string& op_type, int index);

}  // namespace qt
