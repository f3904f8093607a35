"""The trigger's physics inputs: jet-substructure features and L1 event summaries.

Kept apart from :mod:`hepjax.hls` (fixed-point networks and their FPGA export), which only consumes
these arrays. Submodules are imported explicitly (:mod:`hepjax.trigger.jet_features`,
:mod:`hepjax.trigger.l1_inputs`); nothing heavy is imported here.
"""
