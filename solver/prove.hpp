// Proving a per-iteration property of an engine for every state of up to N requests, or
// finding the smallest state where it fails (MODEL.md §2). Every counterexample is replayed
// through core::step before it is reported; if the symbolic and the concrete step disagree,
// the verdict is an internal error, never a counterexample.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/engine.hpp"
#include "core/state.hpp"

namespace batchproof::solver {

enum class Verdict { Holds, Violated, Unknown, InternalError };

struct ProveOptions {
  int requests = 8;          // N: the largest number of requests in a state
  double timeout_s = 60;     // for each solver query
  std::string smt2_file;     // when set, the bounded query at N is written there in SMT-LIB 2
  bool lemma = true;         // try the inductive lemma (fold_lemma.hpp) before the bounded search
};

// What a Holds verdict covers: every N (the inductive lemma), or states of up to N requests.
enum class Scope { UpToN, AllN };

struct Counterexample {
  core::EngineState state;   // requests 0..n-1: running ones in `running`, waiting ones in `waiting`
  core::Batch batch;         // the batch the policy forms (from the concrete step)
  std::string witness;       // what is wrong: "request 1 could take a prefill token: ..."
};

struct ProofResult {
  Verdict verdict = Verdict::Unknown;
  Scope scope = Scope::UpToN;
  bool by_lemma = false;     // AllN by the inductive lemma (else trivially: `reason` says why)
  int requests = 0;          // the N a bounded verdict is for
  std::string lemma_note;    // why the inductive lemma did not prove it, when it was tried
  double seconds = 0;
  std::string reason;        // for Unknown and InternalError, and for trivial verdicts
  std::optional<Counterexample> counterexample;
};

ProofResult prove(const core::Engine& engine, core::Property property, const ProveOptions& options);

// Bounded verdicts search N = 1, 2, 4, ... up to `requests`: the first counterexample has the
// fewest requests (and refutes the property for every larger N too); Holds with Scope::UpToN
// says "for every state of up to N requests". With Scope::AllN, `reason` says so in words.

// Why the verifier cannot encode this engine's step yet, or "" when it can.
std::string unsupported(const core::Engine& engine);

}  // namespace batchproof::solver
