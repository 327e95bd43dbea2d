// GPTQ (Frantar, Ashkboos, Hoefler, Alistarh 2022, "GPTQ: Accurate Post-Training Quantization
// for Generative Pre-trained Transformers", arXiv:2210.17323) with GGUF block formats as the
// rounding grid, so the result is an ordinary GGUF tensor.
//
// Per linear layer W (rows, k) with calibration inputs X (n, k):
//   H = 2/n · XᵀX; dead columns (H_ii = 0) get H_ii = 1 and W[:, i] = 0; optional act-order
//   (columns by decreasing H_ii, undone when the result is stored); λ = damp · mean(diag H);
//   U = chol((H + λI)⁻¹) upper. Columns are quantized one at a time: q = round(w), the error
//   e = (w - q) / U_ii is propagated to the not-yet-quantized columns, W[:, j>i] -= e · U[i, j],
//   lazily: inside a batch of `block_size` columns at once, to the rest after each batch.
// The rounding: when a column first touches a GGUF block (32 or 256 columns of a row), the
// block's scales and mins are chosen by the type's RTN quantizer (quant_ref.h) on the block's
// current, error-updated weights (weighted by diag H, like an imatrix, unless disabled); each
// weight is then rounded to that block's grid (gptq_grid.h) and the codes are packed into it.
//
// The Hessians come from calibration text through the engine (quant/calibration.h). They are
// collected for a window of layers at a time, so their memory stays under max_hessian_bytes
// (a 1B model: 16 layers x ~320 MiB in float would not fit next to the weights).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "io/gguf.h"
#include "quant/calibration.h"
#include "tensor/dtype.h"

namespace quorum::quant {

struct GptqOptions {
  double damp = 0.01;           // λ = damp · mean(diag H) (percdamp)
  int64_t block_size = 128;     // lazy-batch width (columns)
  bool act_order = false;       // quantize columns by decreasing H_ii
  bool hessian_weights = true;  // RTN picks block scales weighted by diag H
  // Column loops per tensor: the first picks block scales on the error-updated weights when it
  // reaches a block; each further one re-fits them to the values the previous loop rounded
  // (a row keeps the loop with the lowest output error).
  int scale_passes = 2;
  // Sequential (when the quantizer has a CalibrationRunWith): the Hessians of layer N come from
  // a pass in which layers < N already use their quantized weights, one pass per layer, as in
  // the GPTQ paper; otherwise every Hessian comes from the unquantized model.
  bool sequential = false;
  uint64_t max_hessian_bytes = 2ull << 30;  // Hessians held at once (float, k x k per input)
  // Layer 0's attention weights (attn_q/k/v, whose input is the normalized token embedding) are
  // fitted to the unquantized model's outputs from the inputs the quantized embedding table gives
  // (when the file quantizes token_embd; see GptqQuantizer::set_embedding_type).
  bool embedding_compensation = true;
  // token_embd.weight is GPTQ-rounded too, with the Hessian of its readers in layer 0 (see
  // embedding_hessian) instead of RTN; calibration-free.
  bool embedding_rounding = true;
};

// Σ x xᵀ over calibration rows of one linear input (shared by the weights that multiply it).
struct Hessian {
  int64_t k = 0;
  int64_t n = 0;           // rows accumulated
  std::vector<float> sum;  // [k, k] column-major; the lower triangle is valid
};

// Quantizes w [rows, k] (row-major F32) to `type` (which must have a BlockGrid) with GPTQ,
// writing rows * row_size(type, k) bytes to dst. Errors: bad shapes, unsupported type, a
// Hessian that stays indefinite after raising the damping.
Status gptq_quantize(const float* w, int64_t rows, int64_t k, const Hessian& h, DType type,
                     const GptqOptions& options, uint8_t* dst, ThreadPool& pool);

// The Hessian GPTQ rounds token_embd.weight with. An error Δ in the embedding row of a token
// reaches layer 0's attention input as g ⊙ Δ / rms(e) (g: attn_norm's gain; to first order, up
// to the component along e itself), so the output error of attn_q/k/v is Δᵀ diag(g) WᵀW diag(g) Δ
// / rms(e)², and likewise for ffn_gate/up after ffn_norm (whose input is the embedding plus the
// attention output). The rows of diag(g) Wᵀ over those weights, accumulated like calibration
// inputs, give H = Σ diag(g) WᵀW diag(g): each embedding row is quantized for the output error
// of the weights that read it first (1/rms(e)² scales a row's error, not its rounding). From
// the file's weights only. h.n == 0 when layer 0 has none of these weights; errors: a norm or
// weight whose width does not match the table.
Result<Hessian> embedding_hessian(const gguf::File& file, ThreadPool& pool);

// token_embd.weight of `file` rounded to `type` by GPTQ with embedding_hessian (also used by
// AWQ, which has no scale to fold into a one-hot input). nullptr when the table is not a float
// 2-D tensor, the type has no grid, or layer 0 has no readers.
// With tied embeddings the table is also the LM head; H still covers layer 0's readers only
// (adding the head's input Hessian, trace-normalized, raised qt-qwen's Q4_0 KL to 2x RTN's;
// docs/QUANT.md).
Result<std::shared_ptr<const std::vector<uint8_t>>> gptq_embedding_table(
    const gguf::File& file, DType type, const GptqOptions& options, ThreadPool& pool);

// Accumulates Hessians of the linear inputs of selected layers (-1 = output.weight).
class HessianCollector : public ActivationObserver {
 public:
  HessianCollector(std::vector<int64_t> layers, ThreadPool& pool);
  void on_linear_input(const LinearInput& input) override;
  bool observes_output() const override;
  // The Hessian of a weight's input; nullptr if it was not observed.
  const Hessian* find(const std::string& weight_name) const;
  uint64_t bytes() const;

 private:
  std::vector<int64_t> layers_;
  ThreadPool& pool_;
  std::map<std::string, std::shared_ptr<Hessian>> by_weight_;
};

// The GPTQ step of `quorum quantize --method gptq`: holds the calibration run and the Hessians
// of the current window of layers, collecting the next window when a tensor outside it comes.
class GptqQuantizer {
 public:
  GptqQuantizer(const gguf::File& file, CalibrationRun run, GptqOptions options,
                ThreadPool& pool);
  // Whether `name` (to be stored as `type`) is quantized with GPTQ (a 2-D weight the forward
  // pass multiplies, or token_embd with GptqOptions::embedding_rounding, and a type with a
  // grid); otherwise the caller uses RTN.
  bool handles(const std::string& name, DType type) const;
  // GPTQ of tensor `name`: w [rows, k] F32 -> dst. False (dst untouched) when the calibration
  // pass never saw the weight's input; the caller then uses RTN.
  Result<bool> quantize(const std::string& name, const float* w, int64_t rows, int64_t k, DType type,
                  uint8_t* dst);
  int passes() const { return passes_; }
  // Enables the sequential variant (GptqOptions::sequential): `run` makes a calibration pass
  // with the already quantized weights in place of the model's.
  void set_sequential_run(CalibrationRunWith run) { run_with_ = std::move(run); }
  // The type the file stores token_embd.weight in (see embedding_table). With a CalibrationRunWith
  // and GptqOptions::embedding_compensation, the window of layer 0 makes a second pass with that
  // embedding table, and layer 0's attention weights W are replaced by the W' that minimizes
  // Σ_t |W x_t - W' x̃_t|² + λ|W' - W|² (x: unquantized input, x̃: with the quantized table)
  // before GPTQ rounds W' with H̃ = 2/n Σ x̃ x̃ᵀ, so the rounding absorbs the embedding error
  // (the asymmetric calibration of GPTAQ, Li et al. 2025, for the one input that depends only on
  // the token). Without it, GPTQ's layer-0 q/k errors add up with the embedding's in the
  // attention scores (qt-qwen Q4_K_M: KL 2x RTN's).
  void set_embedding_type(DType type) { embedding_type_ = type; }

 private:
  Status load_window(int64_t layer);
  Status embedding_pass();
  // token_embd as the file stores it in `type` (GPTQ with embedding_hessian, or RTN), computed
  // once: the embedding pass (layer 0's window) and the tensor itself use the same bytes.
  // nullptr if the table is not a float 2-D tensor.
  Result<std::shared_ptr<const std::vector<uint8_t>>> embedding_table(DType type);
  bool sequential() const { return options_.sequential && static_cast<bool>(run_with_); }

  // Layer 0's attention input with the quantized embedding table: Σ x̃ x̃ᵀ and Σ x̃ xᵀ (x: the
  // unquantized model's input for the same token), both [k, k] column-major.
  struct EmbeddingInput {
    int64_t k = 0, n = 0;
    std::vector<double> qq, qx;
  };

  CalibrationRun run_;
  CalibrationRunWith run_with_;
  WeightReplacements done_;  // sequential: the GPTQ results so far
  GptqOptions options_;
  ThreadPool& pool_;
  std::map<int64_t, uint64_t> layer_bytes_;  // Hessian bytes per layer (-1 = output)
  std::unique_ptr<HessianCollector> window_;
  std::vector<int64_t> window_layers_;
  int passes_ = 0;
  const gguf::File& file_;
  std::optional<DType> embedding_type_;
  std::vector<float> layer0_x_;  // [n, k] layer 0's attention input in the unquantized pass
  std::unique_ptr<EmbeddingInput> embedding_input_;
  std::shared_ptr<const std::vector<uint8_t>> embedding_table_;
  DType embedding_table_type_ = DType::kF32;
  bool embedding_written_ = false;  // token_embd's bytes went to the writer
};

// Layer of a weight the engine observes: N for "blk.N.*", -1 for "output.weight"; nullopt
// otherwise (embeddings, norms).
std::optional<int64_t> observed_layer(const std::string& weight_name);

}  // namespace quorum::quant
