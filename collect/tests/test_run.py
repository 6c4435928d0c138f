"""Real runs of every policy on the tiny model: the trace's form, and batches that keep each
policy's rules (decode-first or prefill-first, whole prompts or chunks, the budget)."""

import os
import tempfile
import unittest

import torch

from collect.arrivals import Arrival
from collect.config import model_config
from collect.model import Model
from collect.runner import EngineSetup, run
from collect.tests.trace_check import check_form, check_run
from collect.trace_writer import open_text

torch.set_num_threads(1)
BUDGET = 16


def arrivals(n=14, longest=BUDGET):
    """Staggered arrivals (a few ms apart: the tiny model's passes take about a millisecond),
    prompts 1..longest tokens, outputs 1..5."""
    return [Arrival(0.002 * k * (k % 3), 1 + (7 * k) % longest, 1 + k % 5) for k in range(n)]


class RunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = Model(model_config("tiny"), seed=1)
        cls.dir = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def run_policy(self, policy, arrivals_list, name=None):
        path = os.path.join(self.dir.name, (name or policy) + ".jsonl")
        summary = run(arrivals_list, EngineSetup(policy, BUDGET, policy, "examples/paper_policies.bp", "p"),
                      self.model, path, notes="test")
        with open_text(path, "r") as f:
            header, iterations = check_form(f.readlines())
        return summary, header, iterations

    def test_trace_form_and_bookkeeping_for_every_policy(self):
        for policy in ("sarathi", "orca", "orca_split", "vllm_vanilla", "faster_transformer"):
            with self.subTest(policy=policy):
                summary, header, iterations = self.run_policy(policy, arrivals())
                self.assertEqual((header["source"], header["engine"], header["token_budget"]), ("collect", policy, 16))
                self.assertEqual((header["budget_form"], header["block_size"], header["accounting"]),
                                 ("plain", 1, "paper"))
                self.assertIn("per iteration (mean of", header["notes"])
                known, present = check_run(header, iterations)
                self.assertEqual((len(known), present), (14, set()))
                self.assertEqual(summary.ended, "every request completed")
                self.assertEqual(summary.iterations, len(iterations))

    def test_batches_keep_each_policys_rules(self):
        for policy in ("sarathi", "orca", "orca_split", "vllm_vanilla", "faster_transformer"):
            with self.subTest(policy=policy):
                _, header, iterations = self.run_policy(policy, arrivals(), policy + "-rules")
                check_policy(self, policy, iterations)

    def test_gzip_output(self):
        path = os.path.join(self.dir.name, "g.jsonl.gz")
        run(arrivals(4), EngineSetup("sarathi", BUDGET, "sarathi"), self.model, path)
        with open(path, "rb") as f:
            self.assertEqual(f.read(2), b"\x1f\x8b")
        with open_text(path, "r") as f:
            check_run(*check_form(f.readlines()))

    def test_a_prompt_over_the_budget_freezes_a_whole_prompt_policy(self):
        summary, _, iterations = self.run_policy("orca", [Arrival(0.0, 3, 1), Arrival(0.0, 17, 1)], "frozen")
        self.assertEqual([[(i["id"], i.get("prefill", 0)) for i in r["items"]] for r in iterations], [[(0, 3)], [(0, 0)]])
        self.assertEqual(summary.ended, "frozen: 1 requests present that the policy never schedules")

    def test_an_idle_engine_jumps_to_the_next_arrival(self):
        _, _, iterations = self.run_policy("sarathi", [Arrival(0.5, 2, 1), Arrival(7.25, 1, 1)], "idle")
        self.assertEqual([r["start_s"] for r in iterations if "arrivals" in r], [0.5, 7.25])


def check_policy(test, policy, iterations):
    """Rebuilds the state at each batch's start from the trace and checks the policy's rules."""
    req = {}
    for r in iterations:
        for a in r.get("arrivals", []):
            req[a["id"]] = dict(prompt=a["prompt"], output=a["output"], prefilled=0, decoded=0)
        live = [i for i in sorted(req) if req[i]["decoded"] < req[i]["output"] or req[i]["prefilled"] < req[i]["prompt"]]
        decoding = [i for i in live if req[i]["prefilled"] == req[i]["prompt"]]
        pending = [i for i in live if req[i]["prefilled"] < req[i]["prompt"]]
        items = [(i["id"], i.get("prefill", 0), bool(i.get("decode", 0))) for i in r["items"]]
        decodes = [i for i, _, d in items if d]
        prefills = [(i, p) for i, p, d in items if not d]
        kinds = ["d" if d else "p" for _, _, d in items]
        demand = sum(req[i]["prompt"] - req[i]["prefilled"] for i in pending) + len(decoding)
        whole = all(p == req[i]["prompt"] and req[i]["prefilled"] == 0 for i, p in prefills)
        full_decodes = decodes == decoding[:BUDGET] if policy in ("sarathi", "faster_transformer") else True
        test.assertTrue(full_decodes, f"{policy}: every decoding request up to the budget: {r}")
        if policy == "sarathi":
            test.assertEqual(kinds, sorted(kinds))  # decodes ("d") first
            test.assertEqual(r["tokens"], min(BUDGET, demand))  # work-conserving
            test.assertEqual([i for i, _ in prefills], pending[:len(prefills)])  # oldest first
        elif policy == "orca_split":
            test.assertEqual(kinds, sorted(kinds, reverse=True))  # prefills first
            test.assertEqual(r["tokens"], min(BUDGET, demand))
        elif policy == "orca":
            test.assertEqual(kinds, sorted(kinds, reverse=True))
            test.assertTrue(whole)
        elif policy == "vllm_vanilla":
            test.assertEqual(decodes == [], bool(pending))  # prefill-only while a prefill is pending
            test.assertTrue(whole)
            if not pending:
                test.assertEqual(decodes, decoding[:BUDGET])
        elif policy == "faster_transformer":
            test.assertEqual(prefills == [], bool(decoding))  # decode-only while anything decodes
            test.assertTrue(whole)
        for i, p, d in items:
            req[i]["prefilled"] += p
            req[i]["decoded"] += int(d)


if __name__ == "__main__":
    unittest.main()
