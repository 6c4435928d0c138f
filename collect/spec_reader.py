"""A small reader of the few engine facts the collector needs from a spec (.bp): the profile's
name, the token budget, and the policy, recognised among the four of collect/policies.py.

It is not the language's parser (dsl/ is): it finds `engine NAME { ... }` in the file or its
imports, reads `profile`, `token_budget` and `policy`, and refuses an engine with anything else
(a KV limit, max_batch, preemption, Vidur's accounting, ...) or another policy, since the
collector would then run something other than what the spec says. `batchproof check` remains
the judge of whether the spec is well formed."""

import os
import re
from dataclasses import dataclass

from collect.policies import normalise, policy_from_text, policy_text, POLICIES


class SpecError(ValueError):
    pass


@dataclass(frozen=True)
class EngineSpec:
    name: str
    profile: str
    token_budget: int
    policy: str          # a key of POLICIES
    spec_file: str


def strip_comments(text: str) -> str:
    """Removes // and /* */ comments outside strings (keeping line breaks)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = text.find('"', i + 1)
            j = n - 1 if j < 0 else j
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            out.append("\n" * text.count("\n", i, n if j < 0 else j))
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _block_end(text: str, open_brace: int) -> int:
    """The index of the brace that closes the one at `open_brace`."""
    depth = 0
    for i in range(open_brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise SpecError("unbalanced braces")


def _block(text: str, open_brace: int) -> str:
    """The text between the brace at `open_brace` and its match."""
    return text[open_brace + 1:_block_end(text, open_brace)]


def _find_decl(path, kind, name, seen):
    """(text of the block, file) of `kind name { ... }` in `path` or its imports, or None."""
    path = os.path.normpath(path)
    if path in seen:
        return None
    seen.add(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = strip_comments(f.read())
    except OSError as e:
        raise SpecError(f"{path}: cannot read: {e.strerror}") from None
    m = re.search(r"(?m)^\s*" + kind + r"\s+" + re.escape(name) + r"\s*\{", text)
    if m:
        return _block(text, m.end() - 1), path
    for imp in re.findall(r'(?m)^\s*import\s+"([^"]*)"', text):
        found = _find_decl(os.path.join(os.path.dirname(path), imp), kind, name, seen)
        if found:
            return found
    return None


def read_engine(spec_file: str, engine: str) -> EngineSpec:
    found = _find_decl(spec_file, "engine", engine, set())
    if not found:
        raise SpecError(f"{spec_file}: no engine '{engine}' (in the file or its imports)")
    body, where = found
    policy_body = None
    m = re.search(r"\bpolicy\s*\{", body)
    if m:
        end = _block_end(body, m.end() - 1)
        policy_body = body[m.end():end]
        rest = body[:m.start()] + " " + body[end + 1:]
    else:
        m = re.search(r"\bpolicy\s+([A-Za-z_][A-Za-z0-9_]*)", body)
        if not m:
            raise SpecError(f"{where}: engine '{engine}' has no policy")
        named = _find_decl(spec_file, "policy", m.group(1), set())
        if not named:
            raise SpecError(f"{where}: no policy '{m.group(1)}' for engine '{engine}'")
        policy_body = named[0]
        rest = body[:m.start()] + body[m.end():]
    profile = re.search(r"\bprofile\s+([A-Za-z_][A-Za-z0-9_]*)", rest)
    budget = re.search(r"\btoken_budget\s+(\d+)\s*tokens?\b(\s*padded)?", rest)
    if not profile:
        raise SpecError(f"{where}: engine '{engine}' has no profile")
    if not budget or budget.group(2):
        raise SpecError(f"{where}: engine '{engine}' needs a plain `token_budget N tokens` for the collector")
    leftover = rest.replace(profile.group(0), " ").replace(budget.group(0), " ").split()
    if leftover:
        raise SpecError(f"{where}: engine '{engine}' sets more than profile, token_budget and policy "
                        f"({' '.join(leftover)[:60]}): the collector runs only the paper's model "
                        f"(no memory limit, no batch limit, paper accounting)")
    policy = policy_from_text(policy_body)
    if policy is None:
        known = "; ".join(f"{n}: {policy_text(n)}" for n in POLICIES)
        raise SpecError(f"{where}: engine '{engine}' has a policy the collector does not implement "
                        f"({normalise(policy_body)}); it knows {known}")
    return EngineSpec(engine, profile.group(1), int(budget.group(1)), policy, spec_file)
