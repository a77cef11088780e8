"""The report's plot: answered right against abstained right as the abstention threshold moves."""
from __future__ import annotations

from pathlib import Path


def plot_tradeoff(groups: dict[str, dict], path: Path) -> None:
    """Answered right (share of answerable questions answered right) against abstained right (share of
    unanswerable ones abstained on) as the threshold moves; one line per group of splits and
    configuration, the chosen threshold marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    for name, group in groups.items():
        curve = group["curve"]
        line, = ax.plot([p["abstained_right"] for p in curve], [p["answered_right"] for p in curve],
                        linewidth=1.3, linestyle="-" if "hybrid" in name else ":", label=name)
        chosen = group["chosen"]
        ax.plot([chosen["abstained_right"]], [chosen["answered_right"]], marker="o", markersize=8,
                markerfacecolor="none", markeredgewidth=2, color=line.get_color())
    ax.set(xlabel="abstained right (share of unanswerable questions abstained on)",
           ylabel="answered right (share of answerable questions answered right)",
           title="The trade-off as the abstention threshold moves (o = chosen threshold)",
           xlim=(0, 1.02), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
