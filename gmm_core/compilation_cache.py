"""JAX's persistent compilation cache, so a restarted process does not recompile.

The directory comes from the argument, else the ``GMM_COMPILATION_CACHE`` environment
variable, else ``~/.cache/gmm_explorer/jax``. Set the variable to an empty string to
leave the cache off.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

ENVIRONMENT_VARIABLE = "GMM_COMPILATION_CACHE"
DEFAULT_DIRECTORY = Path.home() / ".cache" / "gmm_explorer" / "jax"


def enable_compilation_cache(directory: str | os.PathLike[str] | None = None) -> Path | None:
    """Turn on JAX's persistent compilation cache; returns the directory, or None if off."""
    if directory is None:
        configured = os.environ.get(ENVIRONMENT_VARIABLE)
        if configured == "":
            return None
        directory = configured or DEFAULT_DIRECTORY
    path = Path(directory).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return path
