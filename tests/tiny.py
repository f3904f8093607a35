"""Tiny configs shared by the end-to-end tests (a few seconds of Pythia and training each)."""

#: The demo at test size: 120 events per process, 6 training steps, checkpoints at 3 and 6.
DEMO_TINY = (
    "signal.n_events=120",
    "signal.workers=1",
    "background.n_events=120",
    "background.workers=1",
    "jets.max_constituents=24",
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

#: The L1 anomaly study's samples at test size: 40/30/20/10 background and 20 events per signal
#: (the shipped config's processes and seeds).
L1_ANOMALY_SAMPLES = (
    "background=[{process: w_lnu, n_events: 40, seed: 1000}, {process: qcd_dijet, n_events: 30, seed: 1001},"
    " {process: z_ll, n_events: 20, seed: 1002}, {process: ttbar, n_events: 10, seed: 1003}]",
    "signals=[{process: scalar_4l, n_events: 20, seed: 1004}, {process: leptoquark, n_events: 20, seed: 1005},"
    " {process: charged_higgs, n_events: 20, seed: 1006}, {process: h_tautau, n_events: 20, seed: 1007}]",
)

#: GNN tracking at test size: 6 ttbar events (4 train, 1 validation, 1 test) with <mu> = 1 pileup from a
#: pool of 4, a 16-wide interaction network with 2 iterations and 200 steps: it learns (edge AUC ~0.8).
TRACKING_TINY = (
    "sample.n_events=6",
    "sample.workers=1",
    "pileup.n_events=4",
    "pileup.workers=1",
    "data.mu=1.0",
    "graph.n_buckets=1",
    "model.hidden=16",
    "model.iterations=2",
    "model.mlp_layers=1",
    "train.steps=200",
    "train.log_every=50",
    "train.progress=false",
)

#: Morphing at test size, made easy: 1500 events per sample and "data" with the final-state alpha_s at
#: 0.10 (the shipped config: 0.115), so that the correction is visible above the statistics of 750 test jets.
MORPHING_TINY = (
    "sim_sample.n_events=1500",
    "data_sample.n_events=1500",
    "data_sample.settings=[PartonLevel:MPI = off, 'Tune:pp = 14', 'TimeShower:alphaSvalue = 0.10']",
    "flow.layers=2",
    "flow.hidden=[32]",
    "train.steps=500",
    "train.batch_size=128",
    "classifier.steps=300",
    "classifier.batch_size=64",
    "eval.leave_one_out=false",
    "train.progress=false",
    "classifier.progress=false",
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
