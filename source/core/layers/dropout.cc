#include "core/layers/dropout.h"

#include "core/layers/copy_exec.h"

namespace qt {

const LayerKind& DropoutKind() {
  static const LayerKind kind{"Dropout", {}, 11, false, NoParams, ParseNothing, WriteNothing, CheckOneInOneOut,
                              InferSame, CreateCopyExec, nullptr};
  return kind;
}

}  // namespace qt
