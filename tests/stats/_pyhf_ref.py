"""The pyhf reference helpers of the stats tests live with the bench peer (one home)."""

from hepjax.bench.peers.pyhf_peer import (  # noqa: F401
    PAD,
    compare_model,
    padded,
    pyhf_backend,
    rel_diff,
    small_or_rel,
    to_pyhf_data,
    to_pyhf_pars,
)
