"""Small fixed HistFactory specs: each modifier type alone and all together (two channels)."""

SIG = {"name": "mu", "type": "normfactor", "data": None}
LUMI_PARAMS = [{"name": "lumi", "auxdata": [1.0], "sigmas": [0.05], "inits": [1.0], "bounds": [[0.5, 1.5]]}]


def _model(bkg_mods, sig_mods=(SIG,), params=None, sig=(6.0, 9.0, 3.0), bkg=(60.0, 45.0, 20.0)):
    spec = {
        "channels": [
            {
                "name": "SR",
                "samples": [
                    {"name": "signal", "data": list(sig), "modifiers": list(sig_mods)},
                    {"name": "bkg", "data": list(bkg), "modifiers": list(bkg_mods)},
                ],
            }
        ]
    }
    if params:
        spec["parameters"] = params
    return spec


NORMSYS = {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.15, "lo": 0.8}}
HISTOSYS = {
    "name": "bkg_shape",
    "type": "histosys",
    "data": {"hi_data": [63.0, 46.0, 19.0], "lo_data": [58.0, 43.0, 21.5]},
}
STATERROR = {"name": "staterror_SR", "type": "staterror", "data": [4.0, 3.0, 2.5]}
LUMI = {"name": "lumi", "type": "lumi", "data": None}

FIXED_SPECS = {
    "normfactor": _model([]),
    "normsys": _model([NORMSYS]),
    "histosys": _model([HISTOSYS]),
    "staterror": _model([STATERROR]),
    "lumi": _model([LUMI], sig_mods=(SIG, LUMI), params=LUMI_PARAMS),
    "all": {
        "channels": [
            _model([NORMSYS, HISTOSYS, STATERROR, LUMI], sig_mods=(SIG, LUMI))["channels"][0],
            {
                "name": "CR",
                "samples": [
                    {"name": "signal", "data": [0.5, 1.0], "modifiers": [SIG, LUMI]},
                    {
                        "name": "bkg",
                        "data": [100.0, 80.0],
                        "modifiers": [
                            {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.1, "lo": 0.85}},
                            {"name": "staterror_CR", "type": "staterror", "data": [5.0, 0.0]},
                            {"name": "bkg_cr_norm", "type": "normfactor", "data": None},
                        ],
                    },
                ],
            },
        ],
        "parameters": LUMI_PARAMS + [{"name": "bkg_cr_norm", "bounds": [[0.1, 5.0]]}],
    },
}
# observed main counts for each spec (a mild excess in SR)
OBSERVED = {k: [70.0, 58.0, 24.0] for k in FIXED_SPECS}
OBSERVED["all"] = [104.0, 77.0, 70.0, 58.0, 24.0]  # main data in channel-name order: CR, then SR
