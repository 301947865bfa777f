#pragma once

#include <string>

#include "core/base/status.h"
#include "core/graph/graph.h"

namespace qt {

// Loads a model into a graph, detecting the format by content, not by extension: a TNN .tnnproto (text beginning
// with "1 ", with its .tnnmodel), Caffe prototxt text (with its .caffemodel, see caffe_importer.h) or, given alone, an
// ONNX model (binary ModelProto, see onnx_importer.h).
// `model_path` may be empty where the format has a single file. `input_shapes` replaces the declared dims of the
// inputs it names (before an importer's own shape work); naming no input of the model is an error.
Status LoadModel(const std::string& proto_path, const std::string& model_path, Graph* graph,
                 const InputShapes& input_shapes = {});

}  // namespace qt
