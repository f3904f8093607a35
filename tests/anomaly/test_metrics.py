import numpy as np
import pytest

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


def test_rate_to_false_positive_fraction_by_hand():
    from hepjax.anomaly.metrics import fpr_for_rate

    # 1 kHz out of 11245.5 Hz x 2544 colliding bunches = 28.608552 MHz of crossings
    assert fpr_for_rate(1e3) == pytest.approx(1e3 / 28_608_552.0, rel=1e-12)
    assert fpr_for_rate(1e3) == pytest.approx(3.4955e-5, rel=1e-4)
    assert fpr_for_rate(1e5, colliding_bunches=1000) == pytest.approx(1e5 / 11_245_500.0)
    with pytest.raises(ValueError, match="rate_hz"):
        fpr_for_rate(5e7)


def test_rate_working_points_cut_the_background_at_the_rate():
    from hepjax.anomaly.metrics import fpr_for_rate, rate_working_points

    rng = np.random.default_rng(0)
    bg = rng.normal(0, 1, 200_000)
    sig = rng.normal(3, 1, 5_000)
    wp = rate_working_points({"background": bg, "x": sig}, ("x",), rates_hz=(1e4, 1e5))
    for tag, rate in (("10kHz", 1e4), ("100kHz", 1e5)):
        fpr = fpr_for_rate(rate)
        assert wp[f"fpr_{tag}"] == fpr and wp[f"resolved_{tag}"]
        assert (bg >= wp[f"threshold_{tag}"]).mean() <= fpr  # the rate is not exceeded
        assert wp[f"tpr_{tag}_x"] == pytest.approx((sig >= wp[f"threshold_{tag}"]).mean())
    assert wp["tpr_100kHz_x"] > wp["tpr_10kHz_x"]
    small = rate_working_points({"background": bg[:1000], "x": sig}, ("x",), rates_hz=(1e3,))
    assert not small["resolved_1kHz"]  # 1 kHz is FPR 3.5e-5 < 1 / 1000
