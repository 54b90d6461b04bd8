"""The field kernel law (symfield.laws.field): derived from the field's microdynamics by the
Gaussian calculus, checked against independent references.

- the microdynamics steps: the moment rule's sums, computed by hand at n = 2, G = 2;
- the law's summand is the engine's kernel law at the entries of Q (exact, symbolic);
- the law's SymPy expression instantiated on 2 positions, its layer map at 30 digits, and an
  independent 2-D quadrature of the kernel summed by hand all agree;
- field_kernel's depth recursion is the law's layer map applied to its previous layer;
- wrong rules are noticed (a moment rule without the Kronecker delta, a planted 1/2);
- the LaTeX document compiles; bad input gets one-line errors.
"""
from __future__ import annotations

import itertools

import mpmath
import numpy as np
import pytest
import sympy as sp

import symfield
from symfield.dynamics.field import build_weight_covariance, field_kernel
from symfield.errors import InvalidValueError
from symfield.gaussian.numerics.enclosure import NotEnclosable
from symfield.laws.field import KERNEL_AT_ENTRIES, MAX_POSITIONS, Q, field_law
from symfield.microdynamics import (C_b, C_w, G, channel_overlap, field_bias, field_mean_field_step,
                                    field_x, field_x2, n, s, t, w, z1, z1_out, z2, z2_out)
from symfield.symbols import sigma_b, sigma_w

from support.oracles import oracle_for
from support.oracles_pair import reference_pair_law

ACTIVATIONS = ["erf", "relu", "tanh"]


def _psd(rng: np.random.Generator, size: int) -> np.ndarray:
    root = rng.normal(size=(size, size))
    return root @ root.T / size + 0.05 * np.eye(size)


def _arrays(seed: int, T: int = 1, positions: int = 2):
    """A kernel Q (T, T, G, G), a weight covariance C_w (G, G, G, G) and C_b (G, G), all
    positive semi-definite, in binary fractions (exact in every precision)."""
    rng = np.random.default_rng(seed)
    side = T * positions
    prev = _psd(rng, side).reshape(T, positions, T, positions).transpose(0, 2, 1, 3)
    weights = _psd(rng, positions * positions).reshape((positions,) * 4) / positions
    bias = _psd(rng, positions)
    round_ = lambda a: np.round(a * 2**20) / 2**20  # noqa: E731
    prev = round_(prev)
    prev = (prev + prev.transpose(1, 0, 3, 2)) / 2
    return prev, round_(weights), round_(bias)


# ------------------------------------------------------------------------------------------
# The microdynamics steps
# ------------------------------------------------------------------------------------------
def test_microdynamics_steps_sum_to_the_channel_average_by_hand():
    """Steps 2-4 at n = 2 channels and G = 2 positions, against the sums written out."""
    result, steps = field_mean_field_step()
    rng = np.random.default_rng(3)
    x, x2 = rng.integers(-3, 4, size=(2, 2)), rng.integers(-3, 4, size=(2, 2))
    cw, cb = rng.integers(-2, 3, size=(2, 2, 2, 2)), rng.integers(-2, 3, size=(2, 2))
    sw, sb = sp.Rational(3, 2), sp.Rational(1, 3)
    for out1, out2 in itertools.product((1, 2), repeat=2):
        average = {(a, b): sp.Rational(int(sum(x[j, a - 1] * x2[j, b - 1] for j in range(2))), 2)
                   for a in (1, 2) for b in (1, 2)}
        hand = sw**2 * sum(cw[out1 - 1, a - 1, out2 - 1, b - 1] * average[a, b]
                           for a in (1, 2) for b in (1, 2)) + sb**2 * cb[out1 - 1, out2 - 1]

        def value(expr):
            expr = expr.subs({n: 2, G: 2, z1_out: out1, z2_out: out2, sigma_w: sw,
                              sigma_b: sb}).doit()
            table = {}
            for e in expr.atoms(sp.Indexed):
                idx = [int(v) for v in e.indices]
                if e.base == field_x:
                    table[e] = int(x[idx[0] - 1, idx[1] - 1])
                elif e.base == field_x2:
                    table[e] = int(x2[idx[0] - 1, idx[1] - 1])
                elif e.base == C_w:
                    table[e] = int(cw[tuple(v - 1 for v in idx)])
                elif e.base == C_b:
                    table[e] = int(cb[idx[0] - 1, idx[1] - 1])
                elif e.base == channel_overlap:
                    table[e] = average[idx[0], idx[1]]
            return sp.nsimplify(expr.xreplace(table))

        for step in steps[1:]:
            assert value(step.after) == hand, step.rule
        assert value(result) == hand
    assert [st.rule for st in steps] == ["microdynamics", "independence", "Kronecker delta",
                                         "mean field (law of large numbers)"]
    # the microdynamics step is the product of the two pre-activations, as written
    assert steps[0].after.has(w[sp.Symbol("i", integer=True, positive=True),
                                sp.Symbol("j", integer=True, positive=True), z1_out, z1])
    assert steps[0].after.has(field_bias[sp.Symbol("i", integer=True, positive=True), z2_out])


def test_a_moment_rule_without_the_delta_is_noticed(monkeypatch):
    """Power: dropping delta_jk (every channel pair correlated) changes the sums by hand."""
    import symfield.microdynamics as micro

    original = micro._field_moment_rule
    monkeypatch.setattr(micro, "_field_moment_rule",
                        lambda m: original(m).replace(sp.KroneckerDelta, lambda a, b: 1))
    _result, steps = micro.field_mean_field_step()
    expected = steps[1].after.subs({n: 2, G: 1, z1_out: 1, z2_out: 1, sigma_w: 1, sigma_b: 0})
    expected = expected.doit()
    # with x = x' = 1 everywhere and C_w = 1 the true value is sigma_w^2 = 1 (n terms / n);
    # without the delta it is n^2 / n = 2
    table = {e: 1 for e in expected.atoms(sp.Indexed)}
    assert expected.xreplace(table) == 2


# ------------------------------------------------------------------------------------------
# The derived law
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS + ["leaky_relu"])
def test_summand_is_the_engines_kernel_at_the_entries_of_Q(activation):
    law = field_law(activation)
    kernel = symfield.derive("kernel", activation)
    expected = sigma_w**2 * sp.Sum(C_w[z1_out, z1, z2_out, z2]
                                   * kernel.expr.xreplace(KERNEL_AT_ENTRIES),
                                   (z1, 1, G), (z2, 1, G)) + sigma_b**2 * C_b[z1_out, z2_out]
    assert sp.simplify(law.expr - expected) == 0
    assert law.form == kernel.form and law.closed_form == kernel.closed_form
    rules = law.derivation.rules
    for rule in ("microdynamics", "independence", "Kronecker delta",
                 "mean field (law of large numbers)", "result"):
        assert rule in rules
    # the kernel's own derivation steps are part of it (the engine worked on Q's entries)
    assert len(law.derivation) > 7
    assert not law.expr.has(channel_overlap)


def _instantiate(law, prev, weights, bias, sw, sb, at):
    """law.expr at output positions/inputs ``at`` = (s, t, z1', z2') (0-based), the sums
    over 2 positions written out, the arrays' entries substituted, at 30 digits."""
    S, T_, a, b = (v + 1 for v in at)
    expr = law.expr.subs({G: prev.shape[2], s: S, t: T_, z1_out: a, z2_out: b}).doit()
    table = {}
    for e in expr.atoms(sp.Indexed):
        idx = tuple(int(v) - 1 for v in e.indices)
        source = {Q: prev, C_w: weights, C_b: bias}[e.base]
        table[e] = sp.Rational(float(source[idx]))
    value = expr.xreplace(table).subs({sigma_w: sw, sigma_b: sb})
    return sp.N(value, 40)


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_sympy_expression_layer_map_and_quadrature_agree(activation):
    """Three routes to one layer: the law's SymPy expression written out on 2 positions,
    FieldLaw.evaluate at 30 digits, and an independent 2-D quadrature of E[phi phi] per
    position pair summed by hand."""
    prev, weights, bias = _arrays(11)
    sw, sb = sp.Rational(3, 2), sp.Rational(1, 4)
    law = field_law(activation)
    got = law.evaluate(dps=30, Q=prev, C_w=weights, C_b=bias, sigma_w=1.5, sigma_b=0.25)
    oracle = oracle_for(activation)
    with mpmath.workdps(34):
        K = {(a, b): reference_pair_law("kernel", oracle, {
            "q1": mpmath.mpf(prev[0, 0, a, a]), "q2": mpmath.mpf(prev[0, 0, b, b]),
            "rho": mpmath.mpf(prev[0, 0, a, b])}, dps=32) for a in (0, 1) for b in (0, 1)}
    for a, b in itertools.product((0, 1), repeat=2):
        with mpmath.workdps(34):
            hand = mpmath.mpf(1.5) ** 2 * mpmath.fsum(
                mpmath.mpf(weights[a, c, b, d]) * K[c, d] for c in (0, 1) for d in (0, 1)) \
                + mpmath.mpf(0.25) ** 2 * mpmath.mpf(bias[a, b])
            symbolic = mpmath.mpf(str(_instantiate(law, prev, weights, bias, sw, sb,
                                                   (0, 0, a, b))))
            assert abs(got[0, 0, a, b] - hand) <= mpmath.mpf(10) ** -28 * abs(hand)
            assert abs(symbolic - hand) <= mpmath.mpf(10) ** -28 * abs(hand)


def test_two_inputs_and_the_series_form():
    """tanh (a pole series kernel) with two inputs: evaluate against the quadrature
    reference, to_numpy against evaluate."""
    prev, weights, bias = _arrays(5, T=2, positions=2)
    law = field_law("tanh")
    assert law.form == "series"
    got = law.evaluate(dps=20, Q=prev, C_w=weights, C_b=bias, sigma_w=1.25, sigma_b=0.125)
    fast = law.to_numpy()(Q=prev, C_w=weights, C_b=bias, sigma_w=1.25, sigma_b=0.125)
    oracle = oracle_for("tanh")
    entries = {}
    with mpmath.workdps(24):
        for (i, a), (j, b) in itertools.product(itertools.product((0, 1), repeat=2), repeat=2):
            entries[i, j, a, b] = reference_pair_law("kernel", oracle, {
                "q1": mpmath.mpf(prev[i, i, a, a]), "q2": mpmath.mpf(prev[j, j, b, b]),
                "rho": mpmath.mpf(prev[i, j, a, b])}, dps=22).real
        for i, j, a, b in itertools.product((0, 1), repeat=4):
            hand = mpmath.mpf(1.25) ** 2 * mpmath.fsum(
                mpmath.mpf(weights[a, c, b, d]) * entries[i, j, c, d]
                for c in (0, 1) for d in (0, 1)) + mpmath.mpf(0.125) ** 2 * mpmath.mpf(bias[a, b])
            assert abs(got[i, j, a, b] - hand) <= mpmath.mpf(10) ** -18 * abs(hand)
            assert abs(fast[i, j, a, b] - float(hand)) <= 1e-12 * abs(float(hand))


@pytest.mark.parametrize("spec", ["independent", "shared_input", ("conv", 3),
                                  ("correlated", "gaussian", 1.5)])
def test_field_kernel_iterates_the_law(spec):
    """field_kernel's layer l + 1 is the law's layer map of its layer l (dense C_w)."""
    X = np.random.default_rng(2).normal(size=(2, 5, 3))
    layers = field_kernel("erf", X, 3, 1.4, 0.3, 5, spec, all_layers=True)
    dense = build_weight_covariance(spec, 5).matrix().reshape(5, 5, 5, 5)
    layer_map = field_law("erf").to_numpy()
    for before, after in zip(layers, layers[1:]):
        np.testing.assert_allclose(layer_map(Q=before, C_w=dense, C_b=np.eye(5), sigma_w=1.4,
                                             sigma_b=0.3), after, rtol=1e-12, atol=1e-15)


def test_a_wrong_coefficient_in_the_layer_map_is_noticed():
    """Power: the reference comparison above separates a planted factor 1/2 on the bias."""
    prev, weights, bias = _arrays(11)
    right = field_law("erf").to_numpy()(Q=prev, C_w=weights, C_b=bias, sigma_w=1.5,
                                        sigma_b=0.25)
    wrong = field_law("erf").to_numpy()(Q=prev, C_w=weights, C_b=bias / 2, sigma_w=1.5,
                                        sigma_b=0.25)
    assert np.max(np.abs(right - wrong) / np.abs(right)) > 1e-4


def test_latex_document_compiles(tmp_path):
    """The document states the conditioning, the exchange of sums and expectation and the
    limit, and compiles without overfull lines."""
    import re
    import shutil
    import subprocess

    document = field_law("erf").latex(document=True)
    for words in ("conditioning on layer", "passes through the finite sums", "Kronecker",
                  "law of large numbers", r"\infty", r"\arcsin"):
        assert words in document, words
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed")
    (tmp_path / "field.tex").write_text(document)
    for _ in range(2):
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape",
                               "field.tex"], cwd=tmp_path, capture_output=True, timeout=300,
                              check=False)
    log = (tmp_path / "field.log").read_text(errors="replace")
    assert done.returncode == 0, log[-2000:]
    wide = [float(v) for v in re.findall(r"Overfull \\[hv]box \(([0-9.]+)pt too", log)]
    assert all(v <= 5 for v in wide), wide


@pytest.mark.parametrize("change, words", [
    (dict(Q=np.ones((2, 2))), "4 axes"),
    (dict(Q=np.ones((1, 2, 2, 2))), "(T, T, G, G)"),
    (dict(Q=-np.ones((1, 1, 2, 2))), "positive semi-definite"),
    (dict(C_w=np.ones((3, 3, 3, 3))), "shape (2, 2, 2, 2)"),
    (dict(C_b=np.full((2, 2), np.nan)), "NaN"),
    (dict(C_b="x"), "array of real numbers"),
    (dict(sigma_w=-1.0), "sigma_w"),
    (dict(rho=0.3), "no variable 'rho'"),
    (dict(Q=np.eye(MAX_POSITIONS + 1).reshape(1, 1, MAX_POSITIONS + 1, MAX_POSITIONS + 1)),
     "at most"),
])
def test_bad_input_is_one_line(change, words):
    prev, weights, bias = _arrays(1)
    values = dict(Q=prev, C_w=weights, C_b=bias, sigma_w=1.5, sigma_b=0.2)
    values.update(change)
    law = field_law("erf")
    for call in (lambda: law.evaluate(dps=20, **values), lambda: law.to_numpy()(**values)):
        with pytest.raises(InvalidValueError) as info:
            call()
        message = str(info.value)
        assert "\n" not in message and words in message, message


def test_missing_values_and_no_proof_yet():
    law = field_law("erf")
    with pytest.raises(InvalidValueError, match="needs a value for C_w, C_b"):
        law.evaluate(Q=np.eye(2).reshape(1, 1, 2, 2), sigma_w=1, sigma_b=0)
    with pytest.raises(NotEnclosable):
        law.evaluate(proven=True)
    with pytest.raises(InvalidValueError, match="array-valued"):
        law.certified()
    assert symfield.field_law("erf") is law
