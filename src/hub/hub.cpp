// Hub client over libcurl: repository listing, file choice, resumable checked downloads.
#include "hub/hub.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "core/sha256.h"

namespace quorum::hub {
namespace fs = std::filesystem;
namespace {

void ensure_curl_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string url_escape_path(const std::string& s) {
  // Escape each path segment, keeping '/'.
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

struct CurlHandle {
  CURL* h;
  curl_slist* headers = nullptr;
  CurlHandle() : h(curl_easy_init()) {}
  ~CurlHandle() {
    if (headers != nullptr) curl_slist_free_all(headers);
    if (h != nullptr) curl_easy_cleanup(h);
  }
};

void set_common(CurlHandle& c, const std::string& url, const HubOptions& o) {
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c.h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT, o.connect_timeout_s);
  curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_TIME, o.low_speed_timeout_s);
  curl_easy_setopt(c.h, CURLOPT_USERAGENT, "quorum/0.1");
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  if (!o.token.empty()) {
    const std::string auth = "Authorization: Bearer " + o.token;
    c.headers = curl_slist_append(c.headers, auth.c_str());
    // The token must not follow a redirect to another host (CDN): libcurl drops custom
    // Authorization headers on cross-host redirects unless UNRESTRICTED_AUTH is set.
  }
  if (c.headers != nullptr) curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);
}

size_t append_to_string(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

Error http_error(long code, const std::string& url, const std::string& body) {
  std::string hint;
  if (code == 401 || code == 403) hint = "the repository may be gated or private: set HF_TOKEN";
  if (code == 404) hint = "check the repository name, revision and file name";
  return Error(code == 404 ? ErrorCode::kNotFound : ErrorCode::kIoError,
               fmt::format("the hub answered HTTP {}", code))
      .where(url)
      .actual(body.substr(0, 200))
      .hint(hint);
}

bool retryable_http(long code) { return code == 429 || code >= 500; }

void backoff(int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(8000, 250 << attempt)));
}

}  // namespace

HubOptions options_from_env() {
  HubOptions o;
  if (const char* e = std::getenv("HF_ENDPOINT"); e != nullptr && *e != 0) o.endpoint = e;
  if (const char* t = std::getenv("HF_TOKEN"); t != nullptr) o.token = t;
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  return o;
}

Status parse_repo_spec(const std::string& spec, std::string* repo, std::string* file) {
  const size_t colon = spec.find(':');
  *repo = spec.substr(0, colon);
  *file = colon == std::string::npos ? "" : spec.substr(colon + 1);
  static const std::regex kRepo(R"([A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*)");
  if (!std::regex_match(*repo, kRepo) || repo->find("..") != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "not a repository id")
        .where(spec)
        .expected("ORG/REPO or ORG/REPO:FILE (letters, digits, '.', '_', '-')")
        .actual(*repo);
  }
  if (colon != std::string::npos &&
      (file->empty() || file->front() == '/' || file->find("..") != std::string::npos)) {
    return Error(ErrorCode::kInvalidArgument, "invalid file name in repository spec")
        .where(spec)
        .expected("a relative path inside the repository")
        .actual(*file);
  }
  return Status::ok();
}

Result<RepoInfo> fetch_repo_info(const std::string& repo, const HubOptions& opts) {
  ensure_curl_init();
  const std::string url = fmt::format("{}/api/models/{}/revision/{}?blobs=true", opts.endpoint,
                                      repo, url_escape_path(opts.revision));
  std::string body;
  long code = 0;
  for (int attempt = 0;; ++attempt) {
    body.clear();
    CurlHandle c;
    set_common(c, url, opts);
    curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, append_to_string);
    curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &body);
    const CURLcode rc = curl_easy_perform(c.h);
    curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK && !retryable_http(code)) break;
    if (attempt + 1 >= opts.max_retries) {
      if (rc != CURLE_OK) {
        return Error(ErrorCode::kIoError, "cannot reach the hub")
            .where(url)
            .actual(curl_easy_strerror(rc))
            .hint("check the network, or set HF_ENDPOINT to a reachable mirror");
      }
      return http_error(code, url, body);
    }
    backoff(attempt);
  }
  if (code != 200) return http_error(code, url, body);

  RepoInfo info;
  info.repo = repo;
  info.revision = opts.revision;
  try {
    const auto j = nlohmann::json::parse(body);
    info.commit = j.value("sha", "");
    if (!j.contains("siblings") || !j["siblings"].is_array()) {
      return Error(ErrorCode::kCorruptFile, "hub answer has no file list").where(url).expected("a 'siblings' array");
    }
    for (const auto& s : j["siblings"]) {
      RepoFile f;
      f.name = s.at("rfilename").get<std::string>();
      if (s.contains("size") && s["size"].is_number_integer()) f.size = s["size"].get<int64_t>();
      if (s.contains("lfs") && s["lfs"].is_object()) {
        const auto& lfs = s["lfs"];
        if (lfs.contains("sha256")) f.sha256 = lfs["sha256"].get<std::string>();
        if (lfs.contains("size") && lfs["size"].is_number_integer()) f.size = lfs["size"].get<int64_t>();
      }
      info.files.push_back(std::move(f));
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::kCorruptFile, "hub answer is not the expected JSON")
        .where(url)
        .actual(e.what());
  }
  return info;
}

Result<std::vector<RepoFile>> choose_files(const RepoInfo& info, const std::string& wanted) {
  auto ends_with = [](const std::string& s, const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
  };
  if (!wanted.empty()) {
    for (const RepoFile& f : info.files) {
      if (f.name == wanted) return std::vector<RepoFile>{f};
    }
    std::string names;
    for (const RepoFile& f : info.files) names += (names.empty() ? "" : ", ") + f.name;
    return Error(ErrorCode::kNotFound, "file not in repository")
        .where(info.repo + "@" + info.revision)
        .expected("one of: " + names)
        .actual(wanted);
  }
  std::vector<RepoFile> ggufs, hf;
  for (const RepoFile& f : info.files) {
    if (ends_with(f.name, ".gguf")) ggufs.push_back(f);
    const bool weights = ends_with(f.name, ".safetensors") || f.name == "model.safetensors.index.json";
    const bool side = f.name == "config.json" || f.name == "tokenizer.json" ||
                      f.name == "tokenizer_config.json" || f.name == "tokenizer.model" ||
                      f.name == "generation_config.json" || f.name == "special_tokens_map.json";
    if (weights || side) hf.push_back(f);
  }
  if (ggufs.size() == 1) return ggufs;
  if (ggufs.size() > 1) {
    std::string names;
    for (const RepoFile& f : ggufs) names += "\n  " + info.repo + ":" + f.name;
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("the repository has {} GGUF files; name one", ggufs.size()))
        .where(info.repo)
        .hint("pull one of:" + names);
  }
  const bool has_weights = std::any_of(hf.begin(), hf.end(), [&](const RepoFile& f) {
    return ends_with(f.name, ".safetensors");
  });
  if (!has_weights) {
    return Error(ErrorCode::kNotFound, "the repository has no GGUF or safetensors weights")
        .where(info.repo + "@" + info.revision);
  }
  return hf;
}

namespace {

struct Sink {
  FILE* f;
  const HubOptions* opts;
  const std::string* name;
  int64_t done;
  int64_t total;
  long status = 0;  // HTTP status of the final response, read in the first write
  CURL* h;
  bool bad_status = false;
};

size_t write_part(char* p, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  if (s->status == 0) curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
  if (s->status != 200 && s->status != 206) {
    s->bad_status = true;
    return 0;  // abort: an error page must never land in the model file
  }
  const size_t bytes = size * n;
  if (std::fwrite(p, 1, bytes, s->f) != bytes) return 0;
  s->done += static_cast<int64_t>(bytes);
  if (s->opts->progress) s->opts->progress(*s->name, s->done, s->total);
  return bytes;
}

Status verify(const RepoFile& file, const std::string& path) {
  const int64_t size = static_cast<int64_t>(fs::file_size(path));
  if (file.size >= 0 && size != file.size) {
    return Error(ErrorCode::kCorruptFile, "downloaded file has the wrong size")
        .where(path)
        .expected(std::to_string(file.size))
        .actual(std::to_string(size));
  }
  if (!file.sha256.empty()) {
    QUORUM_ASSIGN_OR_RETURN(std::string got, sha256_file(path));
    if (got != file.sha256) {
      return Error(ErrorCode::kCorruptFile, "checksum mismatch")
          .where(path)
          .expected("sha256 " + file.sha256)
          .actual("sha256 " + got)
          .hint("the partial download was discarded; run pull again");
    }
  }
  return Status::ok();
}

}  // namespace

Result<std::string> download_file(const RepoInfo& info, const RepoFile& file,
                                  const std::string& dest_dir, const HubOptions& opts) {
  ensure_curl_init();
  const fs::path final_path = fs::path(dest_dir) / file.name;
  const fs::path part = final_path.string() + ".part";
  std::error_code ec;
  fs::create_directories(final_path.parent_path(), ec);
  if (ec) {
    return Error(ErrorCode::kIoError, "cannot create directory")
        .where(final_path.parent_path().string())
        .actual(ec.message());
  }
  if (fs::exists(final_path) && verify(file, final_path.string()).is_ok()) {
    if (opts.progress) opts.progress(file.name, file.size, file.size);
    return final_path.string();
  }
  const std::string url = fmt::format("{}/{}/resolve/{}/{}", opts.endpoint, info.repo,
                                      url_escape_path(info.commit.empty() ? info.revision : info.commit),
                                      url_escape_path(file.name));
  std::string last_error;
  for (int attempt = 0; attempt < opts.max_retries; ++attempt) {
    int64_t have = fs::exists(part) ? static_cast<int64_t>(fs::file_size(part)) : 0;
    if (file.size >= 0 && have > file.size) {  // a stale, longer part: start over
      fs::remove(part);
      have = 0;
    }
    if (file.size >= 0 && have == file.size) break;  // complete, only the rename was missing
    FILE* f = std::fopen(part.c_str(), have > 0 ? "ab" : "wb");
    if (f == nullptr) return Error(ErrorCode::kIoError, "cannot write file").where(part.string());
    CurlHandle c;
    set_common(c, url, opts);
    Sink sink{f, &opts, &file.name, have, file.size, 0, c.h};
    curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, write_part);
    curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &sink);
    const std::string range = fmt::format("{}-", have);
    if (have > 0) curl_easy_setopt(c.h, CURLOPT_RANGE, range.c_str());
    const CURLcode rc = curl_easy_perform(c.h);
    std::fclose(f);
    long code = 0;
    curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &code);
    if (have > 0 && code == 200 && sink.done > 0) {
      // The server ignored the Range header and sent the whole file after our partial bytes:
      // the part is garbage; start over.
      fs::remove(part);
      last_error = "server does not support resume; restarted";
      continue;
    }
    if (rc == CURLE_OK && (code == 200 || code == 206)) break;
    if (code == 416 && file.size >= 0 && have == file.size) break;
    if (code != 0 && !retryable_http(code) && code != 200 && code != 206) {
      return http_error(code, url, "");
    }
    last_error = rc != CURLE_OK ? curl_easy_strerror(rc) : fmt::format("HTTP {}", code);
    if (attempt + 1 < opts.max_retries) backoff(attempt);
  }
  if (!fs::exists(part)) {
    return Error(ErrorCode::kIoError, "download failed").where(url).actual(last_error);
  }
  if (file.size >= 0 && static_cast<int64_t>(fs::file_size(part)) != file.size) {
    return Error(ErrorCode::kIoError, "download did not complete after retries")
        .where(url)
        .expected(fmt::format("{} bytes", file.size))
        .actual(fmt::format("{} bytes ({})", fs::file_size(part), last_error))
        .hint("run the same pull again to resume");
  }
  if (Status s = verify(file, part.string()); !s.is_ok()) {
    fs::remove(part);
    return s;
  }
  fs::rename(part, final_path, ec);
  if (ec) return Error(ErrorCode::kIoError, "cannot rename").where(final_path.string()).actual(ec.message());
  return final_path.string();
}

}  // namespace quorum::hub
