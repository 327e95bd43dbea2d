// Status formatting and the Error builder.
#include "core/status.h"

namespace quorum {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kIoError: return "I/O error";
    case ErrorCode::kCorruptFile: return "corrupt file";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kOutOfRange: return "out of range";
    case ErrorCode::kOutOfMemory: return "out of memory";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kInternal: return "internal error";
  }
  return "unknown error";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(error_code_name(code_)) + ": " + message_;
}

Status& Status::with_context(const std::string& context) {
  if (!is_ok()) message_ = context + ": " + message_;
  return *this;
}

Status Error::status() const {
  std::string m = what_;
  if (!where_.empty()) m += " (in " + where_ + ")";
  if (!expected_.empty()) m += "; expected " + expected_;
  if (!actual_.empty()) m += (expected_.empty() ? "; got " : ", got ") + actual_;
  if (!hint_.empty()) m += ". Hint: " + hint_;
  return Status(code_, m);
}

}  // namespace quorum
