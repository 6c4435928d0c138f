"""Reads a batchproof arrivals file (JSON Lines, one {"time", "prompt", "output"[, "class"]}
object a line, times in seconds), as `batchproof arrivals` writes it (core/arrivals_jsonl.cpp).
Arrivals come back sorted by time (stable), as core's reader returns them; the collector gives
them ids 0, 1, 2, ... in that order, as the simulator does."""

import json
import math
from dataclasses import dataclass
from typing import List


class ArrivalsError(ValueError):
    pass


@dataclass(frozen=True)
class Arrival:
    time_s: float
    prompt: int
    output: int
    cls: str = ""


def _whole(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    return None


def parse_arrivals(lines, path="-") -> List[Arrival]:
    out = []
    for number, line in enumerate(lines, start=1):
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        if not line.strip():
            continue

        def bad(message):
            return ArrivalsError(f"{path}:{number}: {message}")

        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise bad(f"malformed JSON: {e.msg}") from None
        if not isinstance(record, dict):
            raise bad("expected a JSON object")
        for key in ("time", "prompt", "output"):
            if key not in record:
                raise bad(f'missing field "{key}"')
        t = record["time"]
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
            raise bad(f"time: expected a finite number of seconds, found {json.dumps(t)}")
        lengths = []
        for key in ("prompt", "output"):
            v = _whole(record[key])
            if v is None or v < 0:
                raise bad(f"{key}: expected a non-negative whole number of tokens, found {json.dumps(record[key])}")
            lengths.append(v)
        cls = record.get("class", "")
        if not isinstance(cls, str):
            raise bad(f"class: expected a string, found {json.dumps(cls)}")
        out.append(Arrival(float(t), lengths[0], lengths[1], cls))
    if not out:
        raise ArrivalsError(f"{path}: no arrivals")
    out.sort(key=lambda a: a.time_s)  # stable
    return out


def read_arrivals(path) -> List[Arrival]:
    try:
        with open(path, encoding="utf-8") as f:
            return parse_arrivals(f, str(path))
    except OSError as e:
        raise ArrivalsError(f"{path}: cannot read: {e.strerror}") from None
