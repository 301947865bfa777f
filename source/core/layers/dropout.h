#pragma once

namespace qt {

struct LayerKind;

// Dropout at inference: the identity (importers remove it; a TNN file may still hold one).
const LayerKind& DropoutKind();

}  // namespace qt
