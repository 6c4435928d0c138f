"""The collector forms the batches core::step forms: with each measured duration replaced by the
engine's profile time t(b), its trace and `batchproof simulate`'s trace of the same arrivals
hold the same iterations (both stop when the last arrival has joined). The batches do not
depend on the forward passes, so none are run here (test_run runs them). Needs the batchproof binary: ctest passes its path in
BATCHPROOF_BINARY; without it the test is skipped."""

import json
import math
import os
import subprocess
import tempfile
import unittest

from collect.arrivals import read_arrivals
from collect.runner import EngineSetup, run
from collect.spec_reader import read_engine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = os.path.join(ROOT, "examples", "paper_policies.bp")
BINARY = os.environ.get("BATCHPROOF_BINARY", "")


def paper_profile_time(tokens):
    """codellama34b_a100: t(b) = 11.28 ms + 35.47 ms * ceil(b / 128)."""
    return 0.01128 + 0.03547 * math.ceil(tokens / 128)


def iterations(path):
    with open(path, encoding="utf-8") as f:
        return [r for r in map(json.loads, f) if r["type"] == "iteration"]


@unittest.skipUnless(BINARY and os.path.exists(BINARY), "set BATCHPROOF_BINARY to the batchproof binary")
class ConformanceTest(unittest.TestCase):
    def test_every_paper_engine_forms_the_simulators_batches(self):
        with tempfile.TemporaryDirectory() as d:
            arrivals_file = os.path.join(d, "arrivals.jsonl")
            # 0.86 of the compute capacity: queues build up and drain, batches fill and mix.
            subprocess.run([BINARY, "arrivals", os.path.join(ROOT, "examples", "workloads.bp"), "--workload", "chat",
                            "--rate", "12", "--requests", "400", "--seed", "3", "-o", arrivals_file],
                           check=True, capture_output=True)
            arrivals = read_arrivals(arrivals_file)
            self.assertEqual(len(arrivals), 400)
            for engine in ("sarathi", "orca", "orca_split", "vllm_vanilla", "faster_transformer"):
                with self.subTest(engine=engine):
                    sim_trace = os.path.join(d, engine + "-sim.jsonl")
                    subprocess.run([BINARY, "simulate", SPEC, "--engine", engine, "--workload", "chat",
                                    "--arrivals", arrivals_file, "--trace", sim_trace],
                                   check=True, capture_output=True)
                    e = read_engine(SPEC, engine)
                    ours = os.path.join(d, engine + ".jsonl")
                    run(arrivals, EngineSetup(e.policy, e.token_budget, engine, SPEC, e.profile), None, ours,
                        duration_of=paper_profile_time, drain=False)
                    expected, got = iterations(sim_trace), iterations(ours)
                    self.assertGreater(len(expected), 300)
                    self.assertEqual(len(got), len(expected))
                    for want, have in zip(expected, got):
                        for key in ("index", "items", "tokens", "waiting", "running", "kv_used"):
                            self.assertEqual(have[key], want[key], f"iteration {want['index']}: {key}")
                        for key in ("arrivals", "departures"):
                            self.assertEqual([json.dumps(x, sort_keys=True) for x in have.get(key, [])],
                                             [json.dumps(x, sort_keys=True) for x in want.get(key, [])],
                                             f"iteration {want['index']}: {key}")
                        self.assertAlmostEqual(have["start_s"], want["start_s"], delta=1e-9)
                        self.assertAlmostEqual(have["end_s"], want["end_s"], delta=1e-9)


if __name__ == "__main__":
    unittest.main()
