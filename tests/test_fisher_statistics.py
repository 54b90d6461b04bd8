"""Fisher information of random deep networks (issue 13, part 1).

The library derives: the backward order-parameter laws come out of the Gaussian calculus,
the statistics are laws in the order parameters. The references here never call the
library's numerics:

* the backward laws against hand-written expectations (erf and ReLU closed forms of
  theory.md section 10, tanh by mpmath quadrature);
* the order parameters against a hand-written mpmath recursion (erf closed forms);
* the statistics against Karakida, Akaho & Amari (2019), Theorem 1, as an oracle:
  m_lambda ~ kappa_1 C / M, s_lambda ~ alpha C ((T-1)/T kappa_2^2 + kappa_1^2/T),
  lambda_max ~ alpha ((T-1)/T kappa_2 + kappa_1/T) M, with alpha = sum_l alpha_l alpha_{l-1},
  kappa_i = sum_l (alpha_{l-1}/alpha) qtilde^l_i qhat^{l-1}_i: leading order in M, so the
  relative difference must vanish like 1/M;
* the NTK parameterisation's kernel sum_l qtilde^l q^l against the NTK recursion (nngp_ntk);
* finite random networks (numpy only), whose Fisher spectrum is computed exactly from the
  Gram matrix of per-example gradients.
"""
from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from hypothesis import Phase, given, note, settings
from hypothesis import strategies as st

import symfield
from symfield.learning import check_fisher_statistics, fisher_statistics
from symfield.learning.fisher_check import measure
from symfield.learning.networks import Network
from symfield.laws.evaluation import Float64Context
from symfield.laws.fisher import propagate_order_parameters, statistic_laws, tangent_kernels

ROOT = Path(__file__).resolve().parents[1]
PDFLATEX = shutil.which("pdflatex")
#: Monte Carlo properties: a few seeds, never shrunk (a failure prints its seed).
MONTE_CARLO = settings(max_examples=3, deadline=None, derandomize=True, database=None,
                       phases=[Phase.explicit, Phase.generate])


# ------------------------------------------------------------------------------------------
# Hand-written references (mpmath; no symfield numerics)
# ------------------------------------------------------------------------------------------
def erf_kernel(q1, q2, r):
    return 2 / mp.pi * mp.asin(2 * r / mp.sqrt((1 + 2 * q1) * (1 + 2 * q2)))


def erf_dot(q1, q2, r):
    return 4 / mp.pi / mp.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4 * r * r)


def erf_order_parameters(sw, sb, widths, q_in):
    """(qhat, qhat12, qtilde, qtilde12) per layer for i.i.d. N(0, q_in I) inputs (erf)."""
    depth = len(widths) - 1
    qh, qh2, q, q12 = [mp.mpf(q_in)], [mp.mpf(0)], [None], [None]
    for l in range(1, depth + 1):
        q.append(sw**2 * qh[-1] + sb**2)
        q12.append(sw**2 * qh2[-1] + sb**2)
        if l < depth:
            qh.append(erf_kernel(q[l], q[l], q[l]))
            qh2.append(erf_kernel(q[l], q[l], q12[l]))
    qt, qt2 = [None] * (depth + 1), [None] * (depth + 1)
    qt[depth] = qt2[depth] = mp.mpf(1)
    for l in range(depth - 1, 0, -1):
        qt[l] = sw**2 * erf_dot(q[l], q[l], q[l]) * qt[l + 1]
        qt2[l] = sw**2 * erf_dot(q[l], q[l], q12[l]) * qt2[l + 1]
    return q, q12, qh, qh2, qt, qt2


def karakida(sw, sb, widths, q_in, samples=None):
    """Theorem 1 of Karakida, Akaho & Amari (2019), leading order in M = widths[1]."""
    _, _, qh, qh2, qt, qt2 = erf_order_parameters(sw, sb, widths, q_in)
    depth, M, C = len(widths) - 1, mp.mpf(widths[1]), widths[-1]
    alphas = [mp.mpf(n) / M for n in widths[:-1]]
    alpha = sum(alphas[l] * alphas[l - 1] for l in range(1, depth))
    k1 = sum(alphas[l - 1] / alpha * qt[l] * qh[l - 1] for l in range(1, depth + 1))
    k2 = sum(alphas[l - 1] / alpha * qt2[l] * qh2[l - 1] for l in range(1, depth + 1))
    weight, inverse = (1, 0) if samples is None else (mp.mpf(samples - 1) / samples,
                                                       mp.mpf(1) / samples)
    return {"m_lambda": k1 * C / M,
            "s_lambda": alpha * C * (weight * k2**2 + inverse * k1**2),
            "lambda_max": alpha * (weight * k2 + inverse * k1) * M}


# ------------------------------------------------------------------------------------------
# The backward order-parameter laws
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("q,sw", [((1, 2), (3, 2)), ((3, 1), (7, 10))])
def test_backward_law_erf_is_the_chi1_recursion(q, sw):
    law = symfield.derive("backward_order_parameter", "erf")
    assert law.form == "closed"
    value = law.evaluate(dps=30, qtilde="5/4", q=f"{q[0]}/{q[1]}", sigma_w=f"{sw[0]}/{sw[1]}")
    with mp.workdps(40):
        qv, swv = mp.mpf(q[0]) / q[1], mp.mpf(sw[0]) / sw[1]
        expected = mp.mpf(5) / 4 * swv**2 * 4 / (mp.pi * mp.sqrt(1 + 4 * qv))
        assert abs(value - expected) < mp.mpf(10) ** -28 * expected


def test_backward_pair_law_erf_and_relu_closed_forms():
    with mp.workdps(40):
        q1, q2, r = mp.mpf(2), mp.mpf(1) / 2, mp.mpf(-7) / 10
        erf = symfield.derive("backward_order_parameter_pair", "erf").evaluate(
            dps=30, qtilde12=3, q1=2, q2="1/2", rho="-7/10", sigma_w="3/2")
        assert abs(erf - 3 * mp.mpf(9) / 4 * erf_dot(q1, q2, r)) < 1e-28 * abs(erf)
        relu = symfield.derive("backward_order_parameter_pair", "relu").evaluate(
            dps=30, qtilde12=3, q1=2, q2="1/2", rho="-7/10", sigma_w="3/2")
        theta = mp.acos(r / mp.sqrt(q1 * q2))
        assert abs(relu - 3 * mp.mpf(9) / 4 * (mp.pi - theta) / (2 * mp.pi)) < 1e-28 * relu


def test_backward_law_tanh_against_quadrature():
    law = symfield.derive("backward_order_parameter", "tanh")
    value = law.evaluate(dps=25, qtilde=2, q="7/10", sigma_w="6/5")
    with mp.workdps(40):
        q = mp.mpf(7) / 10
        moment = mp.quad(lambda z: mp.sech(mp.sqrt(q) * z) ** 4 * mp.npdf(z), [-mp.inf, 0, mp.inf])
        expected = 2 * mp.mpf(36) / 25 * moment
        assert abs(value - expected) < mp.mpf(10) ** -23 * expected


def test_backward_laws_state_gradient_independence_and_derive_from_backpropagation():
    for name in ("backward_order_parameter", "backward_order_parameter_pair"):
        law = symfield.derive(name, "relu")
        assert "gradient independence" in law.convention
        assert {"backpropagation (chain rule)", "gradient independence",
                "mean field (law of large numbers)"} <= set(law.derivation.rules)
        assert "\\tilde" in law.latex()


def test_backward_law_refuses_a_negative_sum_of_squares():
    with pytest.raises(symfield.InvalidValueError, match="qtilde must be >= 0"):
        symfield.derive("backward_order_parameter", "erf").evaluate(qtilde=-1, q=1, sigma_w=1)
    with pytest.raises(symfield.InvalidValueError, match="qtilde must be >= 0"):
        symfield.derive("backward_order_parameter", "erf").to_numpy()(qtilde=[1, -1], q=1,
                                                                     sigma_w=1)


# ------------------------------------------------------------------------------------------
# fisher_statistics against the references
# ------------------------------------------------------------------------------------------
def test_order_parameters_match_a_hand_written_recursion_to_25_digits():
    widths, sw, sb = [5, 7, 6], mp.mpf(3) / 2, mp.mpf(1) / 2
    report = fisher_statistics("erf", "3/2", "1/2", widths, outputs=2, q_in="4/5", dps=30)
    with mp.workdps(40):
        q, q12, qh, qh2, qt, qt2 = erf_order_parameters(sw, sb, widths + [2], mp.mpf(4) / 5)
        for row in report.layers:
            l = row.layer
            for name, ref in (("q", q), ("q12", q12), ("qhat", qh), ("qhat12", qh2),
                              ("qtilde", qt), ("qtilde12", qt2)):
                value = getattr(row, name)
                expected = ref[l] if l < len(ref) else None
                if value is None:
                    assert expected is None, (name, l)
                    continue
                assert abs(value - expected) <= mp.mpf(10) ** -25 * max(abs(expected), 1), \
                    (name, l, value, expected)


@pytest.mark.parametrize("samples", [None, 64])
def test_statistics_approach_karakida_akaho_amari_like_one_over_M(samples):
    """Leading order: (ours / theirs - 1) must shrink 10x when M grows 10x."""
    sw, sb = mp.mpf(3) / 2, mp.mpf(1) / 2
    gaps = []
    for M in (1000, 10000, 100000):
        widths = [M, 2 * M, M]
        ours = fisher_statistics("erf", "3/2", "1/2", widths, outputs=3, q_in=1, dps=20,
                                 samples=samples)
        with mp.workdps(30):
            theirs = karakida(sw, sb, widths + [3], 1, samples)
            gaps.append({k: abs(getattr(ours, k) / v - 1) for k, v in theirs.items()})
    for key in ("m_lambda", "s_lambda", "lambda_max"):
        # the biases and the small qhat_12 (odd erf, sigma_b = 1/2) make the constant ~10
        assert gaps[0][key] < 5e-2, (key, gaps)
        assert gaps[2][key] < 5e-4, (key, gaps)
        assert gaps[2][key] < gaps[1][key] / 8 < gaps[0][key] / 64, (key, gaps)


def test_the_oracle_comparison_can_fail():
    """Power check: a prediction off by a wrong sigma_w in the backward recursion is caught."""
    wrong = fisher_statistics("erf", "1.6", "1/2", [10000, 20000, 10000], outputs=3, dps=20)
    with mp.workdps(30):
        theirs = karakida(mp.mpf(3) / 2, mp.mpf(1) / 2, [10000, 20000, 10000, 3], 1)
    assert abs(wrong.lambda_max / theirs["lambda_max"] - 1) > 1e-2


@pytest.mark.parametrize("activation,sw,sb", [("erf", 1.3, 0.2), ("relu", 1.4, 0.1),
                                              ("tanh", 1.1, 0.3)])
def test_ntk_parameterisation_kernel_equals_the_ntk_recursion(activation, sw, sb):
    """sum_l qtilde^l q^l (the Fisher order parameters) is Theta^L of nngp_ntk."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((5, 3))
    widths = (3, 10, 10, 10, 1)
    context = Float64Context()
    rows, cols = np.triu_indices(5, 1)
    gram = X @ X.T / 3
    order = propagate_order_parameters(context, symfield.registered_activations()[activation], widths,
                                       np.diagonal(gram).copy(), rows, cols,
                                       gram[rows, cols], sw, sb)
    diagonal, off = tangent_kernels(context, order, sw, sb)["ntk"]
    certified = symfield.nngp_ntk(activation, X, 4, sw, sb, dps=20)[1]
    theta = np.array(certified.tolist(), dtype=float)
    np.testing.assert_allclose(diagonal, np.diagonal(theta), rtol=1e-12)
    np.testing.assert_allclose(off, theta[rows, cols], rtol=1e-12)


def test_certified_and_float64_agree_and_digits_are_stable():
    f = fisher_statistics("tanh", 1.2, 0.3, [6, 8, 8], outputs=2, samples=10)
    a = fisher_statistics("tanh", 1.2, 0.3, [6, 8, 8], outputs=2, samples=10, dps=20)
    b = fisher_statistics("tanh", 1.2, 0.3, [6, 8, 8], outputs=2, samples=10, dps=30)
    for key in ("m_lambda", "s_lambda", "lambda_max", "bulk_eigenvalue", "learning_rate_bound"):
        assert abs(float(getattr(a, key)) / getattr(f, key) - 1) < 1e-12, key
        assert abs(getattr(a, key) / getattr(b, key) - 1) < mp.mpf(10) ** -19, key
    assert isinstance(a.m_lambda, mp.mpf) and a.dps == 20


def test_population_and_empirical_fisher():
    """T -> oo: lambda_max = K_2; T samples: K_1/T + (1 - 1/T) K_2; a single sample: K_1."""
    population = fisher_statistics("relu", 1.4, 0.1, [4, 32, 32], outputs=2)
    one = fisher_statistics("relu", 1.4, 0.1, [4, 32, 32], outputs=2, samples=1)
    many = fisher_statistics("relu", 1.4, 0.1, [4, 32, 32], outputs=2, samples=10**12)
    k1, k2 = population.kernel_diagonal, population.kernel_off_diagonal
    assert population.lambda_max == pytest.approx(k2, rel=1e-14)
    assert one.lambda_max == pytest.approx(k1, rel=1e-14)
    assert many.lambda_max == pytest.approx(k2, rel=1e-10)
    assert population.m_lambda == one.m_lambda == many.m_lambda
    assert population.m_lambda == pytest.approx(2 * k1 / population.parameters, rel=1e-14)
    assert population.learning_rate_bound == pytest.approx(2 / k2, rel=1e-14)
    assert population.parameters == 4 * 32 + 32 + 32 * 32 + 32 + 32 * 2 + 2


def test_a_data_set_gives_its_gram_matrix_spectrum():
    """With inputs, the statistics come from the predicted T x T Gram: its eigenvalues."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 5))
    report = fisher_statistics("erf", 1.5, 0.2, [5, 20, 20], outputs=1, inputs=X)
    context = Float64Context()
    rows, cols = np.triu_indices(6, 1)
    gram = X @ X.T / 5
    order = propagate_order_parameters(context, symfield.registered_activations()["erf"], (5, 20, 20, 1),
                                       np.diagonal(gram).copy(), rows, cols,
                                       gram[rows, cols], 1.5, 0.2)
    d, o = tangent_kernels(context, order, 1.5, 0.2)["standard"]
    G = np.diag(d)
    G[rows, cols] = G[cols, rows] = o
    assert report.samples == 6 and report.data_set
    assert report.lambda_max == pytest.approx(np.linalg.eigvalsh(G)[-1] / 6, rel=1e-12)
    assert report.m_lambda == pytest.approx(np.trace(G) / (6 * report.parameters), rel=1e-12)
    certified = fisher_statistics("erf", 1.5, 0.2, [5, 20, 20], inputs=X, dps=20)
    assert abs(float(certified.lambda_max) / report.lambda_max - 1) < 1e-12


def test_statistic_laws_evaluate_to_the_report_and_carry_their_derivation():
    report = fisher_statistics("erf", "3/2", "1/2", [5, 7, 6], outputs=2, samples=9, dps=30)
    laws = report.laws
    values = {"T": 9, "P": report.parameters, "n_L": 2, "K_1": report.kernel_diagonal,
              "K_2": report.kernel_off_diagonal}
    for row in report.layers:
        values[f"n_{row.layer}"] = row.width
        if row.qhat is not None:
            values[f"qhat_{row.layer}"] = row.qhat
            values[f"qhat_{row.layer}__12"] = row.qhat12
        if row.qtilde is not None and row.layer < report.depth:
            values[f"qtilde_{row.layer}"] = row.qtilde
            values[f"qtilde_{row.layer}__12"] = row.qtilde12
    for name, attribute in (("K_1", "kernel_diagonal"), ("K_2", "kernel_off_diagonal"),
                            ("m_lambda", "m_lambda"), ("s_lambda", "s_lambda"),
                            ("lambda_max", "lambda_max")):
        law = laws[name]
        point = {s.name: values[s.name] for s in law.variables}
        assert abs(law.evaluate(dps=30, **point) / getattr(report, attribute) - 1) < 1e-27, name
        rules = law.derivation.rules
        assert rules[0] == "definition" and rules[-1] == "result"
    assert "factorisation" in laws["K_1"].derivation.rules
    assert "Gram matrix of per-example gradients" in laws["lambda_max"].derivation.rules
    assert "mean gradient" in laws["lambda_max"].derivation[-1].justification
    text = report.latex()
    assert "gradient independence" in text and r"\tilde" in text


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")
def test_the_report_document_compiles(tmp_path):
    path = tmp_path / "fisher.tex"
    path.write_text(fisher_statistics("relu", 1.4, 0.1, [4, 8, 8], outputs=2,
                                      samples=16).latex())
    result = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error",
                             "-output-directory", str(tmp_path), str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, [l for l in result.stdout.splitlines() if l.startswith("!")]


def test_float64_call_is_bounded_work():
    """Sizes, not seconds: the float64 report is a handful of law evaluations per layer."""
    report = fisher_statistics("erf", 1.5, 0.1, [784] + [1000] * 50, outputs=10)
    assert report.depth == 51 and np.isfinite(report.lambda_max)


# ------------------------------------------------------------------------------------------
# Finite networks: the exact Fisher spectrum against the laws
# ------------------------------------------------------------------------------------------
def test_tangent_kernel_is_the_gram_of_finite_difference_gradients():
    act = symfield.registered_activations()["tanh"]
    for parameterization in ("standard", "ntk", "mean_field"):
        rng = np.random.default_rng(1)
        net = Network(*act.numpy_functions[:2], (3, 5, 4, 2), 1.3, 0.4, parameterization, rng)
        X = rng.standard_normal((4, 3))
        rows = []
        for group in (net.weights, net.biases):
            for array in group:
                for index in np.ndindex(array.shape):
                    old = array[index]
                    array[index] = old + 1e-6
                    plus = net(X).T.ravel()
                    array[index] = old - 1e-6
                    minus = net(X).T.ravel()
                    array[index] = old
                    rows.append((plus - minus) / 2e-6)
        J = np.array(rows).T
        np.testing.assert_allclose(net.tangent_kernel(X), J @ J.T, atol=1e-7)


def test_fisher_spectrum_of_a_network_is_exact():
    """measure() from the Gram matches the P x P Fisher matrix built explicitly."""
    act = symfield.registered_activations()["relu"]
    rng = np.random.default_rng(2)
    net = Network(*act.numpy_functions[:2], (3, 6, 5, 2), 1.4, 0.2, "standard", rng)
    X = rng.standard_normal((4, 3))
    eps, rows = 1e-6, []
    for group in (net.weights, net.biases):
        for array in group:
            for index in np.ndindex(array.shape):
                old = array[index]
                array[index] = old + eps
                plus = net(X).T.ravel()
                array[index] = old - eps
                minus = net(X).T.ravel()
                array[index] = old
                rows.append((plus - minus) / (2 * eps))
    J = np.array(rows).T
    F = J.T @ J / 4
    eigenvalues = np.linalg.eigvalsh(F)
    result = measure(net, X)
    assert result["m_lambda"] == pytest.approx(np.trace(F) / F.shape[0], rel=1e-6)
    assert result["s_lambda"] == pytest.approx(np.trace(F @ F) / F.shape[0], rel=1e-6)
    assert result["lambda_max"] == pytest.approx(eigenvalues[-1], rel=1e-6)


def _sampled(activation, sw, sb, seed):
    return check_fisher_statistics(activation, sw, sb, widths=(64, 512), depth=3, samples=32,
                                   replicas=6, seed=seed)


@pytest.mark.parametrize("activation,sw,sb", [("erf", 1.5, 0.5), ("relu", 1.4, 0.1),
                                              ("tanh", 1.2, 0.3)])
@MONTE_CARLO
@given(seed=st.integers(0, 2**32 - 1))
def test_sampled_networks_agree_with_the_laws(activation, sw, sb, seed):
    """m_lambda and the bulk are unbiased at leading order: within 5 standard errors.
    s_lambda and lambda_max carry O(1/n) finite-width corrections (the off-diagonal Gram
    entries fluctuate by O(n^-1/2)): within 15% at n = 512 (6% to 11% seen over seeds).
    The top eigenvectors are the mean gradients: overlap above 0.95 at n = 512."""
    check = _sampled(activation, sw, sb, seed)
    note(check.format())
    for row in check.rows:
        for name in ("m_lambda", "bulk"):
            assert abs(row.estimates[name].z) <= 5, (row.width, name)
    wide = check.rows[-1].estimates
    assert abs(wide["s_lambda"].relative_deviation) <= 0.15
    assert abs(wide["lambda_max"].relative_deviation) <= 0.10
    assert wide["eigenvector_overlap"].mean >= 0.95
    assert wide["eigenvector_overlap"].mean > check.rows[0].estimates["eigenvector_overlap"].mean


def test_the_sampled_comparison_catches_a_wrong_law():
    """Power check: the same networks against the law at sigma_w 10% off fail by far."""
    check = _sampled("erf", 1.5, 0.5, seed=11)
    wrong = fisher_statistics("erf", 1.65, 0.5, [512, 512, 512], samples=32)
    e = check.rows[-1].estimates["m_lambda"]
    assert abs(e.mean - wrong.m_lambda) / e.standard_error > 5
    assert abs(e.mean - e.prediction) / e.standard_error <= 5


def test_the_spectrum_is_pathological_and_plotted(tmp_path):
    check = check_fisher_statistics("relu", 1.4, 0.1, widths=(32, 128), depth=2, samples=16,
                                    replicas=2, seed=0)
    for row in check.rows:
        nonzero = row.spectrum[row.spectrum > 1e-12 * row.spectrum[0]]
        assert nonzero.size <= 16 < row.parameters
        assert row.estimates["lambda_max"].mean > 50 * row.estimates["m_lambda"].mean
    path = tmp_path / "spectrum.png"
    check.plot(path)
    assert path.read_bytes().startswith(b"\x89PNG")


def test_the_networks_are_an_independent_witness():
    """symfield.learning.networks imports numpy and the standard library only."""
    tree = ast.parse((ROOT / "symfield" / "learning" / "networks.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert imported <= {"__future__", "dataclasses", "typing", "numpy"}, imported


# ------------------------------------------------------------------------------------------
# Bad input: one-line errors naming what was wrong
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    (dict(widths=[]), "from 1 to"),
    (dict(widths=[4, 0]), r"widths\[1\] must be an integer"),
    (dict(widths="4,4"), "list of integers"),
    (dict(widths=[4, 2.5]), "must be an integer"),
    (dict(widths=[4, 10**13]), "must be an integer from 1"),
    (dict(outputs=0), "outputs must be an integer"),
    (dict(q_in=0), "q_in"),
    (dict(q_in=float("nan")), "q_in must be finite"),
    (dict(q_in="x"), "q_in must be a finite real number"),
    (dict(dps=5), "dps must be an integer"),
    (dict(samples=0), "samples must be an integer"),
    (dict(sigma_w=-1), "sigma_w must be > 0"),
    (dict(sigma_b=float("inf")), "sigma_b must be finite"),
    (dict(inputs=np.ones((3, 5))), "inputs have 5 columns"),
    (dict(inputs=[[1, float("nan")]] * 2, widths=[2, 3]), "NaN"),
    (dict(inputs=np.ones(4)), "shape"),
    (dict(inputs=np.ones((2, 4)), samples=3), "samples must be None"),
    (dict(activation="softsign"), "softsign"),
])
def test_bad_input_is_one_clear_line(kwargs, match):
    args = dict(activation="erf", sigma_w=1.5, sigma_b=0.1, widths=[4, 8])
    args.update(kwargs)
    with pytest.raises(symfield.SymfieldError, match=match) as info:
        fisher_statistics(**args)
    assert "\n" not in str(info.value)


def test_overflow_is_an_error_not_nan():
    with pytest.raises(symfield.InvalidValueError, match="overflow float64"):
        fisher_statistics("relu", 100, 0, [4] + [10] * 300)


def test_sampled_check_bounds_its_work():
    with pytest.raises(symfield.InvalidValueError, match="floating-point operations"):
        check_fisher_statistics("erf", 1, 0, widths=(8192,), depth=8, samples=256, replicas=50)
    with pytest.raises(symfield.InvalidValueError, match="depth must be an integer"):
        check_fisher_statistics("erf", 1, 0, depth=1)
    with pytest.raises(symfield.InvalidValueError, match="replicas must be"):
        check_fisher_statistics("erf", 1, 0, replicas=1)


def test_cli_reads_a_data_set(tmp_path, capsys):
    from symfield.cli.main import main

    path = tmp_path / "inputs.txt"
    X = np.random.default_rng(5).standard_normal((4, 3))
    path.write_text("\n".join(" ".join(repr(float(v)) for v in row) for row in X) + "\n")
    assert main(["fisher", "relu", "--sigma-w", "1.4", "--sigma-b", "0.1", "--widths", "3,16",
                 "--inputs", str(path), "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    expected = fisher_statistics("relu", 1.4, 0.1, [3, 16], inputs=X)
    assert data["samples"] == 4 and float(data["lambda_max"]) == expected.lambda_max
    assert main(["fisher", "relu", "--sigma-w", "1.4", "--sigma-b", "0.1", "--widths", "3,16",
                 "--inputs", str(path), "--samples", "8"]) == 2
    assert "cannot be combined" in capsys.readouterr().err
