"""Fault injection: SIGKILL a training run at random steps, resume, and demand bitwise-equal parameters.

Kills right after a checkpoint step land while orbax's asynchronous save may still be writing; the
resumed run must then fall back to the previous finished checkpoint and still end bitwise equal.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).parents[1] / "train" / "_mlp_run.py"
STEPS, SEED = 30, 11
# Six kill points: drawn once from a seeded RNG (so a failure is reproducible), plus the step right
# after each of two checkpoints (checkpoint_every = 5 in the script), where an async save is in flight.
KILL_AT = sorted({*np.random.default_rng(2026).choice(np.arange(1, STEPS), 4, replace=False).tolist(), 6, 21})


def _run(workdir, kill_at=None):
    args = [sys.executable, str(SCRIPT), str(workdir), str(STEPS), str(SEED)]
    if kill_at is not None:
        args.append(str(kill_at))
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def _params(workdir):
    with np.load(Path(workdir) / "final_params.npz") as f:
        return {k: f[k] for k in f.files}


@pytest.mark.slow  # 13 training processes (~1 min on 2 cores)
def test_sigkill_at_random_steps_then_resume_is_bitwise_equal(tmp_path):
    assert len(KILL_AT) >= 5
    ref = tmp_path / "reference"
    out = _run(ref)
    assert out.returncode == 0, out.stderr
    want = _params(ref)
    survived = []
    for k in KILL_AT:
        d = tmp_path / f"kill{k}"
        out = _run(d, kill_at=k)
        assert out.returncode == -9, (k, out.returncode, out.stderr[-2000:])
        out = _run(d)
        assert out.returncode == 0, (k, out.stderr[-2000:])
        resumed = json.loads(out.stdout.splitlines()[-1])["resumed_from"]
        assert resumed is None or (resumed % 5 == 0 and resumed <= k), (k, resumed)
        got = _params(d)
        assert got.keys() == want.keys()
        for name in want:
            np.testing.assert_array_equal(got[name], want[name], err_msg=f"kill at step {k}, {name}")
        survived.append(k)
    assert survived == KILL_AT
