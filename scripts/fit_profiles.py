#!/usr/bin/env python3
"""Fit batchproof GPU profiles to the splitwise-sim measurements and write gpu_profiles/*.bp.

Input:  data/splitwise_sim_perf_model.csv (Mutinifni/splitwise-sim, data/perf_model.csv
        @ 8f99e7dc, MIT; see data/README.md for the columns).
Output: gpu_profiles/a100-80gb.bp, gpu_profiles/h100-80gb.bp, gpu_profiles/h100-80gb-pcap.bp,
        the fit-quality table inside gpu_profiles/README.md (between its fit-table markers),
        and a fit report on stdout.

Usage:  python3 scripts/fit_profiles.py            # regenerate the files (byte-identical)
        python3 scripts/fit_profiles.py --check    # write nothing; exit 1 if a file would change

Python 3 standard library only. Method (gpu_profiles/README.md says the same in prose):

* Groups: rows with model llama2-70b, one group per (hardware, tensor_parallel).
* A configuration (prompt_size, batch_size, token_size) is dropped when its median e2e_time
  exceeds E2E_SLACK x (prompt_time + (token_size - 1) x token_time): the run did not execute
  as one batch, so neither its prompt_time nor its token_time is an iteration time.
* Prefill points: b = batch_size x prompt_size tokens, t = prompt_time, every kept row.
* Decode points: b = batch_size tokens (one new token per request), t = token_time, from the
  batch sweep at one context only (prompt_size 512, token_size 128), because token_time is an
  average over a generation and grows with the context; the other rows measure that growth
  and it is reported, not fitted.
* One point per distinct b and phase: the median of its rows (row counts are reported).
* Both phases' points are fitted together by one t(b) (the model's iteration time of a batch
  of b tokens), in the two closed forms of the language:
    piecewise  t(b) = c + a * max(0, b - b0)   b0 every integer 0..PIECEWISE_B0_MAX
    staircase  t(b) = c + a * ceil(b / b0)     b0 in STAIRCASE_B0
  c and a by least squares on relative residuals ((f - t) / t), because the points span
  30 ms .. 11 s and plain least squares would let the longest prefills decide everything;
  b0 is the grid value with the smallest sum of squared relative residuals.
* Choice between the two forms: the smaller maximum relative error over all points (ties:
  the higher R^2). The chosen form is written as profile NAME; the medians are also written
  as a measured table, profile NAME_table, whenever the chosen fit misses some point by more
  than TABLE_WHEN_MAX_REL_ERR (the table reproduces every median exactly).
* Quality is computed with the rounded coefficients as written: R^2 = 1 - SS_res / SS_tot on
  the median points in ms (all points, prefill only, decode only) and the max relative error.
"""

import csv
import os
import statistics
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data", "splitwise_sim_perf_model.csv")
OUT_DIR = os.path.join(ROOT, "gpu_profiles")

MODEL = "llama2-70b"
E2E_SLACK = 2.0
DECODE_CONTEXT = (512, 128)  # (prompt_size, token_size) of the decode batch sweep
PIECEWISE_B0_MAX = 8192
STAIRCASE_B0 = (16, 32, 64, 128, 256, 512, 1024)
TABLE_WHEN_MAX_REL_ERR = 0.05

ATTRIBUTION = (
    "// Data: splitwise-sim, Mutinifni/splitwise-sim data/perf_model.csv @ 8f99e7dc (MIT License,\n"
    "// Copyright (c) 2024 Pratyush Patel; full notice in gpu_profiles/README.md), copied as\n"
    "// data/splitwise_sim_perf_model.csv: measured batch timings on real GPUs distributed with\n"
    "// the simulator of Patel et al., \"Splitwise\", ISCA 2024.\n"
)

# llama2-70b (meta-llama/Llama-2-70b-hf config: hidden 8192, ffn 28672, 80 layers, 64 heads,
# 8 kv heads, head_dim 128, vocab 32000, untied embeddings), fp16.
LLAMA2_70B_PARAMS = 80 * (2 * 8192 * 8192 + 2 * 8192 * 1024 + 3 * 8192 * 28672 + 2 * 8192) \
    + 2 * 32000 * 8192 + 8192
LLAMA2_70B_KV_BYTES_PER_TOKEN = 80 * 8 * 128 * 2 * 2  # layers * kv heads * head_dim * (K,V) * fp16

HARDWARE = {
    # hardware column: (file stem, name fragment, gpu string, note)
    "a100-80gb": ("a100-80gb", "a100", "A100-80GB", None),
    "h100-80gb": ("h100-80gb", "h100", "H100-80GB", None),
    "h100-80gb-pcap": (
        "h100-80gb-pcap", "h100pcap", "H100-80GB power-capped",
        "not an independent measurement: every h100-80gb-pcap row equals its h100-80gb row "
        "with prompt_time x 1.3 and all other columns identical (a modelled power cap: "
        "prefill takes 1.3 times as long, decode is unchanged)"),
}

PAPER_PROFILE = """\
// ---------------------------------------------------------------------------------------
// The paper's profile (not fitted here): Dai, Deng, Li, Peng, "Throughput-Optimal
// Scheduling Algorithms for LLM Inference and AI Agents", arXiv 2504.07347 (2025): batch
// iteration time of CodeLlama-34B, fp16, on one A100-80GB, fitted as a staircase in the
// batch's token count b, R^2 > 0.97 as reported by the paper.
// Memory facts (ours, from the CodeLlama-34b-hf config: hidden 8192, ffn 22016, 48 layers,
// 64 heads, 8 kv heads, head_dim 128, vocab 32000):
//   weights      33,743,970,304 params x 2 B = 67,487,940,608 B (62.85 GiB)
//   kv_per_token 48 layers x 8 kv heads x 128 x 2 (K, V) x 2 B = 196,608 B = 192 KiB
// ---------------------------------------------------------------------------------------
profile codellama34b_a100 {
  gpu             "A100-80GB"
  gpu_memory      80 GiB
  weights         67487940608 B
  kv_per_token    192 KiB
  tensor_parallel 1
  t(b) = 11.28 ms + 35.47 ms * ceil(b / 128)
  provenance "Dai, Deng, Li, Peng 2025, 'Throughput-Optimal Scheduling Algorithms for LLM Inference and AI Agents' (arXiv 2504.07347): staircase fit c = 11.28 ms, a = 35.47 ms, b0 = 128 for CodeLlama-34B fp16 on one A100-80GB, R^2 > 0.97 as reported by the paper; memory facts computed by us from the model config"
}
"""


# ----------------------------------------------------------------------------- data

def load_groups(path):
    groups = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["model"] != MODEL or r["hardware"] not in HARDWARE:
                continue
            key = (r["hardware"], int(r["tensor_parallel"]))
            conf = (int(r["prompt_size"]), int(r["batch_size"]), int(r["token_size"]))
            groups.setdefault(key, {}).setdefault(conf, []).append(
                (float(r["prompt_time"]), float(r["token_time"]), float(r["e2e_time"])))
    return groups


def split_points(confs):
    """Returns (prefill, decode, dropped, context); prefill/decode: {b: [times]}."""
    prefill, decode, dropped = {}, {}, []
    for conf in sorted(confs):
        prompt, batch, tokens = conf
        rows = confs[conf]
        pt = statistics.median(r[0] for r in rows)
        tt = statistics.median(r[1] for r in rows)
        e2e = statistics.median(r[2] for r in rows)
        bound = pt + (tokens - 1) * tt
        if e2e > E2E_SLACK * bound:
            dropped.append((conf, len(rows), pt, tt, e2e / bound))
            continue
        prefill.setdefault(batch * prompt, []).extend(r[0] for r in rows)
        if (prompt, tokens) == DECODE_CONTEXT:
            decode.setdefault(batch, []).extend(r[1] for r in rows)
    # Context dependence of decode at batch 1 (reported, not fitted).
    context = []
    for conf in sorted(confs):
        prompt, batch, tokens = conf
        if batch == 1 and not any(d[0] == conf for d in dropped):
            context.append((prompt, tokens, len(confs[conf]),
                            statistics.median(r[1] for r in confs[conf])))
    return prefill, decode, dropped, context


# ----------------------------------------------------------------------------- fitting

def wls(xs, ts):
    """c, a >= 0 minimising sum(((c + a x - t) / t)^2); None when x is constant."""
    sw = sx = sxx = st = sxt = 0.0
    for x, t in zip(xs, ts):
        w = 1.0 / (t * t)
        sw += w
        sx += w * x
        sxx += w * x * x
        st += w * t
        sxt += w * x * t
    det = sw * sxx - sx * sx
    if det <= 1e-12 * sw * sxx:
        return None
    a = (sw * sxt - sx * st) / det
    c = (st - a * sx) / sw
    if c >= 0 and a >= 0:
        return c, a
    # The objective is a convex quadratic: with the unconstrained minimum outside c >= 0,
    # a >= 0, the constrained one lies on an edge (c = 0 or a = 0).
    edges = [(0.0, max(0.0, sxt / sxx)), (max(0.0, st / sw), 0.0)]
    return min(edges, key=lambda ca: rel_sse(xs, ts, *ca))


def rel_sse(xs, ts, c, a):
    return sum(((c + a * x - t) / t) ** 2 for x, t in zip(xs, ts))


def piecewise_x(b, b0):
    return max(0, b - b0)


def staircase_x(b, b0):
    return -(-b // b0)


def fit_form(points, xfun, b0s):
    bs = [b for b, _ in points]
    ts = [t for _, t in points]
    best = None
    for b0 in b0s:
        xs = [xfun(b, b0) for b in bs]
        ca = wls(xs, ts)
        if ca is None:
            continue
        err = rel_sse(xs, ts, *ca)
        if best is None or err < best[0]:
            best = (err, b0, ca)
    return best[1], best[2]


def quality(points, f):
    if not points:
        return None
    ts = [t for _, t in points]
    mean = sum(ts) / len(ts)
    ss_tot = sum((t - mean) ** 2 for t in ts)
    ss_res = sum((f(b) - t) ** 2 for b, t in points)
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")
    mre, worst = max((abs(f(b) - t) / t, b) for b, t in points)
    return r2, mre, worst


# ----------------------------------------------------------------------------- formatting

def dec(x, places):
    """Plain decimal, no exponent, trailing zeros trimmed (at least one digit after '.')."""
    s = f"{x:.{places}f}"
    if "." in s:
        s = s.rstrip("0")
        if s.endswith("."):
            s += "0"
    if s in ("-0.0", "-0"):
        s = "0.0"
    return s


def comment(text):
    return textwrap.fill(text, width=92, initial_indent="// ", subsequent_indent="// ",
                         break_on_hyphens=False) + "\n"


MS_PLACES = 2      # times: 0.01 ms
SLOPE_PLACES = 5   # piecewise slope: 0.00001 ms/token (0.3 ms over 32768 tokens)


def fmt_r2(x):
    return f"{x:.4f}"


def fmt_pct(x):
    return f"{100 * x:.1f}%"


# ----------------------------------------------------------------------------- per group

def analyse(hw, tp, confs):
    prefill, decode, dropped, context = split_points(confs)
    pre_pts = [(b, statistics.median(v)) for b, v in sorted(prefill.items())]
    dec_pts = [(b, statistics.median(v)) for b, v in sorted(decode.items())]
    points = sorted(dec_pts + pre_pts)
    bs = [b for b, _ in points]
    assert len(set(bs)) == len(bs), "decode and prefill points share a b"

    fits = {}
    b0, (c, a) = fit_form(points, piecewise_x, range(0, PIECEWISE_B0_MAX + 1))
    c, a = float(dec(c, MS_PLACES)), float(dec(a, SLOPE_PLACES))
    fits["piecewise"] = dict(b0=b0, c=c, a=a,
                             f=(lambda b, c=c, a=a, b0=b0: c + a * max(0, b - b0)))
    b0, (c, a) = fit_form(points, staircase_x, STAIRCASE_B0)
    c, a = float(dec(c, MS_PLACES)), float(dec(a, MS_PLACES))
    fits["staircase"] = dict(b0=b0, c=c, a=a,
                             f=(lambda b, c=c, a=a, b0=b0: c + a * (-(-b // b0))))
    for fit in fits.values():
        assert fit["c"] > 0 and fit["a"] > 0, fit
        fit["all"] = quality(points, fit["f"])
        fit["prefill"] = quality(pre_pts, fit["f"])
        fit["decode"] = quality(dec_pts, fit["f"])
    chosen = min(fits, key=lambda k: (fits[k]["all"][1], -fits[k]["all"][0], k))
    return dict(hw=hw, tp=tp, prefill=prefill, decode=decode, dropped=dropped,
                context=context, pre_pts=pre_pts, dec_pts=dec_pts, points=points,
                fits=fits, chosen=chosen,
                table=fits[chosen]["all"][1] > TABLE_WHEN_MAX_REL_ERR)


def profile_name(g):
    return f"llama2_70b_{HARDWARE[g['hw']][1]}_tp{g['tp']}"


def rows_text(g):
    n_pre = sum(len(v) for v in g["prefill"].values())
    n_dec = sum(len(v) for v in g["decode"].values())
    return n_pre, n_dec


def context_text(g):
    by_prompt = [(p, t) for p, k, _, t in g["context"] if k == DECODE_CONTEXT[1]]
    (p0, t0), (p1, t1) = by_prompt[0], by_prompt[-1]
    return (f"decode time also grows with the context, which t(b) does not see: batch-1 "
            f"token_time {dec(t0, 1)} ms at prompt {p0}, {dec(t1, 1)} ms at prompt {p1}; "
            f"the decode points hold prompt 512 + up to 128 generated tokens")


def provenance(g, kind):
    n_pre, n_dec = rows_text(g)
    hwname = HARDWARE[g["hw"]][2]
    fit = g["fits"][g["chosen"]]
    parts = [
        f"splitwise-sim perf_model.csv @ 8f99e7dc (MIT), llama2-70b fp16 on {g['tp']} x "
        f"{hwname} (tensor_parallel {g['tp']})",
    ]
    if HARDWARE[g["hw"]][3]:
        parts.append(HARDWARE[g["hw"]][3])
    parts.append(
        f"prefill: {n_pre} rows, b = batch_size x prompt_size = "
        f"{g['pre_pts'][0][0]}..{g['pre_pts'][-1][0]} tokens, t = median prompt_time per b "
        f"({len(g['pre_pts'])} points); decode: {n_dec} rows at prompt 512 / 128 generated, "
        f"b = batch_size = {g['dec_pts'][0][0]}..{g['dec_pts'][-1][0]}, t = median "
        f"token_time ({len(g['dec_pts'])} points)")
    for conf, n, pt, tt, ratio in g["dropped"]:
        parts.append(
            f"dropped the {n} rows of batch {conf[1]} x prompt {conf[0]}: e2e_time is "
            f"{dec(ratio, 1)} times prompt_time + {conf[2] - 1} token_times, not one batch "
            f"(prompt_time {dec(pt, 0)} ms for {conf[0] * conf[1]} tokens)")
    if kind == "table":
        parts.append("measured table of the medians (linear interpolation between them)")
    else:
        q = fit
        parts.append(
            f"{g['chosen']} fit, relative least squares: R^2 {fmt_r2(q['all'][0])} all points, "
            f"{fmt_r2(q['prefill'][0])} prefill, {fmt_r2(q['decode'][0])} decode; max "
            f"relative error {fmt_pct(q['all'][1])} (prefill {fmt_pct(q['prefill'][1])}, "
            f"decode {fmt_pct(q['decode'][1])})")
    parts.append(context_text(g))
    return "; ".join(parts)


def tb_text(g, kind):
    if kind == "table":
        pts = ", ".join(f"{b} -> {dec(t, MS_PLACES)} ms" for b, t in g["points"])
        return f"t(b) = table {{ {pts} }}"
    fit = g["fits"][g["chosen"]]
    if g["chosen"] == "piecewise":
        return (f"t(b) = {dec(fit['c'], MS_PLACES)} ms + {dec(fit['a'], SLOPE_PLACES)} "
                f"ms/token * max(0, b - {fit['b0']})")
    return (f"t(b) = {dec(fit['c'], MS_PLACES)} ms + {dec(fit['a'], MS_PLACES)} ms * "
            f"ceil(b / {fit['b0']})")


def profile_text(g, kind):
    name = profile_name(g) + ("_table" if kind == "table" else "")
    tp = g["tp"]
    lines = [
        f"profile {name} {{",
        f"  gpu             \"{tp} x {HARDWARE[g['hw']][2]}\"",
        f"  gpu_memory      {80 * tp} GiB  // the replica: {tp} GPUs x 80 GiB",
        f"  weights         {LLAMA2_70B_PARAMS * 2} B  "
        f"// the whole model ({dec(LLAMA2_70B_PARAMS * 2 / 2**30, 2)} GiB), split over the {tp} GPUs",
        f"  kv_per_token    {LLAMA2_70B_KV_BYTES_PER_TOKEN // 1024} KiB",
        f"  tensor_parallel {tp}",
        f"  {tb_text(g, kind)}",
        f"  provenance \"{provenance(g, kind)}\"",
        "}",
    ]
    return "\n".join(lines) + "\n"


def group_comment(g):
    lines = [f"// ---- llama2-70b, {HARDWARE[g['hw']][2]}, tensor_parallel {g['tp']} ----"]
    lines.append("// fit quality (R^2 / max relative error; all, prefill, decode points):")
    for form in ("piecewise", "staircase"):
        fit = g["fits"][form]
        mark = "  <- chosen" if form == g["chosen"] else ""
        lines.append(
            f"//   {form:9s} b0 {fit['b0']:>4}: R^2 {fmt_r2(fit['all'][0])} / "
            f"{fmt_pct(fit['all'][1])}, {fmt_r2(fit['prefill'][0])} / "
            f"{fmt_pct(fit['prefill'][1])}, {fmt_r2(fit['decode'][0])} / "
            f"{fmt_pct(fit['decode'][1])}{mark}")
    if g["table"]:
        return "\n".join(lines) + "\n" + comment(
            f"the chosen fit misses a point by more than {fmt_pct(TABLE_WHEN_MAX_REL_ERR)}, so "
            f"the medians are also given as {profile_name(g)}_table.")
    return "\n".join(lines) + "\n"


def file_text(hw, groups):
    stem, _, gpu, note = HARDWARE[hw]
    paper = hw == "a100-80gb"
    holds = "the paper's CodeLlama-34B profile and " if paper else ""
    text = (
        comment(f"gpu_profiles/{stem}.bp: {holds}llama2-70b profiles for {gpu}, one per "
                "tensor parallelism measured (a fitted closed form NAME and the measured "
                "medians NAME_table).") +
        "// GENERATED by scripts/fit_profiles.py from data/splitwise_sim_perf_model.csv; do not\n"
        "// edit by hand: `python3 scripts/fit_profiles.py` rewrites it byte for byte. Method and\n"
        "// fit quality: gpu_profiles/README.md.\n"
        + ATTRIBUTION +
        "// Memory facts of the llama2-70b profiles are per replica of tensor_parallel GPUs:\n"
        "// gpu_memory is the replica's total (N x 80 GiB); weights = "
        f"{LLAMA2_70B_PARAMS:,} params x 2 B\n"
        f"// (fp16) = {LLAMA2_70B_PARAMS * 2:,} B; kv_per_token = 80 layers x 8 kv heads x 128\n"
        "// head_dim x 2 (K, V) x 2 B = 320 KiB (grouped-query attention).\n"
    )
    if note:
        text += comment("NOTE: " + note + ".")
    if paper:
        text += "\n" + PAPER_PROFILE
    for g in groups:
        text += "\n" + group_comment(g) + profile_text(g, "fit")
        if g["table"]:
            text += "\n" + profile_text(g, "table")
    return text


# ----------------------------------------------------------------------------- report

def report(gs):
    out = []
    out.append("fit report: llama2-70b, splitwise-sim perf_model.csv @ 8f99e7dc")
    out.append("R^2 / max relative error on the median points; all, prefill, decode\n")
    hdr = (f"{'profile':26s} {'rows P+D':>9s} {'form':9s} {'b0':>4s} {'c ms':>7s} "
           f"{'a':>9s}  {'all (@ worst b)':>21s}  {'prefill':>14s}  {'decode':>15s}")
    out.append(hdr)
    for g in gs:
        n_pre, n_dec = rows_text(g)
        for form in ("piecewise", "staircase"):
            f = g["fits"][form]
            star = "*" if form == g["chosen"] else " "
            out.append(
                f"{profile_name(g):26s} {f'{n_pre}+{n_dec}':>9s} {form:9s}{star}{f['b0']:>4d} "
                f"{dec(f['c'], 2):>7s} {dec(f['a'], 5):>9s}  "
                f"{fmt_r2(f['all'][0])} / {fmt_pct(f['all'][1]):>5s} @{f['all'][2]:<5d}  "
                f"{fmt_r2(f['prefill'][0])} / {fmt_pct(f['prefill'][1]):>5s}  "
                f"{fmt_r2(f['decode'][0]):>7s} / {fmt_pct(f['decode'][1]):>5s}")
        for conf, n, pt, tt, ratio in g["dropped"]:
            out.append(f"{'':26s} dropped {n} rows {conf}: e2e {dec(ratio, 1)}x the one-batch "
                       f"time")
    out.append("\n* chosen form (smaller max relative error); a is ms/token (piecewise) or ms "
               "(staircase)")
    out.append("\nmedian points (b: ms)")
    for g in gs:
        out.append(f"  {profile_name(g)}: decode " +
                   ", ".join(f"{b}:{dec(t, 1)}" for b, t in g["dec_pts"]))
        out.append(f"  {' ' * len(profile_name(g))}  prefill " +
                   ", ".join(f"{b}:{dec(t, 1)}({len(g['prefill'][b])})"
                             for b, t in g["pre_pts"]))
    return "\n".join(out) + "\n"


README = os.path.join(OUT_DIR, "README.md")
BEGIN = "<!-- fit-table: generated by scripts/fit_profiles.py -->"
END = "<!-- /fit-table -->"


def markdown_table(gs):
    out = [
        "| profile | rows used: prefill + decode (dropped) | form | b0 | c | a | R² all "
        "| R² prefill | R² decode | max rel. err. all (at b) | prefill | decode |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for g in gs:
        n_pre, n_dec = rows_text(g)
        dropped = sum(d[1] for d in g["dropped"])
        for form in ("piecewise", "staircase"):
            f = g["fits"][form]
            unit = "ms/token" if form == "piecewise" else "ms"
            first = form == "piecewise"
            name = f"`{profile_name(g)}`" if first else ""
            rows = f"{n_pre} + {n_dec} ({dropped})" if first else ""
            label = f"**{form}**" if form == g["chosen"] else form
            out.append(
                f"| {name} | {rows} | {label} | {f['b0']} | {dec(f['c'], MS_PLACES)} ms | "
                f"{dec(f['a'], SLOPE_PLACES)} {unit} | {fmt_r2(f['all'][0])} | "
                f"{fmt_r2(f['prefill'][0])} | {fmt_r2(f['decode'][0])} | "
                f"{fmt_pct(f['all'][1])} ({f['all'][2]}) | {fmt_pct(f['prefill'][1])} | "
                f"{fmt_pct(f['decode'][1])} |")
    return "\n".join(out) + "\n"


def readme_text(gs):
    """README.md with the block between BEGIN and END replaced; None when it has no block."""
    if not os.path.exists(README):
        return None
    with open(README, encoding="utf-8", newline="") as f:
        old = f.read()
    i, j = old.find(BEGIN), old.find(END)
    if i < 0 or j < i:
        return None
    return old[:i] + BEGIN + "\n" + markdown_table(gs) + old[j:]


def main(argv):
    check = "--check" in argv[1:]
    groups = load_groups(DATA)
    gs = [analyse(hw, tp, confs) for (hw, tp), confs in
          sorted(groups.items(), key=lambda kv: (list(HARDWARE).index(kv[0][0]), kv[0][1]))]
    sys.stdout.write(report(gs))
    outputs = [(os.path.join(OUT_DIR, HARDWARE[hw][0] + ".bp"),
                file_text(hw, [g for g in gs if g["hw"] == hw])) for hw in HARDWARE]
    readme = readme_text(gs)
    if readme is None:
        print(f"note: no {BEGIN} ... {END} block in gpu_profiles/README.md to update",
              file=sys.stderr)
    else:
        outputs.append((README, readme))
    stale = []
    for path, text in outputs:
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8", newline="") as f:
                old = f.read()
        if old == text:
            continue
        if check:
            stale.append(path)
            continue
        os.makedirs(OUT_DIR, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {os.path.relpath(path, ROOT)}")
    if stale:
        print("stale: " + ", ".join(os.path.relpath(p, ROOT) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
