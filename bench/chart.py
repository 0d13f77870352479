"""Draws results/latest.json as a grouped bar chart: one group per scenario,
one bar per server. Run with the venv's python (it needs matplotlib):

    bench/.venv/bin/python bench/chart.py bench/results/latest.json bench/results/latest.png
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src, dst):
    data = json.load(open(src))
    runs = [r for r in data["runs"] if r.get("rps") is not None]
    scenarios = list(dict.fromkeys(r["scenario"] for r in runs))
    servers = list(dict.fromkeys(r["server"] for r in runs))
    rps = {(r["scenario"], r["server"]): r["rps"] for r in runs}
    if not runs:
        print("chart: no throughput results to draw", file=sys.stderr)
        return

    fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(scenarios) * max(1, len(servers)) / 3), 5.5))
    width = 0.8 / len(servers)
    for i, server in enumerate(servers):
        xs = [s + (i - (len(servers) - 1) / 2) * width for s in range(len(scenarios))]
        ys = [rps.get((sc, server), 0) / 1000 for sc in scenarios]
        bars = ax.bar(xs, ys, width, label=server)
        for bar, y in zip(bars, ys):
            if y:
                ax.annotate(f"{y:.0f}", (bar.get_x() + bar.get_width() / 2, y),
                            ha="center", va="bottom", fontsize=7, rotation=90,
                            xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(scenarios)), scenarios)
    ax.set_ylabel("thousand requests / s (higher is better)")
    m = data["machine"]
    ax.set_title(f"carafe and peers — {m['nproc']} cores, {m['cpu']}, "
                 f"{data['config']['duration']} s per run", fontsize=10)
    ax.margins(y=0.15)
    ax.legend(ncols=min(len(servers), 6), loc="upper left", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(dst, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
