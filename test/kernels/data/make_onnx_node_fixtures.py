#!/usr/bin/python3
"""Writes test/kernels/data/onnx_node/*.txt from ONNX's backend node tests, for tensor_ops_fp32_test.

Run by hand (not at build time) after changing the op list:
    apt-get install libonnx-testdata python3-onnx python3-numpy
    /usr/bin/python3 test/kernels/data/make_onnx_node_fixtures.py [node test dir]

Each fixture is one node test's test_data_set_0: the op's parameters (read from model.onnx's attributes, or from
its constant inputs where the op takes them as inputs), its data input(s) and the expected output. Format, one
item per line, whitespace-separated tokens, '#' lines are comments:
    op <name>                       the kernel to run (slice, gather, reduce_<op>, lrn, instancenorm, <unary op>)
    ints <name> <count> <values>    integer parameters; a list ONNX left out is not written
    floats <name> <count> <values>  float parameters
    tensor <name> <rank> <dims> <values>   float32 tensors: 'input' and 'expected' (and scale/bias)
Float values are the shortest decimal that reads back as the same float32. Float64 test data (some reduce
cases) is rounded to float32. Cases with more than MAX_VALUES numbers are skipped to keep the folder small.
"""

import glob
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

MAX_VALUES = 2600

UNARY = {
    "Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Abs": "abs", "Neg": "neg", "Elu": "elu", "Softplus": "softplus",
    "Reciprocal": "reciprocal", "Floor": "floor", "Ceil": "ceil", "Sign": "sign", "Erf": "erf",
}
REDUCE = {
    "ReduceMean": "mean", "ReduceMax": "max", "ReduceMin": "min", "ReduceSum": "sum",
    "ReduceSumSquare": "sum_square", "ReduceL1": "l1", "ReduceL2": "l2", "ReduceLogSumExp": "log_sum_exp",
    "ReduceProd": "prod", "ReduceLogSum": "log_sum",
}
PATTERNS = ["slice*", "gather_*", "reduce_*", "lrn*", "instancenorm*", "elu*", "softplus*", "exp", "exp_example",
            "log", "log_example", "sqrt*", "abs", "neg*", "reciprocal*", "floor*", "ceil*", "sign", "erf",
            "pow_bcast_scalar"]


def load(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def floats(a):
    return " ".join(str(np.float32(v)) for v in np.asarray(a, np.float32).ravel())


def ints(a):
    return " ".join(str(int(v)) for v in np.asarray(a).ravel())


def tensor_line(name, a):
    a = np.asarray(a)
    return f"tensor {name} {a.ndim} {ints(a.shape)}\n{floats(a)}".rstrip()


def fixture(case_dir):
    """Returns (text, value count) for one node test, or (None, reason) when it is not one we run."""
    model = onnx.load(os.path.join(case_dir, "model.onnx"))
    if len(model.graph.node) != 1:
        return None, "not a single node"
    node = model.graph.node[0]
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    data = sorted(glob.glob(os.path.join(case_dir, "test_data_set_0", "input_*.pb")))
    inputs = [load(p) for p in data]
    expected = load(os.path.join(case_dir, "test_data_set_0", "output_0.pb"))
    x = inputs[0]
    if x.dtype not in (np.float32, np.float64) or expected.dtype not in (np.float32, np.float64):
        return None, f"{x.dtype} data"
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    lines = [f"# libonnx-testdata {onnx.__version__}: node/{os.path.basename(case_dir)} "
             f"({node.op_type}, opset {opset})"]
    op = node.op_type
    if op == "Slice":
        lines.append("op slice")
        names = ["starts", "ends", "axes", "steps"]
        for name, value in zip(names, inputs[1:]):
            lines.append(f"ints {name} {value.size} {ints(value)}".rstrip())
    elif op == "Gather":
        lines.append("op gather")
        lines.append(f"ints axis 1 {attrs.get('axis', 0)}")
        lines.append(f"ints indices_dims {inputs[1].ndim} {ints(inputs[1].shape)}".rstrip())
        lines.append(f"ints indices {inputs[1].size} {ints(inputs[1])}".rstrip())
    elif op in REDUCE:
        lines.append(f"op reduce_{REDUCE[op]}")
        axes = inputs[1] if len(inputs) > 1 else attrs.get("axes")
        if axes is not None:
            axes = np.asarray(axes)
            lines.append(f"ints axes {axes.size} {ints(axes)}".rstrip())
        lines.append(f"ints keepdims 1 {attrs.get('keepdims', 1)}")
        lines.append(f"ints noop_with_empty_axes 1 {attrs.get('noop_with_empty_axes', 0)}")
    elif op == "LRN":
        lines.append("op lrn")
        lines.append(f"ints size 1 {attrs['size']}")
        lines.append(f"floats alpha 1 {np.float32(attrs.get('alpha', 1e-4))}")
        lines.append(f"floats beta 1 {np.float32(attrs.get('beta', 0.75))}")
        lines.append(f"floats bias 1 {np.float32(attrs.get('bias', 1.0))}")
    elif op == "InstanceNormalization":
        lines.append("op instancenorm")
        lines.append(f"floats epsilon 1 {np.float32(attrs.get('epsilon', 1e-5))}")
        lines.append(tensor_line("scale", inputs[1]))
        lines.append(tensor_line("bias", inputs[2]))
    elif op in UNARY:
        lines.append(f"op {UNARY[op]}")
        if op == "Elu":
            lines.append(f"floats alpha 1 {np.float32(attrs.get('alpha', 1.0))}")
    elif op == "Pow":
        if inputs[1].size != 1:
            return None, "exponent is not a scalar"
        lines.append("op power")
        lines.append(f"floats power 1 {np.float32(inputs[1].ravel()[0])}")
    else:
        return None, f"op {op}"
    lines.append(tensor_line("input", x))
    lines.append(tensor_line("expected", expected))
    values = sum(a.size for a in inputs) + expected.size
    if values > MAX_VALUES:
        return None, f"{values} values"
    return "\n".join(lines) + "\n", values


def main():
    node_dir = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/libonnx-testdata/data/node"
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx_node")
    os.makedirs(out_dir, exist_ok=True)
    for old in glob.glob(os.path.join(out_dir, "*.txt")):
        os.remove(old)
    cases = sorted({d for p in PATTERNS for d in glob.glob(os.path.join(node_dir, "test_" + p))})
    written = 0
    for case_dir in cases:
        name = os.path.basename(case_dir)[len("test_"):]
        text, info = fixture(case_dir)
        if text is None:
            print(f"skip {name}: {info}")
            continue
        with open(os.path.join(out_dir, name + ".txt"), "w") as f:
            f.write(text)
        written += 1
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(out_dir, "*.txt")))
    print(f"{written} fixtures, {total} bytes in {out_dir}")


if __name__ == "__main__":
    main()
