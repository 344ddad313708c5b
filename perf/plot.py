"""Bar chart of perf/run.py's decode tokens/s, with each row's roofline bound.

    python perf/plot.py perf/results/perf.json perf/perf.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main(src: str, dst: str) -> None:
    rows = json.load(open(src))["rows"]
    names = list(dict.fromkeys(r["name"] for r in rows))
    threads = sorted({r["threads"] for r in rows})
    fig, ax = plt.subplots(figsize=(11, 4.2))
    width = 0.8 / len(threads)
    y = np.arange(len(names))
    for i, t in enumerate(threads):
        vals = [next(r["tokens_per_s"] for r in rows if r["name"] == n and r["threads"] == t) for n in names]
        ax.barh(y + i * width, vals, width, label=f"{t} thread{'s' if t > 1 else ''}")
        for yy, v in zip(y + i * width, vals):
            ax.text(v, yy, f" {v:,.0f}", va="center", fontsize=8)
    ax.set_yticks(y + width * (len(threads) - 1) / 2, names)
    ax.invert_yaxis()
    ax.set(xlabel="decode tokens/s (batch 1, 128-token prompt, greedy)", title="same 16M-parameter student, one process")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(dst, dpi=120)


if __name__ == "__main__":
    main(*sys.argv[1:3])
