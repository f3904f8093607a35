"""Catalogue of the Pythia 8 processes :func:`hepjax.data.generate` knows, by name.

Each process is a tuple of Pythia settings strings (``"Key = value"``); user ``settings`` are
appended after them, so a later string overrides an earlier one (this is how a user changes
the pT-hat range, a tune or a shower setting, e.g. ``("Tune:pp = 14",)``).

Physics choices (all at the ``sqrt_s`` given to :func:`generate`, default 13.6 TeV):

===============  ==========================================================================
``qcd_dijet``    ``HardQCD:all``, pT-hat in [100, 200] GeV (change with :func:`qcd_settings`).
``ttbar``        gg/qq̄ → tt̄, inclusive top and W decays.
``z_ll``         qq̄ → Z (pure Z, no γ*), Z → e⁺e⁻ or μ⁺μ⁻, m-hat in [60, 120] GeV.
``w_lnu``        qq̄' → W, W → eν or μν.
``boosted_w``    W + jet (qq̄ → Wg, qg → Wq), W → qq̄', pT-hat in [300, 600] GeV, so the W
                 (and the recoiling q/g jet) have pT ~ 300–600 GeV: R = 0.8 fat W jets.
``boosted_z``    Z + jet (qq̄ → Zg, qg → Zq), pure Z → qq̄ (incl. bb̄), pT-hat in [300, 600] GeV.
``boosted_top``  tt̄ with pT-hat in [300, 600] GeV, both W → qq̄' (all-hadronic): fat top jets.
``minbias``      ``SoftQCD:inelastic`` (non-diffractive + diffractive): pileup.
``scalar_4l``    gg → H with m_H = 50 GeV, H → ZZ* → 4ℓ (ℓ = e, μ): the ADC2021 "A → 4ℓ".
``leptoquark``   LQ LQ̄ pair production, m_LQ = 80 GeV, LQ → b τ (charge +2/3 LQ): ADC2021 "LQ → bτ".
``charged_higgs`` ff̄ → H⁺H⁻ (2HDM, ``Higgs:useBSM``), m_H± = 60 GeV, H± → τν: ADC2021 "h± → τν".
``h_tautau``     gg → h with m_h = 60 GeV, h → τ⁺τ⁻: ADC2021 "h⁰ → ττ".
``h_gammagamma`` gg → H with m_H = 125 GeV, H → γγ: a narrow diphoton resonance (Γ_H ≈ 4 MeV).
``z_jet``        Z + jet (qq̄ → Zg, qg → Zq), pure Z → μ⁺μ⁻, pT-hat > 200 GeV: the OmniFold benchmark's
                 Z(→ μμ) + jet with pT^Z > 200 GeV (the unfolding studies).
``diphoton``     prompt γγ (qq̄ → γγ, gg → γγ box) with m-hat in [100, 160] GeV and pT-hat > 15 GeV:
                 the falling irreducible background under ``h_gammagamma``.
===============  ==========================================================================

Every process also gets :data:`COMMON`: quiet output, the LHC "stable particle" definition
(particles with cτ > 10 mm — π±, K±, K⁰_L, K⁰_S, Λ, n, ... — are left undecayed; b/c hadrons
and τ decay with displaced vertices, in mm), and no event listing. Primary vertices sit at the origin unless :func:`beam_spot_settings`
is passed in ``settings``.
"""

from __future__ import annotations

import math
import numbers

#: Settings every process gets before its own (and before the user's).
COMMON: tuple[str, ...] = (
    "Print:quiet = on",
    "Next:numberCount = 0",
    "Next:numberShowEvent = 0",
    "Next:numberShowProcess = 0",
    "Next:numberShowInfo = 0",
    "ParticleDecays:limitTau0 = on",
    "ParticleDecays:tau0Max = 10",  # mm/c: LHC generator-level stable-particle definition
)

_W_HADRONIC = ("24:onMode = off", "24:onIfAny = 1 2 3 4 5")
_Z_HADRONIC = ("23:onMode = off", "23:onIfAny = 1 2 3 4 5")


def qcd_settings(pthat_min: float, pthat_max: float | None = None) -> tuple[str, ...]:
    """Pythia settings restricting the hard-process pT-hat to ``[pthat_min, pthat_max]`` GeV.

    ``pthat_max=None`` means no upper limit. Pass the result as ``settings`` to
    :func:`hepjax.data.generate` (it overrides a process's default range), e.g.
    ``generate("qcd_dijet", 100, 0, settings=qcd_settings(300, 500))``.
    """
    if not (isinstance(pthat_min, numbers.Real) and math.isfinite(pthat_min) and pthat_min >= 0):
        raise ValueError(f"pthat_min must be a finite number >= 0 GeV, got {pthat_min!r}")
    if pthat_max is None:
        upper = -1.0  # Pythia: negative pTHatMax means no upper limit
    else:
        if not (isinstance(pthat_max, numbers.Real) and math.isfinite(pthat_max) and pthat_max > pthat_min):
            raise ValueError(f"pthat_max must be a finite number > pthat_min={pthat_min}, got {pthat_max!r}")
        upper = float(pthat_max)
    return (f"PhaseSpace:pTHatMin = {float(pthat_min)}", f"PhaseSpace:pTHatMax = {upper}")


def beam_spot_settings(sigma_z: float = 35.0, sigma_xy: float = 0.01) -> tuple[str, ...]:
    """Pythia settings for a Gaussian luminous region (all vertices shifted per event), mm.

    Off by default (primary vertices at the origin). LHC Run 3 is roughly σ_z ≈ 35 mm and
    σ_x = σ_y ≈ 0.01 mm. Pass as ``settings`` (e.g. for pileup overlay, so that each minimum-bias
    event sits at its own z).
    """
    for name, v in (("sigma_z", sigma_z), ("sigma_xy", sigma_xy)):
        if not (isinstance(v, numbers.Real) and math.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a finite number >= 0 mm, got {v!r}")
    return (
        "Beams:allowVertexSpread = on",
        f"Beams:sigmaVertexX = {float(sigma_xy)}",
        f"Beams:sigmaVertexY = {float(sigma_xy)}",
        f"Beams:sigmaVertexZ = {float(sigma_z)}",
    )


PROCESSES: dict[str, tuple[str, ...]] = {
    "qcd_dijet": ("HardQCD:all = on",) + qcd_settings(100.0, 200.0),
    "ttbar": ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on"),
    "z_ll": (
        "WeakSingleBoson:ffbar2gmZ = on",
        "WeakZ0:gmZmode = 2",
        "23:onMode = off",
        "23:onIfAny = 11 13",
        "PhaseSpace:mHatMin = 60.",
        "PhaseSpace:mHatMax = 120.",
    ),
    "w_lnu": ("WeakSingleBoson:ffbar2W = on", "24:onMode = off", "24:onIfAny = 11 13"),
    "boosted_w": ("WeakBosonAndParton:qqbar2Wg = on", "WeakBosonAndParton:qg2Wq = on")
    + _W_HADRONIC
    + qcd_settings(300.0, 600.0),
    "boosted_z": (
        "WeakBosonAndParton:qqbar2gmZg = on",
        "WeakBosonAndParton:qg2gmZq = on",
        "WeakZ0:gmZmode = 2",
    )
    + _Z_HADRONIC
    + qcd_settings(300.0, 600.0),
    "boosted_top": ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on") + _W_HADRONIC + qcd_settings(300.0, 600.0),
    "minbias": ("SoftQCD:inelastic = on",),
    "scalar_4l": (
        "HiggsSM:gg2H = on",
        "25:m0 = 50.",
        "25:onMode = off",
        "25:onIfMatch = 23 23",
        "23:onMode = off",
        "23:onIfAny = 11 13",
    ),
    "leptoquark": (
        "LeptoQuark:gg2LQLQbar = on",
        "LeptoQuark:qqbar2LQLQbar = on",
        "42:m0 = 80.",
        "42:chargeType = 2",  # +2/3 so that LQ -> b tau+ conserves charge
        "42:0:products = 5 -15",
    ),
    "charged_higgs": (
        "Higgs:useBSM = on",
        "HiggsBSM:ffbar2H+H- = on",
        "37:m0 = 60.",
        "37:onMode = off",
        "37:onIfAny = 15",
    ),
    "h_tautau": ("HiggsSM:gg2H = on", "25:m0 = 60.", "25:onMode = off", "25:onIfMatch = 15 -15"),
    "z_jet": (
        "WeakBosonAndParton:qqbar2gmZg = on",
        "WeakBosonAndParton:qg2gmZq = on",
        "WeakZ0:gmZmode = 2",
        "23:onMode = off",
        "23:onIfAny = 13",
        "PhaseSpace:pTHatMin = 200.",
    ),
    "h_gammagamma": ("HiggsSM:gg2H = on", "25:m0 = 125.", "25:onMode = off", "25:onIfMatch = 22 22"),
    "diphoton": (
        "PromptPhoton:ffbar2gammagamma = on",
        "PromptPhoton:gg2gammagamma = on",
        "PhaseSpace:mHatMin = 100.",
        "PhaseSpace:mHatMax = 160.",
        "PhaseSpace:pTHatMin = 15.",
    ),
}


def process_settings(process: str) -> tuple[str, ...]:
    """The Pythia settings of a named process (without :data:`COMMON`); ``ValueError`` if unknown."""
    if not isinstance(process, str) or process not in PROCESSES:
        raise ValueError(f"unknown process {process!r}; valid processes are: {', '.join(sorted(PROCESSES))}")
    return PROCESSES[process]


def check_settings(settings) -> tuple[str, ...]:
    """Validate user ``settings``: a tuple/list of ``"Key = value"`` strings Pythia accepts.

    Each string is tried on a throw-away Pythia instance, so a misspelt key fails here with a
    ``ValueError`` naming it, instead of after a long generation. Returns them as a tuple.
    """
    if isinstance(settings, str) or not isinstance(settings, (tuple, list)):
        raise ValueError(f"settings must be a tuple of 'Key = value' strings, got {type(settings).__name__}")
    out = tuple(settings)
    for s in out:
        if not isinstance(s, str) or "=" not in s:
            raise ValueError(f"malformed Pythia setting {s!r}: expected a string 'Key = value'")
        if not s.split("=")[0].strip():
            raise ValueError(f"malformed Pythia setting {s!r}: missing the key before '='")
    if out:
        import pythia8mc

        probe = pythia8mc.Pythia("", False)
        for s in out:
            if not probe.readString(s, False):
                raise ValueError(f"Pythia does not accept the setting {s!r} (unknown key or bad value)")
    return out
