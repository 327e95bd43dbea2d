// Format detection and the Hugging Face importer (safetensors + config.json -> GGUF vocabulary).
#include "io/model_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/mmap_file.h"
#include "io/hf_config.h"
#include "io/llama2c.h"
#include "io/safetensors.h"

namespace quorum {
namespace fs = std::filesystem;
namespace {

// Owned tensor bytes (permuted Q/K, realigned or config-implied tensors) plus the mappings the
// other tensors point into; the File keeps one of these alive.
struct Storage {
  std::vector<std::shared_ptr<const void>> mappings;
  std::vector<std::vector<uint8_t>> buffers;  // moving a vector keeps its heap block in place
  const uint8_t* own(std::vector<uint8_t> b) {
    buffers.push_back(std::move(b));
    return buffers.back().data();
  }
};

Result<nlohmann::json> read_json(const std::string& path) {
  QUORUM_ASSIGN_OR_RETURN(const std::string text, read_text_file(path));
  try {
    return nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kCorruptFile, "file is not valid JSON").where(path).actual(e.what());
  }
}

// The safetensors files of a model and the directory holding config.json.
Result<std::vector<std::string>> hf_shards(const std::string& path, std::string* dir) {
  if (!fs::is_directory(path)) {
    *dir = fs::path(path).parent_path().string();
    if (dir->empty()) *dir = ".";
    return std::vector<std::string>{path};
  }
  *dir = path;
  const fs::path single = fs::path(path) / "model.safetensors";
  if (fs::exists(single)) return std::vector<std::string>{single.string()};
  const fs::path index = fs::path(path) / "model.safetensors.index.json";
  if (!fs::exists(index)) {
    return Error(ErrorCode::kNotFound, "directory holds no model.safetensors or model.safetensors.index.json")
        .where(path);
  }
  QUORUM_ASSIGN_OR_RETURN(const nlohmann::json j, read_json(index.string()));
  auto wm = j.find("weight_map");
  if (!j.is_object() || wm == j.end() || !wm->is_object()) {
    return Error(ErrorCode::kCorruptFile, "index has no weight_map object").where(index.string());
  }
  std::set<std::string> files;
  for (const auto& v : *wm) {
    if (!v.is_string() || v.get<std::string>().find('/') != std::string::npos) {
      return Error(ErrorCode::kCorruptFile, "weight_map value is not a file name in the directory")
          .where(index.string())
          .actual(v.dump());
    }
    files.insert((fs::path(path) / v.get<std::string>()).string());
  }
  return std::vector<std::string>(files.begin(), files.end());
}

// Sort key: global tensors first (in their given order), then blocks by layer number.
int64_t layer_of(const std::string& name) {
  if (!name.starts_with("blk.")) return -1;
  int64_t n = 0;
  for (size_t i = 4; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) n = n * 10 + (name[i] - '0');
  return n;
}

}  // namespace

const char* model_format_name(ModelFormat f) {
  switch (f) {
    case ModelFormat::kGguf: return "GGUF";
    case ModelFormat::kSafetensors: return "safetensors";
    case ModelFormat::kLlama2c: return "llama2.c";
  }
  return "?";
}

Result<ModelFormat> detect_model_format(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Error(ErrorCode::kNotFound, "model path does not exist").where(path);
  if (fs::is_directory(path, ec)) {
    if (fs::exists(fs::path(path) / "model.safetensors") ||
        fs::exists(fs::path(path) / "model.safetensors.index.json")) {
      return ModelFormat::kSafetensors;
    }
    return Error(ErrorCode::kUnsupported, "directory holds no model.safetensors or index")
        .where(path)
        .hint("pass a .gguf, a .safetensors, a llama2.c .bin or a Hugging Face model directory");
  }
  if (fs::path(path).extension() == ".safetensors") return ModelFormat::kSafetensors;
  QUORUM_ASSIGN_OR_RETURN(const auto m, MappedFile::open(path));
  if (m->size() >= 4 && std::memcmp(m->data(), "GGUF", 4) == 0) return ModelFormat::kGguf;
  if (llama2c::looks_like_llama2c(m->data(), m->size())) return ModelFormat::kLlama2c;
  return Error(ErrorCode::kUnsupported, "unrecognized model file format")
      .where(path)
      .expected("GGUF magic, a .safetensors file, or a llama2.c checkpoint whose header matches its size")
      .hint("pass a .gguf, a .safetensors, a llama2.c .bin or a Hugging Face model directory");
}

Result<gguf::File> open_model_file(const std::string& path, const OpenModelOptions& options) {
  QUORUM_ASSIGN_OR_RETURN(const ModelFormat fmt, detect_model_format(path));
  switch (fmt) {
    case ModelFormat::kGguf: return gguf::File::open(path, options.load_mode);
    case ModelFormat::kSafetensors: return open_hf_model(path);
    case ModelFormat::kLlama2c: {
      std::string vocab = options.vocab_path;
      for (const char* name : {"tokenizer.model", "tokenizer.bin"}) {
        const fs::path p = fs::path(path).parent_path() / name;
        if (vocab.empty() && fs::exists(p)) vocab = p.string();
      }
      return llama2c::open(path, vocab);
    }
  }
  return Error(ErrorCode::kInternal, "unhandled model format");
}

Result<gguf::File> open_hf_model(const std::string& path) {
  std::string dir;
  QUORUM_ASSIGN_OR_RETURN(const std::vector<std::string> shards, hf_shards(path, &dir));
  const std::string config_path = (fs::path(dir) / "config.json").string();
  if (!fs::exists(config_path)) {
    return Error(ErrorCode::kNotFound, "config.json is missing next to the safetensors file")
        .where(path)
        .hint("a Hugging Face model needs its config.json for the hyper-parameters");
  }
  QUORUM_ASSIGN_OR_RETURN(const nlohmann::json config, read_json(config_path));
  QUORUM_ASSIGN_OR_RETURN(hf::ConfigResult cr, hf::config_to_gguf(config, config_path));
  if (!config.contains("tie_word_embeddings")) cr.tie_word_embeddings = true;  // HF's default

  auto storage = std::make_shared<Storage>();
  std::vector<gguf::TensorInfo> tensors;
  std::string packed;
  for (const std::string& shard : shards) {
    QUORUM_ASSIGN_OR_RETURN(const safetensors::File st, safetensors::File::open(shard));
    storage->mappings.push_back(st.keep());
    if (auto it = st.metadata().find(hf::kPackedMetadataKey); it != st.metadata().end()) packed = it->second;
    for (const safetensors::Tensor& t : st.tensors()) {
      QUORUM_ASSIGN_OR_RETURN(const std::string name, hf::hf_to_gguf_name(t.name, shard));
      if (name.empty()) continue;
      const std::string where = fmt::format("{}: tensor '{}'", shard, t.name);
      if (t.shape.size() > static_cast<size_t>(gguf::kMaxDims) || t.n_elements() == 0) {
        return Error(ErrorCode::kUnsupported, "tensor shape cannot be stored in GGUF")
            .where(where)
            .expected("1 to 4 non-zero dimensions")
            .actual(fmt::format("{} dimensions, {} elements", t.shape.size(), t.n_elements()));
      }
      gguf::TensorInfo ti;
      ti.name = name;
      ti.type = t.type;
      ti.ne.assign(t.shape.rbegin(), t.shape.rend());
      if (ti.ne.empty()) ti.ne.push_back(1);
      ti.nbytes = t.nbytes;
      ti.data = t.data;
      const bool is_q = name.ends_with("attn_q.weight") || name.ends_with("attn_q.bias");
      const bool is_k = name.ends_with("attn_k.weight") || name.ends_with("attn_k.bias");
      const size_t elem = traits(t.type).type_size;
      if (cr.arch.permute_qk && (is_q || is_k)) {
        const int64_t rows = t.shape.empty() ? 1 : t.shape[0];
        std::vector<uint8_t> buf(t.nbytes);
        QUORUM_TRY(hf::permute_qk_rows(t.data, buf.data(), rows, t.nbytes / rows,
                                       is_q ? cr.n_head : cr.n_head_kv,
                                       hf::PermuteDirection::kHfToGguf)
                       .with_context(where));
        ti.data = storage->own(std::move(buf));
      } else if (reinterpret_cast<uintptr_t>(t.data) % elem != 0) {
        ti.data = storage->own(std::vector<uint8_t>(t.data, t.data + t.nbytes));  // realign
      }
      tensors.push_back(std::move(ti));
    }
  }
  for (hf::ConfigTensor& ct : cr.tensors) {
    gguf::TensorInfo ti;
    ti.name = ct.name;
    ti.type = DType::kF32;
    ti.ne = {static_cast<int64_t>(ct.data.size())};
    ti.nbytes = ct.data.size() * sizeof(float);
    const auto* p = reinterpret_cast<const uint8_t*>(ct.data.data());
    ti.data = storage->own(std::vector<uint8_t>(p, p + ti.nbytes));
    tensors.push_back(std::move(ti));
  }
  const bool has_output = std::any_of(tensors.begin(), tensors.end(),
                                      [](const gguf::TensorInfo& t) { return t.name == "output.weight"; });
  if (!cr.tie_word_embeddings && !has_output) {
    return Error(ErrorCode::kCorruptFile, "lm_head.weight is missing and tie_word_embeddings is false")
        .where(path);
  }
  std::stable_sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) {
    return layer_of(a.name) < layer_of(b.name);
  });

  hf::Metadata meta = std::move(cr.metadata);
  if (!packed.empty()) {
    // Our own export: the packed GGUF metadata (tokenizer and all) in its original order, with
    // config.json's values winning for the keys it defines.
    QUORUM_ASSIGN_OR_RETURN(hf::Metadata orig, hf::unpack_gguf_metadata(packed, path));
    const std::string a = cr.arch.gguf_arch;
    auto meta_u = [&](const std::string& key) -> uint64_t {
      for (const auto& [k, v] : meta) if (k == key) return v.u;
      return 0;
    };
    const uint64_t default_rot = meta_u(a + ".embedding_length") / std::max<uint64_t>(1, meta_u(a + ".attention.head_count"));
    auto is_default = [&](const std::string& k, const gguf::Value& v) {
      return (k == a + ".rope.freq_base" && v.f == 10000.0) ||
             (k == a + ".rope.dimension_count" && v.u == default_rot);
    };
    for (auto& entry : meta) {
      const std::string& k = entry.first;  // (clang 14 cannot capture structured bindings)
      gguf::Value& v = entry.second;
      auto it = std::find_if(orig.begin(), orig.end(), [&](const auto& kv) { return kv.first == k; });
      if (it != orig.end()) {
        it->second = std::move(v);
      } else if (!is_default(k, v)) {
        orig.emplace_back(k, std::move(v));  // llama.cpp defaults are left implicit
      }
    }
    meta = std::move(orig);
  }
  return gguf::File::from_parts(path, std::move(meta), std::move(tensors), storage);
}

}  // namespace quorum
