"""KV memory: one pool of token slots per layer, handed out to requests in blocks.

Each request owns its own cache: the list of slots that hold its keys and values, in token
order (a block table, as vLLM's paged cache). Keeping every request's slots in one pool lets a
layer write the new keys of a whole packed batch with one index_copy_, and gather the caches
of all decoding requests with one index_select, whatever the number of requests.

The engines the collector runs do not limit memory (MODEL.md §5), so the pool grows (doubling)
when it runs out; on a GPU that is where a real engine would have to preempt.
"""

import numpy as np
import torch


class KvPool:
    def __init__(self, layers, kv_heads, head_dim, dtype, device, capacity_tokens=4096, block_size=16):
        self.block_size = block_size
        blocks = max(1, -(-capacity_tokens // block_size))
        # Heads before slots: a gather of any slots is then [kv_heads, slots, head_dim], the
        # layout attention's batched matrix products read without another copy.
        shape = (layers, kv_heads, blocks * block_size, head_dim)
        self.k = torch.zeros(shape, dtype=dtype, device=device)
        self.v = torch.zeros(shape, dtype=dtype, device=device)
        self.free_blocks = list(range(blocks - 1, -1, -1))  # a stack: lowest block first
        self.grown = 0

    @property
    def capacity_tokens(self):
        return self.k.shape[2]

    def _grow(self):
        old = self.k.shape[2] // self.block_size
        extra = torch.zeros_like(self.k)
        self.k = torch.cat([self.k, extra], dim=2)
        self.v = torch.cat([self.v, torch.zeros_like(extra)], dim=2)
        self.free_blocks = list(range(2 * old - 1, old - 1, -1)) + self.free_blocks
        self.grown += 1

    def allocate_block(self):
        if not self.free_blocks:
            self._grow()
        return self.free_blocks.pop()

    def release(self, blocks):
        self.free_blocks.extend(reversed(blocks))


class RequestCache:
    """The slots of one request's keys and values, grown as its tokens are processed."""

    def __init__(self, pool: KvPool):
        self.pool = pool
        self.blocks = []
        self.slots = np.zeros(0, dtype=np.int64)  # slot of token i (i < length)
        self.length = 0

    def reserve(self, tokens):
        """Makes room for `tokens` tokens in all; returns their slots."""
        bs = self.pool.block_size
        while len(self.blocks) * bs < tokens:
            b = self.pool.allocate_block()
            self.blocks.append(b)
            self.slots = np.concatenate([self.slots, np.arange(b * bs, (b + 1) * bs, dtype=np.int64)])
        return self.slots[:tokens]

    def free(self):
        self.pool.release(self.blocks)
        self.blocks = []
        self.slots = np.zeros(0, dtype=np.int64)
        self.length = 0
