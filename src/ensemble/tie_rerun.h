// Prompts the re-asking strategies build from an item's prompt.
#pragma once

#include <string>
#include <vector>

namespace quorum::ensemble {

// The item's prompt with a line "Options: a, b" inserted before its final "Answer:" (appended
// with a new "Answer:" when the prompt does not end with one). The qt-* task models were not
// trained on this line; general instruction models follow it.
std::string options_prompt(const std::string& prompt, const std::vector<std::string>& options);

}  // namespace quorum::ensemble
