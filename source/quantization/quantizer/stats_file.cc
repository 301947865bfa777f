#include "quantization/quantizer/stats_file.h"

#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/io/tnn_io.h"

namespace qt {
namespace {

constexpr char kMagic[8] = {'Q', 'T', 'S', 'T', 'A', 'T', 'S', '\0'};
constexpr uint32_t kVersion = 2;

// A 64-bit hash over 8-byte words (FNV-1a's structure with a word-wide multiply, then a final mix): a few GB/s,
// and good enough to tell inputs apart; this is not a security boundary.
class Hasher {
 public:
  void Add(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      h_ = (h_ ^ w) * 0x100000001b3ull;
      h_ ^= h_ >> 29;
    }
    for (; i < n; ++i) h_ = (h_ ^ p[i]) * 0x100000001b3ull;
  }
  void Add(const std::string& s) {
    const uint64_t n = s.size();
    Add(&n, sizeof(n));
    Add(s.data(), s.size());
  }
  template <typename T>
  void AddValue(T v) { Add(&v, sizeof(v)); }
  uint64_t value() const {
    uint64_t h = h_;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
  }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

class Writer {
 public:
  template <typename T>
  void Put(T v) { bytes_.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
  void PutString(const std::string& s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    bytes_ += s;
  }
  void PutVarint(uint64_t v) {
    while (v >= 0x80) {
      bytes_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    bytes_.push_back(static_cast<char>(v));
  }
  void PutBytes(const std::string& b) { bytes_ += b; }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

class Reader {
 public:
  Reader(const std::vector<uint8_t>& bytes, const std::string& path) : b_(bytes), path_(path) {}
  template <typename T>
  Status Get(const char* what, T* v) {
    if (b_.size() - pos_ < sizeof(T)) return Truncated(what);
    std::memcpy(v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::Ok();
  }
  Status GetString(const char* what, std::string* s) {
    uint32_t n = 0;
    QT_RETURN_IF_ERROR(Get(what, &n));
    if (b_.size() - pos_ < n) return Truncated(what);
    s->assign(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return Status::Ok();
  }
  // n varints at once: the histogram counts, most of the file.
  Status GetVarints(const char* what, size_t n, uint64_t* out) {
    const uint8_t* p = b_.data() + pos_;
    const uint8_t* end = b_.data() + b_.size();
    for (size_t k = 0; k < n; ++k) {
      uint64_t v = 0;
      int shift = 0;
      for (;;) {
        if (p == end) {
          pos_ = p - b_.data();
          return Truncated(what);
        }
        const uint8_t byte = *p++;
        v |= uint64_t{byte & 0x7fu} << shift;
        if (!(byte & 0x80)) break;
        shift += 7;
        if (shift >= 64) {
          pos_ = p - b_.data();
          return Corrupt(what);
        }
      }
      out[k] = v;
    }
    pos_ = p - b_.data();
    return Status::Ok();
  }
  Status Skip(const char* what, uint64_t n) {
    if (b_.size() - pos_ < n) return Truncated(what);
    pos_ += n;
    return Status::Ok();
  }
  Status Corrupt(const std::string& what) const {
    return Status::ParseError(path_ + ": corrupt statistics file (" + what + " at byte " + std::to_string(pos_) + ")");
  }
  bool done() const { return pos_ == b_.size(); }
  size_t remaining() const { return b_.size() - pos_; }

 private:
  Status Truncated(const char* what) const {
    return Status::ParseError(path_ + ": truncated statistics file (" + what + " at byte " + std::to_string(pos_) + ")");
  }
  const std::vector<uint8_t>& b_;
  const std::string& path_;
  size_t pos_ = 0;
};

void PutRanges(Writer& w, const ChannelStats& c) {
  w.Put(c.min);
  w.Put(c.max);
  w.Put(c.mean_abs_sum);
  w.Put(c.images);
}

void PutHistogram(Writer& w, const AbsHistogram& h) {
  w.Put<int32_t>(h.empty() ? INT_MIN : h.exponent());
  if (h.empty()) return;
  for (uint64_t v : h.counts()) w.PutVarint(v);
}

// Bytes of one PutRanges record: min, max (float), mean sum (double), image count (int64).
constexpr uint64_t kRangeBytes = 4 + 4 + 8 + 8;

Status GetRanges(Reader& r, ChannelStats* c) {
  QT_RETURN_IF_ERROR(r.Get("min", &c->min));
  QT_RETURN_IF_ERROR(r.Get("max", &c->max));
  QT_RETURN_IF_ERROR(r.Get("mean", &c->mean_abs_sum));
  return r.Get("image count", &c->images);
}

Status GetHistogram(Reader& r, int bins, AbsHistogram* h) {
  int32_t exponent = 0;
  QT_RETURN_IF_ERROR(r.Get("histogram range", &exponent));
  if (exponent == INT_MIN) return Status::Ok();
  if (exponent < -200 || exponent > 200) return r.Corrupt("histogram range");
  std::vector<uint64_t> counts(bins);
  QT_RETURN_IF_ERROR(r.GetVarints("histogram count", counts.size(), counts.data()));
  h->Assign(exponent, std::move(counts));
  return Status::Ok();
}

std::string Hex(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Status CalibrationFingerprint(const Graph& graph, const std::vector<CalibrationSample>& samples,
                              const Preprocess& pre, uint64_t* fingerprint) {
  Hasher h;
  h.AddValue(kVersion);
  h.Add(SerializeTnnProto(graph));
  const std::vector<uint8_t> model = SerializeTnnModel(graph);
  h.Add(model.data(), model.size());
  for (const auto& in : graph.inputs) {
    h.Add(in.name);
    for (int d : in.dims) h.AddValue(d);
  }
  h.AddValue<uint64_t>(pre.mean.size());
  for (float v : pre.mean) h.AddValue(v);
  h.AddValue<uint64_t>(pre.scale.size());
  for (float v : pre.scale) h.AddValue(v);
  h.AddValue(pre.reverse_channel);
  h.AddValue<uint64_t>(samples.size());
  std::vector<uint8_t> bytes;
  for (const auto& sample : samples) {
    for (const auto& [input, path] : sample) {
      h.Add(input);
      h.Add(std::filesystem::path(path).filename().string());
      QT_RETURN_IF_ERROR(ReadFileBytes(path, &bytes));
      h.AddValue<uint64_t>(bytes.size());
      h.Add(bytes.data(), bytes.size());
    }
  }
  *fingerprint = h.value();
  return Status::Ok();
}

Status SaveBlobStats(const std::string& path, uint64_t fingerprint, const std::map<std::string, BlobStats>& stats) {
  Writer w;
  for (char c : kMagic) w.Put(c);
  w.Put(kVersion);
  w.Put(fingerprint);
  w.Put<uint32_t>(static_cast<uint32_t>(stats.size()));
  for (const auto& [name, s] : stats) {
    w.PutString(name);
    w.Put<int32_t>(s.channels());
    w.Put<int64_t>(s.spatial());
    w.Put<uint8_t>(s.request().tensor_hist);
    w.Put<uint8_t>(s.request().channel_hist);
    PutRanges(w, s.tensor());
    if (s.request().tensor_hist) PutHistogram(w, s.tensor().hist);
    for (int c = 0; c < s.channels(); ++c) PutRanges(w, s.channel(c));
    // Per-channel histograms are most of the file and only per-channel KL/MSE reads them: a length prefix lets
    // other runs skip the block.
    if (s.request().channel_hist) {
      Writer block;
      for (int c = 0; c < s.channels(); ++c) PutHistogram(block, s.channel(c).hist);
      w.Put<uint64_t>(block.bytes().size());
      w.PutBytes(block.bytes());
    }
  }
  return WriteFilesAtomically({{path, w.bytes()}});
}

Status LoadBlobStats(const std::string& path, uint64_t fingerprint, bool channel_histograms,
                     std::map<std::string, BlobStats>* stats) {
  std::vector<uint8_t> bytes;
  QT_RETURN_IF_ERROR(ReadFileBytes(path, &bytes));
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return Status::ParseError(path + ": not a statistics file (bad magic)");
  }
  Reader r(bytes, path);
  QT_RETURN_IF_ERROR(r.Skip("magic", sizeof(kMagic)));
  uint32_t version = 0;
  QT_RETURN_IF_ERROR(r.Get("version", &version));
  if (version != kVersion) {
    return Status::Unsupported(path + ": statistics format version " + std::to_string(version) + ", this build reads " +
                               std::to_string(kVersion));
  }
  uint64_t stored = 0;
  QT_RETURN_IF_ERROR(r.Get("fingerprint", &stored));
  if (stored != fingerprint) {
    return Status::InvalidArgument(path + ": these statistics were collected for another model, input set or "
                                   "preprocessing (fingerprint " + Hex(stored) + ", this run " + Hex(fingerprint) +
                                   "); delete the file or give another --stats path to collect new ones");
  }
  uint32_t count = 0;
  QT_RETURN_IF_ERROR(r.Get("blob count", &count));
  stats->clear();
  for (uint32_t i = 0; i < count; ++i) {
    std::string name;
    int32_t channels = 0;
    int64_t spatial = 0;
    uint8_t tensor_hist = 0, channel_hist = 0;
    QT_RETURN_IF_ERROR(r.GetString("blob name", &name));
    QT_RETURN_IF_ERROR(r.Get("channels", &channels));
    QT_RETURN_IF_ERROR(r.Get("spatial size", &spatial));
    QT_RETURN_IF_ERROR(r.Get("histogram flags", &tensor_hist));
    QT_RETURN_IF_ERROR(r.Get("histogram flags", &channel_hist));
    if (channels <= 0 || channels > (1 << 24) || spatial <= 0) return r.Corrupt("blob '" + name + "' shape");
    // Every channel's ranges (and histogram range, when present) are in the file: a channel count the remaining
    // bytes cannot hold is corrupt, before the per-channel statistics are allocated.
    const uint64_t per_channel = kRangeBytes + (channel_hist ? sizeof(int32_t) : 0);
    if (uint64_t(channels) * per_channel > r.remaining()) {
      return r.Corrupt("blob '" + name + "' channel count " + std::to_string(channels));
    }
    StatsRequest req;
    req.tensor_hist = tensor_hist != 0;
    req.channel_hist = channel_hist != 0 && channel_histograms;
    BlobStats s(channels, spatial, req);
    QT_RETURN_IF_ERROR(GetRanges(r, &s.mutable_tensor()));
    if (tensor_hist) QT_RETURN_IF_ERROR(GetHistogram(r, StatsRequest::kTensorBins, &s.mutable_tensor().hist));
    for (int c = 0; c < channels; ++c) QT_RETURN_IF_ERROR(GetRanges(r, &s.mutable_channel(c)));
    if (channel_hist) {
      uint64_t block = 0;
      QT_RETURN_IF_ERROR(r.Get("histogram block size", &block));
      if (!channel_histograms) {
        QT_RETURN_IF_ERROR(r.Skip("per-channel histograms", block));
      } else {
        for (int c = 0; c < channels; ++c) {
          QT_RETURN_IF_ERROR(GetHistogram(r, StatsRequest::kChannelBins, &s.mutable_channel(c).hist));
        }
      }
    }
    (*stats)[name] = std::move(s);
  }
  if (!r.done()) return r.Corrupt("trailing bytes");
  return Status::Ok();
}

}  // namespace qt
