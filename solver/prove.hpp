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
  std::string smt2_file;     // when set, the query is written there in SMT-LIB 2
};

struct Counterexample {
  core::EngineState state;   // requests 0..n-1: running ones in `running`, waiting ones in `waiting`
  core::Batch batch;         // the batch the policy forms (from the concrete step)
  std::string witness;       // what is wrong: "request 1 could take a prefill token: ..."
};

struct ProofResult {
  Verdict verdict = Verdict::Unknown;
  int requests = 0;          // the N the verdict is for
  double seconds = 0;
  std::string reason;        // for Unknown and InternalError, and for trivial verdicts
  std::optional<Counterexample> counterexample;
};

ProofResult prove(const core::Engine& engine, core::Property property, const ProveOptions& options);

// Why the verifier cannot encode this engine's step yet, or "" when it can.
std::string unsupported(const core::Engine& engine);

}  // namespace batchproof::solver
