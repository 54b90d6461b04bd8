"""Building the HTML derivation site for every activation from the committed records
(target: <= 60 s, issue 17), on every CPU, in a fresh process as the command line runs it.

The baseline column is the target itself (there is no older site to compare with).
Run: python benchmarks/bench_site.py
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import report

ROOT = Path(__file__).resolve().parents[1]
TARGET = 60.0


def build(directory: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "symfield", "derivations", "site", "-o",
                    str(directory), "--dir", str(ROOT / "derivations")], check=True)
    return time.perf_counter() - t0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "site"
        took = build(out)
        activation_pages = list(out.glob("*.html"))
        law_pages = list(out.glob("*/*.html"))
        left_out = [p.name for p in activation_pages if "left out:" in p.read_text()]
        report(f"derivation site ({len(activation_pages)} index/activation pages, "
               f"{len(law_pages)} law pages, {len(list(out.glob('plots/*.png')))} plots)",
               took, TARGET, f"<= {TARGET:g} s", took <= TARGET)
        if left_out:
            print(f"plots left out (over the CPU limit) on: {', '.join(sorted(left_out))}")
