"""Device selection: CUDA when a usable GPU is present, else CPU. torch is optional."""

from __future__ import annotations

import functools
import importlib


@functools.lru_cache(maxsize=1)
def device_pick() -> str:
    """Return "cuda" when torch is installed and sees a GPU, else "cpu".

    torch is imported lazily, on the first GPU-capable run only: importing it costs seconds
    and initialising CUDA in a Celery parent process before it forks breaks the children.
    """
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"
