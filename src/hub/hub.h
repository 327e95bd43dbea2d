// Downloading models from a Hugging Face-compatible hub (`quorum pull ORG/REPO[:FILE]`).
//
// Protocol (the hub's public URL layout):
//   GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true
//       -> JSON {"sha": ..., "siblings": [{"rfilename": F, "size": N, "lfs": {"sha256": H, "size": N}}]}
//   GET {endpoint}/{repo}/resolve/{revision}/{file}   (may redirect; honours Range for resume)
// Files are written to `<dest>/<file>.part`, resumed from the part's size with a Range request,
// checked against the hub's sha256 (LFS files) and size, then renamed into place. A finished
// file whose size and hash already match is not downloaded again.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace quorum::hub {

struct RepoFile {
  std::string name;    // path inside the repository
  int64_t size = -1;   // bytes, -1 if the hub did not say
  std::string sha256;  // lower-case hex; empty for non-LFS files (no hash published)
};

struct RepoInfo {
  std::string repo;
  std::string revision;
  std::string commit;  // "sha" of the resolved revision, if given
  std::vector<RepoFile> files;
};

struct HubOptions {
  std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT overrides the default
  std::string token;                                // HF_TOKEN: sent as a Bearer token
  std::string revision = "main";
  long connect_timeout_s = 30;
  long low_speed_timeout_s = 60;  // abort if under 1 KB/s for this long
  int max_retries = 5;            // per file, resuming each time
  // Progress of one file: bytes done, bytes total (-1 unknown).
  std::function<void(const std::string& file, int64_t done, int64_t total)> progress;
};

// Options from the environment (HF_ENDPOINT, HF_TOKEN) on top of the defaults.
HubOptions options_from_env();

// "org/repo" or "org/repo:file" -> repo and optional file; validates the repo id.
Status parse_repo_spec(const std::string& spec, std::string* repo, std::string* file);

Result<RepoInfo> fetch_repo_info(const std::string& repo, const HubOptions& opts);

// Which files `pull` takes when the user named none: the single .gguf file; or, for a
// safetensors repository, the weights + config.json + tokenizer files. Several .gguf files and
// no choice -> an error listing them.
Result<std::vector<RepoFile>> choose_files(const RepoInfo& info, const std::string& wanted);

// Downloads one file into dest_dir (created if needed); returns the final path.
Result<std::string> download_file(const RepoInfo& info, const RepoFile& file,
                                  const std::string& dest_dir, const HubOptions& opts);

}  // namespace quorum::hub
