// Session scratch buffers, sized once for a batch of n_batch tokens (internal to the engine).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/session.h"

namespace quorum {

struct Session::Scratch {
  Scratch(const HParams& hp, int64_t n_batch_, int64_t n_ctx, int n_threads)
      : n_batch(n_batch_) {
    const auto nb = static_cast<size_t>(n_batch);
    const auto q_dim = static_cast<size_t>(hp.n_head * hp.head_dim);
    const auto kv_dim = static_cast<size_t>(hp.n_embd_kv());
    const auto e = static_cast<size_t>(hp.n_embd);
    const auto ff = static_cast<size_t>(hp.n_ff);
    x.resize(nb * e);
    xn.resize(nb * e);
    tmp.resize(nb * e);
    q.resize(nb * q_dim);
    k.resize(nb * kv_dim);
    v.resize(nb * kv_dim);
    qkv.resize(nb * (q_dim + 2 * kv_dim));
    att.resize(nb * q_dim);
    gate_up.resize(nb * 2 * ff);
    gate.resize(nb * ff);
    up.resize(nb * ff);
    h.resize(nb * ff);
    const auto hd = static_cast<size_t>(hp.head_dim);
    for (int t = 0; t < n_threads; ++t) {
      kf.emplace_back(static_cast<size_t>(n_ctx) * hd);
      vf.emplace_back(static_cast<size_t>(n_ctx) * hd);
      scores.emplace_back(static_cast<size_t>(n_ctx));
      qrow.emplace_back(hd);
    }
  }

  int64_t n_batch;
  std::vector<float> x;        // [n_batch, n_embd] residual stream
  std::vector<float> xn;       // [n_batch, n_embd] normalised input of a block
  std::vector<float> tmp;      // [n_batch, n_embd] block output before the residual add
  std::vector<float> q;        // [n_batch, n_head * head_dim]
  std::vector<float> k, v;     // [n_batch, n_head_kv * head_dim]
  std::vector<float> qkv;      // [n_batch, q_dim + 2 * kv_dim] fused projection (phi3)
  std::vector<float> att;      // [n_batch, n_head * head_dim] attention output
  std::vector<float> gate_up;  // [n_batch, 2 * n_ff] fused gate+up (phi3)
  std::vector<float> gate, up; // [n_batch, n_ff]
  std::vector<float> h;        // [n_batch, n_ff] swiglu(gate, up)
  // Per thread: one KV head's keys and values as F32 [n_ctx, head_dim], scores [n_ctx], and a
  // query row [head_dim].
  std::vector<std::vector<float>> kf, vf, scores, qrow;
};

}  // namespace quorum
