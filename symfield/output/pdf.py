"""Compile LaTeX with pdflatex (when it is installed)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import SymfieldError


def pdflatex_available() -> bool:
    return shutil.which("pdflatex") is not None


def compile_pdf(source: str, output: str | Path, timeout: float = 60) -> Path:
    """Compile a LaTeX document to ``output`` (PDF) with ``pdflatex -halt-on-error``."""
    if not pdflatex_available():
        raise SymfieldError("pdflatex is not installed (Debian: apt-get install texlive-latex-base)")
    output = Path(output)
    with tempfile.TemporaryDirectory() as work:
        tex = Path(work) / "document.tex"
        tex.write_text(source, encoding="utf-8")
        result = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
            cwd=work, capture_output=True, text=True, timeout=timeout)
        pdf = Path(work) / "document.pdf"
        if result.returncode != 0 or not pdf.exists():
            errors = [line for line in result.stdout.splitlines() if line.startswith("!")]
            raise SymfieldError(f"pdflatex failed: {errors[0] if errors else 'see its log'}")
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdf, output)
    return output
