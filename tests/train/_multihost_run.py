"""One process of a 2-process jax.distributed run on localhost (CPU, one device each).

usage: python _multihost_run.py PORT PROCESS_ID WORKDIR
Process 0 prints a JSON line with the flattened final parameters.
"""

import json
import os
import sys

port, pid, workdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.environ.update(JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}", JAX_NUM_PROCESSES="2", JAX_PROCESS_ID=str(pid))

import jax  # noqa: E402

from hepjax.train import TrainConfig, fit, maybe_initialize_distributed  # noqa: E402

assert maybe_initialize_distributed()
assert jax.process_count() == 2 and jax.device_count() == 2, (jax.process_count(), jax.devices())

sys.path.insert(0, os.path.dirname(__file__))
import _mlp_run  # noqa: E402

key = jax.random.PRNGKey(5)
cfg = TrainConfig(steps=4, batch_size=32, checkpoint_every=2, progress=False, log_every=2)
res = fit(_mlp_run.loss_fn, _mlp_run.mlp_init(key), _mlp_run.dataset(0), cfg, workdir=workdir, key=key)
leaves = [x.addressable_data(0).tolist() for x in jax.tree.leaves(res.state.params)]
if pid == 0:
    print(json.dumps({"params": leaves}))
jax.distributed.shutdown()
