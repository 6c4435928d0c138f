"""A real run: arrivals join an engine that forms batches with its policy and executes every
batch as one forward pass of the model, and every iteration is written to a trace.

Clock. The trace's clock starts at 0, the origin of the arrivals file. It advances by each
iteration's measured duration (collect/executor.py says what is measured); the scheduler's own
Python work between iterations is measured too but not added, so the trace's clock is the
device's. Arrivals join when their time is at or before the clock as a batch forms (core's
rule); an engine with nothing to run jumps to the next arrival. The run ends when every
arrival has come and gone, when a policy can schedule nothing more (a whole-prompt policy
frozen by a prompt longer than its budget), or after --max-seconds of wall clock.
"""

import os
import shutil
import time
from dataclasses import dataclass
from typing import List

from collect.arrivals import Arrival
from collect.environment import load_average
from collect.executor import Executor, Sequence, Work, prompt_tokens
from collect.model import Model
from collect.scheduler import EngineState, Request, advance, form_batch
from collect.trace_writer import header_line, iteration_line, open_text


@dataclass
class EngineSetup:
    policy: str           # a key of collect.policies.POLICIES
    token_budget: int
    engine: str           # the engine's name in the spec (the policy's name without one)
    spec_file: str = ""
    profile: str = ""


@dataclass
class RunSummary:
    iterations: int = 0
    tokens: int = 0
    arrived: int = 0
    completed: int = 0
    clock_s: float = 0.0          # the trace's clock when the run ended
    busy_s: float = 0.0           # Σ measured durations
    pack_s: float = 0.0           # Σ wall clock of packing inputs (inside the measured durations)
    forward_wall_s: float = 0.0   # Σ wall clock of the measured span (more than busy_s when measured
                                  # as CPU time on a CPU that other work shares)
    overhead_s: float = 0.0       # Σ wall clock of scheduling, bookkeeping and trace writing
    wall_s: float = 0.0
    ended: str = ""
    kv_pool_tokens: int = 0

    def overhead_note(self) -> str:
        n = max(1, self.iterations)
        loop = self.forward_wall_s + self.overhead_s
        return (f"per iteration (mean of {self.iterations}): measured duration {1e3 * self.busy_s / n:.3f} ms; "
                f"the same span took {1e3 * self.forward_wall_s / n:.3f} ms of wall clock, of which packing the "
                f"inputs {1e3 * self.pack_s / n:.3f} ms and the forward pass with read-back the rest; Python "
                f"scheduling, bookkeeping and trace writing outside it {1e3 * self.overhead_s / n:.3f} ms of wall clock "
                f"({100 * self.overhead_s / loop if loop else 0:.1f}% of the loop's wall clock, not on the trace's clock)")


def clamp_lengths(a: Arrival):
    """Every request has at least one prompt and one output token, as in the simulator."""
    return max(1, a.prompt), max(1, a.output)


def run(arrivals: List[Arrival], setup: EngineSetup, model: Model, out_path: str, notes: str = "",
        max_seconds: float = None, seed: int = 0, kv_pool_tokens: int = 4096, progress=None,
        duration_of=None, drain=True, clock="wall") -> RunSummary:
    """Runs the arrivals through the engine and writes the trace to `out_path`. For conformance
    tests only: `duration_of` replaces each measured duration by duration_of(tokens) (a
    profile's t(b)), so that the trace can be compared with the simulator's, and with it
    `model` may be None (batches are formed and applied, nothing is executed); drain=False ends
    the run when the last arrival has joined, as the simulator does."""
    if model is None and duration_of is None:
        raise ValueError("a run without a model needs duration_of")
    arrivals = sorted(arrivals, key=lambda a: a.time_s)  # stable: ids in arrival order, as core's reader
    summary = RunSummary()
    state = EngineState()
    pool = model.new_kv_pool(capacity_tokens=kv_pool_tokens) if model else None
    executor = Executor(model, pool, clock) if model else None
    sequences = {}
    part_path = out_path + ".part"
    clock = 0.0
    next_arrival = 0
    joined = []  # arrivals the next record is the first to see
    wall_start = time.perf_counter()
    with open(part_path, "w", encoding="utf-8", newline="\n") as part:
        while True:
            t_begin = time.perf_counter()
            while next_arrival < len(arrivals) and arrivals[next_arrival].time_s <= clock:
                a = arrivals[next_arrival]
                prompt, output = clamp_lengths(a)
                rid = next_arrival
                state.waiting.append(Request(rid, a.time_s, prompt, output, cls=a.cls))
                if model:
                    sequences[rid] = Sequence(rid, prompt_tokens(seed, rid, prompt, model.config.vocab), pool)
                joined.append((rid, a.time_s, prompt, output, a.cls))
                next_arrival += 1
            summary.arrived = next_arrival
            if not drain and next_arrival == len(arrivals):
                summary.ended = "stopped with the last arrival"
                break
            if max_seconds is not None and time.perf_counter() - wall_start >= max_seconds:
                summary.ended = f"stopped after {max_seconds:g} s of wall clock"
                break
            outcome = form_batch(setup.policy, setup.token_budget, state)
            if not outcome.items:
                if next_arrival < len(arrivals):
                    clock = arrivals[next_arrival].time_s  # idle until the next arrival
                    continue
                present = len(state.running) + len(state.waiting)
                summary.ended = (f"frozen: {present} requests present that the policy never schedules"
                                 if present else "every request completed")
                break
            t_formed = time.perf_counter()
            if executor:
                duration = executor.run([Work(sequences[i.id], i.prefill, i.decode) for i in outcome.items])
                summary.pack_s += executor.last_pack_s
            if duration_of is not None:
                duration = duration_of(outcome.tokens())
            t_ran = time.perf_counter()
            advance(state, outcome)
            for r in outcome.departures:
                if executor:
                    sequences.pop(r.id).release()
            end = clock + duration
            part.write(iteration_line(summary.iterations, clock, end,
                                      [(i.id, i.prefill, i.decode) for i in outcome.items],
                                      len(state.waiting), len(state.running), state.kv_used,
                                      arrivals=joined, departures=[r.id for r in outcome.departures]))
            joined = []
            clock = end
            summary.iterations += 1
            summary.tokens += outcome.tokens()
            summary.completed += len(outcome.departures)
            summary.busy_s += duration
            summary.forward_wall_s += t_ran - t_formed
            summary.overhead_s += (t_formed - t_begin) + (time.perf_counter() - t_ran)
            if progress and summary.iterations % 200 == 0:
                progress(summary, clock)
    summary.clock_s = clock
    summary.wall_s = time.perf_counter() - wall_start
    summary.kv_pool_tokens = pool.capacity_tokens if pool else 0
    full_notes = "; ".join(x for x in (notes, f"run {summary.ended}", summary.overhead_note(),
                                        f"{load_average()} at the end") if x)
    header = header_line("collect", setup.engine, spec=setup.spec_file, profile=setup.profile,
                         token_budget=setup.token_budget, notes=full_notes)
    # The header goes first but its notes are known last: write it, then copy the iterations.
    with open_text(out_path, "w") as out, open(part_path, encoding="utf-8") as part:
        out.write(header)
        shutil.copyfileobj(part, out)
    os.remove(part_path)
    return summary

