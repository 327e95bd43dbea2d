// Task scores of the quant study (study_internal.h): one evaluation per method+level through the
// evaluation runner (its answer cache shared by all of them), ensembles of each group's quantized
// models, and significance tests between method pairs on the task items.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "eval/metrics.h"
#include "quantstudy/study_internal.h"

namespace quorum::quantstudy::detail {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct Member {
  std::string model;  // study model name = system name in the group's evaluation
  RunRecord* run;     // nullptr for the original models
  std::string path;
};

// Per-item scores of every model system in a group's predictions: task -> system -> scores.
using ItemScores = std::map<std::string, std::map<std::string, std::vector<double>>>;

ItemScores read_item_scores(const std::string& dir, const StudyConfig& c) {
  ItemScores out;
  for (const auto& t : c.tasks) {
    std::ifstream in(fs::path(dir) / "predictions" / (t.name + ".jsonl"), std::ios::binary);
    for (std::string line; std::getline(in, line);) {
      const json row = json::parse(line, nullptr, false);
      if (!row.is_object() || row.value("type", "") != "model") continue;
      out[t.name][row.value("system", "")].push_back(row.value("score", 0.0));
    }
  }
  return out;
}

json compare_items(const eval::TaskConfig& task, const std::vector<double>& a,
                   const std::vector<double>& b) {
  if (a.size() != b.size() || a.empty()) return nullptr;
  json out;
  if (task.spec.kind == eval::TaskKind::kClassification) {
    std::vector<bool> ca, cb;
    for (size_t i = 0; i < a.size(); ++i) ca.push_back(a[i] == 1.0), cb.push_back(b[i] == 1.0);
    auto r = eval::mcnemar_test(ca, cb);
    if (!r) return nullptr;
    out = {{"test", r->exact ? "McNemar (exact binomial)" : "McNemar (chi-square, corrected)"},
           {"p_value", r->p_value}, {"a_only", r->a_only}, {"b_only", r->b_only}};
  } else {
    auto r = eval::paired_bootstrap(a, b, 1000, 0);
    if (!r) return nullptr;
    out = {{"test", "paired bootstrap (1000 resamples)"}, {"p_value", r->p_value}};
  }
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  out["main_a"] = 100.0 * ma / static_cast<double>(a.size());
  out["main_b"] = 100.0 * mb / static_cast<double>(b.size());
  out["delta"] = out["main_a"].get<double>() - out["main_b"].get<double>();
  out["significant"] = out["p_value"].get<double>() < 0.05;
  return out;
}

}  // namespace

void run_task_scores(const StudyConfig& c, const std::string& out_dir, std::vector<RunRecord>& runs,
                     const eval::BackendFactory& factory, const Logger& log, json& results) {
  // Groups in a fixed order: the originals, then each method+level.
  std::vector<std::pair<std::string, std::vector<Member>>> groups;
  std::vector<Member> originals;
  for (const StudyModel& m : c.models) originals.push_back({m.name, nullptr, m.path});
  groups.emplace_back("original", originals);
  for (const StudyMethod& me : c.methods) {
    for (const StudyLevel& l : c.levels) {
      std::vector<Member> members;
      for (RunRecord& r : runs) {
        if (r.method == &me && r.level == &l && r.ok) members.push_back({r.model->name, &r, r.file});
      }
      if (!members.empty()) groups.emplace_back(group_name(me.name, l.name), members);
    }
  }

  std::map<std::string, ItemScores> scores;  // group -> items
  json ensembles = json::array(), original_tasks = json::object();
  for (const auto& [group, members] : groups) {
    eval::EvalConfig ec;
    ec.source = c.source;
    ec.output_dir = (fs::path(out_dir) / "eval" / group).string();
    ec.cache_path = (fs::path(out_dir) / "answers.sqlite").string();
    ec.jobs = c.eval_jobs;
    ec.tasks = c.tasks;
    for (const Member& mb : members) {
      eval::ModelConfig mc;
      mc.name = mb.model;
      mc.path = mb.path;
      ec.models.push_back(mc);
    }
    if (members.size() >= 2) ec.strategies = c.ensemble;
    eval::RunOptions ro;
    ro.limit = c.eval_limit;
    ro.progress = false;
    log.log(LogLevel::kInfo, "quant-study: tasks for {} ({} models)", group, members.size());
    auto res = eval::run_evaluation(ec, ro, factory, log);
    if (!res) {
      results["problems"].push_back({{"part", "eval " + group}, {"error", res.status().to_string()}});
      continue;
    }
    for (const json& p : (*res)["problems"]) {
      results["problems"].push_back({{"part", "eval " + group + " / " + p["part"].get<std::string>()},
                                     {"error", p["error"]}});
    }
    for (const json& t : (*res)["tasks"]) {
      if (t["status"] != "ok") continue;
      const std::string task = t["name"];
      for (const json& s : t["systems"]) {
        if (s["status"] != "ok") continue;
        const double main = s["main"].get<double>();
        if (s["type"] == "strategy") {
          const size_t dash = group.find('-');
          ensembles.push_back({{"group", group}, {"method", group.substr(0, dash)},
                               {"level", dash == std::string::npos ? "" : group.substr(dash + 1)},
                               {"task", task}, {"strategy", s["name"]}, {"main", main},
                               {"n_models", members.size()}});
          continue;
        }
        for (const Member& mb : members) {
          if (mb.model != s["name"]) continue;
          if (mb.run) {
            mb.run->j["tasks"][task] = main;
          } else {
            original_tasks[mb.model][task] = main;
          }
        }
      }
    }
    scores[group] = read_item_scores(ec.output_dir, c);
  }
  results["original_tasks"] = original_tasks;
  results["ensembles"] = ensembles;

  json comparisons = json::array();
  for (const StudyLevel& l : c.levels) {
    for (const auto& [a, b] : compared_pairs(c)) {
      const auto ga = scores.find(group_name(a, l.name)), gb = scores.find(group_name(b, l.name));
      if (ga == scores.end() || gb == scores.end()) continue;
      for (const StudyModel& m : c.models) {
        for (const auto& task : c.tasks) {
          const auto ta = ga->second.find(task.name), tb = gb->second.find(task.name);
          if (ta == ga->second.end() || tb == gb->second.end()) continue;
          const auto sa = ta->second.find(m.name), sb = tb->second.find(m.name);
          if (sa == ta->second.end() || sb == tb->second.end()) continue;
          json cmp = compare_items(task, sa->second, sb->second);
          if (cmp.is_null()) continue;
          cmp["model"] = m.name;
          cmp["level"] = l.name;
          cmp["task"] = task.name;
          cmp["a"] = a;
          cmp["b"] = b;
          comparisons.push_back(std::move(cmp));
        }
      }
    }
  }
  results["task_comparisons"] = comparisons;
}

}  // namespace quorum::quantstudy::detail
