// Jinja lexer (see lexer.h for the whitespace rules it applies).
#include "tokenizer/jinja/lexer.h"

#include <cctype>
#include <cstring>

#include <fmt/format.h>

namespace quorum::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string rstrip_all(const std::string& s) {
  size_t end = s.size();
  while (end > 0 && is_space(s[end - 1])) --end;
  return s.substr(0, end);
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  Lexer(std::string src, const LexOptions& options) : src_(std::move(src)), opt_(options) {}

  Result<std::vector<Token>> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      const size_t start = find_tag_start(pos_);
      std::string text = src_.substr(pos_, start - pos_);
      if (start == src_.size()) {
        emit_text(std::move(text), pos_);
        break;
      }
      const char kind = src_[start + 1];  // '{', '%' or '#'
      const char sign = start + 2 < src_.size() ? src_[start + 2] : '\0';
      if (sign == '-') {
        text = rstrip_all(text);
      } else if (sign != '+' && opt_.lstrip_blocks && kind != '{') {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting) && l_pos < text.size()) {
          bool all_ws = true;
          for (size_t k = l_pos; k < text.size(); ++k) all_ws = all_ws && is_space(text[k]);
          if (all_ws) text.resize(l_pos);
        }
      }
      emit_text(std::move(text), pos_);
      size_t p = start + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
      if (kind == '#') {
        const size_t end = src_.find("#}", p);
        if (end == std::string::npos) return error_at(start, "unclosed comment: '{#' without '#}'");
        const bool strip_after = end > p && src_[end - 1] == '-';
        const bool keep = end > p && src_[end - 1] == '+';
        pos_ = end + 2;
        finish_tag(strip_after, keep, /*is_block=*/true);
      } else {
        const bool is_block = kind == '%';
        add(is_block ? TokenType::kBlockBegin : TokenType::kVarBegin, is_block ? "{%" : "{{", start);
        pos_ = p;
        if (is_block) {
          auto raw = try_raw_block(start);
          if (!raw.is_ok()) return raw.status();
          if (*raw) {
            line_starting = pos_ > 0 && src_[pos_ - 1] == '\n';
            continue;
          }
        }
        QUORUM_TRY(lex_tag(is_block, start));
      }
      line_starting = pos_ > 0 && src_[pos_ - 1] == '\n';
    }
    add(TokenType::kEof, "", src_.size());
    return std::move(tokens_);
  }

  // Line/column of a byte offset, for error messages.
  void position(size_t offset, int& line, int& col) const {
    line = 1;
    col = 1;
    for (size_t k = 0; k < offset && k < src_.size(); ++k) {
      if (src_[k] == '\n') { ++line; col = 1; } else { ++col; }
    }
  }

 private:
  size_t find_tag_start(size_t from) const {
    for (size_t k = from; k + 1 < src_.size(); ++k) {
      if (src_[k] == '{' && (src_[k + 1] == '{' || src_[k + 1] == '%' || src_[k + 1] == '#')) return k;
    }
    return src_.size();
  }

  Status error_at(size_t offset, const std::string& what) const {
    int line = 0, col = 0;
    position(offset, line, col);
    return Error(ErrorCode::kInvalidArgument, "template syntax error: " + what)
        .where(fmt::format("line {}, column {}", line, col));
  }

  void add(TokenType type, std::string text, size_t offset) {
    Token t;
    t.type = type;
    t.text = std::move(text);
    // Positions are computed incrementally: tokens arrive in source order.
    for (; line_pos_ < offset && line_pos_ < src_.size(); ++line_pos_) {
      if (src_[line_pos_] == '\n') { ++line_; col_ = 1; } else { ++col_; }
    }
    t.line = line_;
    t.col = col_;
    tokens_.push_back(std::move(t));
  }

  void emit_text(std::string text, size_t offset) {
    if (!text.empty()) add(TokenType::kText, std::move(text), offset);
  }

  // After a tag's closing delimiter: `-` strips all following whitespace; otherwise trim_blocks
  // drops one newline after block and comment tags.
  void finish_tag(bool strip_after, bool keep, bool is_block) {
    if (strip_after) {
      while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
    } else if (is_block && !keep && opt_.trim_blocks && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
    }
  }

  // `{% raw %}` ... `{% endraw %}`: everything between is text.
  Result<bool> try_raw_block(size_t tag_start) {
    size_t p = pos_;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0 || (p + 3 < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[p + 3])) || src_[p + 3] == '_'))) {
      return false;
    }
    p += 3;
    while (p < src_.size() && is_space(src_[p])) ++p;
    bool strip = false;
    if (p < src_.size() && src_[p] == '-') { strip = true; ++p; }
    if (src_.compare(p, 2, "%}") != 0) return false;
    tokens_.pop_back();  // the {% token
    pos_ = p + 2;
    finish_tag(strip, false, true);
    // Find {%[-+]? endraw [-]?%}
    for (size_t k = pos_; k + 1 < src_.size(); ++k) {
      if (src_[k] != '{' || src_[k + 1] != '%') continue;
      size_t q = k + 2;
      const char sign = q < src_.size() ? src_[q] : '\0';
      if (sign == '-' || sign == '+') ++q;
      while (q < src_.size() && is_space(src_[q])) ++q;
      if (src_.compare(q, 6, "endraw") != 0) continue;
      q += 6;
      while (q < src_.size() && is_space(src_[q])) ++q;
      bool strip_after = false;
      if (q < src_.size() && src_[q] == '-') { strip_after = true; ++q; }
      if (src_.compare(q, 2, "%}") != 0) continue;
      std::string text = src_.substr(pos_, k - pos_);
      if (sign == '-') text = rstrip_all(text);
      emit_text(std::move(text), pos_);
      pos_ = q + 2;
      finish_tag(strip_after, false, true);
      return true;
    }
    return error_at(tag_start, "unclosed '{% raw %}' block: missing '{% endraw %}'");
  }

  Status lex_tag(bool is_block, size_t tag_start) {
    int depth = 0;  // open brackets: an end delimiter inside them closes a dict literal instead
    while (true) {
      while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
      if (pos_ >= src_.size()) {
        return error_at(tag_start, is_block ? "unclosed block tag: '{%' without '%}'"
                                            : "unclosed expression: '{{' without '}}'");
      }
      const char* end_delim = is_block ? "%}" : "}}";
      if (depth == 0) {
        const bool dash = src_[pos_] == '-' && src_.compare(pos_ + 1, 2, end_delim) == 0;
        const bool plus = is_block && src_[pos_] == '+' && src_.compare(pos_ + 1, 2, end_delim) == 0;
        if (dash || plus || src_.compare(pos_, 2, end_delim) == 0) {
          add(is_block ? TokenType::kBlockEnd : TokenType::kVarEnd, end_delim, pos_);
          pos_ += (dash || plus) ? 3 : 2;
          finish_tag(dash, plus, is_block);
          return Status::ok();
        }
      }
      const char c = src_[pos_];
      const size_t tok_start = pos_;
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
        add(TokenType::kName, src_.substr(tok_start, pos_ - tok_start), tok_start);
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        QUORUM_TRY(lex_number());
      } else if (c == '\'' || c == '"') {
        QUORUM_TRY(lex_string());
      } else {
        static const char* kOps[] = {"**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~",
                                     "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"};
        const char* found = nullptr;
        for (const char* op : kOps) {
          if (src_.compare(pos_, std::strlen(op), op) == 0) { found = op; break; }
        }
        if (!found) return error_at(pos_, fmt::format("unexpected character '{}' in tag", c));
        const std::string op = found;
        if (op == "(" || op == "[" || op == "{") ++depth;
        if (op == ")" || op == "]" || op == "}") --depth;
        if (depth < 0) return error_at(pos_, fmt::format("unbalanced '{}'", op));
        add(TokenType::kOperator, op, pos_);
        pos_ += op.size();
      }
    }
  }

  Status lex_number() {
    const size_t start = pos_;
    auto digits = [&] {
      while (pos_ < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
    };
    digits();
    bool is_float = false;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && std::isdigit(static_cast<unsigned char>(src_[pos_ + 1]))) {
      is_float = true;
      ++pos_;
      digits();
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t q = pos_ + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && std::isdigit(static_cast<unsigned char>(src_[q]))) {
        is_float = true;
        pos_ = q;
        digits();
      }
    }
    std::string text;
    for (size_t k = start; k < pos_; ++k) {
      if (src_[k] != '_') text += src_[k];
    }
    add(is_float ? TokenType::kFloat : TokenType::kInteger, std::move(text), start);
    return Status::ok();
  }

  // Python string literal with unicode-escape decoding (unknown escapes stay as written).
  Status lex_string() {
    const size_t start = pos_;
    const char quote = src_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= src_.size()) return error_at(start, "unterminated string literal");
      const char c = src_[pos_++];
      if (c == quote) break;
      if (c != '\\') { out += c; continue; }
      if (pos_ >= src_.size()) return error_at(start, "unterminated string literal");
      const char e = src_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\n': break;  // line continuation
        case 'x': case 'u': case 'U': {
          const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (pos_ + n > src_.size()) return error_at(pos_, "truncated \\x/\\u escape in string");
          uint32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            const char h = src_[pos_ + k];
            if (!std::isxdigit(static_cast<unsigned char>(h))) return error_at(pos_, "bad hex digit in string escape");
            cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
          }
          if (cp > 0x10FFFF) return error_at(pos_, "string escape beyond U+10FFFF");
          pos_ += n;
          append_utf8(cp, out);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7'; ++k) {
              cp = cp * 8 + static_cast<uint32_t>(src_[pos_++] - '0');
            }
            append_utf8(cp, out);
          } else {
            out += '\\';
            out += e;
          }
      }
    }
    add(TokenType::kString, std::move(out), start);
    return Status::ok();
  }

  std::string src_;
  LexOptions opt_;
  size_t pos_ = 0;
  std::vector<Token> tokens_;
  size_t line_pos_ = 0;
  int line_ = 1;
  int col_ = 1;
};

}  // namespace

Result<std::vector<Token>> lex_template(const std::string& source, const LexOptions& options) {
  std::string src;
  src.reserve(source.size());
  for (size_t k = 0; k < source.size(); ++k) {
    if (source[k] == '\r') {
      src += '\n';
      if (k + 1 < source.size() && source[k + 1] == '\n') ++k;
    } else {
      src += source[k];
    }
  }
  if (!options.keep_trailing_newline && !src.empty() && src.back() == '\n') src.pop_back();
  Lexer lexer(std::move(src), options);
  return lexer.run();
}

}  // namespace quorum::jinja
