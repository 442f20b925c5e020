"""``python -m gmm_app.serve [streamlit options]``: start the app with its sweeps warming up.

``streamlit run app.py`` runs the app script only when a visitor arrives, so the first
visitor would wait for the sweep workers to start and for the default sweep to compile.
This launcher sets JAX up, starts the default view's sweep in the background (into the
same process's sweep cache that the pages read) and then runs Streamlit's own command
line, ``streamlit run app.py`` with the given options, in this process.

The safety settings (:func:`safe_options`) are passed as flags after the given options,
so they hold whichever folder the server starts from and whatever a ``config.toml`` or
a ``STREAMLIT_*`` variable says; once Streamlit has read its configuration they are
checked, and the server does not start without them.

Must not import: plotly (it only starts things).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def safe_options() -> dict[str, object]:
    """Streamlit options a public server must have: no cross-site requests, no tracebacks
    shown to visitors, uploads no larger than the app reads."""
    from gmm_app.upload import MAX_UPLOAD_BYTES  # pandas: imported after the pool starts

    return {
        "server.enableXsrfProtection": True,
        "client.showErrorDetails": "none",
        "server.maxUploadSize": MAX_UPLOAD_BYTES // 2**20,
    }


def safe_flags() -> list[str]:
    """:func:`safe_options` as ``streamlit run`` flags."""
    return [f"--{name}={str(value).lower()}" for name, value in safe_options().items()]


def unsafe_options() -> dict[str, object]:
    """The options of :func:`safe_options` that Streamlit's configuration has otherwise."""
    from streamlit import config

    return {
        name: config.get_option(name)
        for name, wanted in safe_options().items()
        if config.get_option(name) != wanted
    }


def _check_options() -> None:
    if wrong := unsafe_options():
        raise SystemExit(f"gmm_app.serve: unsafe Streamlit settings {wrong}; not starting")


def main(arguments: list[str]) -> None:
    """Warm the default sweep in the background, then serve ``app.py`` with ``arguments``."""
    from gmm_app import sweep_workers

    sweep_workers.shared_pool()  # its first worker imports JAX while this process starts
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("gmm_app").setLevel(logging.INFO)  # workers lost, sweeps that failed
    from gmm_app import fit_flow, sidebar

    sidebar.startup()  # one JAX device per core and the compilation cache, before JAX starts
    fit_flow.warm_default_sweep()
    from streamlit import config
    from streamlit.web import cli

    config.on_config_parsed(_check_options, force_connect=True)
    sys.argv = ["streamlit", "run", str(APP), *arguments, *safe_flags()]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
