"""Plot a ``SimulationTable``: prediction lines, measured points with error bars (matplotlib,
Agg backend; matplotlib is the optional extra ``plot``)."""
from __future__ import annotations

import numpy as np

from ..errors import InvalidValueError
from .table import SimulationTable

# Quantities that grow or shrink geometrically with depth read best on a log axis.
_LOG_SCALE = {"metric", "domino", "offdiag"}


def plot_table(table: SimulationTable, path: str) -> None:
    """Write one panel per quantity to ``path`` (PNG)."""
    try:
        import matplotlib
    except ImportError:
        raise InvalidValueError("--plot needs matplotlib: pip install 'symfield[plot]' "
                                "(or pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quantities = [q for q in table.quantities if np.any(np.isfinite(q.estimate))]
    columns = 3
    rows = -(-len(quantities) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows),
                                squeeze=False)
    layers = np.arange(1, table.depth + 1)
    for axis, item in zip(axes.ravel(), quantities):
        label = "law" if item.reference == "pred" else item.reference
        axis.plot(layers, item.prediction, "-", color="C0", label=f"{label} ({item.law})")
        axis.errorbar(layers, item.estimate, yerr=item.standard_error, fmt="o", color="C3",
                      markersize=3, capsize=2, label="sampled networks")
        positive = np.all(item.estimate[np.isfinite(item.estimate)] > 0)
        if item.name in _LOG_SCALE and positive:
            axis.set_yscale("log")
        axis.set_title(item.name)
        axis.set_xlabel("layer l")
        axis.legend(fontsize=7)
    for axis in axes.ravel()[len(quantities):]:
        axis.set_visible(False)
    figure.suptitle(f"{table.activation}: sigma_w={table.sigma_w:g}, sigma_b={table.sigma_b:g},"
                    f" n={table.width}, {table.replicas} networks", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
