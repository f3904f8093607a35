"""Statistics for counting experiments: closed-form (Asimov) discovery significances and p-value/Z conversion."""

from hepjax.stats.asymptotics import asimov_z0, binned_asimov_z0, p_from_z, z_from_p

__all__ = ["asimov_z0", "binned_asimov_z0", "p_from_z", "z_from_p"]
