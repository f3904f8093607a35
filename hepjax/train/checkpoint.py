"""Orbax checkpoints of a :class:`TrainState` plus JSON metadata (step, data position, config)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from hepjax.errors import CheckpointError
from hepjax.train.state import TrainState

log = logging.getLogger(__name__)


def _one_line(err: BaseException, limit: int = 200) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return f"{type(err).__name__}: {text[:limit]}"


class Checkpointer:
    """Periodic, keep-last-N checkpoints in ``directory`` with resume from the latest.

    Saves are asynchronous; the directory only ever lists finished checkpoints (orbax
    writes to a temporary folder and renames it when complete), so a run killed mid-save
    resumes from the previous one.
    """

    def __init__(self, directory: str | Path, *, keep: int = 3, every: int = 0):
        self.directory = Path(directory).absolute()
        self.every = every
        self.manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True),
        )

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def should_save(self, step: int) -> bool:
        return self.every > 0 and step % self.every == 0

    def save(self, state: TrainState, meta: dict, *, force: bool = False) -> None:
        step = int(jax.device_get(state.step))
        if step in self.manager.all_steps():
            return
        self.manager.save(
            step,
            args=ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)),
            force=force,
        )

    def restore(self, target: TrainState, step: int | None = None) -> tuple[TrainState, dict]:
        """Restore into the structure, dtypes and shardings of ``target``.

        Without ``step``, the newest checkpoint that loads: one that fails (a truncated or corrupted
        file) is reported in one warning line naming its step and folder, and the next older one is
        tried. Raises :class:`~hepjax.errors.CheckpointError` when none loads or there is none.
        """
        steps = sorted(self.manager.all_steps(), reverse=True) if step is None else [step]
        if not steps:
            raise CheckpointError(f"no checkpoint in {self.directory}")
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
        failures = []
        for s in steps:
            try:
                out = self.manager.restore(
                    s,
                    args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore()),
                )
                state, meta = TrainState(*out["state"]), dict(out["meta"])
            except Exception as err:  # orbax/tensorstore raise many types for a damaged file; each is reported
                reason = _one_line(err)
                failures.append(f"step {s}: {reason}")
                log.warning(
                    "checkpoint step %d in %s does not load (%s); trying the next older one", s, self.directory, reason
                )
                continue
            if failures:
                log.warning("resumed from step %d after skipping %d damaged checkpoint(s)", s, len(failures))
            return state, meta
        raise CheckpointError(f"no checkpoint in {self.directory} loads: " + "; ".join(failures))

    def wait(self) -> None:
        self.manager.wait_until_finished()

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()


def load_params(directory: str | Path, target: Any = None, step: int | None = None) -> tuple[Any, dict]:
    """Read the parameters (and metadata) of a finished run's checkpoint, e.g. for export.

    Without ``target`` the arrays come back as numpy in the saved tree structure.
    """
    mngr = ocp.CheckpointManager(Path(directory).absolute())
    step = mngr.latest_step() if step is None else step
    if step is None:
        raise CheckpointError(f"no checkpoint in {directory}")
    out = mngr.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(), meta=ocp.args.JsonRestore()))
    state = out["state"]
    params = state["params"] if isinstance(state, dict) else state[1]
    mngr.close()
    return params, dict(out["meta"])
