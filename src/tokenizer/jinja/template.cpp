// Template: lex + parse once, render many times (see template.h).
#include "tokenizer/jinja/template.h"

#include "tokenizer/jinja/parser.h"

namespace quorum::jinja {

Result<Template> Template::parse(const std::string& source, const LexOptions& options) {
  QUORUM_ASSIGN_OR_RETURN(std::vector<Token> tokens, lex_template(source, options));
  QUORUM_ASSIGN_OR_RETURN(Body body, parse_template(tokens));
  Template t;
  t.body_ = std::make_shared<const Body>(std::move(body));
  return t;
}

Result<std::string> Template::render(const RenderEnv& env) const {
  if (!body_) return Error(ErrorCode::kInternal, "render() on an empty Template");
  Evaluator ev(env);
  return ev.render(*body_);
}

}  // namespace quorum::jinja
