"""Compiled sweep programs saved whole, so that a restarted process skips tracing as well.

JAX's persistent compilation cache spares a restarted process the XLA compiler, but JAX
still traces and lowers the program before it looks there: about 2 s for the default
sweep on two cores, on the way to the first chart after every server restart. This cache
keeps the compiled executable itself (``jax.experimental.serialize_executable``) in a
``gmm_programs`` folder inside JAX's cache directory; loading one takes about 0.6 s.

A file's name is a digest of everything the executable depends on: the program's config
and input shapes, JAX's and jaxlib's versions, the devices, ``XLA_FLAGS`` and the source
of ``gmm_core``. A file that cannot be loaded is deleted and the program compiled again.
Nothing is saved or loaded when no cache directory is set or the sweep spans several
processes.

Only a program that XLA really compiled is saved. One that JAX read back from its own
cache serialises without some of its kernels: loaded in a later process it fails at its
first call ("NOT_FOUND: Function ... not found"). :func:`jax_cache_hits` tells the two
apart, and :func:`saves` counts the files written. Should such a file exist anyway,
:func:`gmm_core.program.run_program` deletes it and compiles the program again.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
import threading
from pathlib import Path
from typing import Any

import jax
import jaxlib

FOLDER = "gmm_programs"
_JAX_CACHE_HIT = "/jax/compilation_cache/cache_hits"
_HITS = [0]
_SAVES = [0]
_HITS_LOCK = threading.Lock()


def _count_jax_cache_hit(event: str, **_: object) -> None:
    if event == _JAX_CACHE_HIT:
        with _HITS_LOCK:
            _HITS[0] += 1


jax.monitoring.register_event_listener(_count_jax_cache_hit)


def jax_cache_hits() -> int:
    """How many executables this process has read from JAX's persistent cache so far."""
    return _HITS[0]


def saves() -> int:
    """How many programs this process has saved so far."""
    return _SAVES[0]


@functools.cache
def _source_digest() -> str:
    """A digest of every ``gmm_core`` module's text (a code change makes new names)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _folder() -> Path | None:
    """Where programs are saved: inside JAX's compilation cache, or None when it is off."""
    directory = jax.config.jax_compilation_cache_dir
    if not directory or jax.process_count() > 1:
        return None
    return Path(directory) / FOLDER


def _path(key: object) -> Path | None:
    folder = _folder()
    if folder is None:
        return None
    parts = (
        repr(key),
        jax.__version__,
        jaxlib.__version__,
        repr([str(device) for device in jax.devices()]),
        os.environ.get("XLA_FLAGS", ""),
        _source_digest(),
    )
    name = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]
    return folder / f"{name}.pickle"


def load(key: object) -> Any | None:
    """The saved executable of ``key`` (a program's config and input signature), or None."""
    path = _path(key)
    if path is None or not path.is_file():
        return None
    try:
        from jax.experimental.serialize_executable import deserialize_and_load

        payload, in_tree, out_tree = pickle.loads(path.read_bytes())
        return deserialize_and_load(payload, in_tree, out_tree)
    except Exception:  # noqa: BLE001 - a stale or damaged file is compiled again
        path.unlink(missing_ok=True)
        return None


def discard(key: object) -> None:
    """Delete ``key``'s saved program, if any."""
    path = _path(key)
    if path is not None:
        path.unlink(missing_ok=True)


def save(key: object, compiled: Any) -> None:
    """Save ``compiled`` under ``key`` (atomically; a failure only costs the next start)."""
    path = _path(key)
    if path is None:
        return
    try:
        from jax.experimental.serialize_executable import serialize

        data = pickle.dumps(serialize(compiled))
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(staging, path)
    except Exception:  # noqa: BLE001 - saving is an optimisation, never an error
        return
    with _HITS_LOCK:
        _SAVES[0] += 1
