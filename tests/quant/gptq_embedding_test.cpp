// GPTQ's rounding of the token embedding table (GptqOptions::embedding_rounding): the Hessian
// from layer 0's weights (embedding_hessian) is Σ diag(g) WᵀW diag(g) over the weights that read
// attn_norm / ffn_norm, and the table it rounds gives a lower output error of layer 0's
// attention and FFN weights on the real normalized inputs of every vocabulary row than the
// RTN table llama-quantize writes, on both task-model architectures (llama, qwen2) and the
// types the mixes store token_embd in.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "io/gguf.h"
#include "quant/gptq.h"
#include "tensor/quant_ref.h"
#include "testing/shared_data.h"

namespace quorum::quant {
namespace {

using MatD = Eigen::MatrixXd;

// A tensor of the file as a double matrix [rows, cols] (rows = ne[1], cols = ne[0]).
MatD load(const gguf::File& f, const std::string& name) {
  const gguf::TensorInfo* t = f.find_tensor(name);
  EXPECT_NE(t, nullptr) << name;
  if (t == nullptr) return {};
  const int64_t cols = t->ne[0], rows = t->n_rows();
  std::vector<float> buf(static_cast<size_t>(rows * cols));
  const size_t rs = row_size(t->type, cols);
  for (int64_t r = 0; r < rows; ++r) traits(t->type).to_float(t->data + r * rs, buf.data() + r * cols, cols);
  return Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
             buf.data(), rows, cols)
      .cast<double>();
}

struct Reader {
  Eigen::VectorXd gain;  // the norm's weight
  MatD w;                // the weights reading it, stacked [rows, k]
};

// Layer 0's readers of the embedding: attn_norm -> attn_q/k/v, ffn_norm -> ffn_gate/up.
std::vector<Reader> layer0_readers(const gguf::File& f) {
  std::vector<Reader> out;
  for (const auto& [norm, weights] :
       {std::pair{"blk.0.attn_norm.weight", std::vector<std::string>{"attn_q", "attn_k", "attn_v"}},
        std::pair{"blk.0.ffn_norm.weight", std::vector<std::string>{"ffn_gate", "ffn_up"}}}) {
    Reader r;
    r.gain = load(f, norm).transpose();
    std::vector<MatD> parts;
    int64_t rows = 0;
    for (const std::string& w : weights) {
      parts.push_back(load(f, "blk.0." + w + ".weight"));
      rows += parts.back().rows();
    }
    r.w.resize(rows, r.gain.size());
    int64_t at = 0;
    for (const MatD& p : parts) {
      r.w.middleRows(at, p.rows()) = p;
      at += p.rows();
    }
    out.push_back(std::move(r));
  }
  return out;
}

// Σ over vocabulary rows and readers of |W (n(ẽ) - n(e))|², n(e) = g ⊙ e / rms(e): the output
// error of layer 0's readers on the normalized embedding (the FFN's input also holds the
// attention output; here only the embedding's part).
double reader_error(const std::vector<Reader>& readers, const MatD& e, const MatD& q, double eps) {
  double total = 0;
  for (const Reader& r : readers) {
    MatD d(e.cols(), e.rows());  // [k, vocab]
    for (int64_t t = 0; t < e.rows(); ++t) {
      const double re = std::sqrt(e.row(t).squaredNorm() / e.cols() + eps);
      const double rq = std::sqrt(q.row(t).squaredNorm() / q.cols() + eps);
      d.col(t) = r.gain.cwiseProduct(q.row(t).transpose() / rq - e.row(t).transpose() / re);
    }
    total += (r.w * d).squaredNorm();
  }
  return total;
}

class GptqEmbedding : public ::testing::TestWithParam<const char*> {};

TEST_P(GptqEmbedding, HessianIsTheLayer0ReadersGram) {
  auto f = gguf::File::open(testing::shared_path(std::string("taskmodels/") + GetParam() + ".gguf"));
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  ThreadPool pool(2);
  auto h = embedding_hessian(*f, pool);
  ASSERT_TRUE(h.is_ok()) << h.status().to_string();
  const std::vector<Reader> readers = layer0_readers(*f);
  int64_t rows = 0;
  for (const Reader& r : readers) rows += r.w.rows();
  EXPECT_EQ(h->n, rows);
  // dᵀ H d = Σ |W (g ⊙ d)|² for random directions d.
  std::mt19937 rng(3);
  std::normal_distribution<double> nd;
  for (int trial = 0; trial < 4; ++trial) {
    Eigen::VectorXd d(h->k);
    for (int64_t i = 0; i < h->k; ++i) d(i) = nd(rng);
    double want = 0;
    for (const Reader& r : readers) want += (r.w * r.gain.cwiseProduct(d)).squaredNorm();
    double got = 0;
    for (int64_t j = 0; j < h->k; ++j) {
      for (int64_t i = 0; i < h->k; ++i) {
        const int64_t lo = std::max(i, j), hi = std::min(i, j);
        got += d(i) * d(j) * h->sum[static_cast<size_t>(hi * h->k + lo)];
      }
    }
    EXPECT_NEAR(got, want, 1e-4 * want) << GetParam() << " trial " << trial;
  }
}

TEST_P(GptqEmbedding, RoundedTableHasLowerReaderErrorThanRtn) {
  auto f = gguf::File::open(testing::shared_path(std::string("taskmodels/") + GetParam() + ".gguf"));
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  const std::string arch = *f->get_string_or("general.architecture", "");
  const double eps = *f->get_float_or(arch + ".attention.layer_norm_rms_epsilon", 1e-5);
  ThreadPool pool(2);
  auto h = embedding_hessian(*f, pool);
  ASSERT_TRUE(h.is_ok()) << h.status().to_string();
  const MatD e = load(*f, "token_embd.weight");
  const int64_t vocab = e.rows(), k = e.cols();
  std::vector<float> w(static_cast<size_t>(vocab * k));
  for (int64_t t = 0; t < vocab; ++t) {
    for (int64_t i = 0; i < k; ++i) w[static_cast<size_t>(t * k + i)] = static_cast<float>(e(t, i));
  }
  const std::vector<Reader> readers = layer0_readers(*f);
  for (DType type : {DType::kQ3_K, DType::kQ4_K, DType::kQ6_K, DType::kQ4_0}) {
    const size_t rs = row_size(type, k);
    std::vector<uint8_t> rtn(rs * static_cast<size_t>(vocab)), gptq(rtn.size());
    quantize_fn(type)(w.data(), rtn.data(), vocab, k, nullptr);
    ASSERT_TRUE(gptq_quantize(w.data(), vocab, k, *h, type, GptqOptions{}, gptq.data(), pool).is_ok());
    auto dequant = [&](const std::vector<uint8_t>& q) {
      std::vector<float> out(w.size());
      for (int64_t t = 0; t < vocab; ++t) traits(type).to_float(q.data() + t * rs, out.data() + t * k, k);
      return Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                 out.data(), vocab, k)
          .cast<double>()
          .eval();
    };
    const double err_rtn = reader_error(readers, e, dequant(rtn), eps);
    const double err_gptq = reader_error(readers, e, dequant(gptq), eps);
    std::printf("%s %s: layer-0 reader error rtn %.4g gptq %.4g (%.2fx)\n", GetParam(),
                dtype_name(type), err_rtn, err_gptq, err_gptq / err_rtn);
    EXPECT_LT(err_gptq, 0.8 * err_rtn) << GetParam() << " " << dtype_name(type);
  }
}

INSTANTIATE_TEST_SUITE_P(TaskModels, GptqEmbedding, ::testing::Values("qt-base", "qt-qwen"),
                         [](const auto& info) { return std::string(info.param).replace(2, 1, "_"); });

}  // namespace
}  // namespace quorum::quant
