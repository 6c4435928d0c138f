"""The four stylised policies of MODEL.md §5, as rules with the meaning core::step gives them.

Each policy is written as in examples/paper_policies.bp: an ordered list of rules, or a `when`
that picks one list by a counter read as the iteration starts. Only the rule forms those
engines use are here: `decode running fcfs` and `prefill started|waiting|pending fcfs
whole|chunk`, FCFS order, `stop` at the first request that does not fit, a plain token budget,
no memory limit, no batch-size limit, the paper's accounting.
"""

import re
from dataclasses import dataclass
from typing import Tuple, Union


@dataclass(frozen=True)
class Rule:
    phase: str            # "decode" or "prefill"
    source: str           # "running" (decode); "started", "waiting" or "pending" (prefill)
    grain: str = ""       # prefill: "whole" (all the rest of the prompt or nothing) or "chunk"

    def text(self) -> str:
        return f"{self.phase} {self.source} fcfs" + (f" {self.grain}" if self.grain else "")


@dataclass(frozen=True)
class When:
    """`when COUNTER > 0 { then } else { otherwise }`, read as the iteration starts."""
    counter: str          # "decoding" or "pending"
    then: Tuple[Rule, ...]
    otherwise: Tuple[Rule, ...]

    def text(self) -> str:
        return (f"when {self.counter} > 0 {{ {' '.join(r.text() for r in self.then)} }} "
                f"else {{ {' '.join(r.text() for r in self.otherwise)} }}")


Statement = Union[Rule, When]

DECODE = Rule("decode", "running")

POLICIES = {
    # decodes first, then partly processed prompts, then new ones, each split to fit
    "sarathi": (DECODE, Rule("prefill", "started", "chunk"), Rule("prefill", "waiting", "chunk")),
    # prefill first (whole prompts, head-of-line), then decodes in what is left
    "orca": (Rule("prefill", "pending", "whole"), DECODE),
    # the same with prompts split to fit
    "orca_split": (Rule("prefill", "pending", "chunk"), DECODE),
    # prefill-only batches of whole prompts while a prefill is pending, else decode-only
    "vllm_vanilla": (When("pending", (Rule("prefill", "pending", "whole"),), (DECODE,)),),
    # decode-only batches while anything decodes, else prefill-only batches of whole prompts
    "faster_transformer": (When("decoding", (DECODE,), (Rule("prefill", "waiting", "whole"),)),),
}


def policy_text(name: str) -> str:
    """The policy block's body as examples/paper_policies.bp writes it, whitespace collapsed."""
    return " ".join(s.text() for s in POLICIES[name])


def normalise(body: str) -> str:
    """Collapses whitespace and spaces braces out, so that layouts compare equal."""
    return " ".join(re.sub(r"([{}])", r" \1 ", body).split())


def policy_from_text(body: str):
    """The name of the policy whose rules `body` states, or None."""
    text = normalise(body)
    for name in POLICIES:
        if normalise(policy_text(name)) == text:
            return name
    return None
