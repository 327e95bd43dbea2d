// The types every consensus strategy works on: one model's Answer to one Item, the context a
// strategy runs in (models, weights, seed, a callback to ask a model again) and what it returns.
//
// Strategies never see a model (docs/ARCHITECTURE.md): they get recorded answers and may ask for
// more through StrategyContext::ask, which the evaluation runner wires to a backend (local engine
// or OpenAI HTTP, cached). Tests wire it to a scripted table of answers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "eval/task.h"

namespace quorum::ensemble {

using eval::Item;
using eval::TaskKind;
using eval::TaskSpec;

// One model's answer to one item.
struct Answer {
  std::string model;  // model name as configured ("qt-base"); a strategy's output uses its own name
  std::string raw;    // generated text exactly as returned
  // Classification: the parsed label (one of TaskSpec::labels), empty when unparseable.
  // QA / summarization: the prediction (raw cut at the first newline and stripped).
  std::string text;
  bool parsed = false;  // false: unparseable; counts as wrong and is reported
  // Optional: log-probability of each label (classification, scored by the backend); empty if absent.
  std::map<std::string, double> label_logprobs;
  // Optional confidences in [0, 1]: self-reported ("confidence: 0.8", "80%") and from token
  // probabilities (e.g. exp of the mean log-probability of the answer tokens).
  std::optional<double> self_confidence;
  std::optional<double> token_confidence;
  // Optional embedding of the answer text (for cosine similarity in the weight strategy).
  std::vector<float> embedding;
  // Short justification (debate rounds); empty otherwise.
  std::string reason;
  double latency_s = 0.0;
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

// Asks `model` again about `item` with a different prompt (tie re-run, debate rounds). The
// returned Answer is parsed for the item's task like a first answer.
using AskFn =
    std::function<Result<Answer>(const std::string& model, const Item& item, const std::string& prompt)>;

// Everything a strategy may use besides the answers.
struct StrategyContext {
  TaskSpec task;                     // kind, labels, prompt template
  std::vector<std::string> models;   // answer order: answers[i] comes from models[i]
  std::vector<double> model_weights; // one per model; empty = all 1
  uint64_t seed = 0;                 // every random choice (tie-breaks, shuffles) derives from it
  AskFn ask;                         // may be empty: strategies that need it then fail clearly
};

// What a strategy decided for one item.
struct StrategyResult {
  Answer chosen;                     // chosen.model = strategy name; text/parsed as for models
  bool tie = false;                  // the first-stage vote was tied
  int rounds = 0;                    // debate rounds / re-run rounds used for this item
  std::vector<std::string> dropped;  // models whose answers were ignored (confidence, invalid)
  int extra_calls = 0;               // calls made through StrategyContext::ask for this item
  std::map<std::string, std::string> notes;  // free per-item metadata for the report
};

// A strategy's output over a whole split: one result per item plus run-level facts.
struct StrategyRun {
  std::vector<StrategyResult> items;
  int rounds = 0;       // rounds the strategy ran (debate), 0 otherwise
  int extra_calls = 0;  // total calls made through StrategyContext::ask
  // Run-level numbers for the report, e.g. "agreement_round_0" -> 0.72.
  std::map<std::string, double> summary;
  // Run-level text facts, e.g. "stop_reason" -> "agreement".
  std::map<std::string, std::string> notes;
  // Optional comparison answers produced by the strategy itself, e.g. debate's "plain vote at
  // equal compute"; keyed by a name, one Answer per item.
  std::map<std::string, std::vector<Answer>> baselines;
};

}  // namespace quorum::ensemble
