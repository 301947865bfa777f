#pragma once

namespace qt {

struct LayerKind;

// Gather (TNN's GatherLayerParam): out = data[:axis] + indices + data[axis+1:]. data_in_resource: the data is the
// layer resource's (the input blob then only orders execution), else input 0; indices_in_resource: the indices
// are the resource's int32 buffer (its dims are the indices' shape; no dims with one value is a scalar index).
struct GatherParams {
  int axis = 0;
  int data_in_resource = 0;
  int indices_in_resource = 1;
};

const LayerKind& GatherKind();

}  // namespace qt
