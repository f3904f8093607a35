"""Per-layer bit widths (``qat.layers``) in both trigger configs: validation errors name key and file, and the
overrides reach exactly the named layer's quantizers. (The written hls4ml project is checked in test_export.)"""

import pytest

from hepjax.config import ConfigError
from hepjax.hls.layer_config import LayerQat
from hepjax.hls.models import TriggerMLP, qat_types
from hepjax.runner import load_config, run

JT, L1 = "configs/jet_tagging_l1.yaml", "configs/l1_anomaly.yaml"


def test_jet_tagger_override_reaches_only_that_layer():
    from hepjax.trigger.jet_tagging import qat_model_types

    cfg = load_config(
        JT, ["qat.layers=[{name: dense_1, weight_bits: 8, weight_integer: 2}, {name: dense_2, activation_bits: 4}]"]
    )
    t = qat_model_types(cfg.sections.qat, 4, source=cfg.source)
    six, eight = "ap_fixed<6,1,AP_RND,AP_SAT>", "ap_fixed<8,2,AP_RND,AP_SAT>"
    assert t["weight_types"] == (six, eight, six, six)
    assert t["bias_types"] == t["weight_types"]  # biases follow their layer's weights unless set
    assert t["activation_types"] == ("ap_ufixed<6,3,AP_RND,AP_SAT>",) * 2 + ("ap_ufixed<4,3,AP_RND,AP_SAT>",)
    assert t["result_types"][-1] == "ap_fixed<12,5,AP_RND,AP_SAT>"  # logit_type kept for the output layer
    model = TriggerMLP((64, 32, 32, 5), output_activation="softmax", **t)
    assert model.weight_types[1] == eight
    assert load_config(JT).sections.qat.layers == ()  # the default: no overrides


def test_prefix_selects_the_network():
    layers = (
        LayerQat("ae/dense_0", weight_bits=4),
        LayerQat("vae/encoder/dense_0", weight_bits=5, result_type="ap_fixed<14,6>"),
    )
    kw = {
        "input_type": "ap_fixed<16,6>",
        "weight_bits": 8,
        "integer_bits": 2,
        "result_type": "ap_fixed<16,6>",
        "activation_bits": 8,
        "activation_integer": 4,
    }
    ae = qat_types(3, layers=layers, prefix="ae/", **kw)
    enc = qat_types(3, layers=layers, prefix="vae/encoder/", **kw)
    dec = qat_types(3, layers=layers, prefix="vae/decoder/", **kw)
    assert (
        ae["weight_types"][0] == "ap_fixed<4,2,AP_RND,AP_SAT>"
        and enc["weight_types"][0] == "ap_fixed<5,2,AP_RND,AP_SAT>"
    )
    assert enc["result_types"][0] == "ap_fixed<14,6,AP_TRN,AP_WRAP>" and ae["result_types"][0] == "ap_fixed<16,6>"
    assert dec == qat_types(3, **kw)


@pytest.mark.parametrize(
    "override,needle",
    [
        (
            "[{name: dense_7, weight_bits: 8}]",
            r"qat.layers\[0\] \(layer 'dense_7'\): no such layer; the layers are dense_0, dense_1, dense_2, dense_3",
        ),
        ("[{name: dense_0, weight_bits: 4}, {name: dense_0, activation_bits: 3}]", r"qat.layers\[1\] .*listed twice"),
        (
            "[{name: dense_1, weight_bits: 6, weight_integer: 9}]",
            r"qat.layers\[0\] \(layer 'dense_1'\): ap_fixed<6,9>: integer bits",
        ),
        (
            "[{name: dense_3, activation_bits: 4}]",
            r"qat.layers\[0\] \(layer 'dense_3'\): the output layer has no activation",
        ),
        ("[{name: dense_0, result_type: 'ap_fixed<8>'}]", r"qat.layers\[0\] \(layer 'dense_0'\): cannot parse"),
    ],
    ids=["unknown_layer", "duplicate", "impossible_type", "output_activation", "bad_type_string"],
)
def test_jet_tagger_bad_override_names_key_and_file(tmp_path, override, needle):
    # the experiment checks its layer list before generating any event, so this is fast
    with pytest.raises(ConfigError, match=r"jet_tagging_l1\.yaml: " + needle):
        run(JT, [f"output_dir={tmp_path}", f"qat.layers={override}"])


@pytest.mark.parametrize(
    "override,needle",
    [
        ("[{name: dense_0, weight_width: 8}]", r"qat.layers\[0\].weight_width: unknown key"),
        ("[{name: dense_0, weight_bits: 40}]", r"qat.layers\[0\].weight_bits = 40 must be <= 16"),
        ("[{weight_bits: 8}]", r"qat.layers\[0\].name: required key is missing"),
        ("{dense_0: {weight_bits: 8}}", r"qat.layers must be a list"),
    ],
    ids=["unknown_key", "width_range", "no_name", "mapping"],
)
def test_override_schema_errors_at_load(override, needle):
    with pytest.raises(ConfigError, match=r"jet_tagging_l1\.yaml: " + needle):
        load_config(JT, [f"qat.layers={override}"])


@pytest.mark.parametrize(
    "overrides,needle",
    [
        (
            ["qat.layers=[{name: ae/dense_6, weight_bits: 6}]"],
            r"qat.layers\[0\] \(layer 'ae/dense_6'\): no such layer; the layers are ae/dense_0, .*vae/decoder/dense_2",
        ),
        (
            ["model.kinds=[ae]", "qat.layers=[{name: vae/encoder/dense_0, weight_bits: 6}]"],
            r"qat.layers\[0\] \(layer 'vae/encoder/dense_0'\): no such layer; the layers are ae/dense_0, [a-z_0-9/, ]*ae/dense_5$",
        ),
        (
            ["qat.layers=[{name: ae/dense_1, weight_bits: 12}]"],
            r"qat.layers\[0\] \(layer 'ae/dense_1'\).weight_bits = 12: this study allows at most 8",
        ),
    ],
    ids=["unknown_layer", "model_not_built", "wider_than_8_bits"],
)
def test_l1_anomaly_bad_override_names_key_and_file(tmp_path, overrides, needle):
    with pytest.raises(ConfigError, match=r"l1_anomaly\.yaml: " + needle):
        run(L1, [f"output_dir={tmp_path}", *overrides])
