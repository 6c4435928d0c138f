// The syntax tree of a .bp file, exactly as written (literals keep their text, so the
// printer reproduces them). Positions come from X3's position cache (see parse.cpp).
// No semantics here: lower.cpp turns a tree into a core::Spec.
#pragma once

#include <boost/optional.hpp>
#include <string>
#include <vector>

#include <boost/spirit/home/x3/support/ast/position_tagged.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>

namespace batchproof::dsl::ast {

namespace x3 = boost::spirit::x3;

// Position-tagged, and equal to any other Tagged: tree comparisons ignore positions, so
// "parse, print, parse" can be compared with ==.
struct Tagged : x3::position_tagged {
  friend bool operator==(const Tagged&, const Tagged&) { return true; }
};

// Names, numbers and strings are strings (so X3 fills them as containers) with a position.
struct Name : Tagged, std::string {
  using std::string::string;
  const std::string& text() const { return *this; }
  bool operator==(const Name& o) const { return text() == o.text(); }
};
struct Number : Tagged, std::string {  // as written: "11.28"
  using std::string::string;
  const std::string& text() const { return *this; }
  bool operator==(const Number& o) const { return text() == o.text(); }
};
struct String : Tagged, std::string {  // unescaped
  using std::string::string;
  const std::string& text() const { return *this; }
  bool operator==(const String& o) const { return text() == o.text(); }
};
struct Quantity : Tagged {
  Number number;
  boost::optional<Name> unit;
  bool operator==(const Quantity&) const = default;
};

// Compares x3 variants by alternative and value.
template <class V>
bool variant_equal(const V& a, const V& b) {
  return a.get() == b.get();
}

// ---- attributes shared by several blocks -------------------------------------------------
struct QtyAttr : Tagged {  // token_budget 512 tokens [padded]
  std::string key;
  Quantity value;
  boost::optional<std::string> flag;
  bool operator==(const QtyAttr&) const = default;
};
struct WordAttr : Tagged {  // admission prompt
  std::string key;
  Name value;
  bool operator==(const WordAttr&) const = default;
};
struct StringAttr : Tagged {  // provenance "..."
  std::string key;
  String value;
  bool operator==(const StringAttr&) const = default;
};
struct ChainAttr : Tagged {  // class_priority chat > batch
  std::string key;
  std::vector<Name> items;
  bool operator==(const ChainAttr&) const = default;
};
// An attribute whose key the block does not know: kept so that lowering can say
// "unknown attribute ... did you mean"; the rest of its line (or its block) is skipped.
struct UnknownAttr : Tagged {
  Name key;
  std::string rest;
  bool operator==(const UnknownAttr&) const = default;
};

// ---- profile -----------------------------------------------------------------------------
struct Staircase {
  Quantity c, a, b0;
  bool operator==(const Staircase&) const = default;
};
struct Linear {
  Quantity c, a, b0;
  bool operator==(const Linear&) const = default;
};
struct TablePoint : Tagged {
  Quantity b, t;
  bool operator==(const TablePoint&) const = default;
};
struct Table {
  std::string keyword;  // "table"
  std::vector<TablePoint> points;
  bool operator==(const Table&) const = default;
};
struct TimeModel : x3::variant<Staircase, Linear, Table>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const TimeModel& o) const { return variant_equal(*this, o); }
};
struct TimeAttr : Tagged {
  std::string key;  // "t"
  TimeModel model;
  bool operator==(const TimeAttr&) const = default;
};
struct ProfileAttr : x3::variant<TimeAttr, QtyAttr, StringAttr, UnknownAttr>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const ProfileAttr& o) const { return variant_equal(*this, o); }
};
struct ProfileDecl : Tagged {
  Name name;
  std::vector<ProfileAttr> attrs;
  bool operator==(const ProfileDecl&) const = default;
};

// ---- conditions --------------------------------------------------------------------------
struct Operand : x3::variant<Quantity, Name>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const Operand& o) const { return variant_equal(*this, o); }
};
struct SignedOperand {
  char sign;  // '+' or '-'
  Operand operand;
  bool operator==(const SignedOperand&) const = default;
};
struct Expr : Tagged {
  Operand first;
  std::vector<SignedOperand> rest;
  bool operator==(const Expr&) const = default;
};
struct Comparison : Tagged {
  Expr lhs;
  std::string op;
  Expr rhs;
  bool operator==(const Comparison&) const = default;
};
struct NotCond;
struct OrCond;
struct Unary : x3::variant<Comparison, x3::forward_ast<NotCond>, x3::forward_ast<OrCond>>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const Unary& o) const;
};
struct NotCond : Tagged {
  std::string keyword;  // "not"
  Unary operand;
  bool operator==(const NotCond&) const = default;
};
struct AndCond : Tagged {
  Unary first;
  std::vector<Unary> rest;
  bool operator==(const AndCond&) const = default;
};
struct OrCond : Tagged {  // also the parenthesised form, when it sits in a Unary
  AndCond first;
  std::vector<AndCond> rest;
  bool operator==(const OrCond&) const = default;
};
inline bool Unary::operator==(const Unary& o) const {
  if (get().which() != o.get().which()) return false;
  switch (get().which()) {
    case 0: return boost::get<Comparison>(get()) == boost::get<Comparison>(o.get());
    case 1: return boost::get<x3::forward_ast<NotCond>>(get()).get() == boost::get<x3::forward_ast<NotCond>>(o.get()).get();
    default: return boost::get<x3::forward_ast<OrCond>>(get()).get() == boost::get<x3::forward_ast<OrCond>>(o.get()).get();
  }
}

// ---- policy ------------------------------------------------------------------------------
struct ChunkMax : Tagged {  // chunk <= 256 tokens
  std::string keyword;
  Quantity max;
  bool operator==(const ChunkMax&) const = default;
};
struct Limit : Tagged {  // limit 4 requests
  std::string keyword;
  Quantity count;
  bool operator==(const Limit&) const = default;
};
struct RuleWord : x3::variant<ChunkMax, Limit, Name>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const RuleWord& o) const { return variant_equal(*this, o); }
};
struct Rule : Tagged {
  Name phase;  // decode | prefill
  std::vector<RuleWord> words;
  boost::optional<OrCond> guard;
  bool operator==(const Rule&) const = default;
};
struct When;
struct Stmt : x3::variant<Rule, x3::forward_ast<When>>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const Stmt& o) const;
};
struct Branch : Tagged {
  OrCond condition;
  std::vector<Stmt> body;
  bool operator==(const Branch&) const = default;
};
struct When : Tagged {
  Branch first;
  std::vector<Branch> else_when;
  boost::optional<std::vector<Stmt>> otherwise;
  bool operator==(const When&) const = default;
};
inline bool Stmt::operator==(const Stmt& o) const {
  if (get().which() != o.get().which()) return false;
  if (get().which() == 0) return boost::get<Rule>(get()) == boost::get<Rule>(o.get());
  return boost::get<x3::forward_ast<When>>(get()).get() == boost::get<x3::forward_ast<When>>(o.get()).get();
}
struct PolicyDecl : Tagged {
  Name name;
  std::vector<Stmt> body;
  bool operator==(const PolicyDecl&) const = default;
};

// ---- engine ------------------------------------------------------------------------------
struct PolicyBody {
  std::string brace;  // "{"
  std::vector<Stmt> body;
  bool operator==(const PolicyBody&) const = default;
};
struct PolicyValue : x3::variant<PolicyBody, Name>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const PolicyValue& o) const { return variant_equal(*this, o); }
};
struct PolicyAttr : Tagged {
  std::string key;  // "policy"
  PolicyValue value;
  bool operator==(const PolicyAttr&) const = default;
};
struct EngineAttr : x3::variant<PolicyAttr, QtyAttr, ChainAttr, WordAttr, UnknownAttr>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const EngineAttr& o) const { return variant_equal(*this, o); }
};
struct EngineDecl : Tagged {
  Name name;
  std::vector<EngineAttr> attrs;
  bool operator==(const EngineDecl&) const = default;
};

// ---- workload ----------------------------------------------------------------------------
struct OneArgLaw {  // constant N | geometric mean N | exponential mean N
  std::string form;
  Quantity value;
  bool operator==(const OneArgLaw&) const = default;
};
struct UniformLaw {
  std::string form;  // "uniform"
  Quantity lo, hi;
  bool operator==(const UniformLaw&) const = default;
};
struct EmpiricalLaw {
  std::string form;  // "empirical"
  String file;
  bool operator==(const EmpiricalLaw&) const = default;
};
struct LawForm : x3::variant<UniformLaw, EmpiricalLaw, OneArgLaw>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const LawForm& o) const { return variant_equal(*this, o); }
};
struct Law : Tagged {
  LawForm form;
  boost::optional<Quantity> max;
  bool operator==(const Law&) const = default;
};
struct LawAttr : Tagged {  // prompt <law> | output <law>
  std::string key;
  Law law;
  bool operator==(const LawAttr&) const = default;
};

struct Poisson {
  std::string form;  // "poisson"
  Quantity rate;
  bool operator==(const Poisson&) const = default;
};
struct Every {
  std::string form;  // "every"
  Quantity gap;
  bool operator==(const Every&) const = default;
};
struct Bursts {
  std::string form;  // "bursts"
  Quantity size;
  Quantity gap;
  bool operator==(const Bursts&) const = default;
};
struct TraceArrivals {
  std::string form;  // "trace"
  String file;
  boost::optional<Name> format;
  bool operator==(const TraceArrivals&) const = default;
};
struct Arrivals : x3::variant<Poisson, Every, Bursts, TraceArrivals>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const Arrivals& o) const { return variant_equal(*this, o); }
};
struct ArrivalsAttr : Tagged {
  std::string key;  // "arrivals"
  Arrivals value;
  bool operator==(const ArrivalsAttr&) const = default;
};
struct ClassAttr : x3::variant<LawAttr, QtyAttr, UnknownAttr>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const ClassAttr& o) const { return variant_equal(*this, o); }
};
struct ClassDecl : Tagged {  // class short { weight 3 prompt ... output ... }
  Name name;
  std::vector<ClassAttr> attrs;
  bool operator==(const ClassDecl&) const = default;
};
struct WorkloadAttr : x3::variant<ArrivalsAttr, LawAttr, ClassDecl, UnknownAttr>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const WorkloadAttr& o) const { return variant_equal(*this, o); }
};
struct WorkloadDecl : Tagged {
  Name name;
  std::vector<WorkloadAttr> attrs;
  bool operator==(const WorkloadDecl&) const = default;
};

// ---- network -----------------------------------------------------------------------------
struct StationDecl : Tagged {  // station pool = sarathi replicas 4 dispatch jsq_tokens
  Name name;
  Name engine;
  boost::optional<Quantity> replicas;
  boost::optional<Name> dispatch;
  bool operator==(const StationDecl&) const = default;
};
struct HopDecl : Tagged {
  Name station;
  std::vector<ClassAttr> attrs;  // prompt and output laws
  bool operator==(const HopDecl&) const = default;
};
struct ForkDecl : Tagged {
  std::string keyword;  // "fork"
  std::vector<HopDecl> hops;
  bool operator==(const ForkDecl&) const = default;
};
struct NetClassAttr : x3::variant<ArrivalsAttr, HopDecl, ForkDecl, UnknownAttr>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const NetClassAttr& o) const { return variant_equal(*this, o); }
};
struct NetClassDecl : Tagged {
  Name name;
  std::vector<NetClassAttr> attrs;
  bool operator==(const NetClassDecl&) const = default;
};
struct PriorityDecl : Tagged {  // priority e1: B > A
  Name station;
  std::vector<Name> classes;
  bool operator==(const PriorityDecl&) const = default;
};
struct NetworkAttr : x3::variant<StationDecl, NetClassDecl, PriorityDecl, UnknownAttr>, Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const NetworkAttr& o) const { return variant_equal(*this, o); }
};
struct NetworkDecl : Tagged {
  Name name;
  std::vector<NetworkAttr> attrs;
  bool operator==(const NetworkDecl&) const = default;
};

// ---- check and import --------------------------------------------------------------------
struct CheckParam : Tagged {  // up to 8 requests | load <= 0.9 | period 40 iterations | ...
  std::string key;
  Quantity value;
  bool operator==(const CheckParam&) const = default;
};
struct CheckDecl : Tagged {
  Name name;
  Name property;
  std::vector<Name> args;
  std::vector<CheckParam> params;
  boost::optional<Name> expect;
  bool operator==(const CheckDecl&) const = default;
};
struct Import : Tagged {
  std::string keyword;  // "import"
  String path;
  bool operator==(const Import&) const = default;
};

struct Item : x3::variant<Import, ProfileDecl, PolicyDecl, EngineDecl, WorkloadDecl, NetworkDecl, CheckDecl>,
              Tagged {
  using base_type::base_type;
  using base_type::operator=;
  bool operator==(const Item& o) const { return variant_equal(*this, o); }
};

struct File {
  std::vector<Item> items;
  bool operator==(const File&) const = default;
};

}  // namespace batchproof::dsl::ast
