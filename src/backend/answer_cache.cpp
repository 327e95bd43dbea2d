// AnswerCache (SQLite) and CachingBackend; see answer_cache.h.
#include "backend/answer_cache.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <array>
#include <filesystem>
#include <fstream>

namespace quorum::backend {

namespace {

using nlohmann::json;

// Owns a prepared statement.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

Status sqlite_error(sqlite3* db, const std::string& what) {
  return Error(ErrorCode::kIoError, "answer cache: " + what).actual(sqlite3_errmsg(db));
}

}  // namespace

Result<std::unique_ptr<AnswerCache>> AnswerCache::open(const std::string& path) {
  if (path != ":memory:") {
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    Status s = Error(ErrorCode::kIoError, "cannot open the answer cache")
                   .where(path)
                   .actual(db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<AnswerCache> cache(new AnswerCache(db));
  sqlite3_busy_timeout(db, 30000);
  QUORUM_TRY(cache->exec("PRAGMA journal_mode=WAL"));
  QUORUM_TRY(cache->exec("PRAGMA synchronous=NORMAL"));
  QUORUM_TRY(cache->exec(
      "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, identity TEXT NOT NULL, "
      "kind TEXT NOT NULL, value TEXT NOT NULL, created REAL NOT NULL DEFAULT (julianday('now')))"));
  QUORUM_TRY(cache->exec(
      "CREATE TABLE IF NOT EXISTS file_hashes (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
      "mtime INTEGER NOT NULL, sha256 TEXT NOT NULL)"));
  return cache;
}

AnswerCache::~AnswerCache() { sqlite3_close(db_); }

Status AnswerCache::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    Status s = Error(ErrorCode::kIoError, "answer cache: SQL failed")
                   .where(sql)
                   .actual(err != nullptr ? err : "?");
    sqlite3_free(err);
    return s;
  }
  return Status::ok();
}

std::string AnswerCache::completion_key(const std::string& identity, const CompletionRequest& r) {
  const json j = {{"identity", identity}, {"kind", "complete"}, {"request", to_json(r)}};
  return sha256_hex(j.dump());
}

std::string AnswerCache::score_key(const std::string& identity, const std::string& prompt,
                                   const std::vector<std::string>& continuations) {
  const json j = {{"identity", identity},
                  {"kind", "score"},
                  {"prompt", prompt},
                  {"continuations", continuations}};
  return sha256_hex(j.dump());
}

Result<std::optional<std::string>> AnswerCache::get_value(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT value FROM answers WHERE key = ?1", -1, &st.s, nullptr) !=
      SQLITE_OK) {
    return sqlite_error(db_, "prepare lookup");
  }
  sqlite3_bind_text(st.s, 1, key.c_str(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st.s);
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return sqlite_error(db_, "lookup");
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0));
  return std::optional<std::string>(std::string(text != nullptr ? text : ""));
}

Status AnswerCache::put_value(const std::string& key, const std::string& identity, const char* kind,
                              const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR REPLACE INTO answers (key, identity, kind, value) "
                         "VALUES (?1, ?2, ?3, ?4)",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return sqlite_error(db_, "prepare insert");
  }
  sqlite3_bind_text(st.s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, identity.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 3, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st.s, 4, value.c_str(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_DONE) return sqlite_error(db_, "insert");
  return Status::ok();
}

Result<std::optional<Completion>> AnswerCache::get_completion(const std::string& key) {
  QUORUM_ASSIGN_OR_RETURN(auto v, get_value(key));
  if (!v) return std::optional<Completion>();
  json j = json::parse(*v, nullptr, false);
  if (j.is_discarded()) return Error(ErrorCode::kCorruptFile, "answer cache entry is not JSON");
  QUORUM_ASSIGN_OR_RETURN(Completion c, completion_from_json(j));
  return std::optional<Completion>(std::move(c));
}

Status AnswerCache::put_completion(const std::string& key, const std::string& identity,
                                   const Completion& completion) {
  return put_value(key, identity, "complete", to_json(completion).dump());
}

Result<std::optional<Scores>> AnswerCache::get_scores(const std::string& key) {
  QUORUM_ASSIGN_OR_RETURN(auto v, get_value(key));
  if (!v) return std::optional<Scores>();
  json j = json::parse(*v, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("logprobs") || !j["logprobs"].is_array() ||
      !j.value("seconds", json()).is_number()) {
    return Error(ErrorCode::kCorruptFile, "answer cache score entry is malformed");
  }
  Scores out;
  out.seconds = j["seconds"].get<double>();
  for (const json& x : j["logprobs"]) {
    if (!x.is_number()) return Error(ErrorCode::kCorruptFile, "answer cache score is not a number");
    out.logprobs.push_back(x.get<double>());
  }
  return std::optional<Scores>(std::move(out));
}

Status AnswerCache::put_scores(const std::string& key, const std::string& identity,
                               const Scores& scores) {
  // nlohmann prints doubles with round-trip precision.
  const json j = {{"logprobs", scores.logprobs}, {"seconds", scores.seconds}};
  return put_value(key, identity, "score", j.dump());
}

Result<std::string> AnswerCache::file_sha256(const std::string& path) {
  std::error_code ec;
  const std::string abs = std::filesystem::absolute(path, ec).string();
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Error(ErrorCode::kNotFound, "cannot stat model file").where(path).actual(ec.message());
  const auto mtime = std::filesystem::last_write_time(path, ec).time_since_epoch().count();
  {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt st;
    if (sqlite3_prepare_v2(db_, "SELECT size, mtime, sha256 FROM file_hashes WHERE path = ?1", -1,
                           &st.s, nullptr) != SQLITE_OK) {
      return sqlite_error(db_, "prepare hash lookup");
    }
    sqlite3_bind_text(st.s, 1, abs.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st.s) == SQLITE_ROW &&
        sqlite3_column_int64(st.s, 0) == static_cast<int64_t>(size) &&
        sqlite3_column_int64(st.s, 1) == static_cast<int64_t>(mtime)) {
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st.s, 2)));
    }
  }
  QUORUM_ASSIGN_OR_RETURN(std::string hash, sha256_file(path));
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR REPLACE INTO file_hashes (path, size, mtime, sha256) "
                         "VALUES (?1, ?2, ?3, ?4)",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return sqlite_error(db_, "prepare hash insert");
  }
  sqlite3_bind_text(st.s, 1, abs.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 2, static_cast<int64_t>(size));
  sqlite3_bind_int64(st.s, 3, static_cast<int64_t>(mtime));
  sqlite3_bind_text(st.s, 4, hash.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_DONE) return sqlite_error(db_, "hash insert");
  return hash;
}

Result<int64_t> AnswerCache::count() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM answers", -1, &st.s, nullptr) != SQLITE_OK ||
      sqlite3_step(st.s) != SQLITE_ROW) {
    return sqlite_error(db_, "count");
  }
  return static_cast<int64_t>(sqlite3_column_int64(st.s, 0));
}

Result<Completion> CachingBackend::complete(const CompletionRequest& request) {
  const std::string key = AnswerCache::completion_key(inner_->identity(), request);
  QUORUM_ASSIGN_OR_RETURN(auto hit, cache_->get_completion(key));
  if (hit) {
    hits_.fetch_add(1);
    hit->from_cache = true;
    return std::move(*hit);
  }
  misses_.fetch_add(1);
  QUORUM_ASSIGN_OR_RETURN(Completion c, inner_->complete(request));
  QUORUM_TRY(cache_->put_completion(key, inner_->identity(), c));
  return c;
}

Result<Scores> CachingBackend::score(const std::string& prompt,
                                     const std::vector<std::string>& continuations) {
  const std::string key = AnswerCache::score_key(inner_->identity(), prompt, continuations);
  QUORUM_ASSIGN_OR_RETURN(auto hit, cache_->get_scores(key));
  if (hit) {
    hits_.fetch_add(1);
    hit->from_cache = true;
    return std::move(*hit);
  }
  misses_.fetch_add(1);
  QUORUM_ASSIGN_OR_RETURN(Scores s, inner_->score(prompt, continuations));
  QUORUM_TRY(cache_->put_scores(key, inner_->identity(), s));
  return s;
}

}  // namespace quorum::backend
