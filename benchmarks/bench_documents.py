"""Regenerating and compiling derivations/ (targets: regenerate <= 60 s, issue 11's target for
'symfield derivations build'; bench_derivation_build.py shows which activation bounds it;
compile every document <= 10 s).

Run: python benchmarks/bench_documents.py
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import report

ROOT = Path(__file__).resolve().parents[1]


def regenerate(directory: Path) -> float:
    code = ("import sys; from symfield.output.documents import build; "
            f"build({str(directory)!r})")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def compile_all(directory: Path) -> float:
    t0 = time.perf_counter()
    for tex in sorted(directory.glob("*.tex")):
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                        "-output-directory", str(directory), str(tex)],
                       check=True, capture_output=True)
    return time.perf_counter() - t0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as work:
        out = Path(work)
        took = regenerate(out)
        report(f"regenerate derivations/ ({len(list(out.glob('*.tex')))} documents, fresh process)",
               took, 60.0, "<= 60 s", took <= 60.0)
        if shutil.which("pdflatex"):
            took = compile_all(out)
            report("compile every document with pdflatex -halt-on-error", took, 10.0,
                   "<= 10 s", took <= 10.0)
        else:
            print("pdflatex not installed: compile timing skipped")
