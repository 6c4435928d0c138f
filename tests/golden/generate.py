#!/usr/bin/env python3
"""Writes the golden inputs that are awkward to keep by hand: binary junk, deep nesting and a
very long line. Deterministic: running it again rewrites the same bytes.

    python3 tests/golden/generate.py
"""
from pathlib import Path

BAD = Path(__file__).resolve().parent / "bad"


def binary_junk() -> bytes:
    # 512 bytes from a 32-bit LCG (Numerical Recipes constants), seed 1: every byte value can occur.
    x, out = 1, bytearray()
    for _ in range(512):
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        out.append(x >> 24)
    return bytes(out)


def deep_nesting() -> str:
    # 70 parentheses in a guard: one more than 64 levels (the policy's brace counts too).
    return "policy p {\n  decode running fcfs if " + "(" * 70 + "waiting > 0" + ")" * 70 + "\n}\n"


def deep_nesting_braces() -> str:
    # 70 nested `when` blocks inside a policy.
    lines = ["policy p {"]
    lines += ["  " * (i + 1) + "when waiting > %d {" % i for i in range(70)]
    lines.append("  " * 71 + "decode running fcfs")
    lines += ["  " * (i + 1) + "}" for i in reversed(range(70))]
    lines.append("}")
    return "\n".join(lines) + "\n"


def long_line() -> str:
    # A whole profile on one line of about 5000 characters, with a misspelt unit at its end.
    return ("profile p { t(b) = 10 ms + 30 ms * ceil(b / 128) provenance \"" + "measured " * 555 +
            "\" weights 63 GiBB }\n")


if __name__ == "__main__":
    (BAD / "binary_junk.bp").write_bytes(binary_junk())
    (BAD / "deep_nesting.bp").write_text(deep_nesting())
    (BAD / "deep_nesting_braces.bp").write_text(deep_nesting_braces())
    (BAD / "long_line.bp").write_text(long_line())
