// Label-scoring cost (issue 3): scoring the 2 SST-2 labels for 100 prompts that share a few-shot
// prefix, against one forward pass over each full prompt.
//
//   label_scoring_bench [MODEL.gguf] [--shots N] [--prompts N] [--reps N]
//
// Three measurements over the same 100 prompts (SST-2 test sentences after N few-shot examples
// from the SST-2 validation split, the format of shared/taskmodels/PROMPTS.md):
//   forward   one batched forward pass over each whole prompt from an empty cache
//             (the baseline: what reading a prompt costs);
//   score     LocalBackend::score(prompt, {" negative", " positive"}): the session keeps the
//             previous prompt, so the shared prefix is reused and each label costs one batched
//             pass over (last prompt token + label tokens);
//   no-reuse  the same scoring with the cache cleared before each prompt (prefix cache off).
// The figure of merit is score / forward (issue 3 asks for well under 2).
// Timings are the median of --reps repetitions (wall clock, one thread).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "backend/local_backend.h"
#include "engine/session.h"
#include "eval/dataset.h"
#include "eval/prompt.h"

using namespace quorum;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int fail(const Status& s) {
  fmt::print(stderr, "error: {}\n", s.to_string());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path = std::string(QUORUM_SHARED_DIR) + "/taskmodels/qt-base.gguf";
  int n_shots = 4, n_prompts = 100, reps = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--shots") n_shots = next();
    else if (a == "--prompts") n_prompts = next();
    else if (a == "--reps") reps = std::max(1, next());
    else model_path = a;
  }
  const std::string data = std::string(QUORUM_SHARED_DIR) + "/taskmodels/data/";
  auto spec = eval::find_task("sst2");
  if (!spec) return fail(spec.status());
  eval::LoadOptions lo;
  lo.limit = static_cast<size_t>(n_prompts);
  auto test = eval::load_dataset(*spec, data + "sst2_test.jsonl", lo);
  if (!test) return fail(test.status());
  lo.limit = static_cast<size_t>(n_shots);
  auto shots = eval::load_dataset(*spec, data + "sst2_validation.jsonl", lo);
  if (!shots) return fail(shots.status());
  std::vector<std::string> prompts;
  for (const eval::Item& item : test->items) {
    auto p = eval::few_shot_prompt(*spec, item, shots->items);
    if (!p) return fail(p.status());
    prompts.push_back(*p);
  }

  auto model = Model::load(model_path);
  if (!model) return fail(model.status());
  backend::LocalBackendOptions o;
  o.name = "bench";
  o.path = model_path;
  o.identity = "bench";  // no hashing needed
  o.max_sessions = 1;
  auto b = backend::LocalBackend::create(o, *model);
  if (!b) return fail(b.status());
  const auto& tok = (*b)->tokenizer();
  std::vector<std::vector<int32_t>> ids;
  size_t total_tokens = 0, prefix_tokens = SIZE_MAX;
  for (const auto& p : prompts) {
    ids.push_back(tok.encode(p, true, false));
    total_tokens += ids.back().size();
    size_t common = 0;
    const auto& a = ids.back();
    const auto& f = ids.front();
    while (common < a.size() && common < f.size() && a[common] == f[common]) ++common;
    if (ids.size() > 1) prefix_tokens = std::min(prefix_tokens, common);
  }
  SessionOptions so;
  so.n_threads = 1;
  auto session = Session::create(*model, so);
  if (!session) return fail(session.status());
  const std::vector<std::string> labels = {" negative", " positive"};

  std::vector<double> t_forward, t_score, t_noreuse;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    for (const auto& p : ids) {
      if (Status s = (*session)->rewind(0); !s) return fail(s);
      auto l = (*session)->decode(p);
      if (!l) return fail(l.status());
    }
    t_forward.push_back(seconds_since(t0));

    t0 = Clock::now();
    for (const auto& p : prompts) {
      auto s = (*b)->score(p, labels);
      if (!s) return fail(s.status());
    }
    t_score.push_back(seconds_since(t0));

    // Prefix cache off: a fresh backend per prompt has an empty session every time.
    double noreuse = 0;
    for (const auto& p : prompts) {
      auto fresh = backend::LocalBackend::create(o, *model);
      if (!fresh) return fail(fresh.status());
      const auto t1 = Clock::now();
      auto s = (*fresh)->score(p, labels);
      noreuse += seconds_since(t1);
      if (!s) return fail(s.status());
    }
    t_noreuse.push_back(noreuse);
  }
  const double f = median(t_forward), s = median(t_score), n = median(t_noreuse);
  fmt::print("model {}: {} prompts, {} few-shot examples, {:.1f} tokens per prompt on average, "
             "{} tokens shared by all\n",
             model_path, prompts.size(), n_shots, static_cast<double>(total_tokens) / static_cast<double>(prompts.size()),
             prefix_tokens);
  fmt::print("| measurement | total s (median of {}) | ms per prompt | ratio to forward |\n", reps);
  fmt::print("|---|---|---|---|\n");
  const double np = static_cast<double>(prompts.size());
  fmt::print("| one forward pass per prompt | {:.3f} | {:.2f} | 1.00 |\n", f, 1e3 * f / np);
  fmt::print("| score 2 labels, prefix reused | {:.3f} | {:.2f} | {:.2f} |\n", s, 1e3 * s / np, s / f);
  fmt::print("| score 2 labels, no prefix cache | {:.3f} | {:.2f} | {:.2f} |\n", n, 1e3 * n / np, n / f);
  return 0;
}
