// The quant-study runner (study.h): quantization with a file cache, then size, bits per weight,
// perplexity, KL divergence and speed per quantized file; task scores and comparisons follow in
// study_eval.cpp.
#include "quantstudy/study.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "core/progress.h"
#include "core/thread_pool.h"
#include "engine/bench.h"
#include "engine/calibrate.h"
#include "engine/perplexity.h"
#include "eval/metrics.h"
#include "io/gguf.h"
#include "model/model.h"
#include "quant/quantize.h"
#include "quantstudy/study_internal.h"
#include "tokenizer/tokenizer.h"

namespace quorum::quantstudy {

namespace {

using nlohmann::json;
using detail::RunRecord;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

Result<std::string> read_text(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::kNotFound, fmt::format("cannot open the {} file", what)).where(path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Total tensor bytes × 8 / parameters, as llama.cpp prints "BPW".
struct SizeInfo {
  uint64_t file_bytes = 0, tensor_bytes = 0;
  int64_t n_params = 0;
  double bpw = 0.0;
};

Result<SizeInfo> size_info(const std::string& path) {
  QUORUM_ASSIGN_OR_RETURN(gguf::File f, gguf::File::open(path));
  SizeInfo s;
  std::error_code ec;
  s.file_bytes = fs::file_size(path, ec);
  for (const auto& t : f.tensors()) {
    s.tensor_bytes += t.nbytes;
    s.n_params += t.n_elements();
  }
  s.bpw = s.n_params > 0 ? 8.0 * static_cast<double>(s.tensor_bytes) / static_cast<double>(s.n_params) : 0.0;
  return s;
}

Result<double> param_number(const StudyConfig& c, const StudyMethod& me, const std::string& k,
                            const std::string& v) {
  try {
    size_t used = 0;
    const double d = std::stod(v, &used);
    if (used == v.size()) return d;
  } catch (const std::exception&) {
  }
  return Error(ErrorCode::kInvalidArgument, fmt::format("parameter '{}' of method '{}' must be a number", k, me.name))
      .where(fmt::format("{}:{}", c.source, me.line)).actual(v);
}

Result<bool> param_bool(const StudyConfig& c, const StudyMethod& me, const std::string& k,
                        const std::string& v) {
  if (v == "true" || v == "on" || v == "yes" || v == "1") return true;
  if (v == "false" || v == "off" || v == "no" || v == "0") return false;
  return Error(ErrorCode::kInvalidArgument, fmt::format("parameter '{}' of method '{}' must be true or false", k, me.name))
      .where(fmt::format("{}:{}", c.source, me.line)).actual(v);
}

bool needs_calibration(const std::string& method) {
  const quant::QuantMethod* qm = quant::find_quant_method(method);
  if (!qm) return false;
  for (const auto& p : qm->params) {
    if (std::string(p.name) == "calib") return true;
  }
  return false;
}

// How a quantized file was made; a cached file is reused only when its recipe is the same.
json recipe_of(const StudyConfig& c, const StudyModel& m, const StudyMethod& me, const StudyLevel& l) {
  std::error_code ec;
  json r = {{"source", m.path}, {"source_bytes", fs::file_size(m.path, ec)}, {"method", me.name},
            {"params", me.params}, {"level", l.name}};
  if (needs_calibration(me.name)) {
    r["calibration"] = c.calib_path;
    r["calibration_tokens"] = c.calib_tokens;
  }
  return r;
}

// Everything measured about one model's quantized files (and the original).
struct ModelContext {
  std::shared_ptr<const Model> base;
  std::shared_ptr<const tokenizer::Tokenizer> tok;
  std::vector<int32_t> tokens;
  PerplexityOptions popts;
  // The unquantized model's logits on the scored positions, computed once per model and reused
  // by the KL of every quantized file (empty when larger than kMaxKlBaseBytes: then each KL
  // evaluates the base again).
  std::optional<KlBase> kl_base;
};

// Up to this size the base logits stay in memory (task models: 10 chunks × 255 × 4096 × 4 B ≈
// 42 MB; a 128k-vocabulary model would need 1.3 GB for the same chunks).
constexpr uint64_t kMaxKlBaseBytes = uint64_t{1} << 30;

Result<ModelContext> open_model(const StudyConfig& c, const StudyModel& m, const std::string& text) {
  ModelContext mc;
  QUORUM_ASSIGN_OR_RETURN(mc.base, Model::load(m.path));
  QUORUM_ASSIGN_OR_RETURN(mc.tok, tokenizer::Tokenizer::from_gguf(mc.base->file()));
  const auto& tok = mc.tok;
  // Only the text the chunks need is tokenized (cut at a line end; the cut never reaches a
  // scored chunk), so a study of 20 chunks does not tokenize the whole corpus.
  std::string_view view(text);
  if (c.ppl_chunks > 0) {
    const size_t want = static_cast<size_t>(c.ppl_chunks * c.ppl_ctx) * 16;
    if (want < view.size()) {
      const size_t nl = view.find('\n', want);
      if (nl != std::string_view::npos) view = view.substr(0, nl + 1);
    }
  }
  mc.tokens = tok->encode(view, tok->add_bos(), false);
  mc.popts.n_ctx = c.ppl_ctx;
  mc.popts.n_chunks = c.ppl_chunks;
  mc.popts.add_bos = tok->add_bos();
  mc.popts.bos_id = tok->bos();
  return mc;
}

Result<quant::QuantizeOptions> quantize_options(const StudyConfig& c, const StudyMethod& me,
                                                const StudyLevel& l, const ModelContext& mc,
                                                const std::shared_ptr<ThreadPool>& pool) {
  quant::QuantizeOptions o;
  o.method = me.name;
  o.ftype = l.ftype;
  o.threads = c.threads;
  for (const auto& [k, v] : me.params) {
    if (k == "imatrix") {
      o.imatrix_path = v;
    } else if (k == "gptq-damp") {
      QUORUM_ASSIGN_OR_RETURN(o.gptq.damp, param_number(c, me, k, v));
    } else if (k == "gptq-block") {
      QUORUM_ASSIGN_OR_RETURN(const double b, param_number(c, me, k, v));
      o.gptq.block_size = static_cast<int64_t>(b);
    } else if (k == "act-order") {
      QUORUM_ASSIGN_OR_RETURN(o.gptq.act_order, param_bool(c, me, k, v));
    } else if (k == "awq-grid") {
      QUORUM_ASSIGN_OR_RETURN(const double g, param_number(c, me, k, v));
      o.awq.grid = static_cast<int>(g);
    } else if (k == "awq-clip") {
      QUORUM_ASSIGN_OR_RETURN(o.awq.clip, param_bool(c, me, k, v));
    } else if (k == "gptq-embedding-rounding") {
      QUORUM_ASSIGN_OR_RETURN(o.gptq.embedding_rounding, param_bool(c, me, k, v));
    } else if (k == "awq-embedding-rounding") {
      QUORUM_ASSIGN_OR_RETURN(o.awq.embedding_rounding, param_bool(c, me, k, v));
    } else if (k != "calib" && k != "calib-tokens") {
      return Error(ErrorCode::kUnsupported,
                   fmt::format("the study cannot pass parameter '{}' to method '{}'", k, me.name))
          .where(fmt::format("{}:{}", c.source, me.line));
    }
  }
  if (needs_calibration(me.name)) {
    std::string path = c.calib_path;
    int64_t n_tokens = c.calib_tokens;
    if (auto it = me.params.find("calib"); it != me.params.end()) path = it->second;
    if (auto it = me.params.find("calib-tokens"); it != me.params.end()) {
      QUORUM_ASSIGN_OR_RETURN(const double t, param_number(c, me, "calib-tokens", it->second));
      n_tokens = static_cast<int64_t>(t);
    }
    QUORUM_ASSIGN_OR_RETURN(const std::string text, read_text(path, "calibration text"));
    CalibrationOptions co;
    co.n_ctx = std::min<int64_t>(512, mc.base->hparams().n_ctx_train);
    co.n_chunks = std::max<int64_t>(1, n_tokens / co.n_ctx);
    co.add_bos = mc.popts.add_bos;
    co.bos_id = mc.popts.bos_id;
    std::vector<int32_t> tokens = mc.tok->encode(text, mc.popts.add_bos, false);
    QUORUM_TRY(calibration_chunks(static_cast<int64_t>(tokens.size()), co).status());
    SessionOptions so;
    so.pool = pool;
    // As `quorum quantize` does: GPTQ's layer-0 embedding fit needs passes with replaced weights.
    o.calibrate = make_calibration_run(mc.base, tokens, co, so);
    o.calibrate_with = make_calibration_run_with(mc.base, std::move(tokens), co, so);
  }
  return o;
}

// Quantizes unless an identical recipe's file is already there. Returns the quantization time
// (of the run that made the file) and whether it was cached.
Status quantize_cached(const StudyConfig& c, const ModelContext& mc, RunRecord& r,
                       const std::shared_ptr<ThreadPool>& pool, ProgressBar* bar, const std::string& step) {
  const json recipe = recipe_of(c, *r.model, *r.method, *r.level);
  const std::string sidecar = r.file + ".json";
  std::error_code ec;
  if (fs::exists(r.file, ec) && fs::exists(sidecar, ec)) {
    std::ifstream in(sidecar, std::ios::binary);
    const json side = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (side.is_object() && side.value("recipe", json()) == recipe) {
      r.j["quant_seconds"] = side.value("quant_seconds", 0.0);
      r.j["cached"] = true;
      return Status::ok();
    }
  }
  QUORUM_ASSIGN_OR_RETURN(quant::QuantizeOptions opt, quantize_options(c, *r.method, *r.level, mc, pool));
  if (bar) {
    opt.on_tensor = [bar, &step](size_t i, size_t n, const std::string&, DType) {
      bar->set_label(fmt::format("{}: quantize {}/{}", step, i + 1, n));
    };
  }
  fs::create_directories(fs::path(r.file).parent_path(), ec);
  const auto t0 = Clock::now();
  QUORUM_ASSIGN_OR_RETURN(const quant::QuantizeReport rep, quant::quantize_gguf(r.model->path, r.file, opt));
  const double secs = since(t0);
  r.j["quant_seconds"] = secs;
  r.j["cached"] = false;
  const json side = {{"recipe", recipe}, {"quant_seconds", secs}, {"n_tensors", rep.n_tensors},
                     {"n_quantized", rep.n_quantized}, {"n_fallback", rep.n_fallback}};
  std::ofstream out(sidecar, std::ios::binary | std::ios::trunc);
  out << side.dump(2) << "\n";
  if (!out) return Error(ErrorCode::kIoError, "cannot write the recipe file").where(sidecar);
  return Status::ok();
}

Result<json> measure_speed(const StudyConfig& c, std::shared_ptr<const Model> model) {
  BenchOptions bo;
  bo.n_prompt = c.speed_pp > 0 ? std::vector<int64_t>{c.speed_pp} : std::vector<int64_t>{};
  bo.n_gen = c.speed_tg > 0 ? std::vector<int64_t>{c.speed_tg} : std::vector<int64_t>{};
  bo.reps = c.speed_reps;
  bo.threads = c.threads;
  QUORUM_ASSIGN_OR_RETURN(const BenchReport rep, run_bench(std::move(model), bo));
  json j = json::object();
  for (const BenchFigure& f : rep.figures) {
    const std::string key = f.test.rfind("pp", 0) == 0 ? "pp" : "tg";
    j[key + "_tps"] = f.mean_tps;
    j[key + "_sd"] = f.sd_tps;
    j[key + "_test"] = f.test;
  }
  return j;
}

Status measure_run(const StudyConfig& c, const ModelContext& mc, RunRecord& r,
                   const std::shared_ptr<ThreadPool>& pool, ProgressBar* bar, const std::string& step) {
  QUORUM_ASSIGN_OR_RETURN(const SizeInfo si, size_info(r.file));
  r.j["file_bytes"] = si.file_bytes;
  r.j["bpw"] = si.bpw;
  QUORUM_ASSIGN_OR_RETURN(std::shared_ptr<const Model> q, Model::load(r.file));
  r.ok = true;
  PerplexityOptions po = mc.popts;
  if (bar) {
    po.progress = [bar, &step](const std::string&, int64_t done, int64_t total) {
      bar->set_label(fmt::format("{}: KL {}/{}", step, done, total));
    };
  }
  SessionOptions so;
  so.pool = pool;
  const auto t_kl = Clock::now();
  QUORUM_ASSIGN_OR_RETURN(KlResult kl, mc.kl_base ? kl_divergence(*mc.kl_base, q, mc.tokens, po, so)
                                                  : kl_divergence(mc.base, q, mc.tokens, po, so));
  r.j["kl_seconds"] = since(t_kl);
  r.j["ppl"] = kl.test.ppl;
  r.j["ppl_err"] = kl.test.ppl_err;
  r.j["kld"] = kl.mean_kld;
  r.j["kld_err"] = kl.kld_err;
  r.j["kld_max"] = kl.max_kld;
  r.j["same_top"] = 100.0 * kl.same_top;
  r.j["same_top_err"] = 100.0 * kl.same_top_err;
  r.j["ln_ppl_ratio"] = kl.ln_ppl_ratio;
  r.j["rms_dp"] = 100.0 * kl.rms_dp;
  r.j["n_scored"] = kl.test.n_scored;
  r.token_kld = std::move(kl.token_kld);
  if (c.speed) {
    if (bar) bar->set_label(step + ": speed");
    const auto t_speed = Clock::now();
    QUORUM_ASSIGN_OR_RETURN(json sp, measure_speed(c, q));
    r.j.update(sp);
    r.j["speed_seconds"] = since(t_speed);
  }
  return Status::ok();
}

// Paired bootstrap over per-token KL of every compared pair at every level.
json kl_comparisons(const StudyConfig& c, const std::vector<RunRecord>& runs) {
  json out = json::array();
  auto find = [&](const StudyModel& m, const std::string& method, const StudyLevel& l) -> const RunRecord* {
    for (const RunRecord& r : runs) {
      if (r.model == &m && r.method->name == method && r.level == &l && !r.token_kld.empty()) return &r;
    }
    return nullptr;
  };
  for (const StudyModel& m : c.models) {
    for (const StudyLevel& l : c.levels) {
      for (const auto& [a, b] : detail::compared_pairs(c)) {
        const RunRecord* ra = find(m, a, l);
        const RunRecord* rb = find(m, b, l);
        if (!ra || !rb || ra->token_kld.size() != rb->token_kld.size()) continue;
        const std::vector<double> ka(ra->token_kld.begin(), ra->token_kld.end());
        const std::vector<double> kb(rb->token_kld.begin(), rb->token_kld.end());
        auto bs = eval::paired_bootstrap(ka, kb, 1000, 0);
        if (!bs) continue;
        out.push_back({{"model", m.name}, {"level", l.name}, {"a", a}, {"b", b},
                       {"kld_a", ra->j["kld"]}, {"kld_b", rb->j["kld"]},
                       {"test", "paired bootstrap over per-token KL (1000 resamples)"},
                       {"delta", bs->delta}, {"ci_low", bs->ci_low}, {"ci_high", bs->ci_high},
                       {"p_value", bs->p_value},
                       {"significant", bs->p_value < 0.05},
                       {"a_better", bs->delta < 0}});
      }
    }
  }
  return out;
}

}  // namespace

namespace detail {

std::vector<std::pair<std::string, std::string>> compared_pairs(const StudyConfig& c) {
  auto has = [&](const std::string& n) {
    for (const auto& m : c.methods) {
      if (m.name == n) return true;
    }
    return false;
  };
  std::vector<std::pair<std::string, std::string>> pairs;
  if (has("awq") && has("gptq")) pairs.emplace_back("awq", "gptq");
  if (has("rtn")) {
    for (const auto& m : c.methods) {
      if (m.name != "rtn") pairs.emplace_back(m.name, "rtn");
    }
  }
  return pairs;
}

std::string group_name(const std::string& method, const std::string& level) {
  return method + "-" + level;
}

}  // namespace detail

Result<json> run_quant_study(const StudyConfig& c, const StudyOptions& options,
                             const eval::BackendFactory& factory, const Logger& log) {
  const auto t_start = Clock::now();
  const std::string out_dir = options.output_dir.empty() ? c.output_dir : options.output_dir;
  std::error_code ec;
  fs::create_directories(fs::path(out_dir) / "models", ec);
  if (ec) {
    return Error(ErrorCode::kIoError, "cannot create the output directory").where(out_dir).actual(ec.message());
  }
  QUORUM_ASSIGN_OR_RETURN(const std::string text, read_text(c.ppl_path, "perplexity text"));
  for (const StudyMethod& me : c.methods) {
    if (needs_calibration(me.name) && c.calib_path.empty() && me.params.count("calib") == 0) {
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("method '{}' needs calibration text", me.name))
          .where(fmt::format("{}:{}", c.source, me.line))
          .hint("add 'calibration: {data: shared/data/calibration/groups_merged.txt}'");
    }
  }

  json results = {{"config", c.source}, {"output", out_dir},
                  {"perplexity", {{"data", c.ppl_path}, {"ctx", c.ppl_ctx}, {"chunks", c.ppl_chunks}}},
                  {"calibration", {{"data", c.calib_path}, {"tokens", c.calib_tokens}}},
                  {"speed", c.speed ? json{{"pp", c.speed_pp}, {"tg", c.speed_tg}, {"reps", c.speed_reps}}
                                    : json(nullptr)},
                  {"methods", json::array()}, {"levels", json::array()}};
  for (const StudyMethod& me : c.methods) {
    const quant::QuantMethod* qm = quant::find_quant_method(me.name);
    results["methods"].push_back({{"name", me.name}, {"params", me.params}, {"available", qm != nullptr},
                                  {"summary", qm ? qm->summary : ""}, {"reference", qm ? qm->reference : ""}});
  }
  for (const StudyLevel& l : c.levels) results["levels"].push_back(l.name);
  json problems = json::array();
  auto problem = [&](const std::string& part, const Status& st) {
    log.log(LogLevel::kWarn, "{}: {}", part, st.to_string());
    problems.push_back({{"part", part}, {"error", st.to_string()}});
  };

  const auto pool = std::make_shared<ThreadPool>(c.threads > 0 ? c.threads : default_thread_count());
  std::vector<RunRecord> runs;
  for (const StudyModel& m : c.models) {
    for (const StudyMethod& me : c.methods) {
      for (const StudyLevel& l : c.levels) {
        RunRecord r;
        r.model = &m;
        r.method = &me;
        r.level = &l;
        r.file = (fs::path(out_dir) / "models" / m.name / (me.name + "-" + l.name + ".gguf")).string();
        r.j = {{"model", m.name}, {"method", me.name}, {"level", l.name}, {"file", r.file}};
        runs.push_back(std::move(r));
      }
    }
  }
  std::unique_ptr<ProgressBar> bar;
  if (options.progress) {
    bar = std::make_unique<ProgressBar>("quant-study",
                                        static_cast<int64_t>(runs.size() + c.models.size()));
  }
  int64_t done = 0;
  json models_json = json::array();
  for (const StudyModel& m : c.models) {
    json mj = {{"name", m.name}, {"path", m.path}};
    const std::string step0 = m.name + " original";
    if (bar) bar->set_label(step0);
    auto mc = open_model(c, m, text);
    if (!mc) {
      problem("model " + m.name, mc.status());
      mj["status"] = "error";
      mj["error"] = mc.status().to_string();
      for (RunRecord& r : runs) {
        if (r.model == &m) r.j["status"] = "skipped", r.j["error"] = "the original model failed to load";
      }
      models_json.push_back(mj);
      done += 1 + static_cast<int64_t>(c.methods.size() * c.levels.size());
      if (bar) bar->update(done);
      continue;
    }
    if (auto si = size_info(m.path)) {
      mj["file_bytes"] = si->file_bytes;
      mj["bpw"] = si->bpw;
      mj["n_params"] = si->n_params;
    }
    SessionOptions so;
    so.pool = pool;
    // The original's perplexity; when its logits fit in memory the same pass keeps them as the
    // base of every KL divergence below (KlBase), so the original is evaluated once per model.
    const auto t_base = Clock::now();
    Result<PerplexityResult> p = Error(ErrorCode::kInternal, "not computed");
    const int64_t n_chunks_avail = static_cast<int64_t>(mc->tokens.size()) / std::max<int64_t>(c.ppl_ctx, 1);
    const int64_t n_chunks = c.ppl_chunks > 0 ? std::min(c.ppl_chunks, n_chunks_avail) : n_chunks_avail;
    if (KlBase::bytes(n_chunks, c.ppl_ctx, mc->base->hparams().n_vocab) <= kMaxKlBaseBytes) {
      auto kb = kl_base(mc->base, mc->tokens, mc->popts, so);
      if (kb) {
        p = kb->ppl;
        mc->kl_base = std::move(kb).value();
      } else {
        p = kb.status();
      }
    } else {
      p = perplexity(mc->base, mc->tokens, mc->popts, so);
    }
    mj["kl_base_cached"] = mc->kl_base.has_value();
    mj["base_seconds"] = since(t_base);
    if (p) {
      mj["ppl"] = p->ppl;
      mj["ppl_err"] = p->ppl_err;
      mj["n_scored"] = p->n_scored;
    } else {
      problem("model " + m.name + " / perplexity", p.status());
    }
    if (c.speed) {
      if (bar) bar->set_label(step0 + ": speed");
      if (auto sp = measure_speed(c, mc->base)) {
        mj.update(*sp);
      } else {
        problem("model " + m.name + " / speed", sp.status());
      }
    }
    mj["status"] = "ok";
    models_json.push_back(mj);
    if (bar) bar->update(++done);

    for (RunRecord& r : runs) {
      if (r.model != &m) continue;
      const std::string step = fmt::format("{} {} {}", m.name, r.method->name, r.level->name);
      const std::string part = fmt::format("model {} / {} {}", m.name, r.method->name, r.level->name);
      if (bar) bar->set_label(step);
      if (!quant::find_quant_method(r.method->name)) {
        const Status st = Error(ErrorCode::kUnsupported,
                                fmt::format("quantization method '{}' is not in this build", r.method->name))
                              .hint("see quorum quantize --list");
        r.j["status"] = "error";
        r.j["error"] = st.to_string();
        problem(part, st);
      } else if (Status s = quantize_cached(c, *mc, r, pool, bar.get(), step); !s) {
        r.j["status"] = "error";
        r.j["error"] = s.to_string();
        problem(part + " / quantize", s);
      } else if (Status s2 = measure_run(c, *mc, r, pool, bar.get(), step); !s2) {
        r.j["status"] = "error";
        r.j["error"] = s2.to_string();
        problem(part + " / measure", s2);
      } else {
        r.j["status"] = "ok";
      }
      if (bar) bar->update(++done);
    }
  }
  if (bar) bar->finish();
  results["models"] = models_json;
  results["kl_comparisons"] = kl_comparisons(c, runs);
  results["problems"] = problems;
  results["tasks"] = json::array();
  for (const auto& t : c.tasks) results["tasks"].push_back(t.name);
  if (!c.tasks.empty()) detail::run_task_scores(c, out_dir, runs, factory, log, results);
  results["runs"] = json::array();
  for (const RunRecord& r : runs) results["runs"].push_back(r.j);
  results["wall_seconds"] = since(t_start);
  std::ofstream out(fs::path(out_dir) / "results.json", std::ios::binary | std::ios::trunc);
  out << results.dump(2) << "\n";
  if (!out) return Error(ErrorCode::kIoError, "cannot write results.json").where(out_dir);
  return results;
}

}  // namespace quorum::quantstudy
