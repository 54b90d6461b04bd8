"""The LaTeX documents in derivations/: never stale, and they compile with a real engine."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import symfield
from symfield.output import documents
from symfield.output.latex import law_document

ROOT = Path(__file__).resolve().parents[1]
DERIVATIONS = ROOT / "derivations"
PDFLATEX = shutil.which("pdflatex")
needs_pdflatex = pytest.mark.skipif(
    PDFLATEX is None, reason="pdflatex is not installed (Debian: texlive-latex-base); "
                             ".ci/run installs it, so CI compiles the documents")


#: Regenerated on every run: one activation per kind of derivation (piecewise-linear with the
#: delta rule, erf closed forms through Price's theorem, the tanh pole series, a kinked
#: activation with exponential pieces). All 25 documents and the overview take minutes of CPU:
#: SYMFIELD_FULL=1 (and 'symfield derivations check') compare every one.
QUICK_DOCUMENTS = ("relu", "erf", "tanh", "hard_tanh")


def test_committed_documents_are_what_the_engine_produces_now():
    only = None if os.environ.get("SYMFIELD_FULL") else QUICK_DOCUMENTS
    stale = documents.stale(DERIVATIONS, only=only)
    assert not stale, (f"derivations/ is stale ({', '.join(stale)}): run "
                       "'symfield derivations build'")


def test_there_is_one_document_per_activation_and_an_overview():
    names = {p.name for p in DERIVATIONS.glob("*.tex")}
    expected = {f"{a}.tex" for a in symfield.registered_activations()} | {"overview.tex"}
    assert names == expected


def test_a_document_shows_the_rules_the_engine_used():
    text = (DERIVATIONS / "erf.tex").read_text()
    for phrase in ("Price's theorem in rho", "Gaussian (determinant) rule", r"\arcsin",
                   r"\operatorname{erf}", r"\sigma_w"):
        assert phrase in text


def _compile(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error",
                           "-output-directory", str(tmp_path), str(path)],
                          capture_output=True, text=True, timeout=120)


@needs_pdflatex
@pytest.mark.parametrize("path", sorted(DERIVATIONS.glob("*.tex")), ids=lambda p: p.name)
def test_every_committed_document_compiles(path, tmp_path):
    result = _compile(path, tmp_path)
    errors = [line for line in result.stdout.splitlines() if line.startswith("!")]
    assert result.returncode == 0, errors[:3]
    assert (tmp_path / path.with_suffix(".pdf").name).stat().st_size > 1000


@needs_pdflatex
def test_cli_pdf_compiles_one_derivation(tmp_path):
    from symfield.cli.main import main

    out = tmp_path / "chi1_erf.pdf"
    assert main(["derive", "chi1", "erf", "--pdf", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")


def test_a_broken_document_is_caught_by_the_compile_check(tmp_path):
    """Power check: the compile test can fail."""
    if PDFLATEX is None:
        pytest.skip("pdflatex is not installed")
    bad = tmp_path / "bad.tex"
    bad.write_text(law_document(symfield.derive("chi1", "erf")).replace(r"\end{align*}", "", 1))
    assert _compile(bad, tmp_path).returncode != 0


def test_stale_detection_notices_an_edited_file(tmp_path):
    """Power check: the staleness test can fail."""
    for p in [*DERIVATIONS.glob("*.tex"), *DERIVATIONS.glob("*.json")]:
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "relu.tex").write_text((tmp_path / "relu.tex").read_text() + "% edited\n")
    assert documents.stale(tmp_path, only=QUICK_DOCUMENTS) == ["relu.tex"]
