"""Summary statistics the profilers share."""
from __future__ import annotations

import numpy as np


def summarize_ms(seconds: list[float]) -> dict:
    a = np.asarray(seconds, dtype=np.float64) * 1e3
    if a.size == 0:
        return {"n": 0}
    return {"n": int(a.size), "mean_ms": float(a.mean()), "std_ms": float(a.std()), "min_ms": float(a.min()),
            **{f"p{q}_ms": float(np.percentile(a, q)) for q in (50, 90, 95, 99)}, "max_ms": float(a.max())}


def peak_rss_mb() -> float:
    """Peak resident memory of this process (ru_maxrss: kB on Linux, bytes on macOS)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
