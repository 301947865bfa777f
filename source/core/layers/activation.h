#pragma once

namespace qt {

struct LayerKind;

struct ClipParams {
  float min = 0.f, max = 0.f;
};

// HardSwish: y = x·clamp(alpha·x + beta, 0, 1); HardSigmoid: y = clamp(alpha·x + beta, 0, 1).
struct HardActivationParams {
  float alpha = 1.f / 6.f;
  float beta = 0.5f;
};

// Elementwise activations without weights.
const LayerKind& ReluKind();
const LayerKind& Relu6Kind();
const LayerKind& ClipKind();
const LayerKind& SigmoidKind();
const LayerKind& TanhKind();
const LayerKind& HardSwishKind();
const LayerKind& HardSigmoidKind();

}  // namespace qt
