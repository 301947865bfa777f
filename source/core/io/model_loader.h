#pragma once

#include <string>

#include "core/base/status.h"
#include "core/graph/graph.h"

namespace qt {

// Loads a model into a graph, detecting the format by content, not by extension: Caffe prototxt text (with its
// .caffemodel, see caffe_importer.h) or a TNN .tnnproto (with its .tnnmodel).
// `model_path` may be empty where the format has a single file.
Status LoadModel(const std::string& proto_path, const std::string& model_path, Graph* graph);

}  // namespace qt
