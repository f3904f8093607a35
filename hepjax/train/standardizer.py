"""The one feature standardisation of hepjax: fit on training rows, apply anywhere, save with the run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class Standardizer:
    """Per-feature ``(x - mean) / std``, with ``std`` the training standard deviation plus ``eps``.

    Example:
        >>> import numpy as np
        >>> s = Standardizer.fit(np.array([[0.0, 10.0], [2.0, 30.0]]), eps=0.0)
        >>> s.apply(np.array([[1.0, 20.0]])).tolist()
        [[0.0, 0.0]]
        >>> np.allclose(s.inverse(s.apply(np.array([[3.0, 7.0]]))), [[3.0, 7.0]])
        True

    Attributes:
      mean: ``[n_features]`` training mean, in the features' units.
      std: ``[n_features]`` training standard deviation (ddof = 0) plus ``eps``; strictly positive.
    """

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self):
        mean, std = np.asarray(self.mean), np.asarray(self.std)
        if mean.shape != std.shape:
            raise ValueError(f"Standardizer: mean shape {mean.shape} != std shape {std.shape}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
            raise ValueError("Standardizer: mean and std must be finite")
        if np.any(std <= 0):
            raise ValueError("Standardizer: every std must be > 0 (a constant feature needs eps > 0)")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @classmethod
    def fit(cls, x: ArrayLike, *, eps: float = 1e-6, mask: ArrayLike | None = None) -> Standardizer:
        """Fit on the rows of ``x`` (``[n, n_features]``); ``mask`` (``[n]`` bool) selects the rows used."""
        x = np.asarray(x)
        if mask is not None:
            x = x[np.asarray(mask, bool)]
        if x.shape[0] == 0:
            raise ValueError("Standardizer.fit: no rows to fit on")
        return cls(x.mean(0), x.std(0) + eps)

    def apply(self, x: ArrayLike, dtype=None) -> np.ndarray:
        """``(x - mean) / std`` (numpy); ``dtype`` casts the result (e.g. ``np.float32``)."""
        out = (np.asarray(x) - self.mean) / self.std
        return out.astype(dtype) if dtype is not None else out

    def inverse(self, z: ArrayLike) -> np.ndarray:
        return np.asarray(z) * self.std + self.mean

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    def save(self, path: str | Path) -> Path:
        """Write ``{"mean": [...], "std": [...]}`` as JSON (the run folder's ``standardisation.json``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict()))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Standardizer:
        path = Path(path)
        try:
            d = json.loads(path.read_text())
            return cls(np.asarray(d["mean"]), np.asarray(d["std"]))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path}: not a standardisation file ({e})") from e
