"""A Llama-shaped decoder-only transformer with random weights, run over packed batches.

RMSNorm, rotary position embeddings, grouped-query attention and a SwiGLU MLP, as in Llama 3.
One forward pass takes every token of an iteration packed into one sequence: prefill chunks
(several prompt tokens of a request) and decode tokens (one token of a request), each with its
own position and its own KV cache. The dense layers run once over all packed tokens; attention
is written by hand (no scaled_dot_product_attention, absent from torch 1.13) per request:
each prefill chunk attends to its request's cached keys and to its own earlier tokens, and all
one-token items are attended together over their caches gathered and padded, with a mask.
"""

import math
from dataclasses import dataclass
from typing import List, Optional

import torch
import torch.nn.functional as F

from collect.config import ModelConfig
from collect.kv_cache import KvPool


@dataclass
class ChunkAttention:
    """A packed run of n > 1 tokens of one request, after `context` cached tokens."""
    offset: int                 # first packed index
    length: int                 # n
    key_slots: torch.Tensor     # [context + n] pool slots of every key it sees, in order
    hidden: torch.Tensor        # [n, context + n] bool: query j does not see key l iff l > context + j


@dataclass
class PackedBatch:
    tokens: torch.Tensor        # [T] token ids
    positions: torch.Tensor     # [T] position of each token in its request
    write_slots: torch.Tensor   # [T] pool slot where each token's key and value go
    chunks: List[ChunkAttention]
    single_index: Optional[torch.Tensor]  # [m] packed indices of the one-token items
    single_slots: Optional[torch.Tensor]  # [m, L] pool slots of their keys, padded
    single_hidden: Optional[torch.Tensor]  # [m, L] bool: padding, not keys
    logits_at: torch.Tensor     # [k] packed indices whose next token is wanted


class Model:
    def __init__(self, config: ModelConfig, device="cpu", dtype=torch.float32, seed=0):
        self.config = config
        self.device = torch.device(device)
        self.dtype = dtype
        c = config
        g = torch.Generator(device=self.device)
        g.manual_seed(seed)

        def weight(*shape, std=0.02):
            return torch.randn(*shape, generator=g, device=self.device, dtype=dtype) * std

        hd = c.head_dim
        self.embedding = weight(c.vocab, c.dim, std=1.0)
        self.layers = []
        for _ in range(c.layers):
            self.layers.append({
                "attn_norm": torch.ones(c.dim, device=self.device, dtype=dtype),
                "wqkv": weight(c.dim, (c.heads + 2 * c.kv_heads) * hd),
                "wo": weight(c.heads * hd, c.dim),
                "mlp_norm": torch.ones(c.dim, device=self.device, dtype=dtype),
                "w_gate_up": weight(c.dim, 2 * c.ffn),
                "w_down": weight(c.ffn, c.dim),
            })
        self.final_norm = torch.ones(c.dim, device=self.device, dtype=dtype)
        self.lm_head = weight(c.dim, c.vocab)
        self.inv_freq = 1.0 / (c.rope_theta ** (torch.arange(0, hd, 2, device=self.device, dtype=torch.float32) / hd))
        self.scale = 1.0 / math.sqrt(hd)

    def new_kv_pool(self, capacity_tokens=4096, block_size=16) -> KvPool:
        c = self.config
        return KvPool(c.layers, c.kv_heads, c.head_dim, self.dtype, self.device, capacity_tokens, block_size)

    # -- pieces ---------------------------------------------------------------------------------

    def _rms_norm(self, x, weight):
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.config.norm_eps)
        return xf.to(self.dtype) * weight

    def _rope(self, positions):
        freqs = positions.float()[:, None] * self.inv_freq[None, :]
        emb = torch.cat([freqs, freqs], dim=-1)
        return emb.cos()[:, None, :], emb.sin()[:, None, :]  # [T, 1, head_dim]

    @staticmethod
    def _rotate(x, cos, sin):
        xf = x.float()
        half = xf.shape[-1] // 2
        rotated = torch.cat([-xf[..., half:], xf[..., :half]], dim=-1)
        return (xf * cos + rotated * sin).to(x.dtype)

    def _attend(self, q, k, v, hidden):
        """One request's chunk: q [n, H, d]; k, v [Hkv, L, d]; hidden [n, L] bool, True where a
        query must not see a key. Returns [n, H, d]. The g query heads that share a key head
        are stacked, so that each key head is one matrix product."""
        c = self.config
        n, group = q.shape[0], c.heads // c.kv_heads
        qg = (q * self.scale).view(n, c.kv_heads, group, c.head_dim).permute(1, 2, 0, 3)
        scores = torch.bmm(qg.reshape(c.kv_heads, group * n, c.head_dim), k.transpose(1, 2)).float()
        scores.view(c.kv_heads, group, n, -1).masked_fill_(hidden, float("-inf"))
        out = torch.bmm(torch.softmax(scores, dim=-1).to(v.dtype), v)  # [Hkv, g * n, d]
        return out.view(c.kv_heads, group, n, c.head_dim).permute(2, 0, 1, 3).reshape(n, c.heads, c.head_dim)

    def _attend_singles(self, q, k, v, hidden):
        """One query per request: q [m, H, d]; k, v [Hkv, m, L, d]; hidden [m, L] (padding).
        Returns [m, H, d]: one batched matrix product per (key head, request)."""
        c = self.config
        m, group = q.shape[0], c.heads // c.kv_heads
        L = k.shape[2]
        qg = (q * self.scale).view(m, c.kv_heads, group, c.head_dim).permute(1, 0, 2, 3)
        qg = qg.reshape(c.kv_heads * m, group, c.head_dim)
        scores = torch.bmm(qg, k.reshape(c.kv_heads * m, L, c.head_dim).transpose(1, 2)).float()
        scores.view(c.kv_heads, m, group, L).masked_fill_(hidden[None, :, None, :], float("-inf"))
        out = torch.bmm(torch.softmax(scores, dim=-1).to(v.dtype), v.reshape(c.kv_heads * m, L, c.head_dim))
        return out.view(c.kv_heads, m, group, c.head_dim).permute(1, 0, 2, 3).reshape(m, c.heads, c.head_dim)

    # -- the forward pass -----------------------------------------------------------------------

    @torch.no_grad()
    def forward(self, batch: PackedBatch, pool: KvPool, return_logits=False):
        """Runs every layer over the packed tokens, writing their keys and values into the pool.
        Returns the greedy next token at each of batch.logits_at (and the logits if asked)."""
        c = self.config
        hd = c.head_dim
        x = F.embedding(batch.tokens, self.embedding)
        cos, sin = self._rope(batch.positions)
        T = x.shape[0]
        q_end, k_end = c.heads * hd, (c.heads + c.kv_heads) * hd
        # Gathers read every head's keys with one index_select over rows of the pool seen as
        # [heads * slots, d] (faster than selecting along the slot dimension).
        head_offsets = torch.arange(c.kv_heads, device=self.device)[:, None] * pool.capacity_tokens
        chunk_rows = [(ch.key_slots[None, :] + head_offsets).reshape(-1) for ch in batch.chunks]
        if batch.single_index is not None:
            single_rows = (batch.single_slots.reshape(1, -1) + head_offsets).reshape(-1)
        for li, layer in enumerate(self.layers):
            h = self._rms_norm(x, layer["attn_norm"])
            qkv = h @ layer["wqkv"]
            q = self._rotate(qkv[:, :q_end].reshape(T, c.heads, hd), cos, sin)
            k = self._rotate(qkv[:, q_end:k_end].reshape(T, c.kv_heads, hd), cos, sin)
            v = qkv[:, k_end:].reshape(T, c.kv_heads, hd)
            pool_k, pool_v = pool.k[li], pool.v[li]  # [Hkv, slots, d]
            pool_k.index_copy_(1, batch.write_slots, k.transpose(0, 1))
            pool_v.index_copy_(1, batch.write_slots, v.transpose(0, 1))
            rows_k, rows_v = pool_k.view(-1, hd), pool_v.view(-1, hd)  # row h * slots + s
            out = torch.empty_like(q)
            for ch, rows in zip(batch.chunks, chunk_rows):
                span = slice(ch.offset, ch.offset + ch.length)
                out[span] = self._attend(q[span], rows_k.index_select(0, rows).view(c.kv_heads, -1, hd),
                                         rows_v.index_select(0, rows).view(c.kv_heads, -1, hd), ch.hidden)
            if batch.single_index is not None:
                m, L = batch.single_slots.shape
                ks = rows_k.index_select(0, single_rows).view(c.kv_heads, m, L, hd)
                vs = rows_v.index_select(0, single_rows).view(c.kv_heads, m, L, hd)
                qs = q.index_select(0, batch.single_index)
                out.index_copy_(0, batch.single_index, self._attend_singles(qs, ks, vs, batch.single_hidden))
            x = x + out.reshape(T, c.heads * hd) @ layer["wo"]
            h = self._rms_norm(x, layer["mlp_norm"])
            gate, up = (h @ layer["w_gate_up"]).chunk(2, dim=-1)
            x = x + (F.silu(gate) * up) @ layer["w_down"]
        h = self._rms_norm(x.index_select(0, batch.logits_at), self.final_norm)
        logits = (h @ self.lm_head).float()
        next_tokens = logits.argmax(dim=-1)
        return (next_tokens, logits) if return_logits else next_tokens

    @torch.no_grad()
    def reference_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits at every position of one sequence, by the textbook computation: no cache, no
        packing, keys repeated to every query head, a causal mask. The tests' ground truth."""
        c = self.config
        hd, n = c.head_dim, tokens.shape[0]
        x = F.embedding(tokens.to(self.device), self.embedding)
        cos, sin = self._rope(torch.arange(n, device=self.device))
        causal = torch.ones(n, n, dtype=torch.bool, device=self.device).tril()
        q_end, k_end = c.heads * hd, (c.heads + c.kv_heads) * hd
        for layer in self.layers:
            h = self._rms_norm(x, layer["attn_norm"])
            qkv = h @ layer["wqkv"]
            q = self._rotate(qkv[:, :q_end].reshape(n, c.heads, hd), cos, sin).transpose(0, 1)
            k = self._rotate(qkv[:, q_end:k_end].reshape(n, c.kv_heads, hd), cos, sin).transpose(0, 1)
            v = qkv[:, k_end:].reshape(n, c.kv_heads, hd).transpose(0, 1)
            group = c.heads // c.kv_heads
            k = k.repeat_interleave(group, dim=0)
            v = v.repeat_interleave(group, dim=0)
            scores = (q @ k.transpose(1, 2)).float() * self.scale
            probs = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1).to(v.dtype)
            out = (probs @ v).transpose(0, 1).reshape(n, c.heads * hd)
            x = x + out @ layer["wo"]
            h = self._rms_norm(x, layer["mlp_norm"])
            gate, up = (h @ layer["w_gate_up"]).chunk(2, dim=-1)
            x = x + (F.silu(gate) * up) @ layer["w_down"]
        return (self._rms_norm(x, self.final_norm) @ self.lm_head).float()
