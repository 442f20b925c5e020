"""``import gmm_core`` asks for one CPU device per core, unless told otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gmm_core.cpu_devices import DEVICES_VARIABLE, cpu_core_count

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, os, sys
if sys.argv[1] == "jax-first":
    import jax
    jax.devices()
import gmm_core, jax
print(json.dumps({"devices": len(jax.devices()), "flags": os.environ.get("XLA_FLAGS", "")}))
"""


def _devices(setting: str | None, flags: str | None = None, order: str = "gmm-first") -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", DEVICES_VARIABLE)}
    env.update(PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    if setting is not None:
        env[DEVICES_VARIABLE] = setting
    if flags is not None:
        env["XLA_FLAGS"] = flags
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, order], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_device_per_core_by_default() -> None:
    assert _devices(None)["devices"] == max(cpu_core_count(), 1)
    assert _devices("auto")["devices"] == max(cpu_core_count(), 1)


@pytest.mark.parametrize("setting", ["1", "0", "off"])
def test_the_variable_turns_it_off(setting: str) -> None:
    assert _devices(setting) == {"devices": 1, "flags": ""}


def test_the_variable_sets_a_count() -> None:
    assert _devices("3")["devices"] == 3


def test_a_device_count_in_xla_flags_wins() -> None:
    flags = "--xla_force_host_platform_device_count=3"
    assert _devices(None, flags) == {"devices": 3, "flags": flags}


def test_nothing_changes_once_jax_has_started() -> None:
    assert _devices(None, order="jax-first") == {"devices": 1, "flags": ""}
