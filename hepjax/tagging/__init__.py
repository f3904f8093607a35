"""Permutation-invariant jet taggers on padded constituents."""
from hepjax.tagging.deepsets import apply_pfn, init_pfn

__all__ = ["apply_pfn", "init_pfn"]
