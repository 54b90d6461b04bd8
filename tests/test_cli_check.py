"""``symfield check``: verdicts on stdout, exit 0 equal / 1 not equal / 3 undecided / 2 bad input.

Most tests call ``symfield.cli.main.main(argv)`` in-process (with capsys); a few run
``python -m symfield check ...`` in a subprocess, as a user would. Bad input must end in
exactly one line on stderr, nothing on stdout, exit code 2, quickly, with nothing executed.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap

import mpmath
import pytest
import sympy as sp

import symfield
from symfield.cli.main import main
from symfield.verification import limits

WILLIAMS = "(2/pi)*asin(2q/(1+2q))"
ATAN_FORM = "(2/pi)*atan(2q/sqrt(1+4q))"
WRONG_WILLIAMS = "(2/pi)*asin(2q/(1+2.2q))"
ERF_CHI1 = ["--law", "chi1", "--activation", "erf"]
ERF_CHI0 = ["--law", "chi0", "--activation", "erf"]
ACTIVATIONS = ("erf", "tanh", "sigmoid", "linear", "relu", "leaky_relu", "abs")

ALIGN_STEP3_WRONG = r"""% Williams' erf chi_0, by hand
\begin{align}
\chi_0(q) &= \mathbb{E}[\varphi(u)^2] \label{eq:chi0} \\
  &= \frac{2}{\pi}\arcsin\frac{2q}{1+2q} \nonumber \\
  &= \frac{2}{\pi}\arcsin\frac{2q}{1+2.2q} \\
  &= \frac{2}{\pi}\arctan\frac{2q}{\sqrt{1+4q}} \\
  &= \frac{4\arctan\sqrt{1+4q} - \pi}{\pi}
\end{align}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_bad_input(code: int, out: str, err: str) -> None:
    assert code == 2, (code, out, err)
    assert out == ""
    assert re.match(r"symfield( check)?: error: ", err) and err.count("\n") == 1, err
    assert "Traceback" not in err and "internal error" not in err


@pytest.fixture(scope="module", autouse=True)
def warm():
    main(["check", r"\frac{q}{2}", "--law", "chi0", "--activation", "relu"])  # load ANTLR


# -- the three verdicts -------------------------------------------------------------------------

def test_equal_exits_0_and_says_how(capsys):
    code, out, err = run(capsys, "4*sigma_w**2/(pi*sqrt(1+4*q))", *ERF_CHI1)
    assert (code, err) == (0, "")
    assert out.startswith("equal") and out.count("\n") == 1
    assert "engine's chi1 for erf" in out


def test_the_trap_is_equal_by_numerics(capsys):
    code, out, _ = run(capsys, f"{WILLIAMS} = {ATAN_FORM}")
    assert code == 0
    assert "agree to" in out and "digits at 8 random points (50-digit arithmetic)" in out


def test_points_and_digits_options(capsys):
    code, out, _ = run(capsys, f"{WILLIAMS} = {ATAN_FORM}", "--points", "3", "--dps", "30")
    assert code == 0 and "at 3 random points (30-digit arithmetic)" in out


def test_not_equal_exits_1_with_a_counterexample(capsys):
    code, out, err = run(capsys, WRONG_WILLIAMS, *ERF_CHI0)
    assert (code, err) == (1, "")
    assert out.startswith("not equal") and out.count("\n") == 1
    assert "at q=" in out and "the first is" in out and "the second is" in out


def test_json_counterexample_has_the_point_and_both_values(capsys):
    code, out, _ = run(capsys, WRONG_WILLIAMS, *ERF_CHI0, "--json")
    assert code == 1
    data = json.loads(out)
    assert data["status"] == "not_equal" and data["method"] == "numeric"
    assert data["failed_step"] is None and data["reason"].startswith("not equal")
    example = data["counterexample"]
    assert set(example["point"]) == {"q"}
    with mpmath.workdps(40):
        qv = mpmath.mpf(sp.Rational(example["point"]["q"]))
        claimed = 2 / mpmath.pi * mpmath.asin(2 * qv / (1 + mpmath.mpf(11) / 5 * qv))
        law = 2 / mpmath.pi * mpmath.asin(2 * qv / (1 + 2 * qv))
        assert abs(mpmath.mpf(example["first"]) - claimed) < 1e-14
        assert abs(mpmath.mpf(example["second"]) - law) < 1e-14


def test_json_equal_has_the_evidence(capsys):
    code, out, _ = run(capsys, f"{WILLIAMS} = {ATAN_FORM}", "--json")
    data = json.loads(out)
    assert code == 0 and data["status"] == "equal" and data["counterexample"] is None
    assert data["method"] == "numeric" and data["points"] == 8 and data["digits"] >= 40


@pytest.mark.parametrize("claim", ["asin(2+q) = acos(2+q)", "4*sigma_w**2/(pi*sqrt(1+4*q))"])
def test_undecided_exits_3_with_the_reason(capsys, claim):
    code, out, err = run(capsys, claim)
    assert (code, err) == (3, "")
    assert out.startswith("undecided") and out.count("\n") == 1


def test_undecided_json(capsys):
    code, out, _ = run(capsys, "asin(2+q) = acos(2+q)", "--json")
    data = json.loads(out)
    assert code == 3 and data["status"] == "undecided" and "not real" in data["reason"]


# -- formats -------------------------------------------------------------------------------------

def test_latex_labelled_equation(capsys):
    code, out, _ = run(capsys, r"\chi_1(q) = \frac{4\sigma_w^2}{\pi\sqrt{1+4q}}",
                       "--activation", "erf")
    assert code == 0 and "chi1 for erf" in out
    code, out, _ = run(capsys, r"\chi_1(q) = \frac{4\sigma_w^2}{\pi\sqrt{1+2q}}",
                       "--activation", "erf")
    assert code == 1 and "sigma_w=" in out


def test_tex_file_with_an_align_block_names_step_3(capsys, tmp_path):
    path = tmp_path / "chi0.tex"
    path.write_text(ALIGN_STEP3_WRONG)
    code, out, _ = run(capsys, "--file", str(path), "--activation", "erf")
    assert code == 1
    assert "step 3" in out and "does not follow from step 2" in out and "1+2.2q" in out
    code, out, _ = run(capsys, "--file", str(path), "--activation", "erf", "--json")
    assert code == 1 and json.loads(out)["failed_step"] == 3


def test_correct_tex_file_is_equal(capsys, tmp_path):
    path = tmp_path / "chi0.tex"
    wrong_row = "  &= \\frac{2}{\\pi}\\arcsin\\frac{2q}{1+2.2q} \\\\\n"
    assert wrong_row in ALIGN_STEP3_WRONG
    path.write_text(ALIGN_STEP3_WRONG.replace(wrong_row, ""))
    code, out, _ = run(capsys, "--file", str(path), "--activation", "erf")
    assert code == 0, out
    assert "every step follows" in out and "chi0 for erf" in out


def test_plain_chain_file(capsys, tmp_path):
    path = tmp_path / "chain.txt"
    path.write_text("E[phi'(u)^2]\n= 4/(pi*sqrt(1+4q))\n= 4/(pi*sqrt(1+2q))\n"
                    "= (4/pi)*(1+4q)^(-1/2)\n")
    code, out, _ = run(capsys, "--file", str(path), "--activation", "erf", "--json")
    assert code == 1 and json.loads(out)["failed_step"] == 3


def test_full_latex_document_is_refused_cleanly(capsys, tmp_path):
    # Surprise (reported): a whole .tex document is not accepted, only the math block.
    path = tmp_path / "doc.tex"
    path.write_text("\\documentclass{article}\n\\begin{document}\n" + ALIGN_STEP3_WRONG
                    + "\\end{document}\n")
    assert_bad_input(*run(capsys, "--file", str(path), "--activation", "erf"))


def test_expectation_claims(capsys):
    claim = r"\mathbb{E}[\phi'(u)^2] = \frac{4}{\pi\sqrt{1+4q}}"
    code, out, _ = run(capsys, claim, "--activation", "erf")
    assert code == 0, out
    code, out, err = run(capsys, claim)
    assert_bad_input(code, out, err)
    assert "activation" in err
    assert run(capsys, "(pi/4)*sqrt(1+4q) = 1/E[phi'(u)^2]", "--activation", "erf")[0] == 0


def test_tanh_claims(capsys):
    assert run(capsys, "E[phi(u)^2] = 1 - E[sech(u)^2]", "--activation", "tanh")[0] == 0
    assert run(capsys, "E[phi(u)^2] = 1 - E[sech(u)^4]", "--activation", "tanh")[0] == 1


def test_relu_hand_calculations(capsys):
    assert run(capsys, "chi_0 = q/2", "--activation", "relu")[0] == 0
    fixed = ["--assume", "q1=1", "--assume", "q2=1", "--assume", "rho=1/2", "--points", "1"]
    assert run(capsys, "1/6 + sqrt(3)/(4*pi)", "--law", "kernel", "--activation", "relu",
               *fixed)[0] == 0


# -- assumptions ---------------------------------------------------------------------------------

def test_assume_sigma_b_zero(capsys):
    claim = "sigma_w^2*q + sigma_b^2 = sigma_w^2*q"
    assert run(capsys, claim)[0] == 1
    assert run(capsys, claim, "--assume", "sigma_b=0")[0] == 0


def test_assume_a_range(capsys):
    claim = "asin(q) = acos(sqrt(1-q^2))"
    code, out, _ = run(capsys, claim, "--assume", "q=0.01:0.99")
    assert code == 0 and "8 random points" in out
    assert run(capsys, "sqrt(x^2) = x")[0] == 1
    assert run(capsys, "sqrt(x^2) = x", "--assume", "x=0.1:3")[0] == 0


def test_assume_a_range_written_with_fractions(capsys):
    code, out, err = run(capsys, "asin(q) = atan(q/sqrt(1-q^2))", "--assume", "q=1/10:1/2")
    assert code == 0, err


def test_malformed_range_is_bad_input(capsys):
    assert_bad_input(*run(capsys, "asin(q) = atan(q/sqrt(1-q^2))", "--assume", "q=1:abc"))


# -- bad input: exit 2, one line on stderr --------------------------------------------------------

@pytest.mark.parametrize("argv, needle", [
    (["E[phi'(u)^2] = 4/(pi*sqrt(1+4q))"], "activation"),
    (["q/2", "--law", "chi9", "--activation", "relu"], "chi9"),
    (["q/2", "--law", "chi0", "--activation", "softsign"], "softsign"),
    (["q/2", "--law", "chi0"], "activation"),
    (["chi_1 = sigma_w^2/2", "--law", "chi0", "--activation", "relu"], "chi1"),
    (["chi_7 = q", "--activation", "relu"], "chi_7"),
    ([""], "empty"),
    ([], "CLAIM"),
    (["q = "], "empty"),
    ([r"\frac{q}{2}", "--syntax", "plain", "--law", "chi0", "--activation", "relu"], ""),
    (["asin(q) = atan(q/sqrt(1-q^2))", "--assume", "q"], "--assume"),
    (["asin(q) = atan(q/sqrt(1-q^2))", "--assume", "foo=1"], "foo"),
    (["asin(q) = atan(q/sqrt(1-q^2))", "--assume", "q=0.5:0.1"], ""),
    ([WILLIAMS + " = " + ATAN_FORM, "--points", "0"], "points"),
    ([WILLIAMS + " = " + ATAN_FORM, "--dps", "10"], "dps"),
    ([WILLIAMS + " = " + ATAN_FORM, "--points", "many"], "points"),
    (["q", "--syntax", "xml"], "syntax"),
    (["q", "--no-such-option"], "no-such-option"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_input_exits_2_in_one_line(capsys, argv, needle):
    try:
        code = main(["check", *argv])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    out, err = capsys.readouterr()
    assert_bad_input(code, out, err)
    assert needle in err


@pytest.mark.parametrize("argv, needle, misleading", [
    # issue 18 item 7: each message names what was wrong in the input
    (["(q+1)^2=q^2+2q+1", "--assume", "q==1"], "one '='", "empty step"),
    (["(q+1)^2=q^2+2q+1", "--assume", "q=1:"], "high end is missing", "formula is empty"),
    (["(q+1)^2=q^2+2q+1", "--assume", "q=:2"], "low end is missing", "formula is empty"),
    (["(q+1)^2=q^2+2q+1", "--assume", "q=1:2:3"], "too many ':'", "syntax"),
    (["(q+1)^2=q^2+2q+1", "--assume", "q=(1"], "the value of q", "step"),
    (["atan2(0,0) = 0"], "atan2(0, 0) is undefined", "law name"),
    (["log(0) = q"], "log(0) is undefined", "law name"),
    (["q_1q_2 = q1*q2"], "unknown symbol 'q_1q_2'", "is not a law name"),
    (["foo(q) = q"], "unknown function 'foo'", "is not a law name"),
    (["{1: 2} = 1/2"], "':'", "equal"),
    (["q = (q"], "the right-hand side", "step 2"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_messages_name_the_mistake(capsys, argv, needle, misleading):
    code, out, err = run(capsys, *argv)
    assert_bad_input(code, out, err)
    assert needle in err and misleading not in err


def test_a_misspelt_law_name_lists_the_laws(capsys):
    code, out, err = run(capsys, "kernal = q", "--activation", "relu")
    assert_bad_input(code, out, err)
    assert "kernal" in err and "kernel" in err


def test_unknown_names_list_the_valid_ones(capsys):
    code, out, err = run(capsys, "q/2", "--law", "chi9", "--activation", "relu")
    assert_bad_input(code, out, err)
    assert all(name in err for name in symfield.registered_laws())
    code, out, err = run(capsys, "q/2", "--law", "chi0", "--activation", "softsign")
    assert_bad_input(code, out, err)
    assert all(name in err for name in ACTIVATIONS)


def test_file_problems(capsys, tmp_path):
    assert_bad_input(*run(capsys, "--file", str(tmp_path / "missing.tex")))
    binary = tmp_path / "binary.tex"
    binary.write_bytes(b"\xff\xfe\x00q")
    assert_bad_input(*run(capsys, "--file", str(binary)))
    good = tmp_path / "good.tex"
    good.write_text("q = q")
    assert_bad_input(*run(capsys, "q = q", "--file", str(good)))
    huge = tmp_path / "huge.tex"
    huge.write_text("q+" * 600_000 + "q")
    code, out, err = run(capsys, "--file", str(huge))
    assert_bad_input(code, out, err)
    assert "larger than" in err  # refused by its size, before it is read as a formula


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    text = " ".join(out.split())
    assert "0 equal, 1 not equal, 3 undecided, 2 bad input" in text


# -- hostile input ---------------------------------------------------------------------------------

def hostile_argvs(marker: str) -> list[list[str]]:
    shell = f"__import__('os').system('touch {marker}')"
    return [
        [shell],
        [f"E[phi'(u)^2] = {shell}", "--activation", "erf"],
        [f"chi_1 = {shell}", "--activation", "erf"],
        [f"open('{marker}', 'w').write('x')"],
        ["q.__class__.__mro__[1].__subclasses__()"],
        ["sqrt.__globals__['__builtins__']"],
        ["(lambda: 1)()"],
        ["9**9**9**9"],
        ["9^9^9^9 = q", "--law", "chi0", "--activation", "erf"],
        [r"9^{9^{9^{9}}}", "--law", "chi0", "--activation", "erf"],
        ["factorial(10**7)"],
        ["q+" * 300_000 + "q"],
        ["(" * 5000 + "q" + ")" * 5000],
        [r"\frac{4\sigma_w^2}{\pi\sqrt{1+4q}", *ERF_CHI1],
        [r"\chi_1(q) = \left( q", "--activation", "erf"],
        [r"\begin{align} q &= q \\ &= \end{align}"],
        [r"\immediate\write18{touch " + marker + "}"],
        [r"\input{/etc/passwd}"],
        [""],
        ["  \n  "],
        ["="],
        ["\x1b[31mq"],
        ["asin(q) = atan(q/sqrt(1-q^2))", "--assume", f"q={shell}"],
        ["q/2", "--law", shell, "--activation", "relu"],
        ["q/2", "--law", "chi0", "--activation", shell],
    ]


@pytest.mark.parametrize("index", range(len(hostile_argvs("m"))))
def test_hostile_input_exits_2_and_runs_nothing(capsys, tmp_path, index):
    marker = tmp_path / "MARKER_FILE"
    argv = hostile_argvs(str(marker))[index]
    code, out, err = run(capsys, *argv)
    assert_bad_input(code, out, err)
    assert len(err) < 1200
    assert not marker.exists()
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_hostile_file_content(capsys, tmp_path):
    marker = tmp_path / "MARKER_FILE"
    path = tmp_path / "evil.tex"
    path.write_text("\\begin{align}\nq &= q \\\\\n&= __import__('os').system('touch "
                    f"{marker}')\n\\end{{align}}\n")
    assert_bad_input(*run(capsys, "--file", str(path)))
    path.write_text(f"q\n= __import__('os').system('touch {marker}')\n")
    assert_bad_input(*run(capsys, "--file", str(path), "--syntax", "plain"))
    assert not marker.exists()


def test_still_usable_after_hostile_input(capsys, tmp_path):
    for argv in hostile_argvs(str(tmp_path / "MARKER_FILE")):
        assert run(capsys, *argv)[0] == 2
    assert run(capsys, f"{WILLIAMS} = {ATAN_FORM}", "--points", "3")[0] == 0
    assert run(capsys, WRONG_WILLIAMS, *ERF_CHI0)[0] == 1
    assert run(capsys, "asin(2+q) = acos(2+q)")[0] == 3


# -- as a user runs it: a subprocess ---------------------------------------------------------------

def symfield_process(*argv: str, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symfield", "check", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def test_subprocess_verdicts_and_exit_codes(tmp_path):
    path = tmp_path / "chi0.tex"
    path.write_text(ALIGN_STEP3_WRONG)
    done = symfield_process(r"\chi_1(q) = \frac{4\sigma_w^2}{\pi\sqrt{1+4q}}", "--activation",
                            "erf")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("equal") and done.stderr == ""
    wrong = symfield_process("--file", str(path), "--activation", "erf", "--json")
    assert wrong.returncode == 1, wrong.stderr
    assert json.loads(wrong.stdout)["failed_step"] == 3


def test_subprocess_hostile_input(tmp_path):
    marker = tmp_path / "MARKER_FILE"
    done = symfield_process(f"__import__('os').system('touch {marker.name}')", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("symfield: error: ") and done.stderr.count("\n") == 1
    assert not marker.exists() and list(tmp_path.iterdir()) == []


def test_an_interrupted_lexer_import_does_not_break_later_latex_claims():
    # SymPy swallows any exception raised while it imports ANTLR's generated lexer and leaves
    # LaTeXLexer = None (an alarm firing during the first, cold parse did that); every later
    # LaTeX claim of the process then failed with "could not be parsed (TypeError)". The
    # interruption is injected exactly there; both claims must still be checked.
    code = textwrap.dedent(r"""
        import sys

        class Interrupt:
            fired = False

            def find_spec(self, name, path=None, target=None):
                if name == "sympy.parsing.latex._antlr.latexlexer" and not Interrupt.fired:
                    Interrupt.fired = True
                    raise TimeoutError("an alarm during the import")
                return None

        sys.meta_path.insert(0, Interrupt())
        from symfield.cli.main import main
        codes = [main(["check", r"\chi_1(q) = \frac{4\sigma_w^2}{\pi\sqrt{1+4q}}",
                       "--activation", "erf"]) for _ in range(2)]
        sys.exit(0 if Interrupt.fired and codes == [0, 0] else 1)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONHASHSEED": "0"})
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_first_latex_claims_of_a_process_may_come_from_many_threads():
    # the grammar loads once, under a lock and under no time limit, whichever thread is first
    code = textwrap.dedent(r"""
        import sys, threading
        from symfield import verify
        results = []
        def check():
            results.append(verify(r"\frac{4\sigma_w^2}{\pi\sqrt{1+4q}}", law="chi1",
                                  activation="erf", points=2).status)
        threads = [threading.Thread(target=check) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(results)
        sys.exit(0 if results == ["equal"] * 4 else 1)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONHASHSEED": "0"})
    assert done.returncode == 0, done.stdout + done.stderr


# -- bounded work (the speed itself: benchmarks/bench_verify.py) -----------------------------------

def test_a_warm_check_does_no_calculus_again(capsys, monkeypatch):
    argv = [r"\chi_1(q) = \frac{4\sigma_w^2}{\pi\sqrt{1+4q}}", "--activation", "erf"]
    assert run(capsys, *argv)[0] == 0
    children = []
    original = limits.run_in_child
    monkeypatch.setattr(limits, "run_in_child",
                        lambda *a, **k: children.append(a[0]) or original(*a, **k))
    assert run(capsys, *argv)[0] == 0
    assert children == []
