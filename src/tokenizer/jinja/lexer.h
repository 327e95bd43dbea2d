// Jinja lexer: template source -> one token stream of text and tag contents.
//
// Whitespace handling is done here, exactly as Jinja2 configured by Hugging Face
// (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False):
//  - `{%-`/`{{-`/`{#-` strip all whitespace before the tag, `-%}`/`-}}`/`-#}` all after it;
//  - trim_blocks drops the first newline after a block or comment tag;
//  - lstrip_blocks drops spaces/tabs between a line start and a block or comment tag
//    (`{%+` turns that off for one tag);
//  - one trailing newline of the whole template is dropped; \r\n and \r become \n.
// Comments are dropped. `{% raw %}...{% endraw %}` becomes one text token.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace quorum::jinja {

enum class TokenType {
  kText,        // literal template text
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,        // identifier or keyword
  kString,      // string literal (value already unescaped)
  kInteger,
  kFloat,
  kOperator,    // + - * / // % ** ~ == != < <= > >= = ( ) [ ] { } , . : |
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string text;  // name, operator, unescaped string, number digits, or template text
  int line = 1;
  int col = 1;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

Result<std::vector<Token>> lex_template(const std::string& source, const LexOptions& options);

}  // namespace quorum::jinja
