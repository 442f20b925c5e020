"""``python -m gmm_app.prewarm``: compile the default view's sweep into the persistent cache.

``make run`` runs this once after installing the requirements. Without it the first
visitor after a fresh install waits for the compiler (about 3 s on a 2-core machine);
with it the server's start-up warm-up (:func:`gmm_app.fit_flow.warm_default_sweep`) loads
the program from the cache in a few seconds. JAX is set up as a sweep worker sets it up
(one device per core, the cache of ``GMM_COMPILATION_CACHE``) and the sweep is called as
a worker calls it, with a progress callback, so the cached program is the one the
workers look up.

Must not import: plotly (it only compiles).
"""

from __future__ import annotations

import time

import gmm_core
from gmm_core.compilation_cache import enable_compilation_cache
from gmm_core.cpu_devices import use_cpu_cores


def main() -> None:
    """Compile the default sweep's program into the cache, and say where it went."""
    use_cpu_cores()
    directory = enable_compilation_cache()
    if directory is None:
        print("gmm_app.prewarm: the compilation cache is off (GMM_COMPILATION_CACHE is empty)")
        return
    from streamlit.logger import set_log_level

    set_log_level("error")  # outside a page run st.cache_data warns that it has no runtime
    from gmm_app import datasets
    from gmm_app.app_settings import default_settings
    from gmm_app.fit_flow import call_options

    defaults = default_settings()
    points = datasets.draw_synthetic(defaults.data_key)[0]
    started = time.perf_counter()
    options, _ = call_options(*points.shape, defaults.fit_key)
    result = gmm_core.sweep(points, progress=lambda _: None, **options)
    print(
        f"gmm_app.prewarm: the default sweep's program is in {directory} "
        f"(compiled in {result.compile_seconds:.1f} s, "
        f"{time.perf_counter() - started:.1f} s in all)"
    )


if __name__ == "__main__":
    main()
