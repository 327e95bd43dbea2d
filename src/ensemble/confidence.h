// Answer confidences for the `confidence` strategy: parsing a self-reported confidence from a
// model's text ("confidence: 0.8", "Confidence = 80%", "... (90%)") and choosing which of an
// Answer's confidences to use.
#pragma once

#include <optional>
#include <string_view>

#include "ensemble/answer.h"

namespace quorum::ensemble {

enum class ConfidenceSource {
  kSelf,     // Answer::self_confidence, else parsed from Answer::raw
  kToken,    // Answer::token_confidence
  kLogprob,  // softmax of Answer::label_logprobs at the answer's label
  kAny,      // the first of self, token, logprob that is available
};

// "confidence[:=| is] X" (X a fraction, or a percentage with '%' or when 1 < X <= 100), else the
// first "N%" in the text. Case-insensitive. Returns nothing when no confidence is found or the
// number is out of range.
std::optional<double> parse_self_confidence(std::string_view text);

std::optional<double> answer_confidence(const Answer& answer, ConfidenceSource source);

}  // namespace quorum::ensemble
