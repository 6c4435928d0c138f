"""Batch formation and the state's advance for the collector's engines: core::step (core/
step.cpp) restricted to the rule forms of collect/policies.py, followed line by line so that
a replay of the collector's trace through core::step forms the same batches.

What it keeps from core::step:
- The running set is in arrival (id) order; the waiting queue in arrival order. Requests
  admitted by a batch join the running set after it, in id order.
- `when` reads the counters as the iteration starts (decoding, pending = started + waiting);
  a rule with no candidate at all is skipped.
- A request gets at most one item per batch. `decode running fcfs` gives one token to each
  running request whose prompt was done when the iteration started and that has output left,
  while the batch holds fewer tokens than the budget; it stops at the first that does not fit.
- `prefill S fcfs G` visits running requests with prompt left (sources started, pending),
  then the waiting queue (sources waiting, pending); `whole` takes the whole rest of the prompt
  if it fits in the budget left, `chunk` as much of it as fits; a request that gets no token
  ends the rule (stop). A waiting request that gets tokens is admitted.
- After the batch: prompt tokens and decode tokens are counted, KV held is prefilled +
  decoded tokens (no block rounding, no reservation: the engines model no memory), and a
  request whose prompt is done and whose outputs are all produced departs.
"""

from collections import deque
from dataclasses import dataclass, field
from typing import Deque, List

from collect.policies import POLICIES, Rule, When


@dataclass
class Request:
    id: int
    arrival_s: float
    prompt: int
    output: int
    prefilled: int = 0
    decoded: int = 0
    kv_held: int = 0
    cls: str = ""

    def prompt_done(self) -> bool:
        return self.prefilled >= self.prompt

    def finished(self) -> bool:
        return self.prompt_done() and self.decoded >= self.output

    def decoding(self) -> bool:
        return self.prompt_done() and self.decoded < self.output


@dataclass
class Item:
    id: int
    prefill: int = 0
    decode: bool = False

    def tokens(self) -> int:
        return self.prefill + (1 if self.decode else 0)


@dataclass
class EngineState:
    running: List[Request] = field(default_factory=list)     # admitted, in id order
    waiting: Deque[Request] = field(default_factory=deque)   # not admitted, in queue order
    kv_used: int = 0


@dataclass
class Outcome:
    items: List[Item]
    departures: List[Request]
    admitted: List[int]

    def tokens(self) -> int:
        return sum(item.tokens() for item in self.items)


class _Former:
    """One batch being formed (core::step's Former, for these rule forms)."""

    def __init__(self, state: EngineState, budget: int):
        self.state = state
        self.budget = budget
        self.items: List[Item] = []
        self.in_batch = set()
        self.admitted: List[int] = []
        self.tokens = 0
        started = sum(1 for r in state.running if not r.prompt_done())
        decoding = sum(1 for r in state.running if r.decoding())
        self.at_start = {"decoding": decoding, "started": started, "waiting": len(state.waiting),
                         "pending": started + len(state.waiting)}
        self.live_waiting = len(state.waiting)

    def run(self, body):
        for stmt in body:
            if isinstance(stmt, When):
                self.run(stmt.then if self.at_start[stmt.counter] > 0 else stmt.otherwise)
            else:
                self.apply(stmt)

    def add(self, item: Item):
        self.items.append(item)
        self.in_batch.add(item.id)
        self.tokens += item.tokens()

    def prefill_tokens(self, rule: Rule, r: Request) -> int:
        want = r.prompt - r.prefilled
        room = self.budget - self.tokens
        if rule.grain == "whole":
            return want if want <= room else 0
        return max(0, min(want, room))

    def apply(self, rule: Rule):
        if rule.phase == "decode":
            if self.at_start["decoding"] == 0:
                return
            for r in self.state.running:
                if r.id in self.in_batch or not r.decoding():
                    continue
                if self.tokens >= self.budget:
                    return  # stop
                self.add(Item(r.id, 0, True))
            return
        reads_running = rule.source != "waiting"
        reads_waiting = rule.source != "started"
        if not (reads_running and self.at_start["started"] > 0) and not (reads_waiting and self.live_waiting > 0):
            return
        if reads_running:
            for r in self.state.running:
                if r.id in self.in_batch or r.prompt_done():
                    continue
                n = self.prefill_tokens(rule, r)
                if n <= 0:
                    return  # stop
                self.add(Item(r.id, n, False))
        if reads_waiting:
            for r in self.state.waiting:
                if r.id in self.in_batch:
                    continue
                n = self.prefill_tokens(rule, r)
                if n <= 0:
                    return  # stop
                self.admitted.append(r.id)
                self.live_waiting -= 1
                self.add(Item(r.id, n, False))


def form_batch(policy: str, budget: int, state: EngineState) -> Outcome:
    """The batch the policy forms in `state` (the state is not changed)."""
    former = _Former(state, budget)
    former.run(POLICIES[policy])
    return Outcome(former.items, [], former.admitted)


def advance(state: EngineState, outcome: Outcome) -> None:
    """Counts the batch's tokens, moves admitted requests to the running set and removes the
    finished ones (outcome.departures: running ones in running order, then admitted ones)."""
    by_id = {r.id: r for r in state.running}
    admitted = set(outcome.admitted)
    for r in state.waiting:
        if r.id in admitted:
            by_id[r.id] = r
    for item in outcome.items:
        r = by_id[item.id]
        r.prefilled += item.prefill
        if item.decode:
            r.decoded += 1
        need = r.prefilled + r.decoded
        if need > r.kv_held:
            state.kv_used += need - r.kv_held
            r.kv_held = need
    departures, kept = [], []
    for r in state.running:
        if r.finished():
            state.kv_used -= r.kv_held
            departures.append(r)
        else:
            kept.append(r)
    joined, still = [], deque()
    for r in state.waiting:
        if r.id not in admitted:
            still.append(r)
        elif r.finished():
            state.kv_used -= r.kv_held
            departures.append(r)
        else:
            joined.append(r)
    state.running = sorted(kept + joined, key=lambda r: r.id)
    state.waiting = still
    outcome.departures = departures


def step(policy: str, budget: int, state: EngineState) -> Outcome:
    outcome = form_batch(policy, budget, state)
    advance(state, outcome)
    return outcome
