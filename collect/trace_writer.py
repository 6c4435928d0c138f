"""Writes batchproof's own trace format (docs/trace-format.md, schema_version 1) as
core::TraceWriter does: the same fields in the same order, empty lists and zero work left out,
integers in full, doubles in the shortest form that reads back to the same value."""

import gzip
import json
import math

SCHEMA_VERSION = 1


def number(x) -> str:
    """A double as fmt's "{}" prints it: shortest round trip, no trailing ".0"; null if not finite."""
    x = float(x)
    if not math.isfinite(x):
        return "null"
    text = repr(x)
    return text[:-2] if text.endswith(".0") else text


def string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def header_line(source, engine, spec="", profile="", token_budget=None, max_batch=None,
                kv_capacity_tokens=None, block_size=1, budget_form="plain", accounting="paper", notes="") -> str:
    out = ['{"type":"header","schema_version":', str(SCHEMA_VERSION),
           ',"source":', string(source), ',"spec":', string(spec), ',"engine":', string(engine),
           ',"profile":', string(profile)]
    if token_budget is not None:
        out += [',"token_budget":', str(int(token_budget))]
    out += [',"budget_form":', string(budget_form)]
    if max_batch is not None:
        out += [',"max_batch":', str(int(max_batch))]
    if kv_capacity_tokens is not None:
        out += [',"kv_capacity_tokens":', str(int(kv_capacity_tokens))]
    out += [',"block_size":', str(int(block_size)), ',"accounting":', string(accounting)]
    if notes:
        out += [',"notes":', string(notes)]
    out.append("}\n")
    return "".join(out)


def iteration_line(index, start_s, end_s, items, waiting, running, kv_used, arrivals=(), departures=(),
                   preempted=(), extra=None) -> str:
    """`items`: (id, prefill, decode) triples in batch order; `arrivals`: (id, time_s, prompt,
    output, class) tuples; `extra`: fields of our own appended last (readers ignore them)."""
    tokens = sum(p + (1 if d else 0) for _, p, d in items)
    out = ['{"type":"iteration","index":', str(int(index)), ',"start_s":', number(start_s),
           ',"end_s":', number(end_s), ',"tokens":', str(tokens), ',"waiting":', str(int(waiting)),
           ',"running":', str(int(running)), ',"kv_used":', str(int(kv_used)), ',"items":[']
    for i, (rid, prefill, decode) in enumerate(items):
        out.append(',{"id":' if i else '{"id":')
        out.append(str(int(rid)))
        if prefill:
            out += [',"prefill":', str(int(prefill))]
        if decode:
            out.append(',"decode":1')
        out.append("}")
    out.append("]")
    if arrivals:
        out.append(',"arrivals":[')
        for i, (rid, time_s, prompt, output, cls) in enumerate(arrivals):
            out += [',{"id":' if i else '{"id":', str(int(rid)), ',"time_s":', number(time_s),
                    ',"prompt":', str(int(prompt)), ',"output":', str(int(output))]
            if cls:
                out += [',"class":', string(cls)]
            out.append("}")
        out.append("]")
    if departures:
        out += [',"departures":[', ",".join(str(int(d)) for d in departures), "]"]
    if preempted:
        out += [',"preempted":[', ",".join(str(int(d)) for d in preempted), "]"]
    for key, value in (extra or {}).items():
        out += [",", string(key), ":", json.dumps(value, ensure_ascii=False, separators=(",", ":"))]
    out.append("}\n")
    return "".join(out)


def open_text(path, mode):
    """A text file, gzip-compressed when its name ends in .gz."""
    if str(path).endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8", newline="\n")
    return open(path, mode, encoding="utf-8", newline="\n")
