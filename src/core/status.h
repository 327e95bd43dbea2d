// Status and Result<T>: how every library function reports a user or file error.
//
// Library code never exits or aborts on bad input (STYLE.md rule 2). It returns a Status whose
// message says what failed, where, what was expected, what was found, and a hint. Build one with
// Error(...), e.g.
//   return Error(ErrorCode::kCorruptFile, "tensor data lies outside the file")
//       .where(path + ": tensor 'blk.0.attn_q.weight'")
//       .expected(fmt::format("end <= {}", file_size))
//       .actual(fmt::format("end = {}", end))
//       .hint("the file is truncated; download it again");
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace quorum {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // a parameter or request the caller gave is out of range or malformed
  kNotFound,         // a file, key, tensor or item does not exist
  kIoError,          // the OS failed a read/write/mmap
  kCorruptFile,      // a file is truncated, malformed or hostile
  kUnsupported,      // valid input we do not handle (architecture, type, feature)
  kOutOfRange,       // an index or size exceeds a limit (context, vocabulary, ...)
  kOutOfMemory,      // an allocation the input asks for does not fit
  kTimeout,          // a remote call or a wait ran out of time
  kCancelled,        // the user stopped the work
  kInternal,         // a bug: should never reach the user
};

const char* error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corrupt file: <message>" for printing.
  std::string to_string() const;

  // Prefixes the message with an outer context: "loading model m.gguf: <message>".
  Status& with_context(const std::string& context);

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Builder for a well-formed error message; converts to Status and to any Result<T>.
class Error {
 public:
  Error(ErrorCode code, std::string what) : code_(code), what_(std::move(what)) {}
  Error& where(std::string s) { where_ = std::move(s); return *this; }
  Error& expected(std::string s) { expected_ = std::move(s); return *this; }
  Error& actual(std::string s) { actual_ = std::move(s); return *this; }
  Error& hint(std::string s) { hint_ = std::move(s); return *this; }
  Status status() const;
  operator Status() const { return status(); }  // NOLINT(google-explicit-constructor)

 private:
  ErrorCode code_;
  std::string what_, where_, expected_, actual_, hint_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                  // NOLINT
  Result(Status status) : v_(std::move(status)) {}           // NOLINT
  Result(const Error& error) : v_(error.status()) {}         // NOLINT

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOkStatus;
    return is_ok() ? kOkStatus : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T value_or(T other) const& { return is_ok() ? value() : std::move(other); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace quorum

#define QUORUM_CONCAT_INNER(a, b) a##b
#define QUORUM_CONCAT(a, b) QUORUM_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) failed.
#define QUORUM_TRY(expr)                          \
  do {                                            \
    ::quorum::Status quorum_try_s_ = (expr);      \
    if (!quorum_try_s_.is_ok()) return quorum_try_s_; \
  } while (0)

// QUORUM_ASSIGN_OR_RETURN(auto x, make_x()); assigns the value or returns the error.
#define QUORUM_ASSIGN_OR_RETURN(lhs, expr) \
  QUORUM_ASSIGN_OR_RETURN_IMPL(QUORUM_CONCAT(quorum_res_, __LINE__), lhs, expr)
#define QUORUM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.is_ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
