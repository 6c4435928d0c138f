"""python3 -m collect run|profile ...: see collect/README.md."""

import argparse
import datetime
import shlex
import sys

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 3, 4


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # a bad command line is bad input (exit 3), as in batchproof
        self.print_usage(sys.stderr)
        print(f"collect: error: {message}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def common_options(p):
    p.add_argument("--model", default="tiny", help="model shape: tiny, small, llama3-8b (default tiny)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"],
                   help="weights and activations (default: float32 on CPU, bfloat16 on CUDA)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and prompts (default 0)")
    p.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                   help="on a CPU: measure durations by the wall clock (default) or by the process's CPU time "
                        "(a CPU shared with other work; use with --threads 1); CUDA events on a GPU")
    p.add_argument("--out", required=True, help="trace to write (.jsonl, or .jsonl.gz)")


def build_parser():
    parser = Parser(prog="python3 -m collect", description="batchproof's real-run collector")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    run = sub.add_parser("run", help="run an engine's policy on real forward passes over an arrivals file")
    run.add_argument("--spec", help="spec file (.bp) that defines the engine")
    run.add_argument("--engine", help="engine name in the spec")
    run.add_argument("--policy", help="without --spec: sarathi, orca, orca_split, vllm_vanilla, faster_transformer")
    run.add_argument("--token-budget", type=int, help="without --spec: the token budget b_max")
    run.add_argument("--arrivals", required=True, help="arrivals file written by `batchproof arrivals`")
    run.add_argument("--max-seconds", type=float, help="stop after this much wall clock")
    run.add_argument("--kv-pool-tokens", type=int, default=None,
                     help="initial KV pool in tokens (it grows when full; default 4096 on CPU, 65536 on CUDA)")
    common_options(run)
    prof = sub.add_parser("profile", help="measure t(b) over prefill, decode and mixed batches")
    prof.add_argument("--name", help="profile name for the header (default: DEVICE_MODEL)")
    prof.add_argument("--max-tokens", type=int, default=512, help="largest batch in tokens (default 512)")
    prof.add_argument("--max-decode", type=int, default=256, help="largest decode batch in requests (default 256)")
    prof.add_argument("--contexts", default="128,512,1024",
                      help="decode contexts in tokens, comma-separated (default 128,512,1024)")
    prof.add_argument("--mixed-context", type=int, default=512, help="context of the decodes in mixed batches")
    prof.add_argument("--max-kv-tokens", type=int, default=None,
                      help="leave out points that need more KV tokens (default: from the device's memory)")
    prof.add_argument("--warmup", type=int, default=2, help="unmeasured passes per point (default 2)")
    prof.add_argument("--repeats", type=int, default=5, help="measured passes per point (default 5)")
    common_options(prof)
    return parser


def known_model(name):
    from collect.config import model_config
    try:
        return model_config(name)
    except ValueError as e:
        raise UsageError(str(e)) from None


def setup_torch(args):
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda, but torch sees no CUDA device")
    if device.type not in ("cpu", "cuda"):
        raise UsageError(f"--device {args.device}: expected cpu or cuda")
    if device.type == "cuda" and args.clock != "wall":
        raise UsageError("--clock cpu is for CPU runs (a GPU's passes are timed with CUDA events)")
    dtype = args.dtype
    if dtype == "auto":
        dtype = "bfloat16" if device.type == "cuda" else "float32"
    return device, getattr(torch, dtype)


def timing(device, clock):
    if device.type == "cuda":
        return "CUDA events"
    return "process CPU time (process_time)" if clock == "cpu" else "wall clock (perf_counter)"


def provenance(args, device, dtype, config):
    from collect.environment import device_description, software
    command = "python3 -m collect " + " ".join(shlex.quote(a) for a in args.argv)
    return (f"model {config.describe()}, random weights (seed {args.seed}), {str(dtype).replace('torch.', '')}; "
            f"{device_description(device)}; {software()}; {datetime.date.today().isoformat()}; command: {command}")


def command_run(args):
    from collect.arrivals import read_arrivals
    from collect.config import model_config
    from collect.model import Model
    from collect.policies import POLICIES
    from collect.runner import EngineSetup, run
    from collect.spec_reader import read_engine

    if args.spec:
        if not args.engine:
            raise UsageError("--spec needs --engine")
        if args.policy or args.token_budget:
            raise UsageError("give either --spec with --engine, or --policy with --token-budget")
        e = read_engine(args.spec, args.engine)
        setup = EngineSetup(e.policy, e.token_budget, e.name, e.spec_file, e.profile)
    else:
        if not args.policy or not args.token_budget:
            raise UsageError("give --spec and --engine, or --policy and --token-budget")
        if args.policy not in POLICIES:
            raise UsageError(f"unknown policy '{args.policy}' (known: {', '.join(POLICIES)})")
        if args.token_budget < 1:
            raise UsageError("--token-budget must be at least 1")
        setup = EngineSetup(args.policy, args.token_budget, args.policy)
    arrivals = read_arrivals(args.arrivals)
    config = known_model(args.model)
    device, dtype = setup_torch(args)
    model = Model(config, device=device, dtype=dtype, seed=args.seed)
    pool = args.kv_pool_tokens or (65536 if device.type == "cuda" else 4096)
    notes = (f"policy {setup.policy}, token budget {setup.token_budget}; arrivals {args.arrivals} "
             f"({len(arrivals)} requests); duration = packing the inputs + one forward pass + reading back the "
             f"next tokens, {timing(device, args.clock)}; " + provenance(args, device, dtype, config) +
             "; clock: starts at the arrivals' origin, advances by the measured durations, jumps to the next "
             "arrival when idle")

    def progress(s, clock):
        print(f"  {s.iterations} iterations, clock {clock:.2f} s, {s.arrived} arrived, {s.completed} completed",
              file=sys.stderr, flush=True)

    s = run(arrivals, setup, model, args.out, notes=notes, max_seconds=args.max_seconds, seed=args.seed,
            kv_pool_tokens=pool, progress=progress, clock=args.clock)
    print(f"{args.out}: {s.iterations} iterations, {s.tokens} tokens, {s.arrived} arrived, {s.completed} completed, "
          f"clock {s.clock_s:.3f} s ({s.tokens / s.clock_s if s.clock_s else 0:.1f} tokens/s), wall {s.wall_s:.1f} s; "
          f"{s.ended}", file=sys.stderr)
    print(f"  {s.overhead_note()}", file=sys.stderr)
    return EXIT_OK


def command_profile(args):
    import torch
    from collect.config import model_config
    from collect.model import Model
    from collect.profiler import profile

    config = known_model(args.model)
    device, dtype = setup_torch(args)
    try:
        contexts = [int(x) for x in args.contexts.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--contexts {args.contexts}: expected whole numbers separated by commas") from None
    if not contexts or min(contexts) < 1 or args.max_tokens < 1 or args.repeats < 1 or args.warmup < 0:
        raise UsageError("--contexts, --max-tokens and --repeats must be positive, --warmup not negative")
    element = torch.tensor([], dtype=dtype).element_size()
    max_kv = args.max_kv_tokens
    if max_kv is None:  # half of the free memory (device) or 2 GiB (CPU) for the KV pool
        free = torch.cuda.mem_get_info(device)[0] - 2 * config.parameters() * element \
            if device.type == "cuda" else 2 << 30
        max_kv = max(1024, int(0.5 * free) // config.kv_bytes_per_token(element))
    model = Model(config, device=device, dtype=dtype, seed=args.seed)
    name = args.name or f"{device.type}_{args.model}".replace("-", "_")
    notes = (f"profile points: warm-up {args.warmup}, {args.repeats} measured passes each; "
             f"duration = packing the inputs + one forward pass + reading back the next tokens, "
             f"{timing(device, args.clock)}; "
             + provenance(args, device, dtype, config))
    print(f"profiling {config.describe()} on {device}", file=sys.stderr)
    table = profile(model, args.out, name, notes, args.max_tokens, args.max_decode, contexts, args.mixed_context,
                    max_kv, args.warmup, args.repeats, seed=args.seed, clock=args.clock)
    print(f"{args.out}: {len(table)} points, {len(table) * args.repeats} measured passes", file=sys.stderr)
    return EXIT_OK


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    from collect.arrivals import ArrivalsError
    from collect.spec_reader import SpecError
    try:
        return command_run(args) if args.command == "run" else command_profile(args)
    except (UsageError, SpecError, ArrivalsError) as e:
        print(f"collect: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
