"""matplotlib for every command that draws: headless, with a private font cache, figures written atomically."""

from __future__ import annotations

import base64
import io
import os

from ._io import atomic_output


def _private_mpl_dir() -> None:
    """matplotlib caches fonts in MPLCONFIGDIR: give it a private temporary folder unless the user chose one.

    A shared fixed path (e.g. /tmp/chromoflow-mpl) breaks when another user
    created it first, and a home folder may be read-only in a container.
    """
    if not os.environ.get("MPLCONFIGDIR"):
        import atexit
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="chromoflow-mpl-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ["MPLCONFIGDIR"] = folder


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    _private_mpl_dir()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path, dpi: int = 120) -> None:
    """Write ``fig`` to ``path`` as PNG (all or nothing) and free it."""
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    fig.clf()
    pyplot().close(fig)


def png_data_uri(fig, dpi: int = 110) -> str:
    """``fig`` as a ``data:image/png;base64,...`` URI (for a self-contained HTML page), and free it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return file_data_uri(buf.getvalue())


def file_data_uri(png: bytes) -> str:
    """PNG bytes as a data URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode()
