"""Cold compile cost of the Restarts page's init comparison: one sweep per init method.

Run from the repository root: ``python docs/measure_init_compile.py``. In a fresh
process with the persistent compilation cache off and one CPU device per core (as the
app's sweep workers run), it sweeps the app's default settings (four_blobs, 2,000
points, K = 1..6, 8 restarts, 64 snapshots) once per init method and prints each
sweep's compile seconds and the number of programs compiled, then the size of each
compiled program (lines of XLA's optimised HLO): a measure of what the compiler works
through that, unlike seconds, does not move with the machine's load.
"""

from __future__ import annotations

import os

os.environ["GMM_COMPILATION_CACHE"] = ""  # noqa: E402  cold: no persistent cache

from gmm_core.cpu_devices import use_cpu_cores  # noqa: E402

use_cpu_cores()

import gmm_core  # noqa: E402
from gmm_core.program import PROGRAMS  # noqa: E402

OPTIONS = dict(k_min=1, k_max=6, n_restarts=8, seed=0, snapshots=64, max_iter=100, tol=1e-3)


def main() -> None:
    X, _ = gmm_core.PRESETS["four_blobs"].sample(n=2000, seed=0)
    total = 0.0
    for method in gmm_core.INIT_METHODS:
        result = gmm_core.sweep(X, init_params=method, **OPTIONS)
        total += result.compile_seconds
        print(
            f"{method:>18}: compile {result.compile_seconds:6.2f} s, "
            f"run {result.run_seconds:5.2f} s"
        )
    print(
        f"all {len(gmm_core.INIT_METHODS)} methods: {gmm_core.compilation_count()} programs "
        f"compiled in {total:.2f} s"
    )
    for (config, _), program in PROGRAMS.held():
        lines = program.as_text().count("\n")
        print(f"program for init {config.init_params!r}: {lines:,} lines of optimised HLO")


if __name__ == "__main__":
    main()
