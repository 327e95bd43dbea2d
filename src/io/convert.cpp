// quorum convert: opens any model file, rewrites tensors (names, Q/K permutation, float type)
// and writes GGUF or Hugging Face safetensors.
#include "io/convert.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "core/fp16.h"
#include "core/mmap_file.h"
#include "io/hf_config.h"
#include "io/model_file.h"
#include "io/safetensors.h"

namespace quorum {
namespace fs = std::filesystem;
namespace {

bool is_float_type(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }

// Converts n elements of `src` (type `from`) to `to`; float types directly, quantized ones through
// their reference dequantizer.
Result<std::vector<uint8_t>> convert_data(const gguf::TensorInfo& t, DType to) {
  const int64_t n = t.n_elements();
  std::vector<float> f32(static_cast<size_t>(n));  // [n]
  const TypeTraits& tr = traits(t.type);
  switch (t.type) {
    case DType::kF32: std::memcpy(f32.data(), t.data, t.nbytes); break;
    case DType::kF16: f16_to_f32_row(reinterpret_cast<const f16_t*>(t.data), f32.data(), n); break;
    case DType::kBF16: bf16_to_f32_row(reinterpret_cast<const bf16_t*>(t.data), f32.data(), n); break;
    default:
      if (tr.to_float == nullptr) {
        return Error(ErrorCode::kUnsupported, "cannot convert tensor type")
            .where("tensor '" + t.name + "'")
            .actual(tr.name)
            .hint("no dequantizer for this type");
      }
      tr.to_float(t.data, f32.data(), n);
  }
  std::vector<uint8_t> out(static_cast<size_t>(n) * traits(to).type_size);
  switch (to) {
    case DType::kF32: std::memcpy(out.data(), f32.data(), out.size()); break;
    case DType::kF16: f32_to_f16_row(f32.data(), reinterpret_cast<f16_t*>(out.data()), n); break;
    case DType::kBF16: f32_to_bf16_row(f32.data(), reinterpret_cast<bf16_t*>(out.data()), n); break;
    default:
      return Error(ErrorCode::kInvalidArgument, "conversion target must be f32, f16 or bf16")
          .actual(dtype_name(to));
  }
  return out;
}

Status refuse_same(const std::string& in, const std::string& out) {
  std::error_code ec;
  if (fs::exists(out, ec) && fs::equivalent(in, out, ec)) {
    return Error(ErrorCode::kInvalidArgument, "output is the input; refusing to overwrite it")
        .where(out)
        .hint("choose another output path");
  }
  return Status::ok();
}

Status copy_file_atomic(const std::string& from, const std::string& to) {
  QUORUM_ASSIGN_OR_RETURN(const std::string text, read_text_file(from));
  return write_file_atomic(to, text.data(), text.size());
}

}  // namespace

OutputFormat output_format_for(const std::string& out) {
  return fs::path(out).extension() == ".gguf" ? OutputFormat::kGguf : OutputFormat::kSafetensors;
}

Status write_gguf_model(const gguf::File& src, const std::string& out, std::optional<DType> type) {
  gguf::Writer w;
  w.copy_metadata(src);
  if (src.alignment() != gguf::kDefaultAlignment) w.set_alignment(src.alignment());
  for (const gguf::TensorInfo& t : src.tensors()) {
    const DType to = type && t.ne.size() > 1 ? *type : (type ? DType::kF32 : t.type);
    if (to == t.type) {
      QUORUM_TRY(w.add_tensor_view(t.name, t.type, t.ne, t.data, t.nbytes));
    } else {
      QUORUM_ASSIGN_OR_RETURN(std::vector<uint8_t> data, convert_data(t, to));
      QUORUM_TRY(w.add_tensor(t.name, to, t.ne, std::move(data)));
    }
  }
  if (type) w.set("general.file_type", gguf::Value::u32(*type == DType::kF32 ? 0 : *type == DType::kF16 ? 1 : 32));
  return w.write(out);
}

Status write_hf_model(const gguf::File& src, const std::string& out, std::optional<DType> type,
                      const std::string& copy_from_dir) {
  QUORUM_ASSIGN_OR_RETURN(const std::string arch_name, src.get_string("general.architecture"));
  QUORUM_ASSIGN_OR_RETURN(const hf::ArchInfo arch, hf::arch_from_gguf(arch_name));
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_head, src.get_int(arch_name + ".attention.head_count"));
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_head_kv,
                          src.get_int_or(arch_name + ".attention.head_count_kv", n_head));
  const bool to_dir = fs::path(out).extension() != ".safetensors";
  const fs::path dir = to_dir ? fs::path(out) : fs::path(out).parent_path();
  std::error_code ec;
  if (!dir.empty()) fs::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::kIoError, "cannot create output directory").where(dir.string()).actual(ec.message());

  std::vector<std::vector<uint8_t>> owned;
  owned.reserve(src.tensors().size());
  std::vector<safetensors::WriteTensor> tensors;
  std::optional<DType> seen;
  for (const gguf::TensorInfo& t : src.tensors()) {
    QUORUM_ASSIGN_OR_RETURN(const std::string name, hf::gguf_to_hf_name(t.name, arch));
    const DType to = type ? *type : (is_float_type(t.type) ? t.type : DType::kF32);
    safetensors::WriteTensor wt{name, to, std::vector<int64_t>(t.ne.rbegin(), t.ne.rend()), t.data, t.nbytes};
    if (to != t.type) {
      QUORUM_ASSIGN_OR_RETURN(std::vector<uint8_t> d, convert_data(t, to));
      owned.push_back(std::move(d));
      wt.data = owned.back().data();
      wt.nbytes = owned.back().size();
    }
    const bool is_q = t.name.ends_with("attn_q.weight") || t.name.ends_with("attn_q.bias");
    const bool is_k = t.name.ends_with("attn_k.weight") || t.name.ends_with("attn_k.bias");
    if (arch.permute_qk && (is_q || is_k)) {
      const int64_t rows = t.ne.size() > 1 ? t.ne[1] : t.ne[0];
      std::vector<uint8_t> buf(wt.nbytes);
      QUORUM_TRY(hf::permute_qk_rows(static_cast<const uint8_t*>(wt.data), buf.data(), rows,
                                     wt.nbytes / rows, is_q ? n_head : n_head_kv,
                                     hf::PermuteDirection::kGgufToHf));
      owned.push_back(std::move(buf));
      wt.data = owned.back().data();
    }
    if (!seen) seen = to;
    tensors.push_back(std::move(wt));
  }
  const DType main_type = seen.value_or(DType::kF32);
  const std::string torch_dtype = main_type == DType::kF16 ? "float16" : main_type == DType::kBF16 ? "bfloat16" : "float32";
  QUORUM_ASSIGN_OR_RETURN(const nlohmann::json config, hf::gguf_to_config(src, torch_dtype));
  QUORUM_ASSIGN_OR_RETURN(const std::string packed, hf::pack_gguf_metadata(src));
  std::map<std::string, std::string> meta = {{"format", "pt"}, {hf::kPackedMetadataKey, packed}};
  const std::string st_path = to_dir ? (dir / "model.safetensors").string() : out;
  QUORUM_TRY(safetensors::write_file(st_path, tensors, meta));
  const std::string cfg = config.dump(2) + "\n";
  QUORUM_TRY(write_file_atomic((dir / "config.json").string(), cfg.data(), cfg.size()));
  if (!copy_from_dir.empty() && !fs::equivalent(copy_from_dir, dir, ec)) {
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                          "tokenizer.model", "generation_config.json"}) {
      const fs::path p = fs::path(copy_from_dir) / f;
      if (fs::exists(p)) QUORUM_TRY(copy_file_atomic(p.string(), (dir / f).string()));
    }
  }
  return Status::ok();
}

Status convert_model(const std::string& in, const std::string& out, const ConvertOptions& options) {
  if (options.type && !is_float_type(*options.type)) {
    return Error(ErrorCode::kInvalidArgument, "conversion type must be f32, f16 or bf16")
        .actual(dtype_name(*options.type));
  }
  QUORUM_TRY(refuse_same(in, out));
  const OutputFormat of = output_format_for(out);
  if (of == OutputFormat::kSafetensors) {
    const fs::path st = fs::path(out).extension() == ".safetensors" ? fs::path(out) : fs::path(out) / "model.safetensors";
    QUORUM_TRY(refuse_same(in, st.string()));
    std::error_code ec;
    const fs::path cfg = st.parent_path() / "config.json";
    // A Hugging Face input's config.json lives in its directory: writing there would replace it.
    const fs::path in_dir = fs::is_directory(in, ec) ? fs::path(in) : fs::path(in).parent_path();
    const fs::path out_dir = cfg.parent_path().empty() ? fs::path(".") : cfg.parent_path();
    const fs::path in_cfg = (in_dir.empty() ? fs::path(".") : in_dir) / "config.json";
    if (fs::exists(in_cfg, ec) && fs::exists(out_dir, ec) &&
        fs::equivalent(in_cfg.parent_path(), out_dir, ec)) {
      return Error(ErrorCode::kInvalidArgument,
                   "output would replace the input's config.json; refusing to overwrite the input")
          .where(out)
          .hint("write to another directory");
    }
  }
  OpenModelOptions oo;
  oo.vocab_path = options.vocab_path;
  QUORUM_ASSIGN_OR_RETURN(const gguf::File src, open_model_file(in, oo));
  if (of == OutputFormat::kGguf) return write_gguf_model(src, out, options.type);
  std::string copy_dir;
  std::error_code ec;
  if (fs::is_directory(in, ec)) copy_dir = in;
  else if (fs::path(in).extension() == ".safetensors") copy_dir = fs::path(in).parent_path().string();
  return write_hf_model(src, out, options.type, copy_dir);
}

}  // namespace quorum
