"""Laws exported as source code (symfield.gaussian.numerics.codegen): the C output compiled
with cc and the numpy output run without symfield, both compared with Law.to_numpy at random
points of each law's domain; laws that cannot be exported refuse in one line; the CLI.

One C file and one executable for the whole module (every exported function, dispatched by
an index read from stdin), so the compiler runs once.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from support.cli_runner import run

import symfield
from symfield.errors import InvalidValueError, UnknownNameError
from symfield.gaussian.numerics import codegen
from symfield.laws import registered_laws

#: Activations whose every registered law is exported (or refused) here: their
#: derivations are cheap (about 5 s for the whole registry).
ACTIVATIONS = ("erf", "relu", "sin")
#: Laws also exported for tanh (pole series) and GELU (closed forms in erf and arcsine):
#: derivations of the whole registry for them take 25 s, so SYMFIELD_FULL runs all of it.
SAMPLED_LAWS = {"tanh": ("chi0", "chi1", "chi2", "length_map", "chi_parallel", "metric_law",
                         "domino", "kernel"),
                "gelu": ("chi0", "chi1", "length_map")}
FULL = bool(os.environ.get("SYMFIELD_FULL"))
#: Pole series whose exported sum meets its stated accuracy at every sampled point.
ROBUST_SERIES = {("chi1", "tanh"), ("length_map", "tanh"), ("metric_law", "tanh")}
#: Points per law and activation.
POINTS = 12
#: Agreement with Law.to_numpy (relative, absolute below TINY times the scale of the law).
RTOL = 1e-13
CC = shutil.which("cc")


def _sample(names: tuple[str, ...], defaults: dict, rng: np.random.Generator) -> dict:
    """Random points inside the domains of the registered laws' variables."""
    size = POINTS
    value: dict[str, np.ndarray] = {}
    for n in names:
        if n in ("q", "q1", "q2", "A", "g"):
            value[n] = rng.uniform(0.3, 4.0, size)
        elif n == "sigma_w":
            value[n] = rng.uniform(0.6, 2.5, size)
        elif n in ("sigma_b", "kappa2", "qtilde", "qtilde12"):
            value[n] = rng.uniform(0.0, 1.0, size)
        elif n in ("L", "n"):
            value[n] = rng.integers(1, 6, size).astype(float)
        elif n in defaults:
            value[n] = np.full(size, float(defaults[n]))
        else:
            value[n] = rng.uniform(-0.9, 0.9, size)
    if "rho" in value:  # |rho| < sqrt(q1 q2)
        value["rho"] = rng.uniform(-0.95, 0.95, size) * np.sqrt(value["q1"] * value["q2"])
    if "C" in value:
        value["C"] = rng.uniform(-0.95, 0.95, size) * value["A"]
    if "D" in value:  # D = 2 (A - C) for an overlap C in (-A, A)
        value["D"] = 2 * value["A"] * rng.uniform(0.02, 1.9, size)
    if "c" in value:
        value["c"] = rng.uniform(-0.95, 0.95, size)
    return value


def _reference(law, points: dict) -> tuple[np.ndarray, np.ndarray]:
    """Law.to_numpy at the points, point by point where the batch has one outside the
    domain (the point is then dropped: the exported code does not check inputs)."""
    f = law.to_numpy()
    try:
        return f(**points), np.ones(POINTS, dtype=bool)
    except InvalidValueError:
        pass
    out, keep = np.full(POINTS, np.nan), np.zeros(POINTS, dtype=bool)
    for i in range(POINTS):
        try:
            out[i] = f(**{k: v[i] for k, v in points.items()})
            keep[i] = True
        except InvalidValueError:
            pass
    return out, keep


class Case:
    def __init__(self, law, plan, points: dict, reference: np.ndarray, keep: np.ndarray):
        self.law, self.points, self.reference, self.keep = law, points, reference, keep
        self.names = tuple(s.name for s in law.variables)
        self.c_source = codegen.to_c(plan)
        self.numpy_source = codegen.to_python(plan, "numpy")
        self.function = codegen.function_name(law.name, law.activation.name)


@pytest.fixture(scope="module")
def cases():
    rng = np.random.default_rng(20261206)
    exported, refused = [], []
    targets = [(law_name, act) for law_name in registered_laws() for act in ACTIVATIONS]
    targets += [(law_name, act) for act in ("tanh", "gelu")
                for law_name in (registered_laws() if FULL else SAMPLED_LAWS[act])]
    # ELU's laws hold Faddeeva values on the imaginary axis (erfcx)
    targets += [(law_name, "elu") for law_name in ("chi0", "chi1", "length_map")]
    for law_name, act in targets:
        law = symfield.derive(law_name, act)
        try:
            plan = codegen.plan(law)
        except InvalidValueError as e:  # ExportError, or ScaleInvariantLaw's refusal
            refused.append((law, str(e)))
            continue
        points = _sample(tuple(s.name for s in law.variables), law.parameter_defaults(),
                         rng)
        reference, keep = _reference(law, points)
        exported.append(Case(law, plan, points, reference, keep))
    return exported, refused, len(targets)


def _close(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    scale = np.maximum(np.abs(want), 1e-300)
    same_inf = np.isinf(want) & (got == want)
    with np.errstate(invalid="ignore"):  # inf - inf where both are the law's infinity
        return same_inf | (np.abs(got - want) <= RTOL * scale)


def _c_driver(dispatch: list[str]) -> str:
    """A C main reading "index count x..." lines and printing the indexed law's value."""
    return "\n".join([
        "#include <stdio.h>",
        "int main(void) {",
        "    int index, count; double x[16];",
        "    while (scanf(\"%d %d\", &index, &count) == 2) {",
        "        for (int j = 0; j < count; j++) if (scanf(\"%lf\", &x[j]) != 1) return 3;",
        "        double value = 0.0;",
        "        switch (index) {", *dispatch, "        default: return 4;", "        }",
        "        printf(\"%.17g\\n\", value);",
        "    }",
        "    return 0;",
        "}"])


def test_registry_coverage(cases):
    """Every law and cheap activation is either exported or refused with its reason."""
    exported, refused, total = cases
    assert len(exported) + len(refused) == total
    assert len(exported) >= 80
    for law, message in refused:
        assert law.name in message and law.activation.name in message, message
        assert "\n" not in message
    names = {(c.law.name, c.law.activation.name) for c in exported}
    assert {("chi1", "erf"), ("chi1", "tanh"), ("kernel", "relu"), ("chi0", "gelu")} <= names
    refused_names = {(law.name, law.activation.name) for law, _m in refused}
    assert ("nngp", "relu") in refused_names       # a depth recursion
    assert ("kernel", "tanh") in refused_names     # a Mehler series


@pytest.fixture(scope="module")
def c_program(cases, tmp_path_factory):
    if CC is None:
        pytest.skip("no C compiler (cc) on PATH")
    exported, _refused, _total = cases
    directory = tmp_path_factory.mktemp("export_c")
    dispatch = []
    for i, case in enumerate(exported):
        args = ", ".join(f"x[{j}]" for j in range(len(case.names)))
        dispatch.append(f"        case {i}: value = {case.function}({args}); break;")
    main = _c_driver(dispatch)
    source = directory / "laws.c"
    source.write_text("\n".join(c.c_source for c in exported) + "\n" + main)
    binary = directory / "laws"
    result = subprocess.run([CC, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-o",
                             str(binary), str(source), "-lm"], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = []
    for i, case in enumerate(exported):
        for k in range(POINTS):
            values = " ".join(repr(float(case.points[n][k])) for n in case.names)
            lines.append(f"{i} {len(case.names)} {values}")
    run = subprocess.run([str(binary)], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    values = np.array([float(v) for v in run.stdout.split()])
    return values.reshape(len(exported), POINTS)


def test_c_matches_to_numpy(cases, c_program):
    exported, _refused, _total = cases
    failures, series_nan = [], 0
    for case, got in zip(exported, c_program):
        want, keep = case.reference, case.keep
        nan = np.isnan(got) & keep
        if np.any(nan):
            # NaN only from a pole series that would lose digits (its stated accuracy), and
            # not for laws whose series is measured accurate over the sampled 0.3 <= q <= 4
            assert case.law.form == "series", (case.law.name, case.law.activation.name)
            # ... and one whose definition has no quadrature in the exported code
            assert "_by_definition" not in case.c_source, (case.law.name, got[nan])
            assert (case.law.name, case.law.activation.name) not in ROBUST_SERIES
            series_nan += int(np.count_nonzero(nan))
        ok = _close(got, want) | ~keep | nan
        if not np.all(ok):
            k = int(np.argmin(ok))
            failures.append(f"{case.function} at {[case.points[n][k] for n in case.names]}: "
                            f"C {got[k]!r}, to_numpy {want[k]!r}")
    assert not failures, "\n".join(failures[:10])
    closed = sum(POINTS for c in exported if c.law.form == "closed")
    assert closed >= 80 * POINTS  # closed forms never return NaN inside the domain


def _load(source: str, path) -> dict:
    """The functions of a generated module, imported from a file (never exec'd from text)."""
    import importlib.util

    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


def _run_standalone(code: str, tmp_path) -> str:
    """Run ``code`` with ``python -I`` where importing symfield fails (the generated module
    must not need it)."""
    script = tmp_path / "run.py"
    script.write_text("import sys\nsys.modules['symfield'] = None\n" + code)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-I", str(script)], capture_output=True,
                            text=True, cwd=tmp_path, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_numpy_runs_standalone_and_matches(cases, tmp_path):
    exported, _refused, _total = cases
    chosen = [c for c in exported if (c.law.name, c.law.activation.name) in {
        ("chi1", "erf"), ("chi0", "tanh"), ("kernel", "relu"), ("chi0", "gelu"),
        ("distance_map", "sin"), ("length_map", "tanh"), ("covariance_map", "erf")}]
    assert len(chosen) == 7
    modules = tmp_path / "exported"
    modules.mkdir()
    calls = []
    for i, case in enumerate(chosen):
        (modules / f"law{i}.py").write_text(case.numpy_source)
        args = ", ".join(f"np.array({case.points[n].tolist()!r})" for n in case.names)
        calls.append(f"import law{i}\nprint(json.dumps(law{i}.{case.function}({args}).tolist()))")
    # numpy only: scipy hidden too (erf and erfc fall back to math's)
    code = "\n".join(["sys.modules['scipy'] = None", "import json",
                      f"sys.path.insert(0, {str(modules)!r})", "import numpy as np",
                      "try:\n    import symfield\nexcept ImportError:\n    print('isolated')",
                      *calls])
    # tanh's chi0 at small variances too: the series cancels there and the quadrature of
    # the definition runs, also without symfield and scipy
    small_q = [1e-8, 1e-4, 0.01, 0.05]
    tanh_chi0 = chosen.index(next(c for c in chosen if c.function == "symfield_chi0_tanh"))
    code += (f"\nprint(json.dumps(law{tanh_chi0}.symfield_chi0_tanh("
             f"np.array({small_q!r})).tolist()))")
    lines = _run_standalone(code, tmp_path).splitlines()
    assert lines[0] == "isolated"
    for case, line in zip(chosen, lines[1:]):
        got = np.array(json.loads(line), dtype=float)
        ok = _close(got, case.reference) | ~case.keep
        assert np.all(ok), (case.function, got, case.reference)
    got = np.array(json.loads(lines[-1]), dtype=float)
    want = chosen[tanh_chi0].law.to_numpy()(q=np.array(small_q))
    assert np.all(np.abs(got - want) <= RTOL * want), (got, want)


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


@pytest.mark.parametrize("language", ["jax", "torch"])
def test_optional_backends_are_source_that_names_its_library(cases, language, tmp_path):
    """Always: valid Python with the function and a one-line error naming the library when
    it is missing (run without it, or with it hidden)."""
    exported, _refused, _total = cases
    case = next(c for c in exported if c.law.name == "chi1" and c.law.activation.name == "tanh")
    source = codegen.export(case.law, language)
    compile(source, "exported.py", "exec")  # valid Python
    assert f"def {case.function}(q, sigma_w):" in source
    path = tmp_path / "law.py"
    path.write_text(f"import sys\nsys.modules[{language!r}] = None\n" + source)
    out = subprocess.run([sys.executable, "-I", str(path)], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode != 0
    assert f"ImportError: this module needs the '{language}' package" in out.stderr


@pytest.mark.parametrize("language", ["jax", "torch"])
def test_optional_backends_compute_the_law(cases, language, tmp_path):
    if not _installed(language):
        pytest.skip(f"{language} is not installed (an optional extra; .ci/run does not "
                    f"install them: torch's CPU wheel alone took 94 s to install here)")
    exported, _refused, _total = cases
    if language == "jax":
        import jax

        previous = jax.config.jax_enable_x64
        jax.config.update("jax_enable_x64", True)  # the exported module asks for float64
        try:
            _compute_with(exported, language, tmp_path)
        finally:
            jax.config.update("jax_enable_x64", previous)
    else:
        _compute_with(exported, language, tmp_path)


def _compute_with(exported, language: str, tmp_path) -> None:
    names = {("chi1", "tanh"), ("kernel", "relu"), ("chi0", "gelu"), ("chi1", "elu"),
             ("distance_map", "sin")}
    for case in (c for c in exported if (c.law.name, c.law.activation.name) in names):
        f = _load(codegen.export(case.law, language),
                  tmp_path / f"{case.function}_{language}.py")[case.function]
        got = np.asarray(f(*[case.points[n] for n in case.names]), dtype=float)
        ok = _close(got, case.reference) | ~case.keep | np.isnan(got) & (case.law.form == "series")
        assert np.all(ok), (language, case.function, got, case.reference)
    # small variances, where the series cancels and the definition by quadrature stands in
    q = np.logspace(-8, 1, 10)
    for case in (c for c in exported if (c.law.name, c.law.activation.name) in {
            ("chi0", "tanh"), ("chi2", "tanh")}):
        f = _load(codegen.export(case.law, language),
                  tmp_path / f"{case.function}_small_{language}.py")[case.function]
        args = [q if n == "q" else np.full(q.shape, 1.3) for n in case.names]
        got = np.asarray(f(*args), dtype=float)
        want = case.law.to_numpy()(**dict(zip(case.names, args)))
        assert np.all(np.abs(got - want) <= RTOL * np.abs(want)), (language, case.function, got)


def test_series_accuracy_is_stated_and_enforced(cases, tmp_path):
    """A pole series returns its value to 1e-13 where its error estimate allows; where the
    series cancels (small variances) the definition by quadrature stands in, never a value
    with fewer digits."""
    exported, _refused, _total = cases
    case = next(c for c in exported if c.law.name == "chi2" and c.law.activation.name == "tanh")
    assert "Accuracy: 5e-14 relative (float64), or NaN" in case.c_source
    assert "errno = EDOM" in case.c_source
    f = _load(case.numpy_source, tmp_path / "chi2_tanh.py")[case.function]
    q = np.array([0.05, 0.2, 10.0, 100.0])
    got = f(q, 1.3)
    want = case.law.to_numpy()(q=q, sigma_w=1.3)
    # chi2 of tanh cancels at the first two: computed by quadrature there, not rounded
    assert "symfield_chi2_tanh_by_definition" in case.c_source
    assert np.all(np.abs(got - want) <= RTOL * np.abs(want))
    # the quadrature alone at huge variances, where chi2's integrand is a peak of width
    # ~1/sqrt(q) in t = x/sqrt(2q) (a first grid coarser than that would miss it: 0)
    by_definition = _load(case.numpy_source, tmp_path / "chi2_tanh_q.py")["_by_definition"]
    q = np.array([1e-8, 1e6, 1e7])
    got = by_definition(q, np.full(3, 1.3))
    want = case.law.to_numpy()(q=q, sigma_w=1.3)
    assert np.all(np.abs(got - want) <= RTOL * np.abs(want)), (got, want)
    # against the certified 30-digit value (the pole series in mpmath, an independent sum)
    chi1 = next(c for c in exported if c.law.name == "chi1" and c.law.activation.name == "tanh")
    q = np.array([0.1, 0.7, 3.0, 40.0, 2000.0])
    got = _load(chi1.numpy_source, tmp_path / "chi1_tanh.py")[chi1.function](q, 1.7)
    for qi, gi in zip(q, got):
        exact = float(chi1.law.evaluate(dps=30, method="series", q=qi, sigma_w=1.7))
        assert abs(gi - exact) <= 5e-14 * abs(exact), (qi, gi, exact)


def test_refusals_are_one_line():
    with pytest.raises(codegen.ExportError, match="cannot export kernel for tanh: .*Mehler"):
        codegen.export(symfield.derive("kernel", "tanh"), "c")
    with pytest.raises(codegen.ExportError,
                       match="cannot export derivative_moment2 for gelu: .*expectation"):
        codegen.export(symfield.derive("derivative_moment2", "gelu"), "c")
    with pytest.raises(codegen.ExportError, match="cannot export nngp for erf: .*recursion"):
        codegen.export(symfield.derive("nngp", "erf"), "numpy")
    with pytest.raises(UnknownNameError, match="unknown export language 'fortran'; valid: c, "
                                               "numpy, jax, torch"):
        codegen.export(symfield.derive("chi1", "erf"), "fortran")


def test_law_methods():
    law = symfield.derive("chi1", "erf")
    assert "double symfield_chi1_erf(double q, double sigma_w)" in law.to_c()
    assert "def symfield_chi1_erf(q, sigma_w):" in law.to_source("numpy")
    assert "import jax" in law.to_jax() and "import torch" in law.to_torch()
    with pytest.raises(UnknownNameError):
        law.to_source("cobol")


@pytest.fixture
def cli(monkeypatch, capsys):
    """``symfield ...`` in-process, with the export command registered (main.py lists it)."""
    import symfield.cli.main as cli_main

    if "export" not in cli_main.COMMAND_MODULES:
        monkeypatch.setattr(cli_main, "COMMAND_MODULES", cli_main.COMMAND_MODULES + ("export",))
    return lambda argv: run(capsys, *argv)


def test_cli_export(tmp_path, cli):
    out = tmp_path / "chi1_erf.c"
    code, stdout, err = cli(["export", "chi1", "erf", "--lang", "c", "-o", str(out)])
    assert code == 0, err
    assert "double symfield_chi1_erf(double q, double sigma_w)" in out.read_text()
    for argv, expected in [
            (["export", "chi1", "erf", "--lang", "fortran", "-o", str(out)], "fortran"),
            (["export", "nolaw", "erf", "--lang", "c", "-o", str(out)], "nolaw"),
            (["export", "chi1", "noact", "--lang", "c", "-o", str(out)], "noact"),
            (["export", "chi1", "erf", "--lang", "c", "-o", str(tmp_path / "no" / "x.c")],
             "does not exist"),
            (["export", "kernel", "tanh", "--lang", "numpy", "-o", str(out)], "Mehler")]:
        code, stdout, err = cli(argv)
        assert code == 2, (argv, stdout, err)
        assert expected in err and len(err.strip().splitlines()) == 1, err


def test_arcsine_end_series_is_exported(tmp_path):
    """The ReLU kernel near c = -1 vanishes like (pi - arccos c)^3 while its terms are O(1):
    the exported code switches to the exact end series, as to_numpy does. It is as exact as
    to_numpy there, and within the documented float64 bound 16 u (1 + kappa) of the 30-digit
    value, kappa = sum |x df/dx| / |f| (about 1.5/(1 + c): the law is ill-conditioned)."""
    import mpmath

    law = symfield.derive("kernel", "relu")
    f = _load(law.to_source("numpy"), tmp_path / "kernel_relu.py")["symfield_kernel_relu"]
    rho = -(1 - 2.0 ** -np.array([10, 20, 30, 40]))
    got = f(1.0, 1.0, rho)
    assert np.all(np.abs(got - law.to_numpy()(q1=1.0, q2=1.0, rho=rho)) <= RTOL * got)
    h = mpmath.mpf(10) ** -15

    def value(**point):
        return law.evaluate(dps=30, **point)

    for r, g in zip(rho, got):
        point = {"q1": mpmath.mpf(1), "q2": mpmath.mpf(1), "rho": mpmath.mpf(float(r))}
        exact = value(**point)
        # one-sided steps into the domain (|rho| <= sqrt(q1 q2))
        kappa = sum(abs(value(**{**point, k: point[k] * (1 + s * h)}) - exact) / (h * exact)
                    for k, s in (("q1", 1), ("q2", 1), ("rho", -1)))
        assert abs(g - exact) <= 16 * 2.0**-53 * (1 + kappa) * exact, (r, g, exact, kappa)
    assert "sf_end_num" in law.to_c()


# ------------------------------------------------------------------------------------------
# Pole series at every variance (issue 17 section 3): where a series' own error estimate is
# too large (it cancels at small q) the exported code computes the law's definition by
# quadrature, so the output is finite where the law is.
# ------------------------------------------------------------------------------------------
#: Series laws swept here (SYMFIELD_FULL: every exportable series law of these activations).
SWEEP_LAWS = {"tanh": ("chi0", "chi1", "chi2", "chi_parallel", "curvature_map",
                       "derivative_moment3", "activity_map"),
              "sigmoid": ("chi0", "chi_parallel", "derivative_moment2"),
              "softplus": ("chi1",),
              # SiLU's domino law: slowly decaying pieces over many head terms (6.4e-14 off
              # at q = 1e4 while the largest-piece estimate said 4.4e-14)
              "silu": ("chi0", "domino")}
#: The variance (q, or A for the activity map) from 1e-8 to 1e4; other variables fixed.
SWEEP_Q = np.logspace(-8, 4, 25)
SWEEP_FIXED = {"sigma_w": 1.3, "sigma_b": 0.3, "kappa2": 0.5, "g": 1.0, "qtilde": 0.7,
               "delta_ab": 0.0, "L": 3.0}
#: Against Law.to_numpy: the exported accuracy (5e-14) plus to_numpy's own error, which
#: reaches 9e-14 on sigmoid's chi_parallel at q ~ 200 (a sign-changing integrand; the
#: exported value is within 1e-15 of the 30-digit one there).
SWEEP_RTOL_NUMPY = 2e-13
#: Against Law.evaluate(dps=30) at a few points: the stated accuracy of the exported code.
SWEEP_EXACT_Q = (1e-8, 1e-3, 0.05, 0.5, 1e4)


@pytest.fixture(scope="module")
def sweep():
    targets = [(name, act) for act, names in SWEEP_LAWS.items() for name in names]
    if FULL:
        targets = [(name, act) for act in SWEEP_LAWS for name in registered_laws()]
    laws = []
    for name, act in targets:
        law = symfield.derive(name, act)
        if law.form != "series":
            continue
        try:
            codegen.plan(law)
        except InvalidValueError:  # a Mehler series or a depth recursion: not exportable
            assert FULL, (name, act)
            continue
        laws.append(law)
    return laws


def _sweep_point(law, q) -> dict:
    names = [s.name for s in law.variables]
    return {n: (q if n in ("q", "A") else SWEEP_FIXED[n]) for n in names}


def _sweep_reference(law) -> tuple[np.ndarray, np.ndarray]:
    """to_numpy over the sweep, and where the law is defined (the curvature fixed point
    exists only where chi1 > 1: to_numpy refuses the rest, the exported code does not check)."""
    f = law.to_numpy()
    try:
        return f(**_sweep_point(law, SWEEP_Q)), np.ones(SWEEP_Q.size, dtype=bool)
    except InvalidValueError:
        pass
    want, keep = np.full(SWEEP_Q.size, np.nan), np.zeros(SWEEP_Q.size, dtype=bool)
    for i, q in enumerate(SWEEP_Q):
        try:
            want[i], keep[i] = f(**_sweep_point(law, float(q))), True
        except InvalidValueError:
            pass
    return want, keep  # none kept: sigmoid's chi1 < 1 at sigma_w = 1.3 (no fixed point)


def _sweep_check(law, got: np.ndarray) -> None:
    want, keep = _sweep_reference(law)
    got, want = got[keep], want[keep]
    assert np.all(np.isfinite(got)), (law.name, law.activation.name,
                                      SWEEP_Q[keep][~np.isfinite(got)])
    rel = np.abs(got - want) / np.abs(want)
    assert np.all(rel <= SWEEP_RTOL_NUMPY), (law.name, law.activation.name,
                                             SWEEP_Q[keep][np.argmax(rel)], rel.max())


def test_series_sweep_numpy_is_finite_and_accurate(sweep, tmp_path):
    for law in sweep:
        function = codegen.function_name(law.name, law.activation.name)
        f = _load(law.to_source("numpy"), tmp_path / f"{function}.py")[function]
        point = _sweep_point(law, SWEEP_Q)
        got = np.asarray(f(*[point[s.name] for s in law.variables]), dtype=float)
        _sweep_check(law, got)
        for q in SWEEP_EXACT_Q:  # the stated accuracy, against the 30-digit value
            point = _sweep_point(law, q)
            try:
                exact = float(law.evaluate(dps=30, **point))
            except InvalidValueError:  # outside the law's domain (chi1 <= 1 for some)
                continue
            value = float(f(*[point[s.name] for s in law.variables]))
            if math.isnan(value) and "sigma_w" in point:
                # refused only where no float64 value can have the stated accuracy: near a
                # pole of the law (the curvature fixed point at chi1 -> 1), where its
                # condition number exceeds SERIES_TOLERANCE / QUADRATURE_ROUNDING = 50
                # (measured in sigma_w, which enters as sigma_w^2 E[...])
                g = law.to_numpy()
                up, down = (g(**{**point, "sigma_w": point["sigma_w"] * (1 + d)})
                            for d in (1e-6, -1e-6))
                kappa = abs(up - down) / (2e-6 * abs(exact))
                assert kappa > codegen.SERIES_TOLERANCE / codegen.QUADRATURE_ROUNDING, \
                    (law.name, law.activation.name, q, kappa)
                continue
            assert abs(value - exact) <= codegen.SERIES_TOLERANCE * abs(exact), \
                (law.name, law.activation.name, q, value, exact)


def test_series_sweep_c_is_finite_and_accurate(sweep, tmp_path):
    if CC is None:
        pytest.skip("no C compiler (cc) on PATH")
    dispatch = []
    for i, law in enumerate(sweep):
        function = codegen.function_name(law.name, law.activation.name)
        args = ", ".join(f"x[{j}]" for j in range(len(law.variables)))
        dispatch.append(f"        case {i}: value = {function}({args}); break;")
    main = _c_driver(dispatch)
    source = tmp_path / "sweep.c"
    source.write_text("\n".join(law.to_c() for law in sweep) + "\n" + main)
    binary = tmp_path / "sweep"
    # SYMFIELD_FULL: about 75 laws in one file; cc -O2 took over 300 s on a loaded machine
    result = subprocess.run([CC, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-o",
                             str(binary), str(source), "-lm"], capture_output=True, text=True,
                            timeout=1800 if FULL else 300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = []
    for i, law in enumerate(sweep):
        for q in SWEEP_Q:
            point = _sweep_point(law, float(q))
            values = " ".join(repr(float(point[s.name])) for s in law.variables)
            lines.append(f"{i} {len(law.variables)} {values}")
    out = subprocess.run([str(binary)], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    values = np.array([float(v) for v in out.stdout.split()]).reshape(len(sweep), -1)
    for law, got in zip(sweep, values):
        _sweep_check(law, got)
