// Jinja parser (see parser.h). Recursive descent; nesting depth is bounded so a hostile template
// cannot overflow the stack.
#include "tokenizer/jinja/parser.h"

#include <charconv>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

namespace quorum::jinja {
namespace {

constexpr int kMaxDepth = 200;

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : t_(tokens) {}

  Result<Body> parse_all() {
    Body body;
    std::string end;
    QUORUM_TRY(parse_body({}, body, end));
    if (!end.empty()) return fail(fmt::format("unexpected '{{% {} %}}'", end));
    return body;
  }

 private:
  // ---- token helpers
  const Token& cur() const { return t_[pos_]; }
  const Token& peek(size_t n = 1) const { return t_[std::min(pos_ + n, t_.size() - 1)]; }
  void advance() { if (pos_ + 1 < t_.size()) ++pos_; }
  bool is_op(const char* op) const { return cur().type == TokenType::kOperator && cur().text == op; }
  bool is_name(const char* n) const { return cur().type == TokenType::kName && cur().text == n; }
  bool skip_op(const char* op) { if (is_op(op)) { advance(); return true; } return false; }
  bool skip_name(const char* n) { if (is_name(n)) { advance(); return true; } return false; }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case TokenType::kEof: return "end of template";
      case TokenType::kBlockEnd: return "'%}'";
      case TokenType::kVarEnd: return "'}}'";
      case TokenType::kBlockBegin: return "'{%'";
      case TokenType::kVarBegin: return "'{{'";
      case TokenType::kText: return "template text";
      case TokenType::kString: return "string '" + t.text + "'";
      default: return "'" + t.text + "'";
    }
  }

  Status fail(const std::string& what) const { return fail_at(cur(), what); }
  static Status fail_at(const Token& t, const std::string& what) {
    return Error(ErrorCode::kInvalidArgument, "template syntax error: " + what)
        .where(fmt::format("line {}, column {}", t.line, t.col));
  }
  Status expect_op(const char* op) {
    if (!skip_op(op)) return fail(fmt::format("expected '{}', found {}", op, describe(cur())));
    return Status::ok();
  }
  Result<std::string> expect_name() {
    if (cur().type != TokenType::kName) return fail("expected a name, found " + describe(cur()));
    std::string n = cur().text;
    advance();
    return n;
  }
  Status expect_block_end() {
    if (cur().type != TokenType::kBlockEnd) return fail("expected '%}', found " + describe(cur()));
    advance();
    return Status::ok();
  }

  ExprPtr make(Expr::Kind kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = at.line;
    e->col = at.col;
    return e;
  }

  // ---- statements

  // Parses nodes until a block tag whose name is in `ends` (returned in `end`, positioned after
  // the name) or the end of input (`end` empty).
  Status parse_body(const std::set<std::string>& ends, Body& body, std::string& end) {
    if (++depth_ > kMaxDepth) return fail("blocks nested too deeply");
    while (true) {
      const Token& t = cur();
      if (t.type == TokenType::kEof) {
        --depth_;
        end.clear();
        if (!ends.empty()) {
          std::string list;
          for (const auto& e : ends) list += (list.empty() ? "'" : " or '") + e + "'";
          return fail_at(t, "unexpected end of template: expected " + list);
        }
        return Status::ok();
      }
      if (t.type == TokenType::kText) {
        auto n = std::make_unique<Node>();
        n->kind = Node::Kind::kText;
        n->text = t.text;
        body.push_back(std::move(n));
        advance();
      } else if (t.type == TokenType::kVarBegin) {
        advance();
        auto n = std::make_unique<Node>();
        n->kind = Node::Kind::kOutput;
        n->line = t.line;
        n->col = t.col;
        QUORUM_ASSIGN_OR_RETURN(n->expr, parse_tuple_or_expr());
        if (cur().type != TokenType::kVarEnd) return fail("expected '}}', found " + describe(cur()));
        advance();
        body.push_back(std::move(n));
      } else if (t.type == TokenType::kBlockBegin) {
        advance();
        if (cur().type != TokenType::kName) return fail("expected a statement name after '{%'");
        const std::string name = cur().text;
        if (ends.count(name)) {
          advance();
          end = name;
          --depth_;
          return Status::ok();
        }
        QUORUM_ASSIGN_OR_RETURN(NodePtr n, parse_statement());
        body.push_back(std::move(n));
      } else {
        return fail("unexpected " + describe(t));
      }
    }
  }

  Result<NodePtr> parse_statement() {
    const Token start = cur();
    const std::string& name = start.text;
    advance();
    auto n = std::make_unique<Node>();
    n->line = start.line;
    n->col = start.col;
    if (name == "if") return parse_if(std::move(n));
    if (name == "for") return parse_for(std::move(n));
    if (name == "set") return parse_set(std::move(n));
    if (name == "macro") return parse_macro(std::move(n));
    if (name == "filter") {
      n->kind = Node::Kind::kFilterBlock;
      QUORUM_ASSIGN_OR_RETURN(n->filter, parse_filter_chain(nullptr));
      QUORUM_TRY(expect_block_end());
      return parse_single_body(std::move(n), "endfilter");
    }
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) return fail_at(start, "'" + name + "' outside of a for loop");
      n->kind = name == "break" ? Node::Kind::kBreak : Node::Kind::kContinue;
      QUORUM_TRY(expect_block_end());
      return n;
    }
    if (name == "generation") {  // Hugging Face's assistant-mask marker: renders its body
      n->kind = Node::Kind::kScope;
      QUORUM_TRY(expect_block_end());
      return parse_single_body(std::move(n), "endgeneration");
    }
    return Error(ErrorCode::kUnsupported,
                 fmt::format("template syntax error: unsupported statement '{{% {} %}}'", name))
        .where(fmt::format("line {}, column {}", start.line, start.col))
        .hint("supported statements: if, for, set, macro, filter, break, continue, generation, raw");
  }

  Result<NodePtr> parse_single_body(NodePtr n, const char* end_name) {
    n->bodies.emplace_back();
    std::string end;
    QUORUM_TRY(parse_body({end_name}, n->bodies[0], end));
    QUORUM_TRY(expect_block_end());
    return n;
  }

  Result<NodePtr> parse_if(NodePtr n) {
    n->kind = Node::Kind::kIf;
    QUORUM_ASSIGN_OR_RETURN(ExprPtr cond, parse_expression());
    n->conditions.push_back(std::move(cond));
    QUORUM_TRY(expect_block_end());
    while (true) {
      n->bodies.emplace_back();
      std::string end;
      QUORUM_TRY(parse_body({"elif", "else", "endif"}, n->bodies.back(), end));
      if (end == "elif") {
        QUORUM_ASSIGN_OR_RETURN(ExprPtr c, parse_expression());
        n->conditions.push_back(std::move(c));
        QUORUM_TRY(expect_block_end());
      } else if (end == "else") {
        QUORUM_TRY(expect_block_end());
        n->bodies.emplace_back();
        QUORUM_TRY(parse_body({"endif"}, n->bodies.back(), end));
        return finish(std::move(n));
      } else {
        return finish(std::move(n));
      }
    }
  }

  Result<NodePtr> finish(NodePtr n) {
    QUORUM_TRY(expect_block_end());
    return n;
  }

  Result<NodePtr> parse_for(NodePtr n) {
    n->kind = Node::Kind::kFor;
    do {
      QUORUM_ASSIGN_OR_RETURN(std::string target, expect_name());
      n->targets.push_back(std::move(target));
    } while (skip_op(","));
    if (!skip_name("in")) return fail("expected 'in' in for loop, found " + describe(cur()));
    QUORUM_ASSIGN_OR_RETURN(n->expr, parse_or());  // no ternary: `if` here filters the loop
    if (is_op(",")) {  // for x in a, b
      auto list = make(Expr::Kind::kList, cur());
      list->name = "tuple";
      list->args.push_back(std::move(n->expr));
      while (skip_op(",")) {
        QUORUM_ASSIGN_OR_RETURN(ExprPtr e, parse_or());
        list->args.push_back(std::move(e));
      }
      n->expr = std::move(list);
    }
    if (skip_name("if")) {
      QUORUM_ASSIGN_OR_RETURN(n->filter, parse_expression());
    }
    if (is_name("recursive")) return fail("recursive for loops are not supported");
    QUORUM_TRY(expect_block_end());
    n->bodies.emplace_back();
    ++loop_depth_;
    std::string end;
    Status s = parse_body({"else", "endfor"}, n->bodies[0], end);
    --loop_depth_;
    QUORUM_TRY(s);
    n->bodies.emplace_back();
    if (end == "else") {
      QUORUM_TRY(expect_block_end());
      // `break` in a for-else body belongs to an enclosing loop, if any.
      QUORUM_TRY(parse_body({"endfor"}, n->bodies[1], end));
    }
    return finish(std::move(n));
  }

  Result<NodePtr> parse_set(NodePtr n) {
    QUORUM_ASSIGN_OR_RETURN(std::string first, expect_name());
    n->targets.push_back(first);
    if (skip_op(".")) {
      QUORUM_ASSIGN_OR_RETURN(n->target_attr, expect_name());
    } else {
      while (skip_op(",")) {
        QUORUM_ASSIGN_OR_RETURN(std::string t, expect_name());
        n->targets.push_back(std::move(t));
      }
    }
    if (skip_op("=")) {
      n->kind = Node::Kind::kSet;
      QUORUM_ASSIGN_OR_RETURN(n->expr, parse_tuple_or_expr());
      return finish(std::move(n));
    }
    if (n->targets.size() != 1) return fail("a block set ({% set x %}...{% endset %}) takes one name");
    n->kind = Node::Kind::kSetBlock;
    if (is_op("|")) {
      QUORUM_ASSIGN_OR_RETURN(n->filter, parse_filter_chain(nullptr));
    }
    QUORUM_TRY(expect_block_end());
    return parse_single_body(std::move(n), "endset");
  }

  Result<NodePtr> parse_macro(NodePtr n) {
    n->kind = Node::Kind::kMacro;
    QUORUM_ASSIGN_OR_RETURN(n->name, expect_name());
    QUORUM_TRY(expect_op("("));
    while (!is_op(")")) {
      MacroParam p;
      QUORUM_ASSIGN_OR_RETURN(p.name, expect_name());
      if (skip_op("=")) {
        QUORUM_ASSIGN_OR_RETURN(p.default_value, parse_expression());
      }
      n->params.push_back(std::move(p));
      if (!skip_op(",")) break;
    }
    QUORUM_TRY(expect_op(")"));
    QUORUM_TRY(expect_block_end());
    const int saved = loop_depth_;
    loop_depth_ = 0;
    auto r = parse_single_body(std::move(n), "endmacro");
    loop_depth_ = saved;
    return r;
  }

  // `| f1(args) | f2 ...` starting at the current token (a leading '|' is optional).
  Result<ExprPtr> parse_filter_chain(ExprPtr base) {
    skip_op("|");
    do {
      QUORUM_ASSIGN_OR_RETURN(base, parse_filter(std::move(base)));
    } while (skip_op("|"));
    return base;
  }

  Result<ExprPtr> parse_filter(ExprPtr base) {
    const Token at = cur();
    QUORUM_ASSIGN_OR_RETURN(std::string name, expect_name());
    while (skip_op(".")) {
      QUORUM_ASSIGN_OR_RETURN(std::string part, expect_name());
      name += "." + part;
    }
    auto f = make(Expr::Kind::kFilter, at);
    f->name = std::move(name);
    f->args.push_back(std::move(base));
    if (is_op("(")) QUORUM_TRY(parse_call_args(*f));
    return f;
  }

  // ---- expressions

  struct DepthGuard {
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    int& d_;
  };

  // `a, b` as a tuple (list) where Jinja allows it: {{ }}, set values.
  Result<ExprPtr> parse_tuple_or_expr() {
    const Token at = cur();
    QUORUM_ASSIGN_OR_RETURN(ExprPtr first, parse_expression());
    if (!is_op(",")) return first;
    auto list = make(Expr::Kind::kList, at);
    list->name = "tuple";
    list->args.push_back(std::move(first));
    while (skip_op(",")) {
      if (cur().type == TokenType::kVarEnd || cur().type == TokenType::kBlockEnd) break;
      QUORUM_ASSIGN_OR_RETURN(ExprPtr e, parse_expression());
      list->args.push_back(std::move(e));
    }
    return list;
  }

  Result<ExprPtr> parse_expression() {
    DepthGuard g(depth_);
    if (depth_ > kMaxDepth) return fail("expression nested too deeply");
    const Token at = cur();
    QUORUM_ASSIGN_OR_RETURN(ExprPtr e, parse_or());
    while (is_name("if")) {
      advance();
      auto t = make(Expr::Kind::kTernary, at);
      QUORUM_ASSIGN_OR_RETURN(ExprPtr cond, parse_or());
      t->args.push_back(std::move(cond));
      t->args.push_back(std::move(e));
      if (skip_name("else")) {
        QUORUM_ASSIGN_OR_RETURN(ExprPtr other, parse_expression());
        t->args.push_back(std::move(other));
      } else {
        t->args.push_back(nullptr);
      }
      e = std::move(t);
    }
    return e;
  }

  Result<ExprPtr> binary(const Token& at, const std::string& op, ExprPtr l, ExprPtr r) {
    auto b = make(Expr::Kind::kBinary, at);
    b->name = op;
    b->args.push_back(std::move(l));
    b->args.push_back(std::move(r));
    return b;
  }

  Result<ExprPtr> parse_or() {
    QUORUM_ASSIGN_OR_RETURN(ExprPtr l, parse_and());
    while (is_name("or")) {
      const Token at = cur();
      advance();
      QUORUM_ASSIGN_OR_RETURN(ExprPtr r, parse_and());
      QUORUM_ASSIGN_OR_RETURN(l, binary(at, "or", std::move(l), std::move(r)));
    }
    return l;
  }

  Result<ExprPtr> parse_and() {
    QUORUM_ASSIGN_OR_RETURN(ExprPtr l, parse_not());
    while (is_name("and")) {
      const Token at = cur();
      advance();
      QUORUM_ASSIGN_OR_RETURN(ExprPtr r, parse_not());
      QUORUM_ASSIGN_OR_RETURN(l, binary(at, "and", std::move(l), std::move(r)));
    }
    return l;
  }

  Result<ExprPtr> parse_not() {
    if (is_name("not")) {
      DepthGuard g(depth_);
      if (depth_ > kMaxDepth) return fail("expression nested too deeply");
      const Token at = cur();
      advance();
      auto u = make(Expr::Kind::kUnary, at);
      u->name = "not";
      QUORUM_ASSIGN_OR_RETURN(ExprPtr operand, parse_not());
      u->args.push_back(std::move(operand));
      return u;
    }
    return parse_compare();
  }

  Result<ExprPtr> parse_compare() {
    const Token at = cur();
    QUORUM_ASSIGN_OR_RETURN(ExprPtr first, parse_math1());
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == TokenType::kOperator &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
           cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().type == TokenType::kName && peek().text == "in") {
        op = "notin";
        advance();
        advance();
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(Expr::Kind::kCompare, at);
        cmp->args.push_back(std::move(first));
      }
      QUORUM_ASSIGN_OR_RETURN(ExprPtr r, parse_math1());
      cmp->ops.push_back(op);
      cmp->args.push_back(std::move(r));
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  Result<ExprPtr> parse_math1() {
    QUORUM_ASSIGN_OR_RETURN(ExprPtr l, parse_concat());
    while (is_op("+") || is_op("-")) {
      const Token at = cur();
      advance();
      QUORUM_ASSIGN_OR_RETURN(ExprPtr r, parse_concat());
      QUORUM_ASSIGN_OR_RETURN(l, binary(at, at.text, std::move(l), std::move(r)));
    }
    return l;
  }

  Result<ExprPtr> parse_concat() {
    QUORUM_ASSIGN_OR_RETURN(ExprPtr l, parse_math2());
    while (is_op("~")) {
      const Token at = cur();
      advance();
      QUORUM_ASSIGN_OR_RETURN(ExprPtr r, parse_math2());
      QUORUM_ASSIGN_OR_RETURN(l, binary(at, "~", std::move(l), std::move(r)));
    }
    return l;
  }

  Result<ExprPtr> parse_math2() {
    QUORUM_ASSIGN_OR_RETURN(ExprPtr l, parse_pow());
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token at = cur();
      advance();
      QUORUM_ASSIGN_OR_RETURN(ExprPtr r, parse_pow());
      QUORUM_ASSIGN_OR_RETURN(l, binary(at, at.text, std::move(l), std::move(r)));
    }
    return l;
  }

  Result<ExprPtr> parse_pow() {
    QUORUM_ASSIGN_OR_RETURN(ExprPtr l, parse_unary(true));
    while (is_op("**")) {
      const Token at = cur();
      advance();
      QUORUM_ASSIGN_OR_RETURN(ExprPtr r, parse_unary(true));
      QUORUM_ASSIGN_OR_RETURN(l, binary(at, "**", std::move(l), std::move(r)));
    }
    return l;
  }

  Result<ExprPtr> parse_unary(bool with_filter) {
    DepthGuard g(depth_);
    if (depth_ > kMaxDepth) return fail("expression nested too deeply");
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      const Token at = cur();
      advance();
      auto u = make(Expr::Kind::kUnary, at);
      u->name = at.text;
      QUORUM_ASSIGN_OR_RETURN(ExprPtr operand, parse_unary(false));
      u->args.push_back(std::move(operand));
      node = std::move(u);
    } else {
      QUORUM_ASSIGN_OR_RETURN(node, parse_primary());
    }
    QUORUM_ASSIGN_OR_RETURN(node, parse_postfix(std::move(node)));
    if (with_filter) {
      QUORUM_ASSIGN_OR_RETURN(node, parse_filters_and_tests(std::move(node)));
    }
    return node;
  }

  Result<ExprPtr> parse_filters_and_tests(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        advance();
        QUORUM_ASSIGN_OR_RETURN(node, parse_filter(std::move(node)));
      } else if (is_name("is")) {
        const Token at = cur();
        advance();
        auto t = make(Expr::Kind::kTest, at);
        t->negated = skip_name("not");
        QUORUM_ASSIGN_OR_RETURN(t->name, expect_name());
        t->args.push_back(std::move(node));
        if (is_op("(")) {
          QUORUM_TRY(parse_call_args(*t));
        } else if ((cur().type == TokenType::kName || cur().type == TokenType::kString ||
                    cur().type == TokenType::kInteger || cur().type == TokenType::kFloat ||
                    is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and") && !is_name("if")) {
          if (is_name("is")) return fail("tests cannot be chained with 'is'");
          QUORUM_ASSIGN_OR_RETURN(ExprPtr arg, parse_primary());
          QUORUM_ASSIGN_OR_RETURN(arg, parse_postfix(std::move(arg)));
          t->args.push_back(std::move(arg));
        }
        node = std::move(t);
      } else {
        return node;
      }
    }
  }

  Status parse_call_args(Expr& call) {
    QUORUM_TRY(expect_op("("));
    while (!is_op(")")) {
      if (cur().type == TokenType::kName && peek().type == TokenType::kOperator && peek().text == "=") {
        std::string key = cur().text;
        advance();
        advance();
        QUORUM_ASSIGN_OR_RETURN(ExprPtr v, parse_expression());
        call.kwargs.emplace_back(std::move(key), std::move(v));
      } else {
        if (!call.kwargs.empty()) return fail("positional argument after keyword argument");
        QUORUM_ASSIGN_OR_RETURN(ExprPtr v, parse_expression());
        call.args.push_back(std::move(v));
      }
      if (!skip_op(",")) break;
    }
    return expect_op(")");
  }

  Result<ExprPtr> parse_postfix(ExprPtr node) {
    while (true) {
      const Token at = cur();
      if (is_op(".")) {
        advance();
        if (cur().type == TokenType::kInteger) {  // x.0 means x[0]
          auto s = make(Expr::Kind::kSubscript, at);
          s->args.push_back(std::move(node));
          auto idx = make(Expr::Kind::kLiteral, cur());
          idx->literal = Value::integer(std::atoll(cur().text.c_str()));
          s->args.push_back(std::move(idx));
          advance();
          node = std::move(s);
          continue;
        }
        auto a = make(Expr::Kind::kAttr, at);
        QUORUM_ASSIGN_OR_RETURN(a->name, expect_name());
        a->args.push_back(std::move(node));
        node = std::move(a);
      } else if (is_op("[")) {
        advance();
        QUORUM_ASSIGN_OR_RETURN(node, parse_subscript(std::move(node), at));
      } else if (is_op("(")) {
        auto c = make(Expr::Kind::kCall, at);
        c->line = node->line;  // errors of a call point at the callee's name
        c->col = node->col;
        c->args.push_back(std::move(node));
        QUORUM_TRY(parse_call_args(*c));
        node = std::move(c);
      } else {
        return node;
      }
    }
  }

  Result<ExprPtr> parse_subscript(ExprPtr node, const Token& at) {
    ExprPtr parts[3];
    int n_colons = 0;
    if (!is_op(":")) {
      QUORUM_ASSIGN_OR_RETURN(parts[0], parse_expression());
    }
    while (n_colons < 2 && skip_op(":")) {
      ++n_colons;
      if (!is_op(":") && !is_op("]")) {
        QUORUM_ASSIGN_OR_RETURN(parts[n_colons], parse_expression());
      }
    }
    QUORUM_TRY(expect_op("]"));
    if (n_colons == 0) {
      if (!parts[0]) return fail_at(at, "empty subscript '[]'");
      auto s = make(Expr::Kind::kSubscript, at);
      s->args.push_back(std::move(node));
      s->args.push_back(std::move(parts[0]));
      return s;
    }
    auto s = make(Expr::Kind::kSlice, at);
    s->args.push_back(std::move(node));
    for (auto& p : parts) s->args.push_back(std::move(p));
    return s;
  }

  Result<ExprPtr> parse_primary() {
    const Token at = cur();
    switch (at.type) {
      case TokenType::kName: {
        advance();
        auto e = make(Expr::Kind::kLiteral, at);
        if (at.text == "true" || at.text == "True") e->literal = Value::boolean(true);
        else if (at.text == "false" || at.text == "False") e->literal = Value::boolean(false);
        else if (at.text == "none" || at.text == "None") e->literal = Value::none();
        else { e->kind = Expr::Kind::kName; e->name = at.text; }
        return e;
      }
      case TokenType::kString: {
        std::string s;
        while (cur().type == TokenType::kString) {  // adjacent literals concatenate
          s += cur().text;
          advance();
        }
        auto e = make(Expr::Kind::kLiteral, at);
        e->literal = Value::string(std::move(s));
        return e;
      }
      case TokenType::kInteger: {
        advance();
        int64_t v = 0;
        auto [ptr, ec] = std::from_chars(at.text.data(), at.text.data() + at.text.size(), v);
        if (ec != std::errc()) return fail_at(at, "integer literal out of range: " + at.text);
        auto e = make(Expr::Kind::kLiteral, at);
        e->literal = Value::integer(v);
        return e;
      }
      case TokenType::kFloat: {
        advance();
        auto e = make(Expr::Kind::kLiteral, at);
        e->literal = Value::number(std::strtod(at.text.c_str(), nullptr));
        return e;
      }
      case TokenType::kOperator: {
        if (at.text == "(") {
          advance();
          if (skip_op(")")) {  // empty tuple
            auto empty = make(Expr::Kind::kList, at);
            empty->name = "tuple";
            return empty;
          }
          QUORUM_ASSIGN_OR_RETURN(ExprPtr first, parse_expression());
          if (skip_op(")")) return first;
          auto list = make(Expr::Kind::kList, at);
          list->name = "tuple";
          list->args.push_back(std::move(first));
          while (skip_op(",")) {
            if (is_op(")")) break;
            QUORUM_ASSIGN_OR_RETURN(ExprPtr e, parse_expression());
            list->args.push_back(std::move(e));
          }
          QUORUM_TRY(expect_op(")"));
          return list;
        }
        if (at.text == "[") {
          advance();
          auto list = make(Expr::Kind::kList, at);
          while (!is_op("]")) {
            QUORUM_ASSIGN_OR_RETURN(ExprPtr e, parse_expression());
            list->args.push_back(std::move(e));
            if (!skip_op(",")) break;
          }
          QUORUM_TRY(expect_op("]"));
          return list;
        }
        if (at.text == "{") {
          advance();
          auto dict = make(Expr::Kind::kDict, at);
          while (!is_op("}")) {
            QUORUM_ASSIGN_OR_RETURN(ExprPtr k, parse_expression());
            QUORUM_TRY(expect_op(":"));
            QUORUM_ASSIGN_OR_RETURN(ExprPtr v, parse_expression());
            dict->args.push_back(std::move(k));
            dict->args.push_back(std::move(v));
            if (!skip_op(",")) break;
          }
          QUORUM_TRY(expect_op("}"));
          return dict;
        }
        break;
      }
      default: break;
    }
    return fail("unexpected " + describe(at) + " in expression");
  }

  const std::vector<Token>& t_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Result<Body> parse_template(const std::vector<Token>& tokens) {
  if (tokens.empty()) return Body{};
  Parser p(tokens);
  return p.parse_all();
}

}  // namespace quorum::jinja
