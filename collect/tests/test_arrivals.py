"""Reading arrivals files as `batchproof arrivals` writes them, and refusing bad ones."""

import os
import unittest

from collect.arrivals import Arrival, ArrivalsError, parse_arrivals, read_arrivals

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


class ArrivalsTest(unittest.TestCase):
    def test_reads_a_file_written_by_batchproof_arrivals(self):
        # `batchproof arrivals examples/workloads.bp --workload chat --requests 5 --seed 1`
        got = read_arrivals(os.path.join(DATA, "chat-5.jsonl"))
        self.assertEqual(got, [Arrival(0.08621450276288893, 64, 8), Arrival(0.21485506442049646, 55, 22),
                               Arrival(0.398291546755395, 36, 9), Arrival(0.5242439016216478, 244, 97),
                               Arrival(0.6866426470870745, 156, 197)])

    def test_blank_lines_byte_order_mark_classes_whole_floats_and_stable_sorting(self):
        lines = ['\ufeff{"time": 2, "prompt": 5, "output": 1}', "", "  ",
                 '{"time": 1.5, "prompt": 3.0, "output": 0, "class": "chat"}',
                 '{"time": 1.5, "prompt": 7, "output": 2, "extra": true}']
        self.assertEqual(parse_arrivals(lines), [Arrival(1.5, 3, 0, "chat"), Arrival(1.5, 7, 2), Arrival(2.0, 5, 1)])

    def test_bad_records_name_their_line(self):
        cases = [
            ('{"time": 1, "prompt": 5}', "f:1: missing field \"output\""),
            ('{"time": 1, "prompt": 2.5, "output": 1}', "f:1: prompt: expected a non-negative whole number of tokens, found 2.5"),
            ('{"time": 1, "prompt": -1, "output": 1}', "f:1: prompt: expected a non-negative whole number of tokens, found -1"),
            ('{"time": "1", "prompt": 1, "output": 1}', 'f:1: time: expected a finite number of seconds, found "1"'),
            ('{"time": Infinity, "prompt": 1, "output": 1}', "f:1: time: expected a finite number of seconds, found Infinity"),
            ('{"time": 1, "prompt": 1, "output": 1, "class": 3}', "f:1: class: expected a string, found 3"),
            ("[1, 2]", "f:1: expected a JSON object"),
            ('{"time": 1,', "f:1: malformed JSON: Expecting property name enclosed in double quotes"),
        ]
        for line, message in cases:
            with self.subTest(line=line):
                with self.assertRaises(ArrivalsError) as e:
                    parse_arrivals([line], "f")
                self.assertEqual(str(e.exception), message)
        with self.assertRaises(ArrivalsError) as e:
            parse_arrivals(["", '{"time": 0, "prompt": 1, "output": 1}', "nope"], "f")
        self.assertTrue(str(e.exception).startswith("f:3: malformed JSON"))

    def test_an_empty_or_missing_file_is_an_error(self):
        with self.assertRaises(ArrivalsError) as e:
            parse_arrivals(["", " "], "f")
        self.assertEqual(str(e.exception), "f: no arrivals")
        with self.assertRaises(ArrivalsError) as e:
            read_arrivals(os.path.join(DATA, "no-such-file.jsonl"))
        self.assertIn("cannot read: No such file or directory", str(e.exception))


if __name__ == "__main__":
    unittest.main()
