// Syntax tree of a parsed Jinja template: expressions (Expr) and statements (Node).
// Every node keeps the template line/column it came from, for runtime error messages.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace quorum::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,    // literal
    kName,       // name
    kList,       // args = items; name "tuple" for a tuple
    kDict,       // args = key0, value0, key1, value1, ...
    kAttr,       // args[0].name
    kSubscript,  // args[0][args[1]]
    kSlice,      // args[0][args[1]:args[2]:args[3]] (null = omitted)
    kCall,       // args[0](args[1..], kwargs)
    kFilter,     // args[0] | name(args[1..], kwargs)
    kTest,       // args[0] is [not] name(args[1..]); negated
    kUnary,      // op args[0]: "not", "-", "+"
    kBinary,     // args[0] op args[1]: + - * / // % ** ~ and or
    kCompare,    // args[0] ops[0] args[1] ops[1] args[2] ...: == != < <= > >= in notin
    kTernary,    // args[1] if args[0] else args[2] (args[2] may be null)
  };
  Kind kind = Kind::kLiteral;
  int line = 0;
  int col = 0;
  Value literal;
  std::string name;  // name / attribute / filter / test / operator
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
  bool negated = false;
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required
};

struct Node {
  enum class Kind {
    kText,         // text
    kOutput,       // {{ expr }}
    kIf,           // conditions[k] -> bodies[k]; bodies.back() is else when size > conditions
    kFor,          // for targets in expr [if filter]: bodies[0], else bodies[1]
    kSet,          // set targets = expr  (target_attr: ns.attr)
    kSetBlock,     // set target %}bodies[0]{% endset; filters applied to the text
    kMacro,        // macro name(params): bodies[0]
    kFilterBlock,  // filter chain(filters) over bodies[0]
    kBreak,
    kContinue,
    kScope,        // a body rendered in place ({% generation %})
  };
  Kind kind = Kind::kText;
  int line = 0;
  int col = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;                       // for: `if` condition; set block / filter block: chain
  std::vector<ExprPtr> conditions;      // if / elif
  std::vector<Body> bodies;
  std::vector<std::string> targets;     // for / set names
  std::string target_attr;              // set ns.attr: targets[0] = "ns", target_attr = "attr"
  std::string name;                     // macro name
  std::vector<MacroParam> params;
};

}  // namespace quorum::jinja
