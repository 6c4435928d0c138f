// A scheduling policy: ordered rules that fill one batch from the remaining budget.
// DESIGN.md "The language"; the meaning of each form is the concrete step in core.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/source.hpp"

namespace batchproof::core {

enum class Phase { Decode, Prefill };
// Where a rule takes requests from. Decode rules read `running` (requests whose prompt is
// done and output remains); prefill rules read `started` (admitted, prompt partly done),
// `waiting` (not admitted, holding no KV) or `pending` (both, in the rule's order).
enum class Source { Running, Started, Waiting, Pending };
enum class Order { Fcfs, Lifo, ShortestPrompt, ShortestRemaining, Priority };
// Decode rules take one token per request. Prefill: the whole remaining prompt or nothing,
// or a chunk that fits (optionally at most chunk_max tokens per request per batch).
enum class Grain { OneToken, Whole, Chunk };
// What a rule does when a request does not fit: stop at it (head-of-line), or skip it.
enum class Blocked { Stop, Skip };

// State the guards and `when` conditions can read.
enum class Counter {
  Waiting,                 // requests waiting for admission
  Running,                 // admitted requests (holding KV)
  Decoding,                // running requests whose prompt is done
  Started,                 // running requests whose prompt is partly done
  Pending,                 // requests with prompt tokens left (started + waiting)
  BudgetLeft,              // tokens left in this batch's budget
  FreeKv,                  // KV tokens not held by anyone
  BatchTokens,             // tokens already in the batch
  BatchRequests,           // requests already in the batch
  IterationsSincePrefill,  // iterations since the last one that held a prefill token
};

struct Term {
  bool negative = false;
  std::optional<Counter> counter;  // a counter, or the constant below
  std::int64_t constant = 0;
};
struct Expr {
  std::vector<Term> terms;  // summed
};
enum class CmpOp { Lt, Le, Gt, Ge, Eq, Ne };

struct Condition {
  enum class Kind { Compare, And, Or, Not };
  Kind kind = Kind::Compare;
  Expr lhs, rhs;
  CmpOp op = CmpOp::Gt;
  std::vector<Condition> operands;  // And, Or: two or more; Not: one
};

struct Rule {
  Phase phase = Phase::Decode;
  Source source = Source::Running;
  Order order = Order::Fcfs;
  Grain grain = Grain::OneToken;
  std::optional<std::int64_t> chunk_max;  // Grain::Chunk only
  Blocked blocked = Blocked::Stop;
  std::optional<std::int64_t> limit;      // at most this many requests from this rule
  // The rule is not limited by the token budget, but its tokens still use the budget up, so
  // later rules get what is left (Vidur's Sarathi: decodes are never cut; prefills get
  // chunk − decodes).
  bool unbudgeted = false;
  std::optional<Condition> guard;
  SourceLoc loc;
};

struct PolicyStmt;
struct WhenBranch {
  Condition condition;
  std::vector<PolicyStmt> body;
};
// `when c1 { ... } else when c2 { ... } else { ... }`: the first branch whose condition holds
// when the iteration starts supplies the rules.
struct When {
  std::vector<WhenBranch> branches;
  std::vector<PolicyStmt> otherwise;
};
struct PolicyStmt {
  // Exactly one of the two is set.
  std::optional<Rule> rule;
  std::vector<When> when;  // zero or one element (a vector, as When is incomplete here)
  SourceLoc loc;
};

struct Policy {
  std::string name;  // empty for a policy written inline in an engine
  std::vector<PolicyStmt> body;
  SourceLoc loc;
};

// Facts about a policy that `check` and later analyses need without running it.
struct PolicyTraits {
  bool any_prefill = false;
  bool any_decode = false;
  bool chunks_prefill = false;  // some prefill rule may split a prompt
  bool whole_only = false;      // every prefill rule takes whole prompts
};
PolicyTraits traits(const Policy& p);

}  // namespace batchproof::core
