// quant_bench: FP32 and INT8 per-image latency of a model at 1 and 2 threads, conv GFLOP/s against the measured
// GEMM peak of this machine, and an optional per-layer breakdown, all from one run so the ratios are side by side.
#include <gflags/gflags.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "core/base/parallel.h"
#include "core/graph/graph_simplify.h"
#include "core/graph/shape_inference.h"
#include "core/int8/kernels_int8.h"
#include "core/kernels/kernels_fp32.h"
#include "core/io/model_loader.h"
#include "core/runtime/net.h"
#include "core/runtime/reformat.h"
#include "quantization/inputs/input_loader.h"
#include "quantization/inputs/preprocess.h"
#include "tools/common/tool_util.h"

#define QT_SHARED QT_SOURCE_DIR "/../shared"

DEFINE_string(p, QT_SHARED "/models/squeezenet_v1.1/squeezenet_v1.1.tnnproto", "fp32 model: .tnnproto");
DEFINE_string(m, QT_SHARED "/models/squeezenet_v1.1/squeezenet_v1.1.tnnmodel", "fp32 weights: .tnnmodel");
DEFINE_string(int8_proto, QT_SHARED "/golden/squeezenet_v1.1/expected/b0w0t1.quantized.tnnproto",
              "int8 model (.quantized.tnnproto); default: TNN's own quantization of the default fp32 model; "
              "empty: fp32 only");
DEFINE_string(int8_model, QT_SHARED "/golden/squeezenet_v1.1/expected/b0w0t1.quantized.tnnmodel",
              "int8 weights (.quantized.tnnmodel)");
DEFINE_string(i, QT_SHARED "/data/imagenet_calib/n01440764_tench.JPEG",
              "input image / .txt / .npy (single-input models); empty: a fixed pseudo-random input");
DEFINE_string(n, "104,117,123", "per-channel mean subtracted from image pixels");
DEFINE_string(s, "", "per-channel scale applied after the mean (default 1)");
DEFINE_int32(r, 1, "1: feed image channels in BGR order");
DEFINE_int32(runs, 50, "timed forward passes per model and thread count (after the warm-up)");
DEFINE_int32(warmup, 5, "untimed forward passes before timing");
DEFINE_string(threads, "1,2", "comma-separated thread counts");
DEFINE_bool(layers, false, "print the per-layer time breakdown (median over the profiled runs)");
DEFINE_bool(fuse, true, "fuse Conv+ReLU in the fp32 graph as TNN's runtime does (the int8 model is already fused)");
DEFINE_bool(recycle_blobs, true,
            "recycle intermediate blob memory by last use (as model_run and calibration do)");
DEFINE_bool(compare_recycling, false,
            "also time every model with all its blobs kept (recycling off), in the same alternating blocks");
DEFINE_int32(gemm_size, 512, "side of the square matrices of the Eigen sgemm peak measurement");
DEFINE_bool(conv_sweep, false,
            "instead of the models: time fp32 3x3 stride-1 pad-1 convolutions on a grid of shapes at 1 thread, direct "
            "against Winograd, with hot caches and after evicting them, next to the path the engine picks");

namespace qt {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBlocks = 5;  // the timed runs of each model and thread count, in blocks that alternate

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double Median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}
double Min(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }

std::string CpuName() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

std::vector<int> ParseThreads(const std::string& s, Status* status) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 1 || v > 256) {
      *status = Status::InvalidArgument("--threads: '" + item + "' is not a thread count in 1..256");
      return {};
    }
    out.push_back(static_cast<int>(v));
  }
  if (out.empty()) *status = Status::InvalidArgument("--threads is empty");
  return out;
}

// Best and median GFLOP/s of Eigen's single-threaded sgemm on n×n matrices, run by `threads` threads at once
// (each its own product): the machine's plain GEMM throughput at that thread count.
struct GemmPeak {
  double best = 0, median = 0;
};
GemmPeak MeasureGemmPeak(int n, int threads) {
  Eigen::setNbThreads(1);
  std::vector<Eigen::MatrixXf> a(threads), b(threads), c(threads);
  for (int t = 0; t < threads; ++t) {
    a[t] = Eigen::MatrixXf::Random(n, n);
    b[t] = Eigen::MatrixXf::Random(n, n);
    c[t] = Eigen::MatrixXf::Zero(n, n);
  }
  const double flops = 2.0 * n * n * n * threads;
  std::vector<double> rates;
  const int reps = 25;
  for (int r = 0; r < reps + 2; ++r) {
    std::vector<std::thread> pool;
    const auto start = Clock::now();
    for (int t = 1; t < threads; ++t) pool.emplace_back([&, t] { c[t].noalias() = a[t] * b[t]; });
    c[0].noalias() = a[0] * b[0];
    for (auto& th : pool) th.join();
    const double s = Seconds(start, Clock::now());
    if (r >= 2) rates.push_back(flops / s * 1e-9);
  }
  return {*std::max_element(rates.begin(), rates.end()), Median(rates)};
}

// Best GOP/s (2 ops per multiply-add) of our own int8 GEMM (GemmInt8, best instruction set, operands packed per
// call) on n×n×n, run by `threads` threads at once: context for the int8 convolutions, not a peak of the machine.
double MeasureInt8Gemm(int n, int threads) {
  std::vector<int8_t> a(static_cast<size_t>(n) * n), b(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<int8_t>(i * 37 % 251 - 125);
    b[i] = static_cast<int8_t>(i * 91 % 241 - 120);
  }
  std::vector<std::vector<int32_t>> c(threads, std::vector<int32_t>(a.size()));
  double best = 0;
  for (int r = 0; r < 10; ++r) {
    std::vector<std::thread> pool;
    const auto start = Clock::now();
    for (int t = 1; t < threads; ++t) pool.emplace_back([&, t] { GemmInt8(n, n, n, a.data(), b.data(), c[t].data(), n); });
    GemmInt8(n, n, n, a.data(), b.data(), c[0].data(), n);
    for (auto& th : pool) th.join();
    best = std::max(best, 2.0 * n * n * n * threads / Seconds(start, Clock::now()) * 1e-9);
  }
  return best;
}

// The path the fp32 engine takes for a float convolution layer: the parameters ConvExec builds, the rule ConvFp32
// applies. Empty for other layers and for int8 ones.
std::string ConvPath(const Layer& layer, const BlobDims& dims) {
  if (layer.type != LayerType::kConvolution || layer.quantized) return "";
  const auto& p = layer.Params<ConvParams>();
  const Dims& in = dims.at(layer.inputs[0]);
  WindowGeometry g;
  if (!ConvGeometry(p, in[2], in[3], &g).ok()) return "";
  const Conv2dParams cp{in[0], in[1], in[2], in[3], p.output_channel, g.out_h, g.out_w, p.kernel_h, p.kernel_w,
                        p.stride_h, p.stride_w, g.pad_top, g.pad_left, p.dilation_h, p.dilation_w, p.group,
                        Activation::kRelu};
  return ConvAlgoName(ChooseConvAlgo(cp, BestFp32Isa()));
}

// --conv_sweep: per shape, the minimum over runs that alternate between the two paths, once with hot caches and
// once after writing a buffer larger than the last-level cache before every run (the weights then come from
// memory, as in a model whose weights outgrow the cache).
Status ConvSweep(int runs) {
  SetNumThreads(1);
  struct Shape {
    int c, hw, oc;
  };
  std::vector<Shape> shapes;
  for (int hw : {7, 14, 28, 56}) {
    for (int c : {4, 8, 16, 32, 64, 128, 256}) {
      for (int oc : {8, 16, 32, 64, 128, 256}) {
        // Large layers take long and say nothing new: their ratio is set by the arithmetic.
        if (int64_t{c} * oc * hw * hw <= int64_t{128} * 128 * 28 * 28) shapes.push_back({c, hw, oc});
      }
    }
  }
  std::vector<char> evict(size_t{128} << 20);
  std::printf("fp32 3x3 stride 1 pad 1, ReLU, batch 1, 1 thread, %s kernels; us, minimum of %d runs\n",
              Fp32IsaName(BestFp32Isa()), runs);
  std::printf("  in_c   HxW  out_c | direct  winograd  w/d (hot) | direct  winograd  w/d (evicted) | picks\n");
  uint32_t x = 1;
  auto next = [&x] {
    x = x * 1664525u + 1013904223u;
    return static_cast<float>(x >> 8) / static_cast<float>(1 << 24) * 2.f - 1.f;
  };
  for (const Shape& s : shapes) {
    const Conv2dParams p{1, s.c, s.hw, s.hw, s.oc, s.hw, s.hw, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kRelu};
    std::vector<float> in(size_t{1} * s.c * s.hw * s.hw), w(size_t{1} * s.oc * s.c * 9), b(s.oc);
    std::vector<float> out(size_t{1} * s.oc * s.hw * s.hw);
    for (float& v : in) v = next();
    for (float& v : w) v = next();
    for (float& v : b) v = next();
    ConvFp32 conv[2];
    conv[0].Init(p, w.data(), b.data(), BestFp32Isa(), ConvAlgo::kDirect);
    conv[1].Init(p, w.data(), b.data(), BestFp32Isa(), ConvAlgo::kWinograd);
    double best[2][2] = {{1e9, 1e9}, {1e9, 1e9}};  // [evicted][path]
    for (int evicted = 0; evicted < 2; ++evicted) {
      for (int r = 0; r < runs + 2; ++r) {
        for (int k = 0; k < 2; ++k) {
          if (evicted) {
            for (size_t i = 0; i < evict.size(); i += 64) evict[i] = static_cast<char>(r);
          }
          const auto a = Clock::now();
          conv[k].Run(in.data(), out.data());
          if (r >= 2) best[evicted][k] = std::min(best[evicted][k], Seconds(a, Clock::now()));
        }
      }
    }
    std::printf("  %4d %5dx%-3d %4d | %7.1f %8.1f %5.2f     | %7.1f %8.1f %5.2f         | %s\n", s.c, s.hw, s.hw,
                s.oc, best[0][0] * 1e6, best[0][1] * 1e6, best[0][1] / best[0][0], best[1][0] * 1e6,
                best[1][1] * 1e6, best[1][1] / best[1][0], ConvAlgoName(ChooseConvAlgo(p, BestFp32Isa())));
  }
  return Status::Ok();
}

int64_t ConvMacs(const Layer& layer, const BlobDims& dims) {
  if (layer.type != LayerType::kConvolution) return 0;
  const auto& p = layer.Params<ConvParams>();
  const Dims& in = dims.at(layer.inputs[0]);
  const Dims& out = dims.at(layer.outputs[0]);
  return int64_t{out[0]} * out[1] * out[2] * out[3] * (in[1] / p.group) * p.kernel_h * p.kernel_w;
}

struct Model {
  std::string label;
  std::unique_ptr<Net> net;
  int64_t conv_macs = 0;
};

// A model's graph, with Conv+ReLU fused when `fuse` (as TNN's runtime runs it).
Status LoadBenchGraph(const std::string& proto, const std::string& weights, bool fuse, Graph* g) {
  InputShapes shapes;
  QT_RETURN_IF_ERROR(InputShapesFlag(&shapes));
  QT_RETURN_IF_ERROR(LoadModel(proto, weights, g, shapes));
  if (fuse) SimplifyGraph(g);
  if (g->inputs.size() != 1) return Status::Unsupported(proto + ": quant_bench runs single-input models");
  return Status::Ok();
}

Status BuildModel(const std::string& label, const Graph& g, bool recycle, const std::string& source, Model* m) {
  m->label = label;
  m->net = std::make_unique<Net>();
  QT_RETURN_IF_ERROR(m->net->Init(g).WithContext(source));
  m->net->set_recycle_blobs(recycle);
  for (const Layer& l : m->net->graph().layers) m->conv_macs += ConvMacs(l, m->net->blob_dims());
  return Status::Ok();
}

// The image of -i preprocessed as -n/-s/-r say, or a fixed pseudo-random tensor.
Status BenchInput(const Net& net, Tensor* in) {
  const Dims& dims = net.blob_dims().at(net.inputs()[0].name);
  if (!FLAGS_i.empty()) {
    Preprocess pre;
    QT_RETURN_IF_ERROR(ParsePreprocess(FLAGS_n, FLAGS_s, FLAGS_r == 1, &pre));
    return LoadInput(FLAGS_i, dims, pre, in);
  }
  in->dims = dims;
  in->data.resize(DimsCount(dims));
  uint32_t x = 12345;
  for (float& v : in->data) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<float>(x >> 8) / static_cast<float>(1 << 24) * 2.f - 1.f;
  }
  return Status::Ok();
}

// Per-layer times from the layer callback: the time between callbacks, minus the int8→float conversion the
// callback itself forces on int8 outputs. That conversion is timed apart, once per layer (the minimum of several
// runs on tensors of the outputs' dims and scale layout), so that a preempted measurement cannot distort it.
Status ProfileLayers(Model& m, int runs, std::vector<std::vector<double>>* per_layer) {
  const auto& layers = m.net->graph().layers;
  std::vector<double> reformat(layers.size(), 0.0);
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!layers[i].quantized) continue;
    for (const std::string& name : layers[i].outputs) {
      Int8Tensor q;
      q.dims = m.net->blob_dims().at(name);
      q.data.assign(DimsCount(q.dims), 1);
      auto it = m.net->graph().blob_scales.find(name);
      q.scales = it == m.net->graph().blob_scales.end() ? std::vector<float>{1.f} : it->second.scale;
      q.zero_points = it == m.net->graph().blob_scales.end() ? std::vector<int8_t>{} : it->second.zero_point;
      Tensor f;
      double best = 1e9;
      for (int r = 0; r < 7; ++r) {
        const auto a = Clock::now();
        DequantizeTensor(q, &f);
        best = std::min(best, Seconds(a, Clock::now()));
      }
      reformat[i] += best;
    }
  }
  per_layer->assign(layers.size(), {});
  for (int r = 0; r < runs; ++r) {
    size_t i = 0;
    auto last = Clock::now();
    std::vector<double> raw(layers.size());
    Status s = m.net->Forward([&](const Layer&, const std::vector<const Tensor*>&) {
      const auto now = Clock::now();
      raw[i++] = Seconds(last, now);
      last = now;
      return Status::Ok();
    });
    QT_RETURN_IF_ERROR(s);
    for (size_t k = 0; k < layers.size(); ++k) (*per_layer)[k].push_back(std::max(0.0, raw[k] - reformat[k]));
  }
  return Status::Ok();
}

Status Run() {
  if (FLAGS_conv_sweep) return ConvSweep(std::max(5, FLAGS_runs / 5));
  Status status;
  const std::vector<int> threads = ParseThreads(FLAGS_threads, &status);
  QT_RETURN_IF_ERROR(status);
  if (FLAGS_runs < 1 || FLAGS_warmup < 0) return Status::InvalidArgument("--runs must be >= 1 and --warmup >= 0");

  // Each model is read once; with --compare_recycling the same graphs also build the kept-blob networks.
  std::vector<std::pair<Graph, std::string>> graphs(1);
  QT_RETURN_IF_ERROR(LoadBenchGraph(FLAGS_p, FLAGS_m, FLAGS_fuse, &graphs[0].first));
  graphs[0].second = FLAGS_p;
  if (!FLAGS_int8_proto.empty()) {
    graphs.emplace_back();
    QT_RETURN_IF_ERROR(LoadBenchGraph(FLAGS_int8_proto, FLAGS_int8_model, false, &graphs[1].first));
    graphs[1].second = FLAGS_int8_proto;
  }
  const char* labels[] = {"fp32", "int8"};
  std::vector<Model> models(graphs.size());
  for (size_t k = 0; k < graphs.size(); ++k) {
    QT_RETURN_IF_ERROR(BuildModel(labels[k], graphs[k].first, FLAGS_recycle_blobs, graphs[k].second, &models[k]));
  }
  if (FLAGS_compare_recycling) {
    for (size_t k = 0; k < graphs.size(); ++k) {
      models.emplace_back();
      QT_RETURN_IF_ERROR(BuildModel(std::string(labels[k]) + " kept", graphs[k].first, false, graphs[k].second,
                                    &models.back()));
    }
  }
  if (graphs.size() > 1) {
    const InputSpec& f = models[0].net->inputs()[0];
    const InputSpec& q = models[1].net->inputs()[0];
    if (f.dims != q.dims) {
      return Status::InvalidArgument(
          "--int8_proto " + FLAGS_int8_proto + ": its input '" + q.name + "' is " + DimsToString(q.dims) +
          " where the fp32 model's '" + f.name + "' is " + DimsToString(f.dims) +
          ": give this model's int8 file (--int8_proto, --int8_model; the default is TNN's SqueezeNet file) or "
          "--int8_proto \"\" for fp32 only");
    }
  }
  Tensor input;
  QT_RETURN_IF_ERROR(BenchInput(*models[0].net, &input));
  for (auto& m : models) QT_RETURN_IF_ERROR(m.net->SetInput(m.net->inputs()[0].name, input));
  const bool have_input = !FLAGS_i.empty();

  std::printf("machine: %s, %u hardware threads; kernels: fp32 %s, int8 %s\n", CpuName().c_str(),
              std::thread::hardware_concurrency(), Fp32IsaName(BestFp32Isa()), Int8IsaName(BestInt8Isa()));
  std::printf("fp32 model: %s (%s)\n", FLAGS_p.c_str(), FLAGS_fuse ? "Conv+ReLU fused" : "as written");
  if (models.size() > 1) std::printf("int8 model: %s\n", FLAGS_int8_proto.c_str());
  std::printf("input: %s; %d warm-up + %d timed runs per model and thread count, in %d blocks that alternate "
              "between the models (one untimed run opens each block)\n\n",
              have_input ? FLAGS_i.c_str() : "pseudo-random", FLAGS_warmup, FLAGS_runs, kBlocks);

  std::map<int, GemmPeak> peaks;
  std::map<int, double> int8_gemm;
  SetNumThreads(1);  // each product of the peak measurements is single-threaded
  for (int t : threads) {
    peaks[t] = MeasureGemmPeak(FLAGS_gemm_size, t);
    int8_gemm[t] = MeasureInt8Gemm(FLAGS_gemm_size, t);
  }

  struct Timing {
    std::vector<double> total;
    double conv_seconds = 0, conv_min_seconds = 0;  // per-layer conv medians / minima, summed
    std::vector<double> layer_median, layer_min;
  };
  std::map<int, std::vector<Timing>> timings;
  for (int t : threads) {
    SetNumThreads(t);
    std::vector<Timing>& tm = timings[t];
    tm.resize(models.size());
    for (int r = 0; r < FLAGS_warmup; ++r) {
      for (auto& m : models) QT_RETURN_IF_ERROR(m.net->Forward());
    }
    // Models alternate in blocks of runs: alternating single runs would time every pass with caches full of the
    // other model's data, while the models still share the machine's load drift block by block.
    for (int block = 0; block < kBlocks; ++block) {
      for (size_t k = 0; k < models.size(); ++k) {
        QT_RETURN_IF_ERROR(models[k].net->Forward());
        for (int r = block * FLAGS_runs / kBlocks; r < (block + 1) * FLAGS_runs / kBlocks; ++r) {
          const auto a = Clock::now();
          QT_RETURN_IF_ERROR(models[k].net->Forward());
          tm[k].total.push_back(Seconds(a, Clock::now()));
        }
      }
    }
    const int profile_runs = std::max(5, FLAGS_runs / 2);
    for (size_t k = 0; k < models.size(); ++k) {
      std::vector<std::vector<double>> per_layer;
      QT_RETURN_IF_ERROR(ProfileLayers(models[k], profile_runs, &per_layer));
      const auto& layers = models[k].net->graph().layers;
      for (size_t i = 0; i < layers.size(); ++i) {
        tm[k].layer_median.push_back(Median(per_layer[i]));
        tm[k].layer_min.push_back(Min(per_layer[i]));
        if (layers[i].type == LayerType::kConvolution) {
          tm[k].conv_seconds += tm[k].layer_median.back();
          tm[k].conv_min_seconds += tm[k].layer_min.back();
        }
      }
    }
  }

  std::printf("GEMM peak (Eigen sgemm %dx%d, one product per thread, best / median of 25):\n", FLAGS_gemm_size,
              FLAGS_gemm_size);
  for (int t : threads) {
    std::printf("  %d thread%s: %6.1f / %6.1f GFLOP/s   (our GemmInt8, same size: %6.1f GOP/s best)\n", t,
                t > 1 ? "s" : " ", peaks[t].best, peaks[t].median, int8_gemm[t]);
  }
  std::printf("\nlatency per image, ms (median / min of %d runs)\n", FLAGS_runs);
  std::printf("  threads  %-17s", "fp32");
  if (models.size() > 1) std::printf("  %-17s  int8/fp32 (median)", "int8");
  std::printf("\n");
  for (int t : threads) {
    const auto& tm = timings[t];
    // Four decimals: MTCNN's det1-det4 and HyperLPR take 4-60 µs.
    std::printf("  %7d  %7.4f / %7.4f", t, Median(tm[0].total) * 1e3, Min(tm[0].total) * 1e3);
    if (models.size() > 1) {
      std::printf("  %7.4f / %7.4f  %.3f", Median(tm[1].total) * 1e3, Min(tm[1].total) * 1e3,
                  Median(tm[1].total) / Median(tm[0].total));
    }
    std::printf("\n");
  }
  if (FLAGS_compare_recycling) {
    const size_t n = models.size() / 2;
    std::printf("\nblob memory recycled against every blob kept, ms per image (median / min), same blocks\n");
    for (size_t k = 0; k < n; ++k) {
      for (int t : threads) {
        const Timing& a = timings[t][k];
        const Timing& b = timings[t][n + k];
        std::printf("  %s, %d thread%s: %7.3f / %7.3f recycled, %7.3f / %7.3f kept: %.3f / %.3f\n",
                    models[k].label.c_str(), t, t > 1 ? "s" : " ", Median(a.total) * 1e3, Min(a.total) * 1e3,
                    Median(b.total) * 1e3, Min(b.total) * 1e3, Median(a.total) / Median(b.total),
                    Min(a.total) / Min(b.total));
      }
    }
  }
  std::printf("\nconvolutions (sum of conv MACs·2 / sum of per-layer conv times; median, and min in brackets)\n");
  for (size_t k = 0; k < models.size(); ++k) {
    const double gflop = 2.0 * models[k].conv_macs * 1e-9;
    std::printf("  %s: %.3f GFLOP per image\n", models[k].label.c_str(), gflop);
    for (int t : threads) {
      const Timing& tm = timings[t][k];
      const double rate = tm.conv_seconds > 0 ? gflop / tm.conv_seconds : 0.0;
      const double best = tm.conv_min_seconds > 0 ? gflop / tm.conv_min_seconds : 0.0;
      std::printf("    %d thread%s: conv %.3f ms [%.3f] of %.3f ms [%.3f], %6.1f [%6.1f] G%s/s = %.2f [%.2f] x GEMM peak\n",
                  t, t > 1 ? "s" : " ", tm.conv_seconds * 1e3, tm.conv_min_seconds * 1e3, Median(tm.total) * 1e3,
                  Min(tm.total) * 1e3, rate, best, models[k].label.rfind("int8", 0) == 0 ? "OP" : "FLOP",
                  rate / peaks[t].best, best / peaks[t].best);
    }
  }
  if (FLAGS_layers) {
    for (size_t k = 0; k < models.size(); ++k) {
      const auto& layers = models[k].net->graph().layers;
      std::printf("\n%s per-layer ms, median [min]%9s", models[k].label.c_str(), "path");
      for (int t : threads) std::printf("   %4d thread%s   ", t, t > 1 ? "s" : " ");
      std::printf("  G%s/s (min, %d thr)\n", k == 0 ? "FLOP" : "OP", threads[0]);
      for (size_t i = 0; i < layers.size(); ++i) {
        std::printf("  %-28s %-12s %-8s", layers[i].name.c_str(), layers[i].type_str.c_str(),
                    ConvPath(layers[i], models[k].net->blob_dims()).c_str());
        for (int t : threads) {
          std::printf("  %7.4f [%7.4f]", timings[t][k].layer_median[i] * 1e3, timings[t][k].layer_min[i] * 1e3);
        }
        const int64_t macs = ConvMacs(layers[i], models[k].net->blob_dims());
        const double s = timings[threads[0]][k].layer_min[i];
        if (macs > 0 && s > 0) std::printf("   %7.1f", 2.0 * macs / s * 1e-9);
        std::printf("\n");
      }
    }
  }
  return Status::Ok();
}

}  // namespace
}  // namespace qt

int main(int argc, char** argv) {
  return qt::ToolMain("quant_bench",
                      "fp32 and int8 latency, conv GFLOP/s against the GEMM peak, per-layer times\n"
                      "  quant_bench [-p m.tnnproto -m m.tnnmodel] [--int8_proto q.tnnproto --int8_model q.tnnmodel]\n"
                      "              [-i image] [--runs 50] [--threads 1,2] [--layers]\n"
                      "  quant_bench --conv_sweep [--runs 50]",
                      argc, argv, qt::Run);
}
