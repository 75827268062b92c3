"""Stable fingerprints of training data and artifacts (SHA-256)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

_CHUNK = 1024 * 1024


def arrays_fingerprint(*arrays: np.ndarray) -> str:
    """SHA-256 over the dtype, shape and bytes of each array: equal data, equal hash."""
    digest = hashlib.sha256()
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        digest.update(f"{contiguous.dtype.str}{contiguous.shape}".encode())
        digest.update(contiguous.tobytes())
    return digest.hexdigest()


def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 hex digest and size in bytes of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
