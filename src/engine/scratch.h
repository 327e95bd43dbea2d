// Session scratch buffers, sized once for a batch of n_batch tokens (internal to the engine).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/matvec.h"
#include "engine/session.h"

namespace quorum {

struct Session::Scratch {
  Scratch(const HParams& hp, int64_t n_batch_, int64_t n_ctx, int n_threads, bool f32_kv)
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
    rope_cs.resize(nb * static_cast<size_t>(hp.n_rot));
    act.resize(matvec_scratch_bytes(std::max<int64_t>({hp.n_embd, hp.n_head * hp.head_dim, hp.n_ff})));
    const auto hd = static_cast<size_t>(hp.head_dim);
    const auto n_gqa = static_cast<size_t>(hp.n_gqa());
    for (int t = 0; t < n_threads; ++t) {
      if (f32_kv) {
        kf.emplace_back(static_cast<size_t>(n_ctx) * hd);
        vf.emplace_back(static_cast<size_t>(n_ctx) * hd);
      }
      scores.emplace_back(static_cast<size_t>(n_ctx) * n_gqa);
      qrow.emplace_back(hd * n_gqa);
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
  std::vector<float> rope_cs;  // [n_batch, n_rot] cos/sin of each token's rotation angles
  std::vector<uint8_t> act;    // converted activation rows of one token (matvec scratch)
  // Per thread: one KV head's keys and values as F32 [n_ctx, head_dim] (F32 cache only), the
  // scores of its query heads [n_gqa, n_ctx], and their F16-rounded queries [n_gqa, head_dim].
  std::vector<std::vector<float>> kf, vf, scores, qrow;
};

}  // namespace quorum
