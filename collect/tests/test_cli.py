"""The command line: a run from a spec, a profile, and bad input (exit code 3, one message)."""

import contextlib
import io
import os
import tempfile
import unittest

import torch

from collect.__main__ import main
from collect.tests.trace_check import check_form, check_run

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = os.path.join(ROOT, "examples", "paper_policies.bp")
ARRIVALS = os.path.join(ROOT, "collect", "tests", "data", "chat-5.jsonl")


def call(*argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as e:
            code = e.code
    return code, err.getvalue()


class CliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.dir.name, "trace.jsonl")

    def tearDown(self):
        self.dir.cleanup()

    def test_run_from_a_spec(self):
        code, err = call("run", "--spec", SPEC, "--engine", "orca_split", "--arrivals", ARRIVALS, "--model", "tiny",
                         "--device", "cpu", "--out", self.out)
        self.assertEqual(code, 0, err)
        with open(self.out, encoding="utf-8") as f:
            header, iterations = check_form(f.readlines())
        self.assertEqual({k: header[k] for k in ("source", "spec", "engine", "profile", "token_budget")},
                         {"source": "collect", "spec": SPEC, "engine": "orca_split", "profile": "codellama34b_a100",
                          "token_budget": 512})
        for words in ("policy orca_split, token budget 512", "model tiny: 2 layers", "torch ", "command: python3 -m collect run"):
            self.assertIn(words, header["notes"])
        known, present = check_run(header, iterations)
        self.assertEqual((len(known), present), (5, set()))
        self.assertIn("every request completed", err)

    def test_profile(self):
        code, err = call("profile", "--model", "tiny", "--out", self.out, "--max-tokens", "8", "--contexts", "4,16",
                         "--max-decode", "4", "--warmup", "1", "--repeats", "2", "--name", "cpu_tiny")
        self.assertEqual(code, 0, err)
        with open(self.out, encoding="utf-8") as f:
            header, iterations = check_form(f.readlines())
        self.assertEqual((header["engine"], header["profile"]), ("profile", "cpu_tiny"))
        points = [(r["batch_kind"], r["tokens"], r["context"]) for r in iterations[::2]]
        self.assertEqual(points, [("prefill", b, 0) for b in (1, 2, 4, 8)] +
                         [("decode", b, c) for c in (4, 16) for b in (1, 2, 4)] +
                         [("mixed", b, 512) for b in (2, 4, 8)])
        for r in iterations:
            self.assertGreater(r["end_s"], r["start_s"])
            decodes = sum(1 for i in r["items"] if i.get("decode"))
            self.assertEqual(decodes, {"prefill": 0, "decode": r["tokens"], "mixed": r["tokens"] // 2}[r["batch_kind"]])

    def test_bad_input_exits_3_with_one_message(self):
        cases = [
            (("run", "--spec", SPEC, "--engine", "nope"), "no engine 'nope'"),
            (("run", "--spec", os.path.join(ROOT, "examples", "ci.bp"), "--engine", "ours"), "sets more than profile"),
            (("run", "--policy", "fifo", "--token-budget", "8"), "unknown policy 'fifo'"),
            (("run", "--policy", "sarathi"), "give --spec and --engine, or --policy and --token-budget"),
            (("run", "--policy", "sarathi", "--token-budget", "8", "--model", "huge"), "unknown model 'huge'"),
            (("run", "--spec", SPEC, "--engine", "sarathi", "--arrivals", SPEC), "malformed JSON"),
        ]
        for argv, message in cases:
            with self.subTest(argv=argv):
                argv = list(argv) + ["--out", self.out] + ([] if "--arrivals" in argv else ["--arrivals", ARRIVALS])
                code, err = call(*argv)
                self.assertEqual(code, 3)
                self.assertIn(message, err)
                self.assertFalse(os.path.exists(self.out))
        code, err = call("run", "--bogus")
        self.assertEqual(code, 3)


if __name__ == "__main__":
    unittest.main()
