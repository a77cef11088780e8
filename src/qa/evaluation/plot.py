"""The report's plot: accuracy against coverage as the abstention threshold moves."""
from __future__ import annotations

from pathlib import Path


def plot_curves(curves: dict[str, list[dict]], chosen: dict[str, dict], threshold: float, path: Path,
                title: str = "hybrid") -> None:
    """One line per split on two panels (accuracy vs coverage; score vs threshold), the chosen threshold marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for split, curve in curves.items():
        points = [p for p in curve if p["accuracy"] is not None]
        line, = left.plot([p["coverage"] for p in points], [p["accuracy"] for p in points],
                          marker=".", markersize=3, linewidth=1.2, label=split)
        right.plot([p["threshold"] for p in curve], [p["score"] for p in curve], linewidth=1.2,
                   color=line.get_color(), label=split)
        point = chosen.get(split)
        if point and point["accuracy"] is not None:
            left.plot([point["coverage"]], [point["accuracy"]], marker="o", markersize=8,
                      markerfacecolor="none", markeredgewidth=2, color=line.get_color())
            left.annotate(f"t={threshold:.2f}", (point["coverage"], point["accuracy"]),
                          textcoords="offset points", xytext=(6, -12), fontsize=8, color=line.get_color())
    right.axvline(threshold, color="black", linestyle="--", linewidth=1, label=f"chosen t={threshold:.3f}")
    left.set(xlabel="coverage (share of questions answered)", ylabel="accuracy of the answers given",
             title=f"{title}: accuracy vs coverage", xlim=(0, 1.02), ylim=(0, 1.02))
    right.set(xlabel="abstention threshold", ylabel="share handled correctly (SQuAD v2 style)",
              title=f"{title}: score vs threshold", xlim=(0, 1), ylim=(0, 1.02))
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

