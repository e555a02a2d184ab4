"""A MNIST preset fit killed with SIGKILL and resumed from its checkpoint, against the same
fit run without interruption: the two must end bit-identical.

Run from the repository root (``DIR`` holds the MNIST IDX files)::

    python benchmarks/resume_mnist_preset.py --data-home DIR

It fits the comparison's MNIST preset (``skae.compare``'s ``presets.json``, default
``denoising_ae``: 2000 relu units, masking noise 0.1, Adam, batches of 100, 10 epochs) on
the 60000 training images three times, each in its own process:

1. without interruption, with ``callbacks=[Checkpoint(A)]``;
2. with ``callbacks=[Checkpoint(B)]``, killed by SIGKILL (from a callback, so that the
   kill lands at a known epoch, ``--kill-at``) after that epoch;
3. the same command as 2 again, which resumes from B's last checkpoint.

and compares the fitted parameters (SHA-256 of every fitted array) and loss curves of 1
and 3. The report is printed and written to ``benchmarks/results/resume_mnist_preset.md``.
"""

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "benchmarks" / "results" / "resume_mnist_preset.md"


def child(args):
    """One fit of the preset; writes its fitted digest to ``args.result``."""
    from skae.callbacks import Checkpoint
    from skae.compare import METHODS, PRESETS
    from skae.datasets import load_mnist

    X = load_mnist(data_home=args.data_home, return_X_y=True)[0]
    params = dict(PRESETS["mnist"][args.preset])
    width = params.pop("n_components")
    model = METHODS[args.preset](width, args.random_state, params)

    class KillAt:
        def on_epoch_end(self, info):
            if info["epoch"] == args.kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    callbacks = [Checkpoint(args.checkpoint)] + ([KillAt()] if args.kill_at else [])
    epochs_here = []

    class Count:
        def on_epoch_end(self, info):
            epochs_here.append(info["epoch"])

    model.set_params(callbacks=[Count(), *callbacks])
    started = time.perf_counter()
    model.fit(X)
    digest = hashlib.sha256()
    for name in sorted(vars(model)):
        value = getattr(model, name)
        if isinstance(value, np.ndarray):
            digest.update(value.tobytes())
    Path(args.result).write_text(
        json.dumps(
            {
                "sha256": digest.hexdigest(),
                "loss_curve": [float(v) for v in model.loss_curve_],
                "epochs_run_here": epochs_here,
                "seconds": time.perf_counter() - started,
                "params": repr(model),
            }
        )
    )


def run(args, checkpoint, result, kill_at=0):
    command = [
        sys.executable,
        __file__,
        "--child",
        "--data-home",
        args.data_home,
        "--preset",
        args.preset,
        "--random-state",
        str(args.random_state),
        "--checkpoint",
        str(checkpoint),
        "--result",
        str(result),
        "--kill-at",
        str(kill_at),
    ]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True)
    return completed.returncode, time.perf_counter() - started, completed.stderr[-2000:]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--preset", default="denoising_ae")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--kill-at", type=int, default=6, help="the epoch after which to kill")
    parser.add_argument("--output", default=str(OUTPUT))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        whole_code, whole_s, whole_err = run(args, scratch / "A", scratch / "whole.json")
        killed_code, killed_s, _ = run(args, scratch / "B", scratch / "killed.json", args.kill_at)
        left = sorted(p.name for p in (scratch / "B").glob("*"))
        resumed_code, resumed_s, resumed_err = run(args, scratch / "B", scratch / "resumed.json")
        assert whole_code == 0, whole_err
        assert resumed_code == 0, resumed_err
        whole = json.loads((scratch / "whole.json").read_text())
        resumed = json.loads((scratch / "resumed.json").read_text())
        removed = not (scratch / "B").exists()

    same = whole["sha256"] == resumed["sha256"] and whole["loss_curve"] == resumed["loss_curve"]
    command = f"python benchmarks/resume_mnist_preset.py {' '.join(argv or sys.argv[1:])}"
    report = "\n".join(
        [
            "# A MNIST preset fit, killed and resumed, against the same fit uninterrupted",
            "",
            f"- command: `{command.strip()}`",
            f"- model: `{whole['params']}` on the 60000 MNIST training images, seed "
            f"{args.random_state}, `callbacks=[Checkpoint(path)]` (every epoch)",
            "",
            "| run | exit | wall s | epochs run in that process | fitted SHA-256 |",
            "|---|---|---:|---|---|",
            f"| uninterrupted | {whole_code} | {whole_s:.0f} | 1-{len(whole['loss_curve'])} | "
            f"`{whole['sha256'][:16]}` |",
            f"| killed (SIGKILL after epoch {args.kill_at}) | {killed_code} "
            f"({'SIGKILL' if killed_code == -signal.SIGKILL else 'not killed'}) | "
            f"{killed_s:.0f} | 1-{args.kill_at} | (none: killed; left {left}) |",
            f"| resumed (the same command again) | {resumed_code} | {resumed_s:.0f} | "
            f"{resumed['epochs_run_here'][0]}-{resumed['epochs_run_here'][-1]} | "
            f"`{resumed['sha256'][:16]}` |",
            "",
            f"Fitted parameters and loss curves identical: **{'yes' if same else 'NO'}**; "
            f"the checkpoint folder removed after the clean end: {'yes' if removed else 'no'}.",
            f"Final loss {whole['loss_curve'][-1]!r} (uninterrupted), "
            f"{resumed['loss_curve'][-1]!r} (resumed).",
            "",
        ]
    )
    print(report)
    Path(args.output).write_text(report)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
