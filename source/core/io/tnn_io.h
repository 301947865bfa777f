#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/file_io.h"
#include "core/base/status.h"
#include "core/graph/graph.h"

namespace qt {

// Reader and writer of TNN models (.tnnproto text + .tnnmodel binary), following tnn_format.md §A-C.
// Errors are one line naming the file and the rule broken.

// Parses .tnnproto text into graph inputs, outputs, blob list and layers. `source` names the file in errors.
Status ParseTnnProto(const std::string& text, const std::string& source, Graph* graph);
// Text of a .tnnproto for the graph, as TNN's ModelPacker writes it (v2 magic, inputs sorted by name,
// every token followed by one space).
std::string SerializeTnnProto(const Graph& graph);

// Parses .tnnmodel bytes into graph resources, blob scales and constants. The proto must be parsed first:
// resources are matched to layers by name.
Status ParseTnnModel(const std::vector<uint8_t>& bytes, const std::string& source, Graph* graph);
// Bytes of a .tnnmodel: resources in layer order (input blob scales, layer resource, output blob scales for
// quantized layers), then the constant map if it is not empty.
std::vector<uint8_t> SerializeTnnModel(const Graph& graph);

// Reads both files and validates the graph.
Status ReadTnnModel(const std::string& proto_path, const std::string& model_path, Graph* graph);
// Writes both files through temporary names and renames them into place, so a failure leaves no partial
// output behind.
Status WriteTnnModel(const Graph& graph, const std::string& proto_path, const std::string& model_path);

// Writes `files` (path, content) atomically as a group: all to temporary names first, then renamed.
Status WriteFilesAtomically(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace qt
