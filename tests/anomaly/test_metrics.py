import numpy as np

from hepjax.anomaly.metrics import summarise_scores


def test_an_fpr_below_one_background_event_is_an_upper_limit_not_a_number():
    rng = np.random.default_rng(0)
    scores = {"background": rng.normal(0, 1, 325), "sig": rng.normal(1.5, 1, 400)}
    m = summarise_scores(scores, ("sig",), "ae", fpr=1e-3)  # 1e-3 < 1/325: not resolvable
    assert m["n_background_test"] == 325 and m["fpr_floor"] == 1 / 325
    assert m["ae_tpr_0.001_sig"] is None
    upper = m["ae_tpr_0.001_sig_upper_limit"]
    assert upper == m["ae_tpr_sig"]
    # by hand: the loosest cut passing at most one background event lies just above the second-highest one
    second = np.sort(scores["background"])[-2]
    assert upper == np.mean(scores["sig"] > second)
    resolved = summarise_scores(scores, ("sig",), "ae", fpr=0.1)
    assert resolved["ae_tpr_0.1_sig"] > upper and "ae_tpr_0.1_sig_upper_limit" not in resolved
    assert 0.8 < m["ae_auc_sig"] < 0.9
