"""On-disk cache of generated samples: ``.npz`` arrays + a JSON sidecar, written atomically.

Layout under the cache directory (``$HEPJAX_CACHE_DIR``, else ``~/.cache/hepjax``)::

    samples/<process>_n<n_events>_s<seed>_<key>.npz    flat arrays (see hepjax.data.sample)
    samples/<process>_n<n_events>_s<seed>_<key>.json   metadata + sha256 of the .npz
    tracking/<process>_mu<mu>_n<n_events>_s<seed>_<key>.npz (+ .json)   tracker hits (hepjax.tracking.events)
    showers/...                                         calorimeter cascades (hepjax.fastsim.reference)
    mpi_init/<key>.dat (+ .json)                        Pythia MPI initialisation tables

``key`` hashes everything that determines the events (process, seed, n_events, settings,
sqrt_s, chunk size, Pythia version, :data:`FORMAT_VERSION`). Each file is written to a temporary
name in the same folder and moved into place with ``os.replace`` (atomic on POSIX); the JSON
sidecar is written last and carries the ``.npz``'s sha256, so a half-written, truncated or
altered ``.npz`` is detected (:class:`CacheError`) instead of being used.

Reading a cached sample needs only numpy::

    arrays = np.load("....npz")                # keys "particles/pt", "particles/counts", ...
    pt = np.split(arrays["particles/pt"], np.cumsum(arrays["particles/counts"])[:-1])
    # or: ak.unflatten(arrays["particles/pt"], arrays["particles/counts"])
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from hepjax.errors import CacheError  # re-exported: hepjax.data.cache.CacheError is this class

#: Bump when the stored layout or the generation recipe changes (invalidates old files).
FORMAT_VERSION = 1


def default_cache_dir() -> Path:
    """``$HEPJAX_CACHE_DIR`` if set, else ``~/.cache/hepjax``."""
    env = os.environ.get("HEPJAX_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "hepjax"


def digest(obj) -> str:
    """sha256 hex digest of a JSON-serialisable object (sorted keys)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write(path: Path, write) -> str:
    """Call ``write(fileobj)`` on a temp file beside ``path``, fsync, then ``os.replace`` it.

    Returns the sha256 of what was written (computed before the move, so it is this writer's).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        sha = file_sha256(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return sha


def write_npz(f, arrays: dict) -> None:
    """An uncompressed ``.npz`` (readable by ``np.load``) whose bytes depend only on ``arrays``.

    Unlike ``np.savez`` it stamps every member with a fixed date, so two processes writing the
    same sample produce identical files (and the same sha256).
    """
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with z.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)


def sample_paths(
    cache_dir: Path, process: str, n_events: int, seed: int, key: str, *, kind: str = "samples"
) -> tuple[Path, Path]:
    """``(npz_path, json_path)`` of a cached entry; ``kind`` names the sub-folder (samples, tracking, ...)."""
    stem = f"{process}_n{n_events}_s{seed}_{key[:20]}"
    d = Path(cache_dir) / kind
    return d / f"{stem}.npz", d / f"{stem}.json"


def save_sample(npz_path: Path, json_path: Path, flat: dict, meta: dict) -> None:
    """Write the arrays then the metadata (with the arrays' sha256), each atomically."""
    sha = atomic_write(npz_path, lambda f: write_npz(f, flat))
    meta = dict(meta, format_version=FORMAT_VERSION, sha256=sha)
    atomic_write(json_path, lambda f: f.write(json.dumps(meta, indent=1, sort_keys=True).encode()))


def load_sample(npz_path: Path, json_path: Path, key: str) -> tuple[dict, dict] | None:
    """``(flat_arrays, meta)`` from the cache; ``None`` if absent; :class:`CacheError` if bad."""
    if not json_path.exists():
        if npz_path.exists():
            raise CacheError(f"{npz_path} has no metadata file {json_path.name} (incomplete write)")
        return None
    try:
        meta = json.loads(json_path.read_text())
    except (OSError, ValueError) as e:
        raise CacheError(f"unreadable cache metadata {json_path}: {e}") from e
    if not isinstance(meta, dict) or meta.get("key") != key or meta.get("format_version") != FORMAT_VERSION:
        raise CacheError(f"cache metadata {json_path} does not match the requested sample (key/format)")
    if not npz_path.exists():
        raise CacheError(f"cache file {npz_path} is missing")
    if file_sha256(npz_path) != meta.get("sha256"):
        raise CacheError(f"cache file {npz_path} fails its sha256 checksum (truncated or corrupted)")
    try:
        with np.load(npz_path, allow_pickle=False) as z:
            flat = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise CacheError(f"cannot read cache file {npz_path}: {e}") from e
    return flat, meta


def ensure_writable(directory: Path) -> Path:
    """Create ``directory`` if needed and check a file can be written there, before any expensive work.

    Raises:
      CacheError: naming the directory and why (a file in the way, permission denied, read-only, full).
    """
    directory = Path(directory)
    for parent in (directory, *directory.parents):
        if parent.exists() and not parent.is_dir():
            raise CacheError(f"cache directory {directory}: {parent} is a file, not a directory")
        if parent.exists():
            break
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
            pass
    except OSError as e:
        raise CacheError(
            f"cache directory {directory} is not writable ({e.strerror or e}); "
            "set HEPJAX_CACHE_DIR (or the config's cache_dir) to a writable folder"
        ) from e
    return directory


def rescue_copy(arrays: dict, what: str) -> Path | None:
    """Write ``arrays`` to a fresh file in the system temp folder (when the cache could not take them)."""
    try:
        fd, name = tempfile.mkstemp(prefix=f"hepjax-rescued-{what}-", suffix=".npz")
        with os.fdopen(fd, "wb") as f:
            write_npz(f, arrays)
        return Path(name)
    except OSError:
        return None


def remove_quietly(*paths: Path) -> None:
    for p in paths:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
