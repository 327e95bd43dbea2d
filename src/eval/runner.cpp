// The evaluation runner (see runner.h): answers, strategies, metrics, results.json, predictions.
#include "eval/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "backend/http_backend.h"
#include "backend/local_backend.h"
#include "core/progress.h"
#include "core/thread_pool.h"
#include "ensemble/strategy.h"
#include "eval/metrics.h"
#include "eval/runner_items.h"
#include "eval/runner_metrics.h"

namespace quorum::eval {

namespace {

using nlohmann::json;
using ensemble::Answer;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A validated strategy of the config.
struct PreparedStrategy {
  const StrategyConfig* config;
  const ensemble::StrategyEntry* entry;
  ensemble::Params params;
};

// One model's backend, created on first use; a creation error is kept and reported per task.
struct ModelSlot {
  const ModelConfig* config;
  bool tried = false;
  Status status;
  std::shared_ptr<backend::CachingBackend> backend;
};

// The answers of one model to one task's items.
struct ModelRun {
  const ModelConfig* config;
  Status status;
  std::vector<Answer> answers;
  std::vector<int> words_cut;  // per item: words removed to fit the context (fit_prompt)
  std::vector<char> from_cache;  // per item: the answer came from the answer cache
  int64_t cache_hits = 0;
  double wall_s = 0.0;
};

backend::CompletionRequest make_request(const TaskConfig& task, const std::string& prompt) {
  backend::CompletionRequest r;
  r.prompt = prompt;
  r.max_tokens = task.max_tokens;
  r.temperature = 0.0;
  r.stop = {"\n"};
  r.logprobs = true;
  return r;
}

// Answers every item with one model; stops at the first error (the rest would fail alike).
ModelRun answer_items(const TaskConfig& task, const Dataset& ds, ModelSlot& slot, int jobs,
                      bool progress) {
  ModelRun run{slot.config, Status::ok(), std::vector<Answer>(ds.items.size()),
               std::vector<int>(ds.items.size(), 0), std::vector<char>(ds.items.size(), 0), 0,
               0.0};
  // Long inputs are shortened to leave room for the answer (PROMPTS.md) when the backend knows
  // its context and tokenizer; other backends get the prompt as it is.
  const int64_t n_ctx = slot.backend->context_length();
  const int64_t budget = n_ctx - task.max_tokens;
  const TokenCounter counter = [&slot](const std::string& p) { return slot.backend->count_tokens(p); };
  const bool score = slot.config->mode == ModelMode::kScore &&
                     task.spec.kind == TaskKind::kClassification;
  std::vector<std::string> continuations;
  for (const auto& l : task.spec.labels) continuations.push_back(label_continuation(l));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::atomic<int64_t> hits{0};
  std::mutex mu;
  std::unique_ptr<ProgressBar> bar;
  if (progress) {
    bar = std::make_unique<ProgressBar>(fmt::format("{} / {}", task.name, slot.config->name),
                                        static_cast<int64_t>(ds.items.size()));
  }
  int64_t done = 0;
  const auto t0 = Clock::now();
  auto worker = [&] {
    for (size_t i; !failed.load() && (i = next.fetch_add(1)) < ds.items.size();) {
      const Item& item = ds.items[i];
      Answer a;
      bool cached = false;
      FittedPrompt fitted{item.prompt, 0};
      if (n_ctx > 0 && budget > 0) {
        auto f = fit_prompt(task.spec, item, budget, counter);
        if (f) {
          fitted = std::move(f).value();
        } else if (f.status().code() != ErrorCode::kUnsupported) {
          std::lock_guard<std::mutex> lock(mu);
          if (!failed.exchange(true)) run.status = Status(f.status()).with_context("item " + item.id);
          return;
        }
      }
      run.words_cut[i] = fitted.words_cut;
      if (score) {
        auto s = slot.backend->score(fitted.prompt, continuations);
        if (!s) {
          std::lock_guard<std::mutex> lock(mu);
          if (!failed.exchange(true)) run.status = Status(s.status()).with_context("item " + item.id);
          return;
        }
        cached = s->from_cache;
        a = answer_from_scores(task.spec, slot.config->name, *s);
      } else {
        auto c = slot.backend->complete(make_request(task, fitted.prompt));
        if (!c) {
          std::lock_guard<std::mutex> lock(mu);
          if (!failed.exchange(true)) run.status = Status(c.status()).with_context("item " + item.id);
          return;
        }
        cached = c->from_cache;
        a = answer_from_completion(task.spec, slot.config->name, *c);
      }
      run.from_cache[i] = cached ? 1 : 0;
      if (cached) hits.fetch_add(1);
      run.answers[i] = std::move(a);
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      if (bar) bar->update(done);
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (bar) bar->finish();
  run.cache_hits = hits.load();
  run.wall_s = since(t0);
  return run;
}

json answer_row(const std::string& task, const Item& item, const std::string& system,
                const char* type, const Answer& a, double score, std::optional<uint64_t> seed) {
  json row = {{"task", task},      {"id", item.id},          {"system", system},
              {"type", type},      {"prediction", a.text},   {"parsed", a.parsed},
              {"raw", a.raw},      {"score", score},         {"seconds", a.latency_s},
              {"references", item.references}};
  if (seed) row["seed"] = *seed;
  if (!a.label_logprobs.empty()) row["label_logprobs"] = a.label_logprobs;
  if (a.token_confidence) row["token_confidence"] = *a.token_confidence;
  return row;
}

// Significance of the best strategy over the best single model on the main metric.
json compare_best(const TaskSpec& spec, const json& systems,
                  const std::map<std::string, SystemScores>& scores, uint64_t seed) {
  std::string best_model, best_strategy;
  double bm = -1, bs = -1;
  for (const json& s : systems) {
    if (s["status"] != "ok") continue;
    const double v = s["main"].get<double>();
    if (s["type"] == "model" && v > bm) bm = v, best_model = s["name"];
    if (s["type"] == "strategy" && v > bs) bs = v, best_strategy = s["name"];
  }
  if (best_model.empty() || best_strategy.empty()) return nullptr;
  const SystemScores& a = scores.at(best_strategy);
  const SystemScores& b = scores.at(best_model);
  json out = {{"best_strategy", best_strategy}, {"best_model", best_model},
              {"strategy_main", bs}, {"model_main", bm}, {"delta", bs - bm}};
  if (spec.kind == TaskKind::kClassification) {
    auto r = mcnemar_test(a.correct, b.correct);
    if (!r) return nullptr;
    out["test"] = r->exact ? "McNemar (exact binomial)" : "McNemar (chi-square, corrected)";
    out["p_value"] = r->p_value;
    out["strategy_only"] = r->a_only;
    out["model_only"] = r->b_only;
  } else {
    auto r = paired_bootstrap(a.item_scores, b.item_scores, 1000, seed);
    if (!r) return nullptr;
    out["test"] = "paired bootstrap (1000 resamples)";
    out["p_value"] = r->p_value;
    out["ci_low"] = 100.0 * r->ci_low;
    out["ci_high"] = 100.0 * r->ci_high;
  }
  out["significant"] = out["p_value"].get<double>() < 0.05 && bs > bm;
  return out;
}

}  // namespace

BackendFactory default_backend_factory(int jobs) {
  // Configured models that name the same file share one loaded Model.
  struct LoadedModels {
    std::mutex mu;
    std::map<std::string, std::weak_ptr<const Model>> by_path;
  };
  auto loaded = std::make_shared<LoadedModels>();
  jobs = std::max(jobs, 1);
  return [loaded, jobs](const ModelConfig& m,
                        backend::AnswerCache& cache) -> Result<std::shared_ptr<backend::Backend>> {
    if (m.is_remote()) {
      backend::HttpBackendOptions o;
      o.name = m.name;
      o.base_url = m.url;
      o.model = m.remote_model;
      if (!m.api_key_env.empty()) {
        const char* key = std::getenv(m.api_key_env.c_str());
        if (key == nullptr) {
          return Error(ErrorCode::kInvalidArgument,
                       fmt::format("environment variable {} (api_key_env) is not set", m.api_key_env))
              .where("model '" + m.name + "'");
        }
        o.api_key = key;
      }
      o.timeout_s = m.timeout_s;
      o.max_retries = m.max_retries;
      o.max_concurrency = m.concurrency;
      QUORUM_ASSIGN_OR_RETURN(auto b, backend::HttpBackend::create(o));
      return std::shared_ptr<backend::Backend>(std::move(b));
    }
    const std::string where = "model '" + m.name + "' (" + m.path + ")";
    std::shared_ptr<const Model> model;
    {
      std::lock_guard<std::mutex> lock(loaded->mu);
      model = loaded->by_path[m.path].lock();
      if (!model) {
        auto r = Model::load(m.path);
        if (!r) return Status(r.status()).with_context(where);
        model = std::move(r).value();
        loaded->by_path[m.path] = model;
      }
    }
    backend::LocalBackendOptions o;
    o.name = m.name;
    o.path = m.path;
    auto hash = cache.file_sha256(m.path);  // remembered by (path, size, mtime)
    if (!hash) return Status(hash.status()).with_context(where);
    o.identity = std::move(hash).value();
    o.max_sessions = jobs;
    o.threads_per_session = std::max(1, default_thread_count() / jobs);
    QUORUM_ASSIGN_OR_RETURN(auto b, backend::LocalBackend::create(o, std::move(model)));
    return std::shared_ptr<backend::Backend>(std::move(b));
  };
}

Result<json> run_evaluation(const EvalConfig& config, const RunOptions& options,
                            const BackendFactory& factory, const Logger& log) {
  const auto t_start = Clock::now();
  const std::string out_dir = options.output_dir.empty() ? config.output_dir : options.output_dir;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(out_dir) / "predictions", ec);
  if (ec) {
    return Error(ErrorCode::kIoError, "cannot create the output directory").where(out_dir).actual(ec.message());
  }
  // Strategies are validated up front: a config error stops the run before any inference.
  std::vector<PreparedStrategy> strategies;
  for (const StrategyConfig& s : config.strategies) {
    auto entry = ensemble::find_strategy(s.strategy);
    if (!entry) {
      Status st = entry.status();
      return st.with_context(fmt::format("{}:{}", config.source, s.line));
    }
    auto params = ensemble::parse_params(**entry, s.params);
    if (!params) {
      Status st = params.status();
      return st.with_context(fmt::format("{}:{}", config.source, s.line));
    }
    strategies.push_back({&s, *entry, *params});
  }
  const std::string cache_path =
      options.output_dir.empty() || config.cache_path != (std::filesystem::path(config.output_dir) / "answers.sqlite").string()
          ? config.cache_path
          : (std::filesystem::path(out_dir) / "answers.sqlite").string();
  QUORUM_ASSIGN_OR_RETURN(auto cache_owned, backend::AnswerCache::open(cache_path));
  std::shared_ptr<backend::AnswerCache> cache = std::move(cache_owned);
  const int jobs = options.jobs > 0 ? options.jobs : config.jobs;

  std::vector<ModelSlot> slots;
  for (const ModelConfig& m : config.models) slots.push_back({&m, false, Status::ok(), nullptr});

  json results = {{"config", config.source}, {"output", out_dir}, {"cache", cache_path},
                  {"seeds", config.seeds}, {"jobs", jobs}};
  json models_json = json::array(), strategies_json = json::array(), tasks_json = json::array();
  for (const ModelConfig& m : config.models) {
    models_json.push_back({{"name", m.name}, {"mode", model_mode_name(m.mode)}, {"weight", m.weight},
                           {"source", m.is_remote() ? m.url + " (" + m.remote_model + ")" : m.path}});
  }
  for (const auto& s : strategies) {
    strategies_json.push_back({{"name", s.config->name}, {"strategy", s.entry->name},
                               {"params", s.params.to_string()}, {"summary", s.entry->summary}});
  }
  json problems = json::array();
  auto problem = [&](const std::string& part, const Status& st) {
    log.log(LogLevel::kWarn, "{}: {}", part, st.to_string());
    problems.push_back({{"part", part}, {"error", st.to_string()}});
  };

  for (const TaskConfig& task : config.tasks) {
    const int64_t limit = options.limit > 0 ? options.limit : task.limit;
    json tj = {{"name", task.name}, {"kind", task_kind_name(task.spec.kind)},
               {"main_metric", main_metric_name(task.spec.main_metric)},
               {"split", split_name(task.split)}, {"data", task.data}};
    auto ds = load_task_items(task, limit);
    if (!ds) {
      tj["status"] = "error";
      tj["error"] = ds.status().to_string();
      problem("task " + task.name, ds.status());
      tasks_json.push_back(std::move(tj));
      continue;
    }
    tj["status"] = "ok";
    tj["n_items"] = ds->items.size();
    if (!ds->skipped.empty()) {
      // Rows with an unknown gold label: the task runs on the others; each is listed.
      json skipped = json::array();
      for (const SkippedRow& row : ds->skipped) {
        skipped.push_back({{"where", row.where}, {"id", row.id}, {"error", row.error}});
      }
      tj["skipped_items"] = skipped;
      const size_t shown = std::min<size_t>(ds->skipped.size(), 3);
      std::string detail;
      for (size_t i = 0; i < shown; ++i) detail += (i ? "; " : "") + ds->skipped[i].error;
      if (shown < ds->skipped.size()) detail += fmt::format("; and {} more", ds->skipped.size() - shown);
      problem("task " + task.name + " / data",
              Error(ErrorCode::kCorruptFile,
                    fmt::format("{} row(s) left out of the evaluation (label not one of the task's "
                                "labels; all listed in results.json under skipped_items): {}",
                                ds->skipped.size(), detail)));
    }
    std::ofstream preds(std::filesystem::path(out_dir) / "predictions" / (task.name + ".jsonl"),
                        std::ios::binary | std::ios::trunc);
    json systems = json::array();
    std::map<std::string, SystemScores> scores;
    std::vector<ModelRun> ok_runs;
    for (ModelSlot& slot : slots) {
      const std::string part = fmt::format("task {} / model {}", task.name, slot.config->name);
      if (!slot.tried) {
        slot.tried = true;
        auto b = factory(*slot.config, *cache);
        if (b) {
          slot.backend = std::make_shared<backend::CachingBackend>(std::move(b).value(), cache);
        } else {
          slot.status = b.status();
        }
      }
      json sj = {{"name", slot.config->name}, {"type", "model"}};
      if (!slot.status.is_ok()) {
        sj["status"] = "error";
        sj["error"] = slot.status.to_string();
        problem(part, slot.status);
        systems.push_back(std::move(sj));
        continue;
      }
      ModelRun run = answer_items(task, *ds, slot, jobs, options.progress);
      if (!run.status.is_ok()) {
        sj["status"] = "error";
        sj["error"] = run.status.to_string();
        problem(part, run.status);
        systems.push_back(std::move(sj));
        continue;
      }
      SystemScores sc = score_answers(task.spec, ds->items, run.answers);
      double seconds = 0;
      for (const Answer& a : run.answers) seconds += a.latency_s;
      sj["status"] = "ok";
      sj["metrics"] = sc.metrics;
      sj["main"] = sc.main;
      sj["seconds_per_item"] = seconds / static_cast<double>(ds->items.size());
      sj["cache_hits"] = run.cache_hits;
      sj["wall_seconds"] = run.wall_s;
      int64_t truncated = 0;
      for (size_t i = 0; i < ds->items.size(); ++i) {
        json row = answer_row(task.name, ds->items[i], slot.config->name, "model", run.answers[i],
                              sc.item_scores[i], std::nullopt);
        row["from_cache"] = run.from_cache[i] != 0;
        row["words_cut"] = run.words_cut[i];
        truncated += run.words_cut[i] > 0 ? 1 : 0;
        preds << row.dump() << "\n";
      }
      sj["truncated_items"] = truncated;
      scores[slot.config->name] = std::move(sc);
      systems.push_back(std::move(sj));
      ok_runs.push_back(std::move(run));
    }

    // Strategies over the models that answered.
    ensemble::StrategyContext ctx;
    ctx.task = task.spec;
    std::vector<std::vector<Answer>> answers(ds->items.size());
    std::map<std::string, std::shared_ptr<backend::CachingBackend>> by_name;
    double models_seconds_per_item = 0;
    for (const ModelRun& r : ok_runs) {
      ctx.models.push_back(r.config->name);
      ctx.model_weights.push_back(r.config->weight);
      for (size_t i = 0; i < ds->items.size(); ++i) answers[i].push_back(r.answers[i]);
      for (const ModelSlot& s : slots) {
        if (s.config == r.config) by_name[r.config->name] = s.backend;
      }
      for (const Answer& a : r.answers) models_seconds_per_item += a.latency_s;
    }
    models_seconds_per_item /= static_cast<double>(ds->items.size());
    std::atomic<double> ask_seconds{0.0};
    ctx.ask = [&](const std::string& model, const Item& item, const std::string& prompt) -> Result<Answer> {
      auto it = by_name.find(model);
      if (it == by_name.end()) return Error(ErrorCode::kNotFound, "no such model: " + model);
      QUORUM_ASSIGN_OR_RETURN(backend::Completion c, it->second->complete(make_request(task, prompt)));
      double cur = ask_seconds.load();
      while (!ask_seconds.compare_exchange_weak(cur, cur + c.seconds)) {
      }
      (void)item;
      return answer_from_completion(task.spec, model, c);
    };
    for (const PreparedStrategy& s : strategies) {
      const std::string& name = s.config->name;
      const auto& kinds = s.entry->kinds;
      if (std::find(kinds.begin(), kinds.end(), task.spec.kind) == kinds.end()) continue;
      json sj = {{"name", name}, {"type", "strategy"}, {"strategy", s.entry->name}};
      if (ctx.models.empty()) {
        sj["status"] = "error";
        sj["error"] = "no model answered this task";
        systems.push_back(std::move(sj));
        continue;
      }
      json per_seed = json::object();
      Status failed = Status::ok();
      for (size_t si = 0; si < config.seeds.size() && failed.is_ok(); ++si) {
        const uint64_t seed = config.seeds[si];
        ctx.seed = seed;
        ask_seconds.store(0.0);
        const auto t0 = Clock::now();
        auto run = ensemble::run_strategy(*s.entry, ctx, s.params, ds->items, answers);
        const double combine_s = since(t0);
        if (!run) {
          failed = run.status();
          break;
        }
        std::vector<Answer> chosen;
        for (const auto& r : run->items) chosen.push_back(r.chosen);
        SystemScores sc = score_answers(task.spec, ds->items, chosen);
        per_seed[std::to_string(seed)] = sc.main;
        for (size_t i = 0; i < ds->items.size(); ++i) {
          json row = answer_row(task.name, ds->items[i], name, "strategy", chosen[i],
                                sc.item_scores[i], seed);
          row["tie"] = run->items[i].tie;
          row["rounds"] = run->items[i].rounds;
          preds << row.dump() << "\n";
        }
        if (si == 0) {
          sj["metrics"] = sc.metrics;
          sj["main"] = sc.main;
          sj["extra_calls"] = run->extra_calls;
          sj["rounds"] = run->rounds;
          sj["summary"] = run->summary;
          size_t ties = 0;
          for (const auto& r : run->items) ties += r.tie ? 1 : 0;
          sj["ties"] = ties;
          // Time per item: every model's answer + re-asks (not cached: their original times) +
          // the combination itself.
          sj["seconds_per_item"] = models_seconds_per_item +
                                   (ask_seconds.load() + combine_s) / static_cast<double>(ds->items.size());
          scores[name] = std::move(sc);
        }
      }
      if (!failed.is_ok()) {
        sj["status"] = "error";
        sj["error"] = failed.to_string();
        problem(fmt::format("task {} / strategy {}", task.name, name), failed);
      } else {
        sj["status"] = "ok";
        sj["main_by_seed"] = per_seed;
        double mean = 0;
        for (const auto& [k, v] : per_seed.items()) mean += v.get<double>();
        sj["main_mean"] = mean / static_cast<double>(per_seed.size());
      }
      systems.push_back(std::move(sj));
    }
    tj["systems"] = systems;
    tj["comparison"] = compare_best(task.spec, systems, scores, config.seeds.front());
    tasks_json.push_back(std::move(tj));
  }
  results["models"] = models_json;
  results["strategies"] = strategies_json;
  results["tasks"] = tasks_json;
  results["problems"] = problems;
  results["wall_seconds"] = since(t_start);
  std::ofstream out(std::filesystem::path(out_dir) / "results.json", std::ios::binary | std::ios::trunc);
  out << results.dump(2) << "\n";
  if (!out) return Error(ErrorCode::kIoError, "cannot write results.json").where(out_dir);
  return results;
}

}  // namespace quorum::eval
