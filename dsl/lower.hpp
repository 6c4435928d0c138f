// Lowering: syntax trees -> core::Spec. Every name, unit and value is checked here, and every
// problem becomes a diagnostic at the position of the offending node. Internal to dsl/.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/spec.hpp"
#include "core/units.hpp"
#include "dsl/parse.hpp"

namespace batchproof::dsl {

// Lowers the declarations of several parsed files (a root file and its imports) into one Spec.
// Declarations may refer to names declared later or in another file of the set.
class Lowerer {
 public:
  Lowerer(core::Spec& spec, core::Diagnostics& diags) : spec_(spec), diags_(diags) {}

  // Pass 1 (every file): profiles, policies, workloads. Pass 2 (every file): engines, then
  // networks, then checks, which refer to what pass 1 declared.
  void declare_independent(const ParsedFile& file);
  void declare_engines(const ParsedFile& file);
  void declare_dependent(const ParsedFile& file);
  // Some import could not be read: names it would have declared are not reported unknown
  // (the failed import was reported, and is the cause).
  void set_incomplete() { incomplete_ = true; }

  // ---- values (lower_values.cpp) ----
  // A quantity in base units; nullopt (with an error) if its unit is missing, unknown or of
  // another dimension. A missing unit is accepted only when `expected` is Number, or when
  // `unitless_ok` says the bare number is already in base units (e.g. "ceil(b / 128)").
  std::optional<double> quantity(const ast::Quantity& q, core::Dimension expected, const std::string& what,
                                 bool unitless_ok = false);
  std::optional<std::int64_t> whole(const ast::Quantity& q, core::Dimension expected, const std::string& what,
                                    std::int64_t minimum, bool unitless_ok = false);
  std::optional<core::LengthLaw> law(const ast::Law& law, const std::string& what, bool is_prompt);
  std::optional<core::ArrivalProcess> arrivals(const ast::Arrivals& a);
  // Reads an arrivals file named in the spec at `where`; reports a failure once, at `where`
  // when the file cannot be read, or in the file itself (with a note at `where`).
  std::optional<std::vector<core::Arrival>> read_arrivals_at(const ast::String& where, const std::string& path,
                                                             core::TraceFormat format, const std::string& purpose);
  // The value of a keyword-valued attribute, or nullopt with a "did you mean" error.
  std::optional<std::size_t> choice(const ast::Name& word, const std::string& what,
                                    const std::vector<std::string>& allowed);

  // ---- policy (lower_policy.cpp) ----
  std::vector<core::PolicyStmt> policy_body(const std::vector<ast::Stmt>& body);
  std::optional<core::Condition> condition(const ast::OrCond& c);

  // ---- diagnostics ----
  void error(const ast::Tagged& node, const std::string& message);
  void warning(const ast::Tagged& node, const std::string& message);
  core::SourceLoc loc(const ast::Tagged& node) const { return file_->loc(node); }
  const ParsedFile& file() const { return *file_; }

 private:
  void profile(const ast::ProfileDecl& d);
  void policy(const ast::PolicyDecl& d);
  void engine(const ast::EngineDecl& d);
  void workload(const ast::WorkloadDecl& d);
  void network(const ast::NetworkDecl& d);
  void check(const ast::CheckDecl& d);
  std::optional<core::Rule> rule(const ast::Rule& r);
  std::optional<core::Expr> expr(const ast::Expr& e, std::optional<core::Dimension>& dim);
  bool class_laws(const std::vector<ast::ClassAttr>& attrs, const std::string& owner, core::LengthLaw& prompt,
                  core::LengthLaw& output, double* weight);
  // Records `name` of `kind` as declared at `node`; false (with an error) if it already is.
  bool declare(const std::string& kind, const ast::Name& name);
  // "unknown engine 'x' (did you mean 'y'?)".
  void unknown(const ast::Name& name, const std::string& kind, const std::vector<std::string>& known);
  std::vector<std::string> names_of(const std::string& kind) const;
  // Reports the second of two attributes with the same key in one block.
  bool first_time(std::map<std::string, int>& seen, const std::string& key, const ast::Tagged& node);

  core::Spec& spec_;
  core::Diagnostics& diags_;
  const ParsedFile* file_ = nullptr;
  std::map<std::string, std::map<std::string, core::SourceLoc>> declared_;  // kind -> name -> where
  bool incomplete_ = false;
  std::string context_;  // "workload 'chat'": what is being lowered, for notes
};

}  // namespace batchproof::dsl
