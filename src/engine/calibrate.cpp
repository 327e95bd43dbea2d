// Calibration passes over a tokenized text (see calibrate.h).
#include "engine/calibrate.h"

#include <fmt/format.h>

#include <algorithm>

namespace quorum {

Result<int64_t> calibration_chunks(int64_t n_tokens, const CalibrationOptions& o) {
  if (o.n_ctx < 16) {
    return Error(ErrorCode::kInvalidArgument, "calibration context too small")
        .expected(">= 16 tokens (llama-imatrix ignores smaller batches)")
        .actual(std::to_string(o.n_ctx));
  }
  const int64_t available = n_tokens / o.n_ctx;
  if (available == 0) {
    return Error(ErrorCode::kInvalidArgument, "the calibration text is too short for one chunk")
        .expected(fmt::format("at least {} tokens", o.n_ctx))
        .actual(fmt::format("{} tokens", n_tokens))
        .hint("use a longer text or a smaller --ctx");
  }
  if (o.n_chunks == 0) {
    return Error(ErrorCode::kInvalidArgument, "no calibration chunks requested")
        .expected("--chunks >= 1, or -1 for all");
  }
  return o.n_chunks < 0 ? available : std::min(available, o.n_chunks);
}

Result<int64_t> run_calibration(const std::shared_ptr<const Model>& model,
                                std::span<const int32_t> tokens, const CalibrationOptions& o,
                                quant::ActivationObserver& observer, SessionOptions so) {
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_chunks,
                          calibration_chunks(static_cast<int64_t>(tokens.size()), o));
  so.n_ctx = o.n_ctx;
  so.n_batch = o.n_ctx;
  so.observer = &observer;
  QUORUM_ASSIGN_OR_RETURN(std::unique_ptr<Session> s, Session::create(model, so));
  std::vector<int32_t> buf;
  for (int64_t c = 0; c < n_chunks; ++c) {
    buf.assign(tokens.begin() + c * o.n_ctx, tokens.begin() + (c + 1) * o.n_ctx);
    if (o.add_bos) buf[0] = o.bos_id;
    QUORUM_TRY(s->rewind(0));
    QUORUM_TRY(s->decode(buf, observer.observes_output() ? LogitsMode::kAll : LogitsMode::kLast)
                   .status());
    if (o.progress) o.progress("calibrate", c + 1, n_chunks);
  }
  return n_chunks;
}

quant::CalibrationRun make_calibration_run(std::shared_ptr<const Model> model,
                                           std::vector<int32_t> tokens, CalibrationOptions options,
                                           SessionOptions session_options) {
  auto shared_tokens = std::make_shared<const std::vector<int32_t>>(std::move(tokens));
  return [model = std::move(model), shared_tokens, options,
          session_options](quant::ActivationObserver& observer) -> Status {
    return run_calibration(model, *shared_tokens, options, observer, session_options).status();
  };
}

quant::CalibrationRunWith make_calibration_run_with(std::shared_ptr<const Model> model,
                                                    std::vector<int32_t> tokens,
                                                    CalibrationOptions options,
                                                    SessionOptions session_options) {
  auto shared_tokens = std::make_shared<const std::vector<int32_t>>(std::move(tokens));
  return [model = std::move(model), shared_tokens, options, session_options](
             quant::ActivationObserver& observer,
             const quant::WeightReplacements& replaced) -> Status {
    if (replaced.empty()) {
      return run_calibration(model, *shared_tokens, options, observer, session_options).status();
    }
    const gguf::File& f = model->file();
    std::vector<gguf::TensorInfo> tensors = f.tensors();
    size_t found = 0;
    for (gguf::TensorInfo& t : tensors) {
      auto it = replaced.find(t.name);
      if (it == replaced.end()) continue;
      const quant::ReplacedWeight& r = it->second;
      const size_t want = row_size(r.type, t.ne[0]) * static_cast<size_t>(t.n_rows());
      if (!r.data || r.data->size() != want) {
        return Error(ErrorCode::kInternal, "a replaced calibration weight has the wrong size")
            .where(t.name)
            .expected(fmt::format("{} bytes of {}", want, dtype_name(r.type)))
            .actual(fmt::format("{} bytes", r.data ? r.data->size() : 0));
      }
      t.type = r.type;
      t.data = r.data->data();
      t.nbytes = r.data->size();
      ++found;
    }
    if (found != replaced.size()) {
      return Error(ErrorCode::kInternal, "a replaced calibration weight is not in the model")
          .actual(fmt::format("{} of {} names found", found, replaced.size()));
    }
    // The new file keeps the original mapping and the replacements alive.
    auto keep = std::make_shared<std::pair<gguf::File, quant::WeightReplacements>>(f, replaced);
    QUORUM_ASSIGN_OR_RETURN(gguf::File nf,
                            gguf::File::from_parts(f.path(), f.metadata(), std::move(tensors), keep));
    ModelOptions mo;
    mo.check_weights = WeightCheck::kNone;
    QUORUM_ASSIGN_OR_RETURN(std::shared_ptr<const Model> m, Model::from_file(std::move(nf), mo));
    return run_calibration(m, *shared_tokens, options, observer, session_options).status();
  };
}

}  // namespace quorum
