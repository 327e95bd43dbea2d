// AnswerCache: every model answer ever computed, in one SQLite file, so that re-running an
// evaluation, adding a strategy or resuming an interrupted run costs no inference.
//
// Key = sha256 over (backend identity, request kind, canonical JSON of the prompt and every
// generation parameter). The backend identity is the model file's sha256 for local models and
// "http|endpoint|model id" for remote ones, so renaming or moving a file keeps its answers and
// a changed file does not reuse stale ones. Value = the completion as JSON (text, logprobs,
// token counts, inference seconds).
//
// Concurrency: WAL journal, one connection guarded by a mutex (any number of threads), a busy
// timeout for several processes sharing the file. Each answer is committed on its own, so a
// killed run loses at most the answers in flight.
//
// The file-hash table remembers sha256(file) by (path, size, mtime) so that a multi-gigabyte
// model is hashed once, not on every run.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/sha256.h"

struct sqlite3;

namespace quorum::backend {

class AnswerCache {
 public:
  // Opens or creates the cache file (parent directories are created); ":memory:" for tests.
  static Result<std::unique_ptr<AnswerCache>> open(const std::string& path);
  ~AnswerCache();
  AnswerCache(const AnswerCache&) = delete;
  AnswerCache& operator=(const AnswerCache&) = delete;

  static std::string completion_key(const std::string& identity, const CompletionRequest& request);
  static std::string score_key(const std::string& identity, const std::string& prompt,
                               const std::vector<std::string>& continuations);

  Result<std::optional<Completion>> get_completion(const std::string& key);
  Status put_completion(const std::string& key, const std::string& identity,
                        const Completion& completion);
  Result<std::optional<Scores>> get_scores(const std::string& key);
  Status put_scores(const std::string& key, const std::string& identity, const Scores& scores);

  // sha256 of the file (hex), computed by streaming it once per (path, size, mtime).
  Result<std::string> file_sha256(const std::string& path);

  // Number of stored answers (completions and score lists).
  Result<int64_t> count();

 private:
  explicit AnswerCache(sqlite3* db) : db_(db) {}
  Result<std::optional<std::string>> get_value(const std::string& key);
  Status put_value(const std::string& key, const std::string& identity, const char* kind,
                   const std::string& value);
  Status exec(const char* sql);

  sqlite3* db_;
  std::mutex mu_;
};

// Backend decorator: answers from the cache when it can, asks the wrapped backend otherwise and
// stores what it got. Errors are never cached.
class CachingBackend final : public Backend {
 public:
  CachingBackend(std::shared_ptr<Backend> inner, std::shared_ptr<AnswerCache> cache)
      : inner_(std::move(inner)), cache_(std::move(cache)) {}

  const std::string& name() const override { return inner_->name(); }
  std::string identity() const override { return inner_->identity(); }
  Result<Completion> complete(const CompletionRequest& request) override;
  Result<Scores> score(const std::string& prompt,
                       const std::vector<std::string>& continuations) override;
  // Not cached: counting tokens costs no inference.
  Result<int64_t> count_tokens(const std::string& prompt) override { return inner_->count_tokens(prompt); }
  int64_t context_length() const override { return inner_->context_length(); }

  int64_t hits() const { return hits_.load(); }
  int64_t misses() const { return misses_.load(); }

 private:
  std::shared_ptr<Backend> inner_;
  std::shared_ptr<AnswerCache> cache_;
  std::atomic<int64_t> hits_{0}, misses_{0};
};

}  // namespace quorum::backend
