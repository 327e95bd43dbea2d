// A parsed Jinja template: the entry point of the Jinja subset engine.
//
//   auto t = jinja::Template::parse("Hello {{ name|upper }}!");
//   jinja::RenderEnv env; env.variables["name"] = "world";
//   auto text = t->render(env);   // "Hello WORLD!"
//
// Supported: the statements if/elif/else, for (with else, unpacking, `if` filters, loop.*,
// break/continue), set (incl. namespace attributes and block set), macro, filter, raw,
// generation; the expressions, filters, tests, methods and globals chat templates use (see
// builtins.h). Whitespace follows Jinja2 with trim_blocks and lstrip_blocks, as Hugging Face
// renders chat templates. Unknown statements, filters and tests are errors, never ignored.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/lexer.h"

namespace quorum::jinja {

class Template {
 public:
  static Result<Template> parse(const std::string& source, const LexOptions& options = {});
  // Renders with `env.variables` as the context. Errors name the template line and column.
  Result<std::string> render(const RenderEnv& env) const;

 private:
  std::shared_ptr<const Body> body_;
};

}  // namespace quorum::jinja
