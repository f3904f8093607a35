"""hepjax: differentiable collider physics in JAX.

Subpackages, one per physics stage: ``config``, ``train``, ``data`` (Pythia events, jets),
``detector`` (smearing, tracker), ``tracking`` (GNN tracking), ``flows`` / ``fastsim``
(normalizing flows, calorimeter fast simulation, morphing), ``decorrelation`` (DisCo, MoDe,
adversarial), ``hls`` (Flax -> Keras 3 -> hls4ml), ``bench`` (benchmarks), ``plotting``.
"""

__version__ = "0.1.0"
