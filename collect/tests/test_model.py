"""The packed forward pass with KV caches computes what separate full forward passes compute."""

import unittest

import numpy as np
import torch

from collect.config import model_config
from collect.executor import Executor, Sequence, Work, pack, prompt_tokens
from collect.model import Model

torch.set_num_threads(1)


class PackedForwardTest(unittest.TestCase):
    def setUp(self):
        self.model = Model(model_config("tiny"), seed=3)
        # A small pool with blocks of 4, so that requests' slots interleave and the pool grows.
        self.pool = self.model.new_kv_pool(capacity_tokens=16, block_size=4)
        self.vocab = self.model.config.vocab

    def sequence(self, rid, prompt):
        return Sequence(rid, prompt_tokens(7, rid, prompt, self.vocab), self.pool)

    def logits(self, work):
        """Runs one packed batch, asking for the logits of every new token; advances the caches."""
        batch = pack(self.model, work)
        batch.logits_at = torch.arange(batch.tokens.shape[0])
        _, logits = self.model.forward(batch, self.pool, return_logits=True)
        out, offset = {}, 0
        for w in work:
            n = 1 if w.decode else w.prefill
            out[w.seq.id] = logits[offset:offset + n]
            offset += n
            w.seq.cache.length += n
        return out

    def reference(self, seq, generated):
        tokens = np.concatenate([seq.prompt_tokens, np.array(generated, dtype=np.int64)])
        return self.model.reference_logits(torch.from_numpy(tokens))

    def test_mixed_batches_match_separate_full_passes(self):
        a, b, c = self.sequence(0, 13), self.sequence(1, 6), self.sequence(2, 9)
        # Iteration 1: a's first chunk (8 tokens) and b's whole prompt.
        got1 = self.logits([Work(a, prefill=8), Work(b, prefill=6)])
        b_next = b.next_token = int(got1[1][-1].argmax())
        # Iteration 2: b decodes, a's last chunk, c's first chunk of 1 token (a one-token prefill).
        got2 = self.logits([Work(b, decode=True), Work(a, prefill=5), Work(c, prefill=1)])
        # Iteration 3: a's first decode, fed the token its last prompt token chose; c's rest.
        a_next = a.next_token = int(got2[0][-1].argmax())
        got3 = self.logits([Work(a, decode=True), Work(c, prefill=8)])
        ref_a = self.reference(a, [a_next])
        ref_c = self.reference(c, [])
        torch.testing.assert_close(got1[0], ref_a[:8], rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(got2[0], ref_a[8:13], rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(got3[0], ref_a[13:14], rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(got2[2], ref_c[:1], rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(got3[2], ref_c[1:9], rtol=1e-4, atol=1e-4)
        ref_b = self.reference(b, [b_next])
        torch.testing.assert_close(got1[1], ref_b[:6], rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(got2[1], ref_b[6:7], rtol=1e-4, atol=1e-4)

    def test_decodes_of_different_lengths_batched_together(self):
        seqs = [self.sequence(i, n) for i, n in enumerate([3, 11, 7, 1])]
        self.logits([Work(s, prefill=len(s.prompt_tokens)) for s in seqs])
        fed = {}
        for s in seqs:
            s.next_token = fed[s.id] = (5 * s.id + 1) % self.vocab
        got = self.logits([Work(s, decode=True) for s in reversed(seqs)])
        for s in seqs:
            ref = self.reference(s, [fed[s.id]])
            torch.testing.assert_close(got[s.id], ref[-1:], rtol=1e-4, atol=1e-4)
        self.assertGreater(self.pool.grown, 0)

    def test_executor_feeds_each_request_its_own_greedy_tokens(self):
        executor = Executor(self.model, self.pool)
        a, b = self.sequence(0, 5), self.sequence(1, 4)
        executor.run([Work(a, prefill=5), Work(b, prefill=2)])
        executor.run([Work(a, decode=True), Work(b, prefill=2)])
        executor.run([Work(a, decode=True), Work(b, decode=True)])
        for s, outputs in ((a, 2), (b, 1)):
            self.assertEqual(len(s.outputs), outputs)
            tokens = list(s.prompt_tokens)
            for _ in range(outputs + 1):  # greedy continuation from scratch
                tokens.append(int(self.model.reference_logits(torch.tensor(tokens))[-1].argmax()))
            self.assertEqual(s.outputs, tokens[len(s.prompt_tokens) + 1:])
            self.assertEqual(s.cache.length, len(s.prompt_tokens) + outputs)


if __name__ == "__main__":
    unittest.main()
