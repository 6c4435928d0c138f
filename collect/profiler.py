"""Profiling mode: measures t(b), the duration of one forward pass over a batch of b tokens, for
pure prefill, pure decode at several context lengths, and mixed batches, and writes every
measured pass as an iteration of a batchproof trace, for `batchproof fit`.

Each point is a synthetic batch: requests made up for it, whose caches are given their context
without computing it (the values do not change the time). A point runs `warmup` times
unmeasured, then `repeats` times measured, each measured pass one iteration record, in order on
one clock that advances by the measured durations. An iteration's `tokens` is b; `running` is
the requests in the batch; `kv_used` the KV tokens they hold after it (so context is visible);
`waiting` is 0. Two fields of our own say what the batch was: `batch_kind` (prefill, decode,
mixed) and `context` (the decodes' context; 0 for a pure prefill). The records are independent
measurements, not a run: an auditor's lifecycle checks do not apply to them.
"""

import sys
from dataclasses import dataclass
from statistics import median
from typing import List

from collect.environment import load_average
from collect.executor import Executor, Sequence, Work, prompt_tokens
from collect.model import Model
from collect.trace_writer import header_line, iteration_line, open_text

DEFAULT_SIZES = [1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 192, 256, 320, 384, 448, 512, 768, 1024, 1536, 2048,
                 3072, 4096, 6144, 8192]


@dataclass
class Point:
    kind: str        # "prefill", "decode", "mixed"
    tokens: int      # b
    decodes: int     # decode items
    context: int     # the decodes' context (tokens in their caches before the pass)

    def kv_tokens(self) -> int:
        return self.decodes * (self.context + 1) + (self.tokens - self.decodes)


def plan(max_tokens: int, max_decode: int, contexts: List[int], mixed_context: int, max_kv_tokens: int):
    """The points to measure, and the ones left out for memory (as text)."""
    sizes = [b for b in DEFAULT_SIZES if b <= max_tokens]
    if max_tokens not in sizes:
        sizes.append(max_tokens)
    points = [Point("prefill", b, 0, 0) for b in sizes]
    points += [Point("decode", b, b, ctx) for ctx in contexts for b in sizes if b <= max_decode]
    points += [Point("mixed", b, b // 2, mixed_context) for b in sizes if b >= 2 and b // 2 <= max_decode]
    kept = [p for p in points if p.kv_tokens() <= max_kv_tokens]
    dropped = [f"{p.kind} b={p.tokens} context {p.context}" for p in points if p.kv_tokens() > max_kv_tokens]
    return kept, dropped


def _work_for(point: Point, model: Model, pool, seed: int, first_id: int):
    """Sequences and the batch of one point; the decodes' caches get their context unfilled."""
    vocab = model.config.vocab
    work, seqs = [], []
    for i in range(point.decodes):
        seq = Sequence(first_id + i, prompt_tokens(seed, first_id + i, point.context, vocab), pool)
        seq.cache.reserve(point.context)
        seq.cache.length = point.context
        seq.next_token = int(seq.prompt_tokens[-1]) if point.context else 0
        seqs.append(seq)
        work.append(Work(seq, decode=True))
    prefill = point.tokens - point.decodes
    if prefill:
        rid = first_id + point.decodes
        seq = Sequence(rid, prompt_tokens(seed, rid, prefill, vocab), pool)
        seqs.append(seq)
        work.append(Work(seq, prefill=prefill))
    return work, seqs


def profile(model: Model, out_path: str, name: str, notes: str, max_tokens: int, max_decode: int,
            contexts: List[int], mixed_context: int, max_kv_tokens: int, warmup: int, repeats: int,
            seed: int = 0, log=sys.stderr, clock="wall"):
    points, dropped = plan(max_tokens, max_decode, contexts, mixed_context, max_kv_tokens)
    pool = model.new_kv_pool(capacity_tokens=max(p.kv_tokens() for p in points) + 64)
    executor = Executor(model, pool, clock)
    clock, index, next_id = 0.0, 0, 0
    lines, table = [], []
    for point in points:
        work, seqs = _work_for(point, model, pool, seed, next_id)
        next_id += len(seqs)
        for _ in range(warmup):
            executor.run(work, advance=False)
        times = []
        for rep in range(repeats):
            d = executor.run(work, advance=False)
            times.append(d)
            items = [(w.seq.id, w.prefill, w.decode) for w in work]
            lines.append(iteration_line(index, clock, clock + d, items, 0, len(work), point.kv_tokens(),
                                        extra={"batch_kind": point.kind, "context": point.context}))
            clock += d
            index += 1
        for seq in seqs:
            seq.release()
        table.append((point, median(times)))
        print(f"  {point.kind:8s} b={point.tokens:5d} decodes={point.decodes:5d} context={point.context:5d}: "
              f"median {1e3 * median(times):9.3f} ms", file=log, flush=True)
    notes += f"; {load_average()} at the end"
    if dropped:
        notes += f"; left out for memory (more than {max_kv_tokens} KV tokens): {', '.join(dropped)}"
    with open_text(out_path, "w") as out:
        out.write(header_line("collect", "profile", profile=name, notes=notes))
        out.writelines(lines)
    return table
