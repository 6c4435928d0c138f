// The X3 grammar of the batchproof language (docs/language.md). Pure: no semantic actions;
// rules fill the syntax tree and annotate positions. Expectation points (>) follow every
// keyword, so an error names what was expected there. Included only by parse.cpp.
#pragma once

#include <deque>
#include <initializer_list>
#include <string>
#include <vector>

#include <boost/spirit/home/x3.hpp>
#include <boost/spirit/home/x3/support/ast/position_tagged.hpp>
#include <boost/spirit/home/x3/support/utility/error_reporting.hpp>

#include "dsl/ast.hpp"
#include "dsl/ast_adapted.hpp"

namespace batchproof::dsl::grammar {

namespace x3 = boost::spirit::x3;
using Iterator = std::string::const_iterator;
using PositionCache = x3::position_cache<std::vector<Iterator>>;
struct position_cache_tag;

// Every rule's id derives from this: on success, record the node's span (leading blanks
// and comments excluded) in the position cache.
struct annotate_position {
  template <class T, class Context>
  void on_success(const Iterator& first, const Iterator& last, T& node, const Context& context) {
    auto& cache = x3::get<position_cache_tag>(context).get();
    Iterator begin = first;
    x3::skip_over(begin, last, context);
    cache.annotate(node, begin, last);
  }
};

using x3::char_;
using x3::eol;
using x3::lexeme;
using x3::lit;
using x3::no_skip;
using x3::raw;

const auto id_char = char_("a-zA-Z0-9_");

// "'word'", kept alive for the rules that name themselves with it (X3 stores the pointer).
inline const char* quoted(const char* word) {
  static std::deque<std::string> names;
  names.push_back(std::string("'") + word + "'");
  return names.back().c_str();
}

// A keyword with no attribute, and one whose attribute is its own text. Both are rules named
// 'word', so that "expected 'every', found 'each'" reads well. (The std::string attribute of
// kws lets an optional keyword fill a boost::optional<std::string> cleanly.)
struct keyword_id;
struct keyword_text_id;
inline auto kw(const char* word) { return x3::rule<keyword_id>{quoted(word)} = lexeme[lit(word) >> !id_char]; }
inline auto kws(const char* word) {
  return x3::rule<keyword_text_id, std::string>{quoted(word)} = lexeme[x3::string(word) >> !id_char];
}
inline auto keyset(std::initializer_list<const char*> words) {
  x3::symbols<std::string> table;
  for (const char* w : words) table.add(w, w);
  return x3::rule<keyword_text_id, std::string>{"a keyword"} = lexeme[table >> !id_char];
}

// ---- lexical ------------------------------------------------------------------------------
const auto skipper = x3::space | (lit("//") >> *(char_ - eol)) | (lit("/*") >> *(char_ - lit("*/")) >> lit("*/"));

struct name_class : annotate_position {};
struct number_class : annotate_position {};
struct string_class : annotate_position {};
struct unit_class : annotate_position {};
struct quantity_class : annotate_position {};
const x3::rule<name_class, ast::Name> name = "a name";
const x3::rule<number_class, ast::Number> number = "a number";
const x3::rule<string_class, ast::String> string_lit = "a string in double quotes";
const x3::rule<unit_class, ast::Name> unit = "a unit";
const x3::rule<quantity_class, ast::Quantity> quantity = "a number with its unit, such as '512 tokens'";

// Words that can never be units (so "load <= 0.9 period 40" does not read "period" as a unit).
// Every keyword of the language: never units, never policy rule words.
inline const std::vector<std::string> kReservedWords{
    "import",
    "profile",
    "policy",
    "engine",
    "workload",
    "network",
    "check",
    "station",
    "class",
    "hop",
    "fork",
    "priority",
    "replicas",
    "dispatch",
    "t",
    "table",
    "ceil",
    "max",
    "b",
    "gpu",
    "gpu_memory",
    "weights",
    "kv_per_token",
    "tensor_parallel",
    "provenance",
    "token_budget",
    "padded",
    "max_batch",
    "max_running",
    "kv_cache",
    "block_size",
    "watermark",
    "memory_utilization",
    "max_seq_len",
    "admission",
    "preemption",
    "batching",
    "accounting",
    "class_priority",
    "derived",
    "decode",
    "prefill",
    "running",
    "started",
    "waiting",
    "pending",
    "fcfs",
    "lifo",
    "shortest_prompt",
    "shortest_remaining",
    "whole",
    "chunk",
    "stop",
    "skip",
    "limit",
    "unbudgeted",
    "if",
    "when",
    "else",
    "and",
    "or",
    "not",
    "decoding",
    "budget_left",
    "free_kv",
    "batch_tokens",
    "batch_requests",
    "iterations_since_prefill",
    "arrivals",
    "poisson",
    "every",
    "bursts",
    "trace",
    "format",
    "prompt",
    "output",
    "weight",
    "constant",
    "uniform",
    "geometric",
    "exponential",
    "empirical",
    "mean",
    "up",
    "to",
    "load",
    "period",
    "sigma",
    "rho",
    "timeout",
    "expect",
    "holds",
    "violated"};
const x3::symbols<> reserved_words(kReservedWords, "a reserved word");
const auto reserved = lexeme[reserved_words >> !id_char];

const auto name_def = lexeme[char_("a-zA-Z_") >> *id_char];
const auto number_def =
    raw[lexeme[+x3::digit >> -('.' >> +x3::digit) >> -(char_("eE") >> -char_("+-") >> +x3::digit)]];
const auto escaped = ('\\' >> char_("\"\\")) | (char_ - '"' - '\\' - eol);
const auto string_lit_def = lexeme['"' >> *escaped >> '"'];
const auto unit_def = lexeme[!reserved >> (char_("a-zA-Z%") >> *char_("a-zA-Z0-9_/%"))];
const auto quantity_def = number >> -unit;

BOOST_SPIRIT_DEFINE(name, number, string_lit, unit, quantity)

// ---- shared attribute shapes --------------------------------------------------------------
struct unknown_attr_class : annotate_position {};
struct balanced_class;
const x3::rule<unknown_attr_class, ast::UnknownAttr> unknown_attr = "an attribute";
const x3::rule<balanced_class> balanced = "a block";
const auto balanced_def = '{' >> *(balanced | (char_ - '{' - '}')) >> '}';
// The rest of an unknown attribute's line, and its block if it opens one.
const auto unknown_attr_def = !lit('}') >> name >> no_skip[raw[*(char_ - eol - '{' - '}') >> -balanced]];
BOOST_SPIRIT_DEFINE(balanced, unknown_attr)

// ---- profile ------------------------------------------------------------------------------
struct staircase_class : annotate_position {};
struct linear_class : annotate_position {};
struct table_point_class : annotate_position {};
struct table_class : annotate_position {};
struct time_model_class : annotate_position {};
struct time_attr_class : annotate_position {};
struct profile_qty_class : annotate_position {};
struct profile_str_class : annotate_position {};
struct profile_attr_class : annotate_position {};
struct profile_decl_class : annotate_position {};
struct profile_close_class;
const x3::rule<staircase_class, ast::Staircase> staircase = "'C + A * ceil(b / B0)'";
const x3::rule<linear_class, ast::Linear> linear = "'C + A * max(0, b - B0)'";
const x3::rule<table_point_class, ast::TablePoint> table_point = "a table point 'TOKENS -> TIME'";
const x3::rule<table_class, ast::Table> table = "a table";
const x3::rule<time_model_class, ast::TimeModel> time_model =
    "an iteration time: 'C + A * ceil(b / B0)', 'C + A * max(0, b - B0)' or 'table { ... }'";
const x3::rule<time_attr_class, ast::TimeAttr> time_attr = "t(b) = ...";
const x3::rule<profile_qty_class, ast::QtyAttr> profile_qty = "a profile attribute";
const x3::rule<profile_str_class, ast::StringAttr> profile_str = "a profile attribute";
const x3::rule<profile_attr_class, ast::ProfileAttr> profile_attr = "a profile attribute";
const x3::rule<profile_decl_class, ast::ProfileDecl> profile_decl = "a profile";
const x3::rule<profile_close_class> profile_close = "a profile attribute or '}'";

const auto padded = -kws("padded");
// Once a time starts with a quantity, it must go on as one of the two formulas: this
// look-ahead reports the first token that breaks the shape (and consumes nothing).
struct formula_plus_class;
struct formula_times_class;
struct formula_function_class;
const x3::rule<formula_plus_class> formula_plus = "'+' in 'C + A * ceil(b / B0)' or 'C + A * max(0, b - B0)'";
const x3::rule<formula_times_class> formula_times = "'*' in 'C + A * ceil(b / B0)' or 'C + A * max(0, b - B0)'";
const x3::rule<formula_function_class> formula_function =
    "'ceil' or 'max' in 'C + A * ceil(b / B0)' or 'C + A * max(0, b - B0)'";
const auto formula_plus_def = lit('+');
const auto formula_times_def = lit('*');
const auto formula_function_def = kw("ceil") | kw("max");
BOOST_SPIRIT_DEFINE(formula_plus, formula_times, formula_function)
const auto formula_shape = &(x3::omit[quantity] > formula_plus > x3::omit[quantity] > formula_times > formula_function);

const auto staircase_def =
    formula_shape >> quantity >> '+' >> quantity >> '*' >> kw("ceil") > '(' > kw("b") > '/' > quantity > ')';
const auto linear_def = formula_shape >> quantity >> '+' >> quantity >> '*' >> kw("max") > '(' > lit('0') > ',' >
                        kw("b") > '-' > quantity > ')';
const auto table_point_def = quantity >> "->" > quantity;
const auto table_def = kws("table") > '{' > *(table_point >> -lit(',')) > '}';
const auto time_model_def = table | staircase | linear;
const auto time_attr_def = kws("t") >> '(' > kw("b") > ')' > '=' > time_model;
const auto profile_qty_def = (keyset({"gpu_memory", "weights", "kv_per_token", "tensor_parallel"}) > quantity) >> padded;
const auto profile_str_def = keyset({"gpu", "provenance"}) > string_lit;
const auto profile_attr_def = time_attr | profile_qty | profile_str | unknown_attr;
const auto profile_close_def = lit('}');
const auto profile_decl_def = kw("profile") > name > '{' > *profile_attr > profile_close;

BOOST_SPIRIT_DEFINE(staircase, linear, table_point, table, time_model, time_attr, profile_qty, profile_str,
                    profile_attr, profile_close, profile_decl)

// ---- conditions ---------------------------------------------------------------------------
struct operand_class : annotate_position {};
struct signed_operand_class : annotate_position {};
struct expr_class : annotate_position {};
struct comparison_class : annotate_position {};
struct unary_class : annotate_position {};
struct not_cond_class : annotate_position {};
struct and_cond_class : annotate_position {};
struct or_cond_class : annotate_position {};
struct cmp_op_class;
const x3::rule<operand_class, ast::Operand> operand = "a counter or a number";
const x3::rule<signed_operand_class, ast::SignedOperand> signed_operand = "'+' or '-'";
const x3::rule<expr_class, ast::Expr> expr = "an expression";
const x3::rule<comparison_class, ast::Comparison> comparison = "a comparison such as 'waiting > 0'";
const x3::rule<unary_class, ast::Unary> unary = "a condition such as 'waiting > 0'";
const x3::rule<not_cond_class, ast::NotCond> not_cond = "'not'";
const x3::rule<and_cond_class, ast::AndCond> and_cond = "a condition";
const x3::rule<or_cond_class, ast::OrCond> or_cond = "a condition such as 'waiting > 0'";
const x3::rule<cmp_op_class, std::string> cmp_op = "a comparison operator (<, <=, >, >=, ==, !=)";

const auto operand_def = quantity | name;
const auto signed_operand_def = char_("+-") > operand;
const auto expr_def = operand >> *signed_operand;
const auto cmp_op_def = x3::string("<=") | x3::string(">=") | x3::string("==") | x3::string("!=") | x3::string("<") |
                        x3::string(">");
const auto comparison_def = expr > cmp_op > expr;
const auto not_cond_def = kws("not") > unary;
const auto unary_def = not_cond | ('(' > or_cond > ')') | comparison;
const auto and_cond_def = unary >> *(kw("and") > unary);
const auto or_cond_def = and_cond >> *(kw("or") > and_cond);

BOOST_SPIRIT_DEFINE(operand, signed_operand, expr, cmp_op, comparison, not_cond, unary, and_cond, or_cond)

// ---- policy -------------------------------------------------------------------------------
struct chunk_max_class : annotate_position {};
struct limit_class : annotate_position {};
struct rule_word_class : annotate_position {};
struct phase_class : annotate_position {};
struct rule_class : annotate_position {};
struct stmt_class : annotate_position {};
struct branch_class : annotate_position {};
struct block_class;
struct when_class : annotate_position {};
struct policy_decl_class : annotate_position {};
struct policy_close_class;
const x3::rule<chunk_max_class, ast::ChunkMax> chunk_max = "'chunk <= N tokens'";
const x3::rule<limit_class, ast::Limit> limit = "'limit N requests'";
const x3::rule<rule_word_class, ast::RuleWord> rule_word = "a rule word";
const x3::rule<phase_class, ast::Name> phase = "'decode' or 'prefill'";
const x3::rule<rule_class, ast::Rule> rule = "a rule";
const x3::rule<stmt_class, ast::Stmt> stmt = "a rule or 'when'";
const x3::rule<branch_class, ast::Branch> branch = "a condition and its block";
const x3::rule<block_class, std::vector<ast::Stmt>> block = "'{'";
const x3::rule<when_class, ast::When> when = "'when'";
const x3::rule<policy_decl_class, ast::PolicyDecl> policy_decl = "a policy";
const x3::rule<policy_close_class> policy_close = "a rule, 'when' or '}'";

const auto rule_end = kw("decode") | kw("prefill") | kw("when") | kw("else") | kw("if");
const auto chunk_max_def = kws("chunk") >> "<=" > quantity;
const auto limit_def = kws("limit") > quantity;
const auto rule_word_def = chunk_max | limit | (!rule_end >> name);
const auto phase_def = kws("decode") | kws("prefill");
const auto rule_def = phase >> *rule_word >> -(kw("if") > or_cond);
const auto policy_close_def = lit('}');
const auto block_def = lit('{') > *stmt > policy_close;
const auto branch_def = or_cond > block;
const auto when_def = (kw("when") > branch) >> *(kw("else") >> kw("when") > branch) >> -(kw("else") > block);
const auto stmt_def = when | rule;
const auto policy_decl_def = kw("policy") > name > '{' > *stmt > policy_close;

BOOST_SPIRIT_DEFINE(chunk_max, limit, rule_word, phase, rule, policy_close, block, branch, when, stmt, policy_decl)

// ---- engine -------------------------------------------------------------------------------
struct policy_body_class : annotate_position {};
struct policy_value_class : annotate_position {};
struct policy_attr_class : annotate_position {};
struct chain_attr_class : annotate_position {};
struct engine_qty_class : annotate_position {};
struct kv_qty_class : annotate_position {};
struct engine_word_class : annotate_position {};
struct engine_attr_class : annotate_position {};
struct engine_decl_class : annotate_position {};
struct engine_close_class;
const x3::rule<policy_body_class, ast::PolicyBody> policy_body = "'{'";
const x3::rule<policy_value_class, ast::PolicyValue> policy_value = "a policy name or '{'";
const x3::rule<policy_attr_class, ast::PolicyAttr> policy_attr = "'policy'";
const x3::rule<chain_attr_class, ast::ChainAttr> chain_attr = "'class_priority'";
const x3::rule<engine_qty_class, ast::QtyAttr> engine_qty = "an engine attribute";
const x3::rule<kv_qty_class, ast::QtyAttr> kv_qty = "'kv_cache'";
const x3::rule<engine_word_class, ast::WordAttr> engine_word = "an engine attribute";
const x3::rule<engine_attr_class, ast::EngineAttr> engine_attr = "an engine attribute";
const x3::rule<engine_decl_class, ast::EngineDecl> engine_decl = "an engine";
const x3::rule<engine_close_class> engine_close = "an engine attribute or '}'";

const auto policy_body_def = x3::string("{") > *stmt > policy_close;
const auto policy_value_def = policy_body | name;
const auto policy_attr_def = kws("policy") > policy_value;
const auto chain_attr_def = kws("class_priority") > (name % '>');
const auto engine_qty_def = (keyset({"token_budget", "max_batch", "max_running", "block_size", "watermark",
                                     "memory_utilization", "max_seq_len"}) > quantity) >> padded;
const auto kv_qty_def = kws("kv_cache") >> quantity >> padded;
const auto engine_word_def =
    keyset({"profile", "admission", "preemption", "batching", "accounting", "kv_cache"}) > name;
const auto engine_attr_def = policy_attr | chain_attr | kv_qty | engine_qty | engine_word | unknown_attr;
const auto engine_close_def = lit('}');
const auto engine_decl_def = kw("engine") > name > '{' > *engine_attr > engine_close;

BOOST_SPIRIT_DEFINE(policy_body, policy_value, policy_attr, chain_attr, engine_qty, kv_qty, engine_word, engine_attr,
                    engine_close, engine_decl)

// ---- workload -----------------------------------------------------------------------------
struct one_arg_law_class : annotate_position {};
struct uniform_law_class : annotate_position {};
struct empirical_law_class : annotate_position {};
struct law_form_class : annotate_position {};
struct law_class : annotate_position {};
struct law_attr_class : annotate_position {};
struct poisson_class : annotate_position {};
struct every_class : annotate_position {};
struct bursts_class : annotate_position {};
struct trace_class : annotate_position {};
struct arrivals_class : annotate_position {};
struct arrivals_attr_class : annotate_position {};
struct weight_attr_class : annotate_position {};
struct class_attr_class : annotate_position {};
struct class_decl_class : annotate_position {};
struct workload_attr_class : annotate_position {};
struct workload_decl_class : annotate_position {};
struct workload_close_class;
struct class_close_class;
const x3::rule<one_arg_law_class, ast::OneArgLaw> one_arg_law = "a length law";
const x3::rule<uniform_law_class, ast::UniformLaw> uniform_law = "'uniform LO .. HI tokens'";
const x3::rule<empirical_law_class, ast::EmpiricalLaw> empirical_law = "'empirical \"FILE\"'";
const x3::rule<law_form_class, ast::LawForm> law_form =
    "a length law (constant, uniform, geometric, exponential, empirical)";
const x3::rule<law_class, ast::Law> law = "a length law";
const x3::rule<law_attr_class, ast::LawAttr> law_attr = "'prompt' or 'output'";
const x3::rule<poisson_class, ast::Poisson> poisson = "'poisson RATE'";
const x3::rule<every_class, ast::Every> every = "'every DURATION'";
const x3::rule<bursts_class, ast::Bursts> bursts = "'bursts N requests every DURATION'";
const x3::rule<trace_class, ast::TraceArrivals> trace = "'trace \"FILE\"'";
const x3::rule<arrivals_class, ast::Arrivals> arrivals = "an arrival process (poisson, every, bursts, trace)";
const x3::rule<arrivals_attr_class, ast::ArrivalsAttr> arrivals_attr = "'arrivals'";
const x3::rule<weight_attr_class, ast::QtyAttr> weight_attr = "'weight'";
const x3::rule<class_attr_class, ast::ClassAttr> class_attr = "a class attribute";
const x3::rule<class_decl_class, ast::ClassDecl> class_decl = "a request class";
const x3::rule<workload_attr_class, ast::WorkloadAttr> workload_attr = "a workload attribute";
const x3::rule<workload_decl_class, ast::WorkloadDecl> workload_decl = "a workload";
const x3::rule<workload_close_class> workload_close = "a workload attribute or '}'";
const x3::rule<class_close_class> class_close = "'prompt', 'output', 'weight' or '}'";

const auto one_arg_law_def = (kws("constant") | kws("geometric") | kws("exponential")) > -kw("mean") > quantity;
const auto uniform_law_def = kws("uniform") > quantity > ".." > quantity;
const auto empirical_law_def = kws("empirical") > string_lit;
const auto law_form_def = uniform_law | empirical_law | one_arg_law;
const auto law_def = law_form >> -(kw("max") > quantity);
const auto law_attr_def = (kws("prompt") | kws("output")) > law;
const auto poisson_def = kws("poisson") > quantity;
const auto every_def = kws("every") > quantity;
const auto bursts_def = kws("bursts") > quantity > kw("every") > quantity;
const auto trace_def = (kws("trace") > string_lit) >> -(kw("format") > name);
const auto arrivals_def = poisson | every | bursts | trace;
const auto arrivals_attr_def = kws("arrivals") > arrivals;
const auto weight_attr_def = (kws("weight") > quantity) >> padded;
const auto class_attr_def = law_attr | weight_attr | unknown_attr;
const auto class_close_def = lit('}');
const auto class_decl_def = kw("class") > name > '{' > *class_attr > class_close;
const auto workload_attr_def = arrivals_attr | law_attr | class_decl | unknown_attr;
const auto workload_close_def = lit('}');
const auto workload_decl_def = kw("workload") > name > '{' > *workload_attr > workload_close;

BOOST_SPIRIT_DEFINE(one_arg_law, uniform_law, empirical_law, law_form, law, law_attr, poisson, every, bursts, trace,
                    arrivals, arrivals_attr, weight_attr, class_attr, class_close, class_decl, workload_attr,
                    workload_close, workload_decl)

// ---- network ------------------------------------------------------------------------------
struct station_class : annotate_position {};
struct hop_class : annotate_position {};
struct fork_class : annotate_position {};
struct net_class_attr_class : annotate_position {};
struct net_class_decl_class : annotate_position {};
struct priority_decl_class : annotate_position {};
struct network_attr_class : annotate_position {};
struct network_decl_class : annotate_position {};
struct network_close_class;
struct net_class_close_class;
const x3::rule<station_class, ast::StationDecl> station = "'station NAME = ENGINE'";
const x3::rule<hop_class, ast::HopDecl> hop = "'hop STATION { ... }'";
const x3::rule<fork_class, ast::ForkDecl> fork = "'fork { ... }'";
const x3::rule<net_class_attr_class, ast::NetClassAttr> net_class_attr = "'arrivals', 'hop' or 'fork'";
const x3::rule<net_class_decl_class, ast::NetClassDecl> net_class_decl = "a network class";
const x3::rule<priority_decl_class, ast::PriorityDecl> priority_decl = "'priority STATION: A > B'";
const x3::rule<network_attr_class, ast::NetworkAttr> network_attr = "a network attribute";
const x3::rule<network_decl_class, ast::NetworkDecl> network_decl = "a network";
const x3::rule<network_close_class> network_close = "'station', 'class', 'priority' or '}'";
const x3::rule<net_class_close_class> net_class_close = "'arrivals', 'hop', 'fork' or '}'";

const auto station_def = (kw("station") > name > '=' > name) >> -(kw("replicas") > quantity) >> -(kw("dispatch") > name);
const auto hop_def = kw("hop") > name > '{' > *class_attr > class_close;
const auto fork_def = kws("fork") > '{' > *hop > lit('}');
const auto net_class_attr_def = arrivals_attr | hop | fork | unknown_attr;
const auto net_class_close_def = lit('}');
const auto net_class_decl_def = kw("class") > name > '{' > *net_class_attr > net_class_close;
const auto priority_decl_def = kw("priority") > name > ':' > (name % '>');
const auto network_attr_def = station | net_class_decl | priority_decl | unknown_attr;
const auto network_close_def = lit('}');
const auto network_decl_def = kw("network") > name > '{' > *network_attr > network_close;

BOOST_SPIRIT_DEFINE(station, hop, fork, net_class_attr, net_class_close, net_class_decl, priority_decl, network_attr,
                    network_close, network_decl)

// ---- check, import, item ------------------------------------------------------------------
struct check_param_class : annotate_position {};
struct check_key_class;
struct check_decl_class : annotate_position {};
struct import_class : annotate_position {};
struct item_class : annotate_position {};
const x3::rule<check_key_class, std::string> check_key =
    "a check parameter (up to, load <=, period, sigma, rho, timeout) or 'expect'";
const x3::rule<check_param_class, ast::CheckParam> check_param = "a check parameter";
const x3::rule<check_decl_class, ast::CheckDecl> check_decl = "a check";
const x3::rule<import_class, ast::Import> import = "an import";
const x3::rule<item_class, ast::Item> item = "a declaration";

const auto check_key_def = (kws("up") > kw("to")) | (kws("load") > lit("<=")) |
                           keyset({"period", "sigma", "rho", "timeout"});
const auto check_param_def = check_key > quantity;
const auto check_decl_def = (kw("check") > name > ':' > name > '(' > (name % ',') > ')') >> *check_param >>
                            -(kw("expect") > name);
const auto import_def = kws("import") > string_lit;
const auto item_def = import | profile_decl | policy_decl | engine_decl | workload_decl | network_decl | check_decl;

BOOST_SPIRIT_DEFINE(check_key, check_param, check_decl, import, item)

}  // namespace batchproof::dsl::grammar
