"""Tiny configs shared by the end-to-end tests (a few seconds of Pythia and training each)."""

#: The demo at test size: 120 events per process, 6 training steps, checkpoints at 3 and 6.
DEMO_TINY = (
    "data.n_events=120",
    "data.workers=1",
    "data.max_constituents=24",
    "train.steps=6",
    "train.batch_size=16",
    "train.log_every=3",
    "train.checkpoint_every=3",
    "model.width=8",
    "model.latent=8",
)

#: Design study (a) at test size: 150 signal and 400 background events, 10 steps, a 3x3x2x3 grid.
DESIGN_RESONANCE_TINY = (
    "signal.n_events=150",
    "signal.workers=1",
    "background.n_events=400",
    "background.workers=1",
    "design.steps=10",
    "design.grid_points=[3,3,2,3]",
    "design.fresh_keys=1",
)

#: Design study (c) at test size: 150 events per process, a 4+4-wide tagger trained 20 steps, 6 design steps.
DESIGN_CHAIN_TINY = (
    "signal.n_events=150",
    "background.n_events=150",
    "jets.max_constituents=16",
    "tagger.width=4",
    "tagger.latent=4",
    "tagger.steps=20",
    "tagger.batch_size=32",
    "analysis.slope=20.0",
    "design.init_threshold=0.5",  # the 4-wide tagger's scores stay near 0.5
    "design.steps=6",
    "design.fd_jets=8",
    "design.threshold_grid=3",
    "design.fresh_keys=1",
)
