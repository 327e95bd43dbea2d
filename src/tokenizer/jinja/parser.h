// Jinja parser: token stream -> syntax tree, with Jinja2's operator precedence
// (ternary < or < and < not < comparisons/in < + - < ~ < * / // % < ** < unary -/+ <
// postfix . [] () < filters | and tests `is`).
#pragma once

#include <vector>

#include "core/status.h"
#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/lexer.h"

namespace quorum::jinja {

// Parses a whole template. Errors name the line and column of the offending token.
Result<Body> parse_template(const std::vector<Token>& tokens);

}  // namespace quorum::jinja
