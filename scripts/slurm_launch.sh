#!/usr/bin/env bash
# Multi-node, multi-GPU hepjax run on a SLURM cluster: one task per node, all GPUs of a node
# visible to its task. JAX joins the tasks with jax.distributed.initialize(), which hepjax
# calls when SLURM_NTASKS > 1, reading the SLURM_* variables; the global batch is sharded
# over every GPU of every node (train.batch_size must divide by their total number).
#
#   sbatch --nodes=4 --gpus-per-node=4 scripts/slurm_launch.sh configs/tracking.yaml train.batch_size=64
#
#SBATCH --job-name=hepjax
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=16
#SBATCH --time=04:00:00
#SBATCH --output=hepjax-%j.out
set -euo pipefail
CONFIG=${1:?usage: sbatch scripts/slurm_launch.sh CONFIG [key.sub=value ...]}
shift
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}"
VENV=${HEPJAX_VENV:-.venv}
# Install once on the login node with a CUDA JAX: $VENV/bin/pip install -e . "jax[cuda12]"
export KERAS_BACKEND=jax
export XLA_PYTHON_CLIENT_PREALLOCATE=false
# Results of each job in their own folder unless the config says otherwise.
srun --kill-on-bad-exit=1 "$VENV/bin/hepjax" run "$CONFIG" "output_dir=results/${SLURM_JOB_NAME}-${SLURM_JOB_ID}" "$@"
