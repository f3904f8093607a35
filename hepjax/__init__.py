"""hepjax: differentiable collider physics in JAX.

Subpackages, one per physics stage: ``config``, ``train``, ``data`` (Pythia events, jets),
``detector`` (smearing, tracker), ``tracking`` (GNN tracking), ``flows`` / ``fastsim``
(normalizing flows, calorimeter fast simulation, morphing), ``decorrelation`` (DisCo, MoDe,
adversarial), ``hls`` (Flax -> Keras 3 -> hls4ml), ``bench`` (benchmarks), ``plotting``.
Which package may import which: ``docs/ARCHITECTURE.md``.

Importing hepjax has one side effect, and only this one (see "Nothing happens at import" in
``docs/ARCHITECTURE.md``): ``KERAS_BACKEND`` defaults to ``jax``. Keras 3 reads that variable once,
when it is first imported, and :mod:`hepjax.hls` needs Keras on JAX (no TensorFlow anywhere). A
value the user already set wins; :mod:`hepjax.hls` then refuses a backend other than JAX with an
``ImportError`` that says so.
"""

import os

# setdefault, not assignment: an explicit KERAS_BACKEND of the user's is kept (and checked by hepjax.hls).
os.environ.setdefault("KERAS_BACKEND", "jax")

__version__ = "0.1.0"
