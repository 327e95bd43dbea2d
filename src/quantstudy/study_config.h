// The quant-study config (`quorum quant-study CONFIG.yaml`): which models are quantized with
// which methods at which levels, and how each result is measured.
//
//   output: ../results/quant-study      # relative paths are relative to the config file
//   threads: 0                          # 0: all cores
//   models:
//     - {name: qt-base, path: ../../shared/taskmodels/qt-base.gguf}
//   methods:                            # quant method registry names (`quorum quantize --list`)
//     - rtn
//     - {name: awq, params: {grid: 20}} # params: the method's declared parameters
//   levels: [Q8_0, Q4_K_M, Q4_0, Q3_K_M, Q2_K]   # llama.cpp file types
//   calibration: {data: ../../shared/data/calibration/groups_merged.txt, tokens: 8192}
//   perplexity: {data: ../../shared/data/wikitext2_raw/wiki.test.raw, ctx: 512, chunks: 40}
//   speed: {pp: 128, tg: 32, reps: 3}   # or `speed: off`
//   eval:                               # optional: task scores through the evaluation runner
//     limit: 200                        # items per task (0: all)
//     jobs: 1
//     tasks: [...]                      # as in an eval config (eval_config.h)
//     ensemble: [vote]                  # strategies over the quantized models of one method+level
//
// Every unknown key and every bad value is an error that names the file and line.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "eval/eval_config.h"
#include "quant/quant_mix.h"

namespace quorum::quantstudy {

struct StudyModel {
  std::string name;
  std::string path;
  int line = 0;
};

struct StudyMethod {
  std::string name;                           // registry name
  std::map<std::string, std::string> params;  // as written; checked against the declared ones
  int line = 0;
};

struct StudyLevel {
  quant::FileType ftype;
  std::string name;  // as llama-quantize spells it: "Q4_K_M"
  int line = 0;
};

struct StudyConfig {
  std::string source;      // the config file
  std::string output_dir;
  int threads = 0;
  std::vector<StudyModel> models;
  std::vector<StudyMethod> methods;
  std::vector<StudyLevel> levels;
  std::string calib_path;  // calibration text (methods that need activations)
  int64_t calib_tokens = 8192;
  std::string ppl_path;    // evaluation text for perplexity / KL divergence
  int64_t ppl_ctx = 512;
  int64_t ppl_chunks = 40;  // -1: all
  bool speed = true;
  int64_t speed_pp = 128, speed_tg = 32;
  int speed_reps = 3;
  // Task evaluation (empty tasks: none).
  std::vector<eval::TaskConfig> tasks;
  std::vector<eval::StrategyConfig> ensemble;
  int64_t eval_limit = 0;
  int eval_jobs = 1;
};

Result<StudyConfig> load_study_config(const std::string& path);
// Parses config text; relative paths resolve against `base_dir`; `source` names it in errors.
Result<StudyConfig> parse_study_config(const std::string& text, const std::string& base_dir,
                                       const std::string& source);

}  // namespace quorum::quantstudy
