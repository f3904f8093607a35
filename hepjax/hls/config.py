"""hls4ml configuration (granularity ``name``) whose precisions match the quantized JAX model.

Every layer whose output the bridge tracked as an ``ap_fixed`` type gets exactly that result
type; quantized Dense layers get their weight and bias types and an accumulator wide enough to
hold every partial sum (so the only rounding is the final cast, as in
:class:`hepjax.hls.QDense`). Float layers get ``default_precision`` everywhere (weights, biases,
accumulators and results), i.e. post-training quantization at that type.
"""

from __future__ import annotations

import copy

from hepjax.hls.bridge import bridge_info

_DEFAULT_KEYS = ("result", "weight", "bias", "accum")
#: Softmax: probabilities in [0, 1) with 16 fractional bits; the exp table gets one entry per input
#: code (2**W entries for a W-bit input, W <= 16) so that distinct logits never share an entry and
#: the argmax survives (hls4ml indexes the table with the top log2(size) bits of the input).
SOFTMAX = {
    "Precision": {
        "result": "ap_ufixed<16,0,AP_RND,AP_SAT>",
        "exp_table": "ap_ufixed<18,1,AP_RND,AP_SAT>",
        "inv_table": "ap_ufixed<18,4,AP_RND,AP_SAT>",
        "inv_inp": "ap_ufixed<18,4,AP_RND,AP_SAT>",
        "accum": "ap_ufixed<18,4,AP_RND,AP_SAT>",
    },
    "Implementation": "stable",
}
MAX_TABLE_BITS = 16


def hls4ml_config(
    model,
    *,
    default_precision: str = "ap_fixed<16,6>",
    reuse_factor: int = 1,
    backend: str = "Vitis",
    strategy: str = "Latency",
    trace: bool = True,
) -> dict:
    """The ``hls_config`` dict for ``hls4ml.converters.convert_from_keras_model``.

    Args:
      model: a Keras model from :func:`hepjax.hls.to_keras`.
      default_precision: type of every float (non-quantized) tensor and parameter.
      reuse_factor: multiplications per multiplier (1 = fully parallel).
      trace: enable C-simulation tracing of every layer (used by the export's agreement check).
    """
    import hls4ml

    info = bridge_info(model)
    cfg = hls4ml.utils.config_from_keras_model(
        model, granularity="name", backend=backend, default_precision=default_precision
    )
    cfg = copy.deepcopy(cfg)
    softmax_layers = set(info.softmax_inputs)
    cfg["Model"]["ReuseFactor"] = int(reuse_factor)
    cfg["Model"]["Strategy"] = strategy
    cfg["Model"]["Precision"]["default"] = default_precision
    for name, layer in cfg["LayerName"].items():
        layer["Trace"] = bool(trace)
        layer["ReuseFactor"] = int(reuse_factor)
        prec = layer.setdefault("Precision", {})
        for key in _DEFAULT_KEYS:
            if key in prec and prec[key] == "auto":
                prec[key] = default_precision
        if name == info.input_name:
            prec["result"] = str(info.input_spec) if info.input_spec is not None else default_precision
        prec.update(info.precisions.get(name, {}))
        if name in softmax_layers:
            prec.update(SOFTMAX["Precision"])
            from hepjax.hls.fixed import FixedSpec

            in_spec = info.softmax_inputs.get(name) or FixedSpec.parse(default_precision)
            layer["TableSize"] = 2 ** min(in_spec.width, MAX_TABLE_BITS)
            layer["Implementation"] = SOFTMAX["Implementation"]
    unknown = set(info.precisions) - set(cfg["LayerName"])
    if unknown:
        raise ValueError(f"hls4ml did not list the layers {sorted(unknown)}; cannot set their precisions")
    return cfg
