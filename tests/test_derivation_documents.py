"""The LaTeX documents in derivations/: never stale, and they compile with a real engine."""
from __future__ import annotations

import os
import re
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
    for phrase in (r"Price's theorem~\cite{price1958} in $\rho$", "Gaussian (determinant) rule",
                   r"\arcsin", r"\operatorname{erf}", r"\sigma_w", r"\bibitem{williams1997}"):
        assert phrase in text


def test_a_later_derivation_cites_the_steps_it_shares_instead_of_repeating_them():
    from symfield.output.latex import tex

    text = (DERIVATIONS / "erf.tex").read_text()
    assert "As derived in (" in text
    # the kernel's Price step is shown once, however many laws (the kernel, the NNGP and NTK
    # recursions, ...) derive the kernel at the same variables on their way
    kernel = symfield.derive("kernel", "erf")
    (price,) = [s for s in kernel.derivation if s.rule.startswith("Price")]
    users = [n for n in symfield.registered_laws()
             if any((s.before, s.after) == (price.before, price.after)
                    for s in symfield.derive(n, "erf").derivation)]
    assert len(users) >= 2, users
    assert text.count(tex(price.before)) == 1


PDFTOPPM = shutil.which("pdftoppm")
#: Where the rendered first pages go (CI sets it, so a reviewer can look at them).
PREVIEWS = os.environ.get("SYMFIELD_PREVIEWS")
#: An overfull line up to this much is invisible; wider ones fail the test.
OVERFULL_TOLERANCE_PT = 5.0
#: Pages a document may have: every law with its derivation, repeats cited, not repeated.
MAX_PAGES = 150


def _compile(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """Two passes: the second resolves the equation references and citations."""
    for _ in range(2):
        result = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error",
                                 "-output-directory", str(tmp_path), str(path)],
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            break
    return result


def layout_problems(log: str) -> list[str]:
    """What a reader would notice: lines running into the margin, unresolved references."""
    problems = [f"overfull {'line' if box == 'h' else 'page'} {w} pt"
                for box, w in re.findall(r"Overfull \\([hv])box \(([0-9.]+)pt", log)
                if float(w) > OVERFULL_TOLERANCE_PT]
    problems += re.findall(r"LaTeX Warning: (?:Reference|Citation) .* undefined.*", log)
    problems += re.findall(r"LaTeX Warning: There were undefined references.*", log)
    return problems


def _pages(log: str) -> int:
    # TeX wraps its log at 79 characters, so a long path splits the line
    found = re.findall(r"Output written on [^(]*\((\d+) pages?", log.replace("\n", ""))
    return int(found[-1]) if found else 0


def _right_margin_is_blank(png: Path) -> bool:
    """Nothing drawn in the outer half of the right margin of a rendered page."""
    from PIL import Image

    with Image.open(png) as image:
        grey = image.convert("L")
        width, height = grey.size
        strip = grey.crop((int(width * 0.965), 0, width, height))
        return strip.getextrema()[0] > 200


@needs_pdflatex
@pytest.mark.parametrize("path", sorted(DERIVATIONS.glob("*.tex")), ids=lambda p: p.name)
def test_every_committed_document_compiles_and_fits_the_page(path, tmp_path):
    result = _compile(path, tmp_path)
    errors = [line for line in result.stdout.splitlines() if line.startswith("!")]
    assert result.returncode == 0, errors[:3]
    pdf = tmp_path / path.with_suffix(".pdf").name
    assert pdf.stat().st_size > 1000
    log = (tmp_path / path.with_suffix(".log").name).read_text(errors="replace")
    assert not layout_problems(log), layout_problems(log)[:5]
    assert 2 <= _pages(log) <= MAX_PAGES
    if PDFTOPPM is None:
        pytest.skip("pdftoppm is not installed (Debian: poppler-utils): pages not rendered")
    out = Path(PREVIEWS) if PREVIEWS else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([PDFTOPPM, "-png", "-r", "50", "-f", "1", "-l", "2", str(pdf),
                    str(out / path.stem)], check=True, timeout=120)
    pages = sorted(out.glob(f"{path.stem}-*.png"))
    assert len(pages) == 2
    assert all(_right_margin_is_blank(p) for p in pages)


@needs_pdflatex
def test_the_layout_check_sees_a_line_running_off_the_page(tmp_path):
    """Power check: an unbreakable line and an unresolved reference are both caught."""
    wide = "x" * 400
    source = (documents.PREAMBLE + "\\begin{document}\n$" + wide + "$ see (\\ref{nowhere})\n"
              "\\end{document}\n")
    (tmp_path / "wide.tex").write_text(source)
    result = _compile(tmp_path / "wide.tex", tmp_path)
    assert result.returncode == 0
    problems = layout_problems((tmp_path / "wide.log").read_text(errors="replace"))
    assert any("overfull" in p for p in problems)
    assert any("undefined" in p for p in problems)
    if PDFTOPPM is not None:
        subprocess.run([PDFTOPPM, "-png", "-r", "50", str(tmp_path / "wide.pdf"),
                        str(tmp_path / "wide")], check=True, timeout=60)
        assert not _right_margin_is_blank(next(tmp_path.glob("wide*.png")))


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
    bad.write_text(law_document(symfield.derive("chi1", "erf")).replace(r"\end{equation}", "", 1))
    assert _compile(bad, tmp_path).returncode != 0


def test_stale_detection_notices_an_edited_file(tmp_path):
    """Power check: the staleness test can fail."""
    for p in [*DERIVATIONS.glob("*.tex"), *DERIVATIONS.glob("*.json")]:
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "relu.tex").write_text((tmp_path / "relu.tex").read_text() + "% edited\n")
    assert documents.stale(tmp_path, only=QUICK_DOCUMENTS) == ["relu.tex"]


def test_overview_rows_read_back_write_the_same_overview():
    """build --activation keeps the other activations' rows by reading them back: the read
    is exact (the rows write the committed overview again) and refuses a foreign layout."""
    text = (DERIVATIONS / "overview.tex").read_text(encoding="utf-8")
    rows = documents.overview_rows_of(text)
    assert set(rows) == set(symfield.registered_activations())
    assert rows["relu"]["chi0"].startswith(r"\begin{")
    assert r"\text{relu:}" in rows["relu"]["chi0"]
    assert documents.overview_document(rows) == text
    with pytest.raises(symfield.SymfieldError, match="build every activation"):
        documents.overview_rows_of(text.replace(r"\text{relu:}", r"\text{relu}", 1))


def test_build_of_one_activation_replaces_its_files_and_overview_rows_only(tmp_path,
                                                                         monkeypatch):
    from symfield.cli.main import main

    for p in [*DERIVATIONS.glob("*.tex"), *DERIVATIONS.glob("*.json")]:
        shutil.copy(p, tmp_path / p.name)
    before = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    laws = list(symfield.registered_laws())
    # the derivation itself is what test_committed_documents checks; here only the splicing
    fake = {law: rf"\begin{{equation*}}\text{{relu:}}\quad \mathrm{{new}}_{{{k}}}\end{{equation*}}"
            for k, law in enumerate(laws)}
    monkeypatch.setattr(documents, "_derived", lambda names, workers: [
        (n, "% new document\n", fake, "{}\n") for n in names])
    assert main(["derivations", "build", "--dir", str(tmp_path), "--activation", "relu"]) == 0
    after = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    changed = {n for n in after if after[n] != before[n]}
    assert changed == {"relu.tex", "relu.json", "overview.tex"}
    rows = documents.overview_rows_of(after["overview.tex"])
    assert rows["relu"] == fake
    old_rows = documents.overview_rows_of(before["overview.tex"])
    assert all(rows[a] == old_rows[a] for a in rows if a != "relu")


def test_build_of_one_activation_refuses_bad_input_before_any_work(tmp_path, capsys,
                                                                   monkeypatch):
    from symfield.cli.main import main

    monkeypatch.setattr(documents, "_derived", lambda *a: pytest.fail("derived anyway"))
    assert main(["derivations", "build", "--dir", str(tmp_path), "--activation", "relu"]) == 2
    assert "is missing: build every activation first" in capsys.readouterr().err
    shutil.copy(DERIVATIONS / "overview.tex", tmp_path / "overview.tex")
    assert main(["derivations", "build", "--dir", str(tmp_path), "--activation", "nosuch"]) == 2
    assert "unknown activation 'nosuch'" in capsys.readouterr().err
    assert main(["derivations", "check", "--workers", "2"]) == 2
    assert "--workers goes with" in capsys.readouterr().err
