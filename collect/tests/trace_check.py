"""Reads a batchproof trace back and checks it against docs/trace-format.md: the form of every
record (fields, types, ranges) and, for a run, the bookkeeping a replay relies on. Used by the
tests; the C++ reader (core/trace_format.cpp) is the reference, this follows its table."""

import json
import math

HEADER_REQUIRED = {"type", "schema_version", "source", "engine", "budget_form", "block_size", "accounting"}
ITERATION_REQUIRED = {"type", "index", "start_s", "end_s", "waiting", "running", "kv_used", "items"}


def _whole(x, minimum=0):
    return isinstance(x, int) and not isinstance(x, bool) and x >= minimum


def _seconds(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def check_form(lines):
    """Parses every line; returns (header, iterations). Raises AssertionError on a bad record."""
    records = [json.loads(line) for line in lines if line.strip()]
    assert records, "empty trace"
    header = records[0]
    assert header.get("type") == "header", "the first record must be the header"
    missing = HEADER_REQUIRED - header.keys()
    assert not missing, f"header lacks {missing}"
    assert _whole(header["schema_version"], 1) and header["schema_version"] == 1
    for key in ("source", "engine", "spec", "profile", "notes"):
        assert isinstance(header.get(key, ""), str), key
    for key in ("token_budget", "max_batch"):
        assert header.get(key) is None or _whole(header[key], 1), key
    assert header.get("kv_capacity_tokens") is None or _whole(header["kv_capacity_tokens"])
    assert header["budget_form"] in ("plain", "padded")
    assert _whole(header["block_size"], 1)
    assert header["accounting"] in ("paper", "vidur")
    iterations = []
    for r in records[1:]:
        assert r.get("type") == "iteration", f"unexpected record {r.get('type')}"
        missing = ITERATION_REQUIRED - r.keys()
        assert not missing, f"iteration lacks {missing}"
        assert _whole(r["index"]) and _seconds(r["start_s"]) and _seconds(r["end_s"])
        for key in ("tokens", "waiting", "running", "kv_used"):
            assert key not in r or _whole(r[key]), key
        assert isinstance(r["items"], list)
        for item in r["items"]:
            assert _whole(item["id"]) and _whole(item.get("prefill", 0)) and item.get("decode", 0) in (0, 1, True, False)
        for a in r.get("arrivals", []):
            assert _whole(a["id"]) and _seconds(a["time_s"]) and _whole(a["prompt"]) and _whole(a["output"])
            assert isinstance(a.get("class", ""), str)
        for key in ("departures", "preempted"):
            assert all(_whole(x) for x in r.get(key, [])), key
        iterations.append(r)
    return header, iterations


def check_run(header, iterations):
    """The bookkeeping of a run: consecutive indexes, a clock that never goes back, tokens equal to
    the items' sum and within the budget, arrivals in their window, one item per request, decodes
    only after the prompt, every request's lifecycle, and the counts after each iteration."""
    budget = header.get("token_budget")
    known, present = {}, set()
    prev_start, prev_end = None, 0.0
    for k, r in enumerate(iterations):
        assert r["index"] == k
        assert r["start_s"] >= prev_end and r["end_s"] >= r["start_s"]
        for a in r.get("arrivals", []):
            assert a["id"] not in known, f"request {a['id']} arrives twice"
            assert a["time_s"] <= r["start_s"] and (prev_start is None or a["time_s"] > prev_start)
            known[a["id"]] = {"prompt": a["prompt"], "output": a["output"], "prefilled": 0, "decoded": 0}
            present.add(a["id"])
        ids = [i["id"] for i in r["items"]]
        assert len(ids) == len(set(ids)), "a request twice in one batch"
        tokens = sum(i.get("prefill", 0) + int(i.get("decode", 0)) for i in r["items"])
        assert r.get("tokens", tokens) == tokens
        assert budget is None or tokens <= budget
        for i in r["items"]:
            q = known[i["id"]]
            assert i["id"] in present
            if i.get("decode"):
                assert q["prefilled"] == q["prompt"] and q["decoded"] < q["output"]
            assert i.get("prefill", 0) <= q["prompt"] - q["prefilled"]
        for i in r["items"]:
            known[i["id"]]["prefilled"] += i.get("prefill", 0)
            known[i["id"]]["decoded"] += int(i.get("decode", 0))
        done = {rid for rid in present if known[rid]["prefilled"] == known[rid]["prompt"]
                and known[rid]["decoded"] == known[rid]["output"]}
        assert sorted(done) == sorted(r.get("departures", [])), f"iteration {k}: departures"
        present -= done
        admitted = {rid for rid in present if known[rid]["prefilled"] > 0}
        assert r["running"] == len(admitted) and r["waiting"] == len(present) - len(admitted)
        assert r["kv_used"] == sum(known[rid]["prefilled"] + known[rid]["decoded"] for rid in admitted)
        prev_start, prev_end = r["start_s"], r["end_s"]
    return known, present
