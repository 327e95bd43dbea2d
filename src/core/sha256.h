// SHA-256 (OpenSSL's EVP implementation), lower-case hex. One place for every layer that hashes:
// the hub checks downloads against published hashes, the answer cache keys answers by model-file
// hash and request, the local backend identifies a model by its file's hash.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace quorum {

// sha256 of `data`, 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);
// sha256 of a file's bytes (streamed in 1 MiB reads), 64 lower-case hex digits.
Result<std::string> sha256_file(const std::string& path);

}  // namespace quorum
