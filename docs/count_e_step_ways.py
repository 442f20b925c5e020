"""Which way each E pass of a benchmark workload takes: float32, mixed or exact.

Run from the repository root: ``python docs/count_e_step_ways.py c`` (any workload of
``gmm_core.bench``). Every E pass of the sweep reports the index of the way
:func:`gmm_core.estep.expectation` chose (0 float32, 1 float64 log-densities
normalised in float32, 2 whitened differences in float64); the script prints how many
passes took each way. Counting needs no timing, so it is exact on a busy machine.
"""

from __future__ import annotations

import argparse
from collections import Counter

import jax
from jax import lax

import gmm_core.estep as estep
from gmm_core.bench import WORKLOADS, blobs, run_workload
from gmm_core.cpu_devices import use_cpu_cores

WAY_NAMES = ("float32", "float64 log-densities, float32 normalisation", "exact float64")


def count_ways(name: str) -> Counter:
    """Run workload ``name`` once and count the E passes per way."""
    chosen: list[int] = []
    switch = lax.switch

    def counting_switch(index, branches, *operands):
        jax.debug.callback(lambda i: chosen.append(int(i)), index)
        return switch(index, branches, *operands)

    estep.lax = type("CountingLax", (), {"switch": staticmethod(counting_switch), "cond": lax.cond})
    workload = WORKLOADS[name]
    jax.block_until_ready(run_workload(workload, blobs(workload.n_samples, workload.n_features)))
    jax.effects_barrier()
    estep.lax = lax
    return Counter(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    args = parser.parse_args()
    use_cpu_cores()
    counts = count_ways(args.workload)
    total = sum(counts.values())
    for index, way in enumerate(WAY_NAMES):
        print(f"{way}: {counts[index]} of {total} E passes")


if __name__ == "__main__":
    main()
