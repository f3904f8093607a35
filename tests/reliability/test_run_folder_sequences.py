"""Sequences of `hepjax run` in one folder never report a model trained under another config."""

import json

import pytest

from hepjax.runinfo import read_state
from hepjax.runner import run
from tests.tiny import DEMO_TINY

TINY = list(DEMO_TINY)


def _metrics(out):
    return json.loads((out / "metrics.json").read_text())


@pytest.mark.slow  # four tiny demo runs
def test_fresh_start_rerun_and_shorter_run_in_one_folder(tmp_path):
    out = tmp_path / "d"
    first = _metrics(run("configs/demo.yaml", [*TINY, f"output_dir={out}"]))
    assert read_state(out)["state"] == "finished"

    lr = "train.learning_rate=0.01"
    fresh = _metrics(run("configs/demo.yaml", [*TINY, lr, "train.resume=false", f"output_dir={out}"]))
    assert fresh["test_auc"] != first["test_auc"]  # a new model
    assert (out / "previous").is_dir() and any((out / "previous").glob("*/metrics.json"))

    again = _metrics(run("configs/demo.yaml", [*TINY, lr, f"output_dir={out}"]))  # resumes the lr=0.01 model
    assert again["test_auc"] == fresh["test_auc"]
    assert again["final_train_loss"] == fresh["final_train_loss"] is not None
    assert again["train_compilations"] == fresh["train_compilations"] == 1

    with pytest.raises(Exception, match=r"trained for 6 steps, more than train.steps = 3"):
        shorter = [o for o in TINY if not o.startswith("train.steps=")] + ["train.steps=3"]  # each key once
        run("configs/demo.yaml", [*shorter, lr, f"output_dir={out}"])
    assert read_state(out)["state"] == "failed" and "train.steps" in read_state(out)["reason"]
