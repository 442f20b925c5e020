"""``python -m gmm_app.serve`` holds its safety settings from any folder, whatever the
configuration there says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gmm_app import serve
from gmm_app.upload import MAX_UPLOAD_BYTES

ROOT = Path(__file__).resolve().parents[2]

#: Runs ``gmm_app.serve.main`` up to the point where Streamlit would start its server,
#: then prints the options Streamlit ended up with instead of serving.
PROBE = """
import sys
from streamlit import config
from streamlit.web import bootstrap
from gmm_app import serve

def report(main_script_path, is_hello, args, flag_options):
    print("OPTIONS", {name: config.get_option(name) for name in serve.safe_options()})

bootstrap.run = report
if sys.argv[1] == "without-flags":
    serve.safe_flags = lambda: []
serve.main(sys.argv[2:])
"""

#: What a hostile folder or environment tries: XSRF off, tracebacks on, 200 MB uploads.
UNSAFE_ENVIRONMENT = {
    "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION": "false",
    "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "full",
    "STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "200",
}


def probe(folder: Path, mode: str, *arguments: str) -> subprocess.CompletedProcess:
    """The probe started from ``folder`` (not the repository), with the unsafe settings."""
    (folder / ".streamlit").mkdir(exist_ok=True)
    (folder / ".streamlit" / "config.toml").write_text(
        "[server]\nenableXsrfProtection = false\n[client]\nshowErrorDetails = 'full'\n"
    )
    environment = {
        **os.environ,
        **UNSAFE_ENVIRONMENT,
        "PYTHONPATH": str(ROOT),
        "GMM_SWEEP_WORKERS": "0",  # no workers, no warm-up sweep: only the settings
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE, mode, *arguments],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.slow
def test_serve_passes_and_checks_its_safety_settings_from_any_folder(tmp_path: Path) -> None:
    done = probe(tmp_path, "with-flags", "--server.maxUploadSize", "500")
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("OPTIONS")]
    assert line == "OPTIONS " + str(
        {
            "server.enableXsrfProtection": True,
            "client.showErrorDetails": "none",
            "server.maxUploadSize": MAX_UPLOAD_BYTES // 2**20,
        }
    )
    # Without its flags the start-up check refuses to serve the environment's settings.
    refused = probe(tmp_path, "without-flags")
    assert refused.returncode != 0
    assert "unsafe Streamlit settings" in refused.stderr, refused.stderr[-3000:]
    for name in serve.safe_options():
        assert name in refused.stderr
