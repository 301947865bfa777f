#pragma once

namespace qt {

struct LayerKind;

// Elu: y = x < 0 ? alpha·(exp(x) − 1) : x (TNN's EluLayerParam).
struct EluParams {
  float alpha = 1.f;
};

// Power (TNN's PowLayerParam): y = (scale·x + shift)^exponent.
struct PowerParams {
  float exponent = 1.f;
  float scale = 1.f;
  float shift = 0.f;
};

// Elementwise math layers with TNN's type strings and ids (tnn_layers.md §2.13-2.14), run by UnaryFp32.
const LayerKind& ExpKind();
const LayerKind& LogKind();
const LayerKind& SqrtKind();
const LayerKind& AbsKind();
const LayerKind& NegKind();
const LayerKind& EluKind();
const LayerKind& SoftplusKind();
const LayerKind& SwishKind();
const LayerKind& PowerKind();

}  // namespace qt
