"""``python -m gmm_app.serve [streamlit options]``: start the app with its sweeps warming up.

``streamlit run app.py`` runs the app script only when a visitor arrives, so the first
visitor would wait for the sweep workers to start and for the default sweep to compile.
This launcher sets JAX up, starts the default view's sweep in the background (into the
same process's sweep cache that the pages read) and then runs Streamlit's own command
line, ``streamlit run app.py`` with the given options, in this process.

Must not import: plotly (it only starts things).
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def main(arguments: list[str]) -> None:
    """Warm the default sweep in the background, then serve ``app.py`` with ``arguments``."""
    from gmm_app import sweep_workers

    sweep_workers.shared_pool()  # its first worker imports JAX while this process starts
    from gmm_app import fit_flow, sidebar

    sidebar.startup()  # one JAX device per core and the compilation cache, before JAX starts
    fit_flow.warm_default_sweep()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *arguments]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
