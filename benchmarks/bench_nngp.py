"""NNGP and NTK of 1000 inputs in float64, measured side by side in one run.

symfield.nngp_ntk against a hand-written numpy recursion of the same formulas (the arc-cosine
kernels for ReLU, Williams' arcsine kernel for erf; NTK parameterisation, as in
symfield/laws/recursion.py), and against neural-tangents when it is importable.
Target (issue 19 item 9): <= 1.2x the hand-written recursion, faster than neural-tangents.

Run: python benchmarks/bench_nngp.py
"""
from __future__ import annotations

import numpy as np

import symfield
from _common import best_of, report

SIGMA_W, SIGMA_B = 1.4, 0.1


def hand_relu(X: np.ndarray, depth: int, sw: float = SIGMA_W, sb: float = SIGMA_B):
    """The arc-cosine recursion written directly in numpy (full matrices)."""
    w2, b2 = sw * sw, sb * sb
    S = w2 * (X @ X.T) / X.shape[1] + b2
    T = S.copy()
    for _ in range(depth - 1):
        d = np.sqrt(np.diag(S))
        norm = np.outer(d, d)
        c = np.clip(S / norm, -1.0, 1.0)
        theta = np.arccos(c)
        K = norm / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * c)
        Kdot = (np.pi - theta) / (2 * np.pi)
        S = w2 * K + b2
        T = S + w2 * Kdot * T
    return S, T


def hand_erf(X: np.ndarray, depth: int, sw: float = SIGMA_W, sb: float = SIGMA_B):
    """Williams' arcsine recursion written directly in numpy (full matrices)."""
    w2, b2 = sw * sw, sb * sb
    S = w2 * (X @ X.T) / X.shape[1] + b2
    T = S.copy()
    for _ in range(depth - 1):
        d = 1 + 2 * np.diag(S)
        norm = np.sqrt(np.outer(d, d))
        K = 2 / np.pi * np.arcsin(2 * S / norm)
        Kdot = 4 / np.pi / np.sqrt(norm**2 - 4 * S**2)
        S = w2 * K + b2
        T = S + w2 * Kdot * T
    return S, T


def neural_tangents(act: str, X: np.ndarray, depth: int):
    """neural-tangents' analytic kernel (jit, CPU), or None when it is not installed."""
    try:
        from neural_tangents import stax
    except ImportError:
        return None
    layer = {"relu": stax.Relu(), "erf": stax.Erf()}[act]
    layers = [stax.Dense(1, W_std=SIGMA_W, b_std=SIGMA_B)]
    for _ in range(depth - 1):
        layers += [layer, stax.Dense(1, W_std=SIGMA_W, b_std=SIGMA_B)]
    _init, _apply, kernel_fn = stax.serial(*layers)
    import jax

    fn = jax.jit(lambda x: kernel_fn(x, None, ("nngp", "ntk")))
    fn(X)  # compile
    return lambda: fn(X)


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 64))
    for act, hand in (("relu", hand_relu), ("erf", hand_erf)):
        for depth in (3, 4):
            symfield.nngp_ntk(act, X[:5], depth, SIGMA_W, SIGMA_B)  # warm caches
            ours = best_of(lambda: symfield.nngp_ntk(act, X, depth, SIGMA_W, SIGMA_B), 5)
            base = best_of(lambda: hand(X, depth), 5)
            S, T = symfield.nngp_ntk(act, X, depth, SIGMA_W, SIGMA_B)
            Sh, Th = hand(X, depth)
            diff = max(np.max(np.abs(S - Sh) / np.abs(Sh)), np.max(np.abs(T - Th) / np.abs(Th)))
            report(f"{act} NNGP+NTK, 1000 inputs, depth {depth} (max rel diff {diff:.1e})",
                   ours, base, "<= 1.2x hand", ours <= 1.2 * base)
            nt = neural_tangents(act, X, depth)
            if nt is None:
                print(f"{'':55s} neural-tangents not installed: no comparison")
            else:
                theirs = best_of(nt, 5)
                report(f"{act} vs neural-tangents (jit, CPU), depth {depth}", ours, theirs,
                       "faster", ours <= theirs)


if __name__ == "__main__":
    main()
