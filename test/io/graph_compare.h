#pragma once

#include <gtest/gtest.h>

#include "core/graph/graph.h"
#include "core/io/tnn_io.h"

namespace qt {

// Field-by-field comparison of two graphs (params compared through their written tokens, resources through
// their serialized bytes), reporting the first differing layer or resource by name.
inline void ExpectSameGraph(const Graph& a, const Graph& b) {
  ASSERT_EQ(a.inputs.size(), b.inputs.size());
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    EXPECT_EQ(a.inputs[i].name, b.inputs[i].name);
    EXPECT_EQ(a.inputs[i].dims, b.inputs[i].dims) << a.inputs[i].name;
    EXPECT_EQ(a.inputs[i].dtype, b.inputs[i].dtype) << a.inputs[i].name;
  }
  EXPECT_EQ(a.outputs, b.outputs);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    const Layer& x = a.layers[i];
    const Layer& y = b.layers[i];
    SCOPED_TRACE("layer " + x.name);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.quantized, y.quantized);
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.outputs, y.outputs);
    std::vector<std::string> px, py;
    WriteLayerParams(x.type, x.params, &px);
    WriteLayerParams(y.type, y.params, &py);
    EXPECT_EQ(px, py);
    EXPECT_EQ(x.params.index(), y.params.index());
  }
  ASSERT_EQ(a.resources.size(), b.resources.size());
  for (const auto& [name, r] : a.resources) {
    ASSERT_TRUE(b.resources.count(name)) << name;
    EXPECT_EQ(r.index(), b.resources.at(name).index()) << name;
  }
  EXPECT_EQ(SerializeTnnModel(a), SerializeTnnModel(b));
  EXPECT_EQ(a.blob_scales, b.blob_scales);
  EXPECT_EQ(a.constants.size(), b.constants.size());
}

}  // namespace qt
