"""A damaged latest checkpoint is reported and the next older one is restored, never garbage."""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from hepjax.train.checkpoint import Checkpointer, CheckpointError
from hepjax.train.state import init_state


def _states():
    params = {"w": jnp.arange(12.0).reshape(3, 4), "b": jnp.linspace(-1.0, 1.0, 4)}
    s0 = init_state(params, optax.adam(1e-3), jax.random.PRNGKey(0))
    s1 = s0._replace(step=s0.step + 1, params=jax.tree.map(lambda x: x + 0.5, s0.params))
    return s0, s1


def _write(directory):
    s0, s1 = _states()
    ck = Checkpointer(directory, keep=3)
    ck.save(s0, {"at": 0})
    ck.save(s1, {"at": 1})
    ck.close()
    return s0, s1


def _equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def _files(step_dir):
    """The files of one checkpoint, sorted (data files carry content hashes in their names)."""
    return sorted(p for p in step_dir.rglob("*") if p.is_file())


@pytest.mark.parametrize("damage", ["truncate", "empty"])
def test_each_file_of_the_latest_checkpoint_damaged_in_turn(tmp_path, caplog, damage):
    i, detected = 0, 0
    while True:  # orbax's file layout varies a little between writes: damage file i of each fresh write
        d = tmp_path / f"{damage}{i}"
        s0, s1 = _write(d)
        files = _files(d / "1")
        if i >= len(files):
            break
        path, i = files[i], i + 1
        name = str(path.relative_to(d))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"")
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="hepjax.train.checkpoint"):
            state, meta = Checkpointer(d).restore(s0)
        if int(state.step) == 1:  # the damage does not touch what is restored: it must be exact
            assert _equal(state, s1) and meta == {"at": 1}, name
        else:  # detected: reported in one line naming the step, then the older checkpoint, exactly
            assert int(state.step) == 0 and _equal(state, s0) and meta == {"at": 0}, name
            assert any("checkpoint step 1" in r.getMessage() for r in caplog.records), name
            detected += 1
    assert i >= 8 and detected >= 4  # metadata, sharding, array metadata, manifests, data files, markers


def test_no_checkpoint_loads_is_one_clear_error(tmp_path):
    d = tmp_path / "ck"
    s0, _ = _write(d)
    for step in ("0", "1"):
        for p in (d / step).rglob("_METADATA"):
            p.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"no checkpoint in .* loads: step 1: .*; step 0: "):
        Checkpointer(d).restore(s0)
