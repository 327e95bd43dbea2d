#include <gtest/gtest.h>

#include "core/status.h"

namespace quorum {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) {
    return Error(ErrorCode::kInvalidArgument, "value must be positive")
        .where("--count")
        .expected("> 0")
        .actual(std::to_string(x))
        .hint("pass a count of at least 1");
  }
  return x;
}

Result<int> doubled(int x) {
  QUORUM_ASSIGN_OR_RETURN(int v, parse_positive(x));
  return 2 * v;
}

TEST(Status, ErrorMessageHasAllParts) {
  Result<int> r = parse_positive(-3);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "value must be positive (in --count); expected > 0, got -3. Hint: pass a count of at "
            "least 1");
}

TEST(Status, AssignOrReturnPropagates) {
  EXPECT_EQ(*doubled(4), 8);
  Result<int> bad = doubled(0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
}

TEST(Status, WithContextPrefixes) {
  Status s(ErrorCode::kNotFound, "no such key");
  s.with_context("loading m.gguf");
  EXPECT_EQ(s.to_string(), "not found: loading m.gguf: no such key");
}

}  // namespace
}  // namespace quorum
