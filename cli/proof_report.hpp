// Rendering a proof result (shared by prove and verify).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/engine.hpp"
#include "solver/prove.hpp"

namespace batchproof::cli {

std::string verdict_word(solver::Verdict v);
int exit_code_of(solver::Verdict v);
// The counterexample as a table: each request's phase and tokens, the batch, what is wrong.
std::string counterexample_text(const core::Engine& engine, const solver::Counterexample& cx);
nlohmann::json proof_json(const solver::ProofResult& r);
// What a Holds verdict covers, in words: " for every number of requests (inductive lemma)",
// " for every state of up to N requests (bounded ...)", or ": <why it holds trivially>".
std::string holds_scope(const solver::ProofResult& r);

}  // namespace batchproof::cli
