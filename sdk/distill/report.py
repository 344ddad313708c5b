"""summary.json and training.png for a distillation run."""
from __future__ import annotations

import io
import json
from pathlib import Path

from spikelite.atomic import atomic_write_bytes, atomic_write_text


def write_report(out: Path, summary: dict) -> None:
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_bytes(out / "training.png", training_figure(summary))


def training_figure(summary: dict) -> bytes:
    """Loss curves, validation ppl against the teacher's, and spike density per site."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = summary["curves"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    ax = axes[0]
    ax.plot(curves["step"], curves["loss"], label="total")
    ax.plot(curves["step"], curves["ce"], label="CE (hard labels)")
    ax.plot(curves["step"], curves["kd"], label="T²·KL (teacher)")
    ax.set(xlabel="step", ylabel="loss", title="training loss")
    ax.legend()
    ax = axes[1]
    ax.plot(curves["eval_step"], curves["val_ppl"], marker="o", label=f"student ({summary['student']['model_type']})")
    ax.axhline(summary["teacher"]["val_ppl"], color="k", linestyle="--", label=f"teacher {summary['teacher']['name']}")
    ax.set(xlabel="step", ylabel="validation perplexity", title="held-out perplexity", yscale="log")
    ax.legend()
    ax = axes[2]
    layers = summary["spikes"]["layers"]
    ax.bar(range(len(layers)), [v["density"] for v in layers.values()])
    ax.set_xticks(range(len(layers)), list(layers), rotation=60, ha="right", fontsize=8)
    ax.set(ylabel="spike density", title=f"spike density (overall {summary['spikes']['density']:.2f})", ylim=(0, 1))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
