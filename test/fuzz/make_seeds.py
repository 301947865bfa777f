#!/usr/bin/python3
"""Writes the small seed corpora of the fuzz targets into test/fuzz/corpus/<target>/.

Tiny models (a few KB each) in every format the tools read, built here so that the committed corpora stay small:
ONNX with onnx.helper, Caffe prototxt text and a caffemodel serialized with our caffe.proto subset (compiled by
protoc into a temporary folder), TNN fp32 and quantized files written by our own model_convert and
quantization_cmd, plus txt/npy tensors and a statistics file. Usage:
    /usr/bin/python3 test/fuzz/make_seeds.py BUILD_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "test", "fuzz", "corpus")
SEP = b"\n@@QTFUZZ-MODEL@@\n"  # keep in sync with fuzz_model_run.cc
rng = np.random.default_rng(14)


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def w(*shape):
    return rng.standard_normal(shape).astype(np.float32) * 0.3


def init(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def onnx_models():
    """A few tiny graphs covering the common ops and the import-time folding of shape chains."""
    models = {}
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])
    y = helper.make_tensor_value_info("prob", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("BatchNormalization", ["c1", "g", "be", "mu", "var"], ["bn"], name="bn1"),
        helper.make_node("Relu", ["bn"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool1"),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], group=2, name="conv2"),
        helper.make_node("Add", ["c2", "p1"], ["a1"], name="add1"),
        helper.make_node("PRelu", ["a1", "slope"], ["pr"], name="prelu1"),
        helper.make_node("GlobalAveragePool", ["pr"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["fl"], name="flat"),
        helper.make_node("Gemm", ["fl", "fcw", "fcb"], ["fc"], transB=1, name="fc"),
        helper.make_node("Softmax", ["fc"], ["prob"], axis=1, name="softmax"),
    ]
    inits = [init("w1", w(4, 3, 3, 3)), init("b1", w(4)), init("g", np.ones(4, np.float32)), init("be", w(4)),
             init("mu", w(4)), init("var", np.ones(4, np.float32)), init("w2", w(4, 2, 1, 1)),
             init("slope", np.full((4, 1, 1), 0.1, np.float32)), init("fcw", w(10, 4)), init("fcb", w(10))]
    models["tiny_cnn"] = helper.make_model(helper.make_graph(nodes, "tiny_cnn", [x], [y], inits),
                                           opset_imports=[helper.make_opsetid("", 13)])

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
        helper.make_node("Concat", ["n", "m1"], ["ns"], axis=0),
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["t", "ns"], ["flat"]),
        helper.make_node("Unsqueeze", ["flat", "ax"], ["u"]),
        helper.make_node("Unsqueeze", ["u", "ax"], ["u2"]),
        helper.make_node("Pad", ["x", "pads"], ["pd"], mode="constant"),
        helper.make_node("Resize", ["pd", "", "scales"], ["rs"], mode="nearest"),
        helper.make_node("Split", ["rs"], ["sp0", "sp1"], axis=1),
        helper.make_node("Mul", ["sp0", "sp1"], ["mu"]),
        helper.make_node("ReduceMean", ["mu"], ["rm"], axes=[2, 3], keepdims=1),
        helper.make_node("Sigmoid", ["rm"], ["sg"]),
        helper.make_node("Reshape", ["sg", "shp"], ["sgf"]),
        helper.make_node("MatMul", ["sgf", "mm"], ["mmo"]),
        helper.make_node("Clip", ["mmo", "lo", "hi"], ["cl"]),
        helper.make_node("Concat", ["cl", "flat2"], ["out"], axis=1),
        helper.make_node("Slice", ["flat", "st", "en", "axs"], ["flat2"]),
    ]
    inits = [init("i0", np.array([0], np.int64)), init("m1", np.array([-1], np.int64)),
             init("ax", np.array([2], np.int64)), init("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
             init("scales", np.array([1, 1, 2, 2], np.float32)), init("shp", np.array([1, 2], np.int64)),
             init("mm", w(2, 3)), init("lo", np.array(-1, np.float32)), init("hi", np.array(1, np.float32)),
             init("st", np.array([0], np.int64)), init("en", np.array([5], np.int64)),
             init("axs", np.array([1], np.int64))]
    models["tiny_shapes"] = helper.make_model(helper.make_graph(sorted(nodes, key=lambda n: 0), "tiny_shapes", [x],
                                                                [y], inits),
                                              opset_imports=[helper.make_opsetid("", 11)])
    # Topological order for the second model: Slice must come before the final Concat.
    g = models["tiny_shapes"].graph
    order = [n for n in g.node if n.op_type != "Concat" or n.output[0] != "out"]
    last = [n for n in g.node if n.op_type == "Concat" and n.output[0] == "out"]
    del g.node[:]
    g.node.extend(order + last)

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1], name="conv1d"),
        helper.make_node("AveragePool", ["c"], ["p"], kernel_shape=[2], strides=[2]),
        helper.make_node("Tanh", ["p"], ["t"]),
        helper.make_node("LeakyRelu", ["t"], ["y"], alpha=0.2),
    ]
    models["tiny_conv1d"] = helper.make_model(
        helper.make_graph(nodes, "tiny_conv1d", [x], [y], [init("w", w(3, 2, 3))]),
        opset_imports=[helper.make_opsetid("", 13)])
    return models


CAFFE_PROTOTXT = """name: "tiny"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 stride: 1 } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" batch_norm_param { use_global_stats: true } }
layer { name: "sc1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "dw" type: "Convolution" bottom: "pool1" top: "dw" convolution_param { num_output: 4 group: 4 kernel_size: 1 bias_term: false } }
layer { name: "prelu" type: "PReLU" bottom: "dw" top: "dw" }
layer { name: "split" type: "Slice" bottom: "dw" top: "s0" top: "s1" slice_param { axis: 1 slice_point: 2 } }
layer { name: "sum" type: "Eltwise" bottom: "s0" bottom: "s1" top: "sum" eltwise_param { operation: SUM coeff: 1 coeff: -1 } }
layer { name: "cat" type: "Concat" bottom: "sum" bottom: "s0" top: "cat" }
layer { name: "drop" type: "Dropout" bottom: "cat" top: "cat" }
layer { name: "fc" type: "InnerProduct" bottom: "cat" top: "fc" inner_product_param { num_output: 10 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
"""

CAFFE_V1_PROTOTXT = """name: "tiny_v1"
input: "data"
input_dim: 1 input_dim: 1 input_dim: 6 input_dim: 6
layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
  convolution_param { num_output: 2 kernel_size: 3 } }
layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
layers { name: "relu1" type: RELU bottom: "pool1" top: "pool1" }
layers { name: "ip" type: INNER_PRODUCT bottom: "pool1" top: "ip" inner_product_param { num_output: 3 } }
layers { name: "prob" type: SOFTMAX bottom: "ip" top: "prob" }
"""


def caffe_models(tmp):
    proto_dir = os.path.join(ROOT, "source", "core", "io", "proto")
    subprocess.check_call(["protoc", "-I", proto_dir, "--python_out", tmp, os.path.join(proto_dir, "caffe.proto")])
    sys.path.insert(0, tmp)
    import caffe_pb2  # noqa: E402

    def blob(a, legacy=False):
        b = caffe_pb2.BlobProto()
        if legacy:
            s = list(a.shape) + [1] * (4 - a.ndim)
            b.num, b.channels, b.height, b.width = [1] * (4 - a.ndim) + list(a.shape) if a.ndim < 4 else s
        else:
            b.shape.dim.extend(a.shape)
        b.data.extend(a.flatten().tolist())
        return b

    net = caffe_pb2.NetParameter()
    for name, arrays in [("conv1", [w(4, 3, 3, 3), w(4)]),
                         ("bn1", [w(4), np.abs(w(4)) + 1, np.ones(1, np.float32)]),
                         ("sc1", [w(4) + 1, w(4)]), ("dw", [w(4, 1, 1, 1)]), ("prelu", [np.full(4, 0.1, np.float32)]),
                         ("fc", [w(10, 64), w(10)])]:
        l = net.layer.add()
        l.name = name
        for a in arrays:
            l.blobs.append(blob(a))
    v1 = caffe_pb2.NetParameter()
    for name, arrays in [("conv1", [w(2, 1, 3, 3), w(2)]), ("ip", [w(3, 8), w(3)])]:
        l = v1.layers.add()
        l.name = name
        for a in arrays:
            l.blobs.append(blob(a, legacy=True))
    return {"tiny_caffe": (CAFFE_PROTOTXT, net.SerializeToString()),
            "tiny_caffe_v1": (CAFFE_V1_PROTOTXT, v1.SerializeToString())}


def npy_bytes(a, version=1):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (a.dtype.str, str(tuple(a.shape)))
    if version == 1:
        pad = 64 - (10 + len(header) + 1) % 64
        h = (header + " " * pad + "\n").encode()
        return b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h + a.tobytes()
    pad = 64 - (12 + len(header) + 1) % 64
    h = (header + " " * pad + "\n").encode()
    return b"\x93NUMPY\x02\x00" + len(h).to_bytes(4, "little") + h + a.tobytes()


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    bindir = os.path.join(os.path.abspath(sys.argv[1]), "bin")
    shutil.rmtree(CORPUS, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_paths = {}
        for name, m in onnx_models().items():
            data = m.SerializeToString()
            put("fuzz_onnx", name + ".onnx", data)
            put("fuzz_model_run", name + ".onnx", data)
            onnx_paths[name] = os.path.join(tmp, name + ".onnx")
            with open(onnx_paths[name], "wb") as f:
                f.write(data)
        for name, (prototxt, caffemodel) in caffe_models(tmp).items():
            put("fuzz_caffe_prototxt", name + ".prototxt", prototxt)
            put("fuzz_caffemodel", name + ".caffemodel", caffemodel)
            put("fuzz_model_run", name + ".caffe", prototxt.encode() + SEP + caffemodel)
            p, m = os.path.join(tmp, name + ".prototxt"), os.path.join(tmp, name + ".caffemodel")
            open(p, "w").write(prototxt)
            open(m, "wb").write(caffemodel)
            run([os.path.join(bindir, "model_convert"), "-p", p, "-m", m, "-o", os.path.join(tmp, name + "_tnn")])
        # The fixed proto of fuzz_tnnmodel is the tiny Caffe model's (a v2 header), and its quantized form.
        # The statistics seeds come from a one-convolution model: a few KB where the tiny CNN's are 100 KB of
        # histograms, which would slow every mutation down.
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])
        micro = helper.make_model(helper.make_graph(
            [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")], "micro", [x],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [init("w", w(2, 1, 3, 3))]),
            opset_imports=[helper.make_opsetid("", 13)])
        micro_path = os.path.join(tmp, "micro.onnx")
        open(micro_path, "wb").write(micro.SerializeToString())
        micro_calib = os.path.join(tmp, "micro_calib")
        os.makedirs(micro_calib)
        for i in range(2):
            np.save(os.path.join(micro_calib, "%d.npy" % i), rng.standard_normal((1, 1, 4, 4)).astype(np.float32))
        for name, flags in [("micro", ["-b", "2", "-t", "0"])]:
            stats = os.path.join(tmp, name + ".stats")
            run([os.path.join(bindir, "quantization_cmd"), "-p", micro_path, "-i", micro_calib, "-o",
                 os.path.join(tmp, "m"), "--report", "0", "--stats", stats] + flags)
            put("fuzz_stats", name + ".stats", open(stats, "rb").read())
        calib = os.path.join(tmp, "calib")
        os.makedirs(calib)
        for i in range(3):
            np.save(os.path.join(calib, "%d.npy" % i), rng.standard_normal((1, 3, 8, 8)).astype(np.float32))
        run([os.path.join(bindir, "model_convert"), "-p", onnx_paths["tiny_cnn"], "-o", os.path.join(tmp, "cnn_tnn")])
        run([os.path.join(bindir, "quantization_cmd"), "-p", os.path.join(tmp, "tiny_caffe_tnn.tnnproto"), "-m",
             os.path.join(tmp, "tiny_caffe_tnn.tnnmodel"), "-i", calib, "-o", os.path.join(tmp, "q"), "--report", "0",
             "-t", "0"])
        for name in ["tiny_caffe_tnn", "tiny_caffe_v1_tnn", "cnn_tnn", "q"]:
            stem = os.path.join(tmp, name)
            if name == "q":
                stem += ".quantized"
            proto, model = open(stem + ".tnnproto", "rb").read(), open(stem + ".tnnmodel", "rb").read()
            put("fuzz_tnnproto", name + ".tnnproto", proto)
            put("fuzz_model_run", name + ".tnn", proto + SEP + model)
            if name in ("tiny_caffe_tnn", "q"):
                put("fuzz_tnnmodel", name + ".tnnmodel", model)
        shutil.copy(os.path.join(tmp, "q.quantized.tnnproto"), os.path.join(ROOT, "test", "fuzz", "tnnmodel_fixed.tnnproto"))

    a = rng.standard_normal((1, 1, 4, 4))
    put("fuzz_txt", "plain.txt", "\n".join("%.6g" % v for v in a.flatten()) + "\n")
    put("fuzz_txt", "exp_forms.txt", "1e-3 -2.5E+2 0x1p-3 .5 -0 7\n8\t9 10 11 12 13 14 15 16 17\n")
    put("fuzz_npy", "f4_v1.npy", npy_bytes(a.astype("<f4")))
    put("fuzz_npy", "f8_v1.npy", npy_bytes(a.astype("<f8")))
    put("fuzz_npy", "f4_v2.npy", npy_bytes(a.reshape(16).astype("<f4"), 2))


if __name__ == "__main__":
    main()
