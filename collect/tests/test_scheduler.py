"""Batches formed by the four stylised policies, worked out by hand from core::step's rules."""

import unittest

from collect.policies import POLICIES, policy_from_text, policy_text
from collect.scheduler import EngineState, Item, Request, form_batch, step


def state_of(running, waiting):
    """running/waiting: (id, prompt, output, prefilled, decoded) tuples."""
    s = EngineState()
    for rid, prompt, output, prefilled, decoded in running:
        s.running.append(Request(rid, 0.0, prompt, output, prefilled, decoded, prefilled + decoded))
        s.kv_used += prefilled + decoded
    for rid, prompt, output, _, _ in waiting:
        s.waiting.append(Request(rid, 0.0, prompt, output))
    return s


def batch(policy, budget, state):
    return [(i.id, i.prefill, i.decode) for i in form_batch(policy, budget, state).items]


# One state for every policy: request 0 decodes (prompt done, 1 of 3 outputs), request 1 is
# started (4 of 10 prompt tokens), requests 2 (5 tokens) and 3 (2 tokens) wait.
RUNNING = [(0, 4, 3, 4, 1), (1, 10, 2, 4, 0)]
WAITING = [(2, 5, 1, 0, 0), (3, 2, 1, 0, 0)]


class PolicyBatchTest(unittest.TestCase):
    def test_sarathi_decodes_first_then_started_then_waiting_chunks(self):
        # decode 0 (1), the rest of 1's prompt (6), 1 token of 2's; 3 gets none and stops the rule.
        self.assertEqual(batch("sarathi", 8, state_of(RUNNING, WAITING)), [(0, 0, True), (1, 6, False), (2, 1, False)])

    def test_orca_split_prefills_first_and_leaves_the_decode_out_when_full(self):
        self.assertEqual(batch("orca_split", 8, state_of(RUNNING, WAITING)), [(1, 6, False), (2, 2, False)])

    def test_orca_whole_prompts_block_at_the_head_of_the_line(self):
        # 2's 5 tokens do not fit in the 2 left: the rule stops (3's 2 tokens would have fit).
        self.assertEqual(batch("orca", 8, state_of(RUNNING, WAITING)), [(1, 6, False), (0, 0, True)])

    def test_vllm_vanilla_runs_prefill_only_batches_while_a_prefill_is_pending(self):
        self.assertEqual(batch("vllm_vanilla", 8, state_of(RUNNING, WAITING)), [(1, 6, False)])
        self.assertEqual(batch("vllm_vanilla", 8, state_of(RUNNING[:1], [])), [(0, 0, True)])

    def test_faster_transformer_runs_decode_only_batches_while_anything_decodes(self):
        self.assertEqual(batch("faster_transformer", 8, state_of(RUNNING, WAITING)), [(0, 0, True)])
        # Nothing decodes: whole prompts from the waiting queue while they fit (5 + 2 of 8).
        self.assertEqual(batch("faster_transformer", 8, state_of([], WAITING)), [(2, 5, False), (3, 2, False)])
        self.assertEqual(batch("faster_transformer", 6, state_of([], WAITING)), [(2, 5, False)])

    def test_decodes_stop_at_the_budget(self):
        running = [(i, 1, 5, 1, 0) for i in range(5)]
        self.assertEqual(batch("sarathi", 3, state_of(running, [])), [(i, 0, True) for i in range(3)])

    def test_a_prompt_longer_than_the_budget_freezes_whole_prompt_policies(self):
        waiting = [(0, 9, 1, 0, 0), (1, 1, 1, 0, 0)]
        for policy in ("orca", "vllm_vanilla", "faster_transformer"):
            self.assertEqual(batch(policy, 8, state_of([], waiting)), [], policy)
        self.assertEqual(batch("orca_split", 8, state_of([], waiting)), [(0, 8, False)])

    def test_a_prompt_finished_in_this_batch_decodes_only_in_the_next(self):
        s = state_of([], [(0, 3, 2, 0, 0)])
        self.assertEqual([(i.id, i.prefill, i.decode) for i in step("orca_split", 8, s).items], [(0, 3, False)])
        self.assertEqual([(i.id, i.prefill, i.decode) for i in step("orca_split", 8, s).items], [(0, 0, True)])
        last = step("orca_split", 8, s)
        self.assertEqual([r.id for r in last.departures], [0])
        self.assertEqual((len(s.running), len(s.waiting), s.kv_used), (0, 0, 0))


class AdvanceTest(unittest.TestCase):
    def test_admitted_requests_join_the_running_set_in_id_order_and_kv_counts_processed_tokens(self):
        s = state_of(RUNNING, WAITING)
        out = step("sarathi", 8, s)
        self.assertEqual(out.admitted, [2])
        self.assertEqual([r.id for r in s.running], [0, 1, 2])
        self.assertEqual([r.id for r in s.waiting], [3])
        self.assertEqual([(r.prefilled, r.decoded) for r in s.running], [(4, 2), (10, 0), (1, 0)])
        self.assertEqual(s.kv_used, 6 + 10 + 1)
        self.assertEqual(out.departures, [])

    def test_departures_free_their_kv(self):
        s = state_of([(0, 2, 1, 2, 0), (1, 2, 3, 2, 0)], [])
        out = step("sarathi", 8, s)
        self.assertEqual([r.id for r in out.departures], [0])
        self.assertEqual([r.id for r in s.running], [1])
        self.assertEqual(s.kv_used, 3)

    def test_items_count_their_tokens(self):
        self.assertEqual(Item(1, 5, False).tokens() + Item(2, 0, True).tokens(), 6)


class PolicyTextTest(unittest.TestCase):
    def test_each_policy_is_recognised_from_its_text_in_any_layout(self):
        for name in POLICIES:
            self.assertEqual(policy_from_text(policy_text(name)), name)
        self.assertEqual(policy_from_text("\n when decoding > 0 {\n decode running fcfs\n }"
                                          " else {prefill waiting fcfs whole}\n"), "faster_transformer")
        self.assertIsNone(policy_from_text("decode running fcfs prefill waiting fcfs chunk"))


if __name__ == "__main__":
    unittest.main()
