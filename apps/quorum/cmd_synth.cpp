// `quorum synth --shape NAME --type TYPE -o FILE.gguf [--seed S]`: a model of a real shape with
// seeded random weights and a real tokenizer, for speed benchmarks (see synth/synth.h).
#include <fmt/format.h>

#include <memory>

#include "commands.h"
#include "core/progress.h"
#include "core/thread_pool.h"
#include "synth/synth.h"

namespace quorum::cli {

RunFn setup_synth(CLI::App& sub) {
  struct Opts {
    std::string shape, type = "f16", out, shared = "../shared";
    uint64_t seed = 42;
    int threads = default_thread_count();
    bool list = false;
  };
  auto o = std::make_shared<Opts>();
  std::string shape_help = "Model shape:";
  for (const auto& s : synth::shapes()) {
    shape_help += fmt::format("\n  {:14} {:.2f} B params  {}", s.name,
                              synth::parameter_count(s) / 1e9, s.summary);
  }
  sub.add_option("--shape", o->shape, shape_help);
  sub.add_option("--type", o->type, "Weight type: f32, f16 or bf16")->capture_default_str();
  sub.add_option("-o,--output", o->out, "Output GGUF file");
  sub.add_option("--seed", o->seed, "Random seed (same seed, same file)")->capture_default_str();
  sub.add_option("--shared", o->shared, "Folder holding models/ with the vocabularies")
      ->envname("QUORUM_SHARED_DIR")
      ->capture_default_str();
  sub.add_option("-t,--threads", o->threads, "Threads")->check(CLI::Range(1, 512));
  sub.add_flag("--list", o->list, "List the shapes and exit");
  return [o]() -> int {
    if (o->list) {
      for (const auto& s : synth::shapes()) {
        fmt::print("{:14} {:6.3f} B  {}\n", s.name, synth::parameter_count(s) / 1e9, s.summary);
      }
      return 0;
    }
    if (o->shape.empty() || o->out.empty()) {
      return report_error(Error(ErrorCode::kInvalidArgument, "--shape and -o are required")
                              .hint("see `quorum synth --list` for the shapes"));
    }
    auto shape = synth::find_shape(o->shape);
    if (!shape) return report_error(shape.status());
    auto type = dtype_from_name(o->type);
    if (!type) {
      return report_error(Error(ErrorCode::kInvalidArgument, "unknown type").expected("f32, f16 or bf16").actual(o->type));
    }
    synth::SynthOptions opts;
    opts.type = *type;
    opts.seed = o->seed;
    opts.models_dir = o->shared + "/models";
    ThreadPool pool(o->threads);
    gguf::Writer w;
    if (Status s = synth::build(**shape, opts, pool, &w); !s.is_ok()) return report_error(s);
    ProgressBar bar("synth " + o->shape, static_cast<int64_t>(w.file_size()), ProgressUnit::kBytes);
    w.set_progress([&](size_t done, size_t) { bar.update(static_cast<int64_t>(done)); });
    Status s = w.write(o->out);
    bar.finish();
    if (!s.is_ok()) return report_error(s);
    fmt::print("{}: {} ({:.3f} B parameters, {})\n", o->out, o->shape,
               synth::parameter_count(**shape) / 1e9, dtype_name(*type));
    return 0;
  };
}

}  // namespace quorum::cli
