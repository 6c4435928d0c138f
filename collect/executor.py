"""Runs one batch of the scheduler on the model: packs the items' tokens into one forward pass,
keeps each request's KV cache and next token, and measures the pass.

Timing: the measured duration of an iteration is packing the inputs + the forward pass + reading
back the next tokens (what a real engine spends per batch on the device side). On a GPU it is
measured with CUDA events around that span; on a CPU with the wall clock (perf_counter), or,
with clock "cpu", with the CPU time of the process (process_time): on a CPU shared with other
work, one torch thread's CPU time is what the span would take alone, where the wall clock also
counts the time the process waited for a CPU."""

import time
from dataclasses import dataclass
from typing import List, Optional

import numpy as np
import torch

from collect.kv_cache import KvPool, RequestCache
from collect.model import ChunkAttention, Model, PackedBatch


class Sequence:
    """A request's tokens and KV cache as the model sees them."""

    def __init__(self, rid: int, prompt_tokens: np.ndarray, pool: KvPool):
        self.id = rid
        self.prompt_tokens = prompt_tokens
        self.cache = RequestCache(pool)
        self.next_token: Optional[int] = None   # fed by the next decode
        self.outputs: List[int] = []

    def release(self):
        self.cache.free()


@dataclass
class Work:
    """One item of a batch: `prefill` prompt tokens or one decode token of `seq`."""
    seq: Sequence
    prefill: int = 0
    decode: bool = False


class CpuTimer:
    def __init__(self, clock=time.perf_counter):
        self.clock = clock

    def start(self):
        self.t0 = self.clock()

    def stop(self) -> float:
        return self.clock() - self.t0


class CudaTimer:
    def __init__(self, device):
        self.device = device
        self.begin = torch.cuda.Event(enable_timing=True)
        self.end = torch.cuda.Event(enable_timing=True)

    def start(self):
        self.begin.record()

    def stop(self) -> float:
        self.end.record()
        self.end.synchronize()
        return self.begin.elapsed_time(self.end) / 1000.0


CLOCKS = ("wall", "cpu")


def make_timer(device, clock="wall"):
    if torch.device(device).type == "cuda":
        return CudaTimer(device)
    return CpuTimer(time.process_time if clock == "cpu" else time.perf_counter)


def prompt_tokens(seed: int, rid: int, length: int, vocab: int) -> np.ndarray:
    """A request's prompt: random token ids, the same for the same seed and id."""
    return np.random.default_rng([seed, rid]).integers(0, vocab, size=length, dtype=np.int64)


def pack(model: Model, work: List[Work]) -> PackedBatch:
    """The packed inputs of one forward pass; reserves KV slots for the new tokens."""
    device = model.device
    tokens, positions, slots = [], [], []
    chunks, singles, single_keys, logits_at = [], [], [], []
    offset = 0
    for w in work:
        seq, cache = w.seq, w.seq.cache
        if w.prefill and w.decode:
            raise ValueError("an item with both prefill and decode tokens needs Vidur's accounting")
        c = cache.length
        if w.decode:
            if seq.next_token is None:
                raise ValueError(f"request {seq.id}: a decode before its prompt is done")
            new = np.array([seq.next_token], dtype=np.int64)
        else:
            start = c  # prompt tokens already in the cache
            new = seq.prompt_tokens[start:start + w.prefill]
            if len(new) != w.prefill:
                raise ValueError(f"request {seq.id}: {w.prefill} prefill tokens but {len(new)} left")
        n = len(new)
        key_slots = cache.reserve(c + n)
        tokens.append(new)
        positions.append(np.arange(c, c + n, dtype=np.int64))
        slots.append(key_slots[c:])
        if n == 1:
            singles.append(offset)
            single_keys.append(key_slots)
        else:
            ks = torch.from_numpy(key_slots).to(device)
            hidden = torch.arange(c + n, device=device)[None, :] > (c + torch.arange(n, device=device))[:, None]
            chunks.append(ChunkAttention(offset, n, ks, hidden))
        completes_prompt = not w.decode and c + n == len(seq.prompt_tokens)
        if w.decode or completes_prompt:
            logits_at.append(offset + n - 1)
        offset += n

    def tensor(parts):
        return torch.from_numpy(np.concatenate(parts)).to(device)

    single_index = single_slots = single_hidden = None
    if singles:
        longest = max(len(k) for k in single_keys)
        padded = np.zeros((len(singles), longest), dtype=np.int64)
        lengths = np.zeros(len(singles), dtype=np.int64)
        for i, k in enumerate(single_keys):
            padded[i, :len(k)] = k
            padded[i, len(k):] = k[0]  # any valid slot: masked out
            lengths[i] = len(k)
        single_index = torch.from_numpy(np.array(singles, dtype=np.int64)).to(device)
        single_slots = torch.from_numpy(padded).to(device)
        single_hidden = torch.arange(longest, device=device)[None, :] >= torch.from_numpy(lengths).to(device)[:, None]
    return PackedBatch(tensor(tokens), tensor(positions), tensor(slots), chunks, single_index, single_slots,
                       single_hidden, torch.from_numpy(np.array(logits_at, dtype=np.int64)).to(device))


class Executor:
    def __init__(self, model: Model, pool: KvPool, clock="wall"):
        self.model = model
        self.pool = pool
        self.timer = make_timer(model.device, clock)
        self.last_pack_s = 0.0  # wall clock of packing, inside the measured duration

    def run(self, work: List[Work], advance=True) -> float:
        """Runs the batch; returns its measured duration in seconds. With advance=False the
        requests' caches and tokens stay as they were (the profiler repeats one batch)."""
        self.timer.start()
        t0 = time.perf_counter()
        batch = pack(self.model, work)
        self.last_pack_s = time.perf_counter() - t0
        next_tokens = self.model.forward(batch, self.pool).tolist()
        duration = self.timer.stop()
        if advance:
            k = 0
            for w in work:
                seq = w.seq
                n = 1 if w.decode else w.prefill
                seq.cache.length += n
                if w.decode or seq.cache.length == len(seq.prompt_tokens):
                    seq.next_token = next_tokens[k]
                    if w.decode:
                        seq.outputs.append(next_tokens[k])
                    k += 1
        return duration
