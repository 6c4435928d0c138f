// Exit codes, everywhere (DESIGN.md): when several apply, the first of 4, 3, 1, 2 wins.
#pragma once

namespace batchproof::cli {

enum ExitCode : int {
  kHolds = 0,      // everything holds
  kViolated = 1,   // a property is violated (counterexample, witness, audit violation)
  kUnknown = 2,    // solver timeout or unknown, or a check the input cannot support
  kBadInput = 3,   // syntax, names, units; an unreadable trace
  kInternal = 4,   // internal error (e.g. the two semantics disagree)
};

// Combines two outcomes by the precedence 4 > 3 > 1 > 2 > 0.
inline int worst(int a, int b) {
  auto rank = [](int c) { return c == kInternal ? 4 : c == kBadInput ? 3 : c == kViolated ? 2 : c == kUnknown ? 1 : 0; };
  return rank(a) >= rank(b) ? a : b;
}

}  // namespace batchproof::cli
