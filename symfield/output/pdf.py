"""Compile LaTeX with pdflatex (when it is installed), locked down.

The documents symfield writes contain no user-chosen macros (names are escaped by
:mod:`.latex`), but ``compile_pdf`` takes any source, so pdflatex itself is confined too:

* ``-no-shell-escape`` and ``shell_escape=f``: ``\\write18`` runs nothing;
* ``openin_any=p`` / ``openout_any=p`` (kpathsea's paranoid mode): no absolute paths, no
  ``..``, no dot files, for reading (``\\input{/etc/passwd}``) and writing (``\\openout``);
* a fresh temporary directory as the working directory (deleted afterwards), so the
  caller's directory is out of reach, and an environment without the caller's TeX search
  paths (``TEXINPUTS`` and friends);
* ``-interaction=nonstopmode -halt-on-error``, a size limit on the source and a timeout that
  kills pdflatex and anything it started (font generation).
"""
from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ..errors import InvalidValueError, SymfieldError, quoted

#: Largest LaTeX source accepted (the generated per-activation documents are ~100 kB).
MAX_SOURCE_CHARS = 5_000_000
#: Longest compilation allowed (seconds).
MAX_TIMEOUT = 600

#: pdflatex's command line: no shell escape, never waits for input, stops at the first error.
PDFLATEX_FLAGS = ("-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error")

#: The only variables of the caller's environment pdflatex sees: enough to find programs,
#: the system TeX tree and the user's font cache, nothing that redirects TeX's file search.
_PASSED_ENVIRONMENT = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR",
                       "SOURCE_DATE_EPOCH")


def pdflatex_available() -> bool:
    return shutil.which("pdflatex") is not None


def pdflatex_environment(work: str | Path) -> dict[str, str]:
    """The environment pdflatex runs in: a few of the caller's variables plus kpathsea's
    paranoid file access and no shell escape."""
    env = {k: os.environ[k] for k in _PASSED_ENVIRONMENT if k in os.environ}
    env.update(openin_any="p", openout_any="p", shell_escape="f", TEXMFOUTPUT=str(work))
    return env


def compile_pdf(source: str, output: str | Path, timeout: float = 60) -> Path:
    """Compile a LaTeX document to ``output`` (PDF) with a confined pdflatex (see the module
    docstring). Raises SymfieldError when pdflatex is missing, fails or runs out of time."""
    if not isinstance(source, str):
        raise InvalidValueError(f"the LaTeX source must be text (got {quoted(source)})")
    if len(source) > MAX_SOURCE_CHARS:
        raise InvalidValueError(f"the LaTeX source is too long ({len(source)} characters; at "
                                f"most {MAX_SOURCE_CHARS})")
    if "\x00" in source:
        raise InvalidValueError("the LaTeX source contains a NUL character")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise InvalidValueError(f"timeout must be a number of seconds in (0, {MAX_TIMEOUT}] "
                                f"(got {quoted(timeout)})")
    if not isinstance(output, (str, os.PathLike)) or not str(output).strip() \
            or "\x00" in str(output):
        raise InvalidValueError(f"output must be a file path (got {quoted(output)})")
    if not pdflatex_available():
        raise SymfieldError("pdflatex is not installed (Debian: apt-get install texlive-latex-base)")
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="symfield-latex-") as work:
        tex = Path(work) / "document.tex"
        tex.write_text(source, encoding="utf-8", errors="replace")
        for _ in range(3):  # again while pdflatex asks (equation references, citations)
            code, stdout = _run_pdflatex(tex.name, work, timeout)
            if code != 0 or "Rerun to get" not in stdout:
                break
        pdf = Path(work) / "document.pdf"
        if code != 0 or not pdf.exists():
            errors = [line for line in stdout.splitlines() if line.startswith("!")]
            raise SymfieldError(f"pdflatex failed: {errors[0] if errors else 'see its log'}")
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pdf, output)
        except OSError as e:
            raise SymfieldError(f"cannot write the PDF to {quoted(str(output))}: "
                                f"{e.strerror or type(e).__name__}") from None
    return output


def _run_pdflatex(name: str, work: str, timeout: float) -> tuple[int, str]:
    """pdflatex on ``name`` in ``work``: exit code and output. On timeout the whole process
    group dies (pdflatex and any font generation it started)."""
    process = subprocess.Popen(
        ["pdflatex", *PDFLATEX_FLAGS, name], cwd=work, env=pdflatex_environment(work),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise SymfieldError(f"pdflatex did not finish within {timeout:g} s") from None
    finally:
        if process.poll() is None:  # an exception (e.g. KeyboardInterrupt) while waiting
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode, out.decode("utf-8", errors="replace")


__all__ = ["MAX_SOURCE_CHARS", "PDFLATEX_FLAGS", "compile_pdf", "pdflatex_available"]
