// The transformer forward pass of a Session, following llama.cpp's graph numerics:
//   x = embed(tokens)
//   per layer: xn = rms_norm(x) * attn_norm; q,k,v = xn·Wᵀ (+ bias); RoPE(q, k);
//              k, v -> cache (rounded to F16 with the default cache);
//              scores = (q_f16 · k) / sqrt(head_dim), causal mask, softmax (F32);
//              att = p_f16 · v  (with an F16 cache llama.cpp converts p to F16 for this product);
//              x += att·Woᵀ;  xn = rms_norm(x) * ffn_norm;  x += (silu(xn·Wgᵀ) * xn·Wuᵀ)·Wdᵀ
//   logits = (rms_norm(x) * output_norm)·Woutᵀ
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "engine/matvec.h"
#include "engine/scratch.h"
#include "engine/session.h"
#include "quant/calibration.h"

namespace quorum {

namespace {

void add_bias(float* y, const Vector& b, int64_t n, int64_t width) {
  if (!b.present()) return;
  for (int64_t r = 0; r < n; ++r) {
    float* row = y + r * width;
    for (int64_t i = 0; i < width; ++i) row[i] += b.data[i];
  }
}

void add_rows(float* x, const float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) x[i] += y[i];
}

// Copies columns [col0, col0 + width) of src [n, src_width] into dst [n, width].
void copy_columns(const float* src, int64_t src_width, int64_t col0, int64_t width, int64_t n,
                  float* dst) {
  for (int64_t r = 0; r < n; ++r) {
    std::memcpy(dst + r * width, src + r * src_width + col0, static_cast<size_t>(width) * 4);
  }
}

float round_f16(float x) { return f16_to_f32(f32_to_f16(x)); }

}  // namespace

void Session::store_kv(int64_t il, const float* k, const float* v, int64_t n, int64_t p0) {
  const int64_t kv_dim = model_->hparams().n_embd_kv();
  const size_t row_bytes = static_cast<size_t>(kv_dim) * kv_elem_size_;
  uint8_t* kc = k_cache_[static_cast<size_t>(il)].data() + static_cast<size_t>(p0) * row_bytes;
  uint8_t* vc = v_cache_[static_cast<size_t>(il)].data() + static_cast<size_t>(p0) * row_bytes;
  if (options_.kv_type == KvType::kF16) {
    f32_to_f16_row(k, reinterpret_cast<f16_t*>(kc), n * kv_dim);
    f32_to_f16_row(v, reinterpret_cast<f16_t*>(vc), n * kv_dim);
  } else {
    std::memcpy(kc, k, static_cast<size_t>(n) * row_bytes);
    std::memcpy(vc, v, static_cast<size_t>(n) * row_bytes);
  }
}

void Session::attention(int64_t il, const float* q, int64_t n, int64_t p0, float* out) {
  const HParams& hp = model_->hparams();
  const int64_t hd = hp.head_dim;
  const int64_t kv_dim = hp.n_embd_kv();
  const int64_t q_dim = hp.n_head * hd;
  const int64_t n_gqa = hp.n_gqa();
  const bool f16 = options_.kv_type == KvType::kF16;
  const float scale = model_->prescale_q() ? 1.0f : 1.0f / std::sqrt(static_cast<float>(hd));
  const uint8_t* kc = k_cache_[static_cast<size_t>(il)].data();
  const uint8_t* vc = v_cache_[static_cast<size_t>(il)].data();
  // Tasks: (kv head, block of query tokens).
  const int64_t n_threads = pool_->size();
  int64_t n_blocks = (n_threads + hp.n_head_kv - 1) / hp.n_head_kv;
  if (n_blocks > n) n_blocks = n;
  const int64_t block = (n + n_blocks - 1) / n_blocks;
  Scratch& s = *scratch_;
  pool_->parallel_for(hp.n_head_kv * n_blocks, 1, [&](int64_t begin, int64_t end, int thread) {
    float* sc = s.scores[static_cast<size_t>(thread)].data();  // [n_gqa, n_see]
    float* qr = s.qrow[static_cast<size_t>(thread)].data();    // [n_gqa, hd]
    for (int64_t task = begin; task < end; ++task) {
      const int64_t kvh = task / n_blocks;
      const int64_t t0 = (task % n_blocks) * block;
      const int64_t t1 = std::min(n, t0 + block);
      if (t0 >= t1) continue;
      if (f16) {
        // The F16 cache is read in place; the query heads of the group go together so each
        // key and value row is loaded once for all of them.
        const f16_t* kh = reinterpret_cast<const f16_t*>(kc) + kvh * hd;
        const f16_t* vh = reinterpret_cast<const f16_t*>(vc) + kvh * hd;
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t n_see = p0 + t + 1;  // causal mask: positions 0 .. p0 + t
          const float* qg = q + t * q_dim + kvh * n_gqa * hd;  // [n_gqa, hd]
          for (int64_t d = 0; d < n_gqa * hd; ++d) qr[d] = round_f16(qg[d]);
          kernels_.attn_scores_f16(kh, kv_dim, qr, n_gqa, n_see, hd, sc);
          for (int64_t g = 0; g < n_gqa; ++g) {
            float* sg = sc + g * n_see;
            for (int64_t j = 0; j < n_see; ++j) sg[j] *= scale;
            kernels_.softmax(sg, n_see);
            for (int64_t j = 0; j < n_see; ++j) sg[j] = round_f16(sg[j]);
          }
          kernels_.attn_values_f16(vh, kv_dim, sc, n_gqa, n_see, hd,
                                   out + t * q_dim + kvh * n_gqa * hd);
        }
        continue;
      }
      float* kf = s.kf[static_cast<size_t>(thread)].data();  // [n_kv, hd]
      float* vf = s.vf[static_cast<size_t>(thread)].data();  // [n_kv, hd]
      const int64_t n_kv = p0 + t1;  // positions the last token of the block sees
      for (int64_t j = 0; j < n_kv; ++j) {
        const size_t off = static_cast<size_t>(j * kv_dim + kvh * hd);
        std::memcpy(kf + j * hd, reinterpret_cast<const float*>(kc) + off,
                    static_cast<size_t>(hd) * 4);
        std::memcpy(vf + j * hd, reinterpret_cast<const float*>(vc) + off,
                    static_cast<size_t>(hd) * 4);
      }
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n_see = p0 + t + 1;
        for (int64_t g = 0; g < n_gqa; ++g) {
          const int64_t h = kvh * n_gqa + g;
          const float* qh = q + t * q_dim + h * hd;
          for (int64_t j = 0; j < n_see; ++j) {
            const float* kj = kf + j * hd;
            float dot = 0.0f;
            for (int64_t d = 0; d < hd; ++d) dot += qh[d] * kj[d];
            sc[j] = dot * scale;
          }
          kernels_.softmax(sc, n_see);
          float* o = out + t * q_dim + h * hd;
          for (int64_t d = 0; d < hd; ++d) o[d] = 0.0f;
          for (int64_t j = 0; j < n_see; ++j) {
            const float p = sc[j];
            const float* vj = vf + j * hd;
            for (int64_t d = 0; d < hd; ++d) o[d] += p * vj[d];
          }
        }
      }
    }
  });
}

void Session::forward(const int32_t* tokens, int64_t n, LogitsMode mode, int64_t out_row) {
  const HParams& hp = model_->hparams();
  const ModelWeights& w = model_->weights();
  Scratch& s = *scratch_;
  ThreadPool& pool = *pool_;
  const int64_t e = hp.n_embd;
  const int64_t hd = hp.head_dim;
  const int64_t q_dim = hp.n_head * hd;
  const int64_t kv_dim = hp.n_embd_kv();
  const int64_t ff = hp.n_ff;
  const int64_t p0 = position();
  const float eps = hp.norm_rms_eps;

  // Embeddings: x[n, e].
  const TypeTraits& emb = traits(w.token_embd.type);
  for (int64_t t = 0; t < n; ++t) {
    const uint8_t* row = w.token_embd.row(tokens[t]);
    if (w.token_embd.type == DType::kF32) {
      std::memcpy(s.x.data() + t * e, row, static_cast<size_t>(e) * 4);
    } else {
      emb.to_float(row, s.x.data() + t * e, e);
    }
  }

  kernels::RopeParams rope;
  rope.mode = model_->rope_kind() == RopeKind::kNeox ? kernels::RopeMode::kNeox
                                                     : kernels::RopeMode::kNormal;
  rope.n_dims = static_cast<int>(hp.n_rot);
  rope.base = hp.rope_freq_base;
  rope.freq_scale = hp.rope_freq_scale;
  rope.freq_factors = w.rope_freqs.present() ? w.rope_freqs.data : nullptr;
  const float q_prescale = 1.0f / std::sqrt(static_cast<float>(hd));
  // The rotation angles of each token's position, shared by every head and layer:
  // rope_cs [n, n_rot].
  const int64_t n_rot = hp.n_rot;
  for (int64_t t = 0; t < n; ++t) kernels::rope_cache(p0 + t, rope, s.rope_cs.data() + t * n_rot);

  // One token (generation) multiplies matrices that share an input in one pool pass.
  const bool one = n == 1;
  uint8_t* act = s.act.data();
  auto mm = [&](const Weight& wt, const float* x, float* y) {
    if (one) {
      matvec(kernels_, pool, x, wt.k, {{&wt, y}}, act);
    } else {
      kernels_.matmul(pool, wt.type, wt.data, wt.rows, wt.k, x, n, y);
    }
  };
  quant::ActivationObserver* const obs = options_.observer;  // calibration capture, usually null
  auto observe = [&](int64_t il, std::initializer_list<const char*> names, const float* x,
                     int64_t rows, int64_t k) {
    if (obs) quant::notify_linear_input(*obs, il, names, x, rows, k);
  };

  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    for (int64_t t = 0; t < n; ++t) {
      kernels_.rms_norm(s.x.data() + t * e, l.attn_norm.data, s.xn.data() + t * e, e, eps);
    }
    if (l.wqkv.present()) observe(il, {"attn_qkv"}, s.xn.data(), n, e);
    else observe(il, {"attn_q", "attn_k", "attn_v"}, s.xn.data(), n, e);
    if (l.wqkv.present()) {
      mm(l.wqkv, s.xn.data(), s.qkv.data());
      const int64_t width = q_dim + 2 * kv_dim;
      copy_columns(s.qkv.data(), width, 0, q_dim, n, s.q.data());
      copy_columns(s.qkv.data(), width, q_dim, kv_dim, n, s.k.data());
      copy_columns(s.qkv.data(), width, q_dim + kv_dim, kv_dim, n, s.v.data());
    } else if (one) {
      matvec(kernels_, pool, s.xn.data(), e,
             {{&l.wq, s.q.data()}, {&l.wk, s.k.data()}, {&l.wv, s.v.data()}}, act);
    } else {
      mm(l.wq, s.xn.data(), s.q.data());
      mm(l.wk, s.xn.data(), s.k.data());
      mm(l.wv, s.xn.data(), s.v.data());
    }
    add_bias(s.q.data(), l.bq, n, q_dim);
    add_bias(s.k.data(), l.bk, n, kv_dim);
    add_bias(s.v.data(), l.bv, n, kv_dim);
    for (int64_t t = 0; t < n; ++t) {
      const float* cs = s.rope_cs.data() + t * n_rot;
      for (int64_t h = 0; h < hp.n_head; ++h) {
        kernels::rope_apply(s.q.data() + t * q_dim + h * hd, cs, rope);
      }
      for (int64_t h = 0; h < hp.n_head_kv; ++h) {
        kernels::rope_apply(s.k.data() + t * kv_dim + h * hd, cs, rope);
      }
    }
    if (model_->prescale_q()) {
      for (int64_t i = 0; i < n * q_dim; ++i) s.q[static_cast<size_t>(i)] *= q_prescale;
    }
    store_kv(il, s.k.data(), s.v.data(), n, p0);
    attention(il, s.q.data(), n, p0, s.att.data());
    observe(il, {"attn_output"}, s.att.data(), n, q_dim);
    mm(l.wo, s.att.data(), s.tmp.data());
    add_rows(s.x.data(), s.tmp.data(), n * e);

    for (int64_t t = 0; t < n; ++t) {
      kernels_.rms_norm(s.x.data() + t * e, l.ffn_norm.data, s.xn.data() + t * e, e, eps);
    }
    if (l.fused_gate_up) observe(il, {"ffn_up"}, s.xn.data(), n, e);
    else observe(il, {"ffn_gate", "ffn_up"}, s.xn.data(), n, e);
    if (l.fused_gate_up) {
      mm(l.ffn_up, s.xn.data(), s.gate_up.data());
      copy_columns(s.gate_up.data(), 2 * ff, 0, ff, n, s.gate.data());
      copy_columns(s.gate_up.data(), 2 * ff, ff, ff, n, s.up.data());
      kernels_.swiglu(s.gate.data(), s.up.data(), s.h.data(), n * ff);
    } else if (one) {
      matvec_swiglu(kernels_, pool, l.ffn_gate, l.ffn_up, s.xn.data(), s.h.data(), act);
    } else {
      mm(l.ffn_gate, s.xn.data(), s.gate.data());
      mm(l.ffn_up, s.xn.data(), s.up.data());
      kernels_.swiglu(s.gate.data(), s.up.data(), s.h.data(), n * ff);
    }
    observe(il, {"ffn_down"}, s.h.data(), n, ff);
    mm(l.ffn_down, s.h.data(), s.tmp.data());
    add_rows(s.x.data(), s.tmp.data(), n * e);
  }

  if (out_row < 0) return;
  // Output rows: all n, or only the last.
  const int64_t first = mode == LogitsMode::kAll ? 0 : n - 1;
  const int64_t n_out = n - first;
  for (int64_t t = first; t < n; ++t) {
    kernels_.rms_norm(s.x.data() + t * e, w.output_norm.data, s.xn.data() + (t - first) * e, e,
                      eps);
  }
  const bool tied = w.output.data == w.token_embd.data;
  observe(-1, {tied ? "token_embd" : "output"}, s.xn.data(), n_out, e);
  float* y = logits_.data() + out_row * hp.n_vocab;
  if (n_out == 1) {
    matvec(kernels_, pool, s.xn.data(), e, {{&w.output, y}}, act);
  } else {
    kernels_.matmul(pool, w.output.type, w.output.data, w.output.rows, w.output.k, s.xn.data(),
                    n_out, y);
  }
}

}  // namespace quorum
