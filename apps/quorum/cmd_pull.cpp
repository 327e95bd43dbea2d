// `quorum pull ORG/REPO[:FILE] [--dir D] [--revision R]`: download a model from a Hugging
// Face-compatible hub with resume, checksum and a progress bar.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "core/progress.h"
#include "hub/hub.h"

namespace quorum::cli {

namespace {
std::string default_models_dir() {
  if (const char* q = std::getenv("QUORUM_HOME"); q != nullptr && *q) return std::string(q) + "/models";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h) return std::string(h) + "/.cache/quorum/models";
  return "models";
}
}  // namespace

RunFn setup_pull(CLI::App& sub) {
  struct Opts {
    std::string spec, dir, revision = "main", endpoint;
    int retries = 5;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("repo", o->spec,
                 "ORG/REPO, or ORG/REPO:FILE for one file. Without FILE: the repository's only "
                 "GGUF file, or its safetensors weights with config and tokenizer")
      ->required();
  sub.add_option("--dir", o->dir,
                 "Destination root; files go to DIR/ORG/REPO/ (default $QUORUM_HOME/models or "
                 "~/.cache/quorum/models)");
  sub.add_option("--revision", o->revision, "Branch, tag or commit")->capture_default_str();
  sub.add_option("--endpoint", o->endpoint, "Hub URL (default $HF_ENDPOINT or https://huggingface.co)");
  sub.add_option("--retries", o->retries, "Attempts per file, resuming each time")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  sub.footer("Set HF_TOKEN for gated or private repositories. An interrupted pull resumes from "
             "the .part file when run again.");
  return [o]() -> int {
    std::string repo, file;
    if (Status s = hub::parse_repo_spec(o->spec, &repo, &file); !s.is_ok()) return report_error(s);
    hub::HubOptions opts = hub::options_from_env();
    if (!o->endpoint.empty()) opts.endpoint = o->endpoint;
    opts.revision = o->revision;
    opts.max_retries = o->retries;
    auto info = hub::fetch_repo_info(repo, opts);
    if (!info) return report_error(info.status());
    auto files = hub::choose_files(*info, file);
    if (!files) return report_error(files.status());
    const std::string dest =
        (std::filesystem::path(o->dir.empty() ? default_models_dir() : o->dir) / repo).string();
    for (const hub::RepoFile& f : *files) {
      ProgressBar bar(f.name, f.size, ProgressUnit::kBytes);
      opts.progress = [&bar](const std::string&, int64_t done, int64_t) { bar.update(done); };
      auto path = hub::download_file(*info, f, dest, opts);
      bar.finish();
      if (!path) return report_error(path.status());
      fmt::print("{}\n", *path);
    }
    return 0;
  };
}

}  // namespace quorum::cli
