"""A run folder never hands one config's model to another: fresh starts, re-runs, shorter runs."""

import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from hepjax.config import ConfigError
from hepjax.train import TrainConfig, fit

sys.path.insert(0, str(Path(__file__).parents[1] / "train"))
import _mlp_run


def _fit(workdir, *, steps=6, lr=3e-3, resume=True, seed=3):
    init_key, run_key = jax.random.split(jax.random.PRNGKey(seed))
    cfg = TrainConfig(
        steps=steps, batch_size=32, learning_rate=lr, resume=resume, checkpoint_every=3, log_every=1, progress=False
    )
    return fit(_mlp_run.loss_fn, _mlp_run.mlp_init(init_key), _mlp_run.dataset(seed), cfg, workdir=workdir, key=run_key)


def _leaves(res):
    return [np.asarray(x) for x in jax.tree.leaves(res.state.params)]


def test_resume_false_moves_the_old_run_aside_and_the_next_run_resumes_the_new_model(tmp_path):
    a = _fit(tmp_path)
    b = _fit(tmp_path, lr=1e-3, resume=False)
    assert b.resumed_from is None and len(b.history) == 6
    previous = list((tmp_path / "previous").iterdir())
    assert len(previous) == 1 and sorted(p.name for p in previous[0].iterdir()) == [
        "checkpoints",
        "loss.png",
        "metrics.jsonl",
    ]
    assert any(not np.array_equal(x, y) for x, y in zip(_leaves(a), _leaves(b)))
    c = _fit(tmp_path, lr=1e-3)  # an ordinary run afterwards: the lr=1e-3 model, not the first one
    assert c.resumed_from == 6
    for x, y in zip(_leaves(b), _leaves(c)):
        np.testing.assert_array_equal(x, y)


def test_rerunning_a_finished_run_keeps_its_training_figures(tmp_path):
    first = _fit(tmp_path)
    again = _fit(tmp_path)
    assert again.resumed_from == 6
    assert [r["loss"] for r in again.history] == [r["loss"] for r in first.history]
    assert again.compilations == first.compilations == 1


def test_fewer_steps_than_the_checkpoint_is_refused(tmp_path):
    _fit(tmp_path, steps=6)
    with pytest.raises(ConfigError, match=r"trained for 6 steps, more than train.steps = 3"):
        _fit(tmp_path, steps=3)
    more = _fit(tmp_path, steps=9)  # more steps continue the same model
    assert more.resumed_from == 6 and [r["step"] for r in more.history] == [7, 8, 9]
