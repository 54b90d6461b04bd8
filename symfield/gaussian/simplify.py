"""Cheap, predictable simplification of derived results (full ``simplify`` is slow and erratic)."""
from __future__ import annotations

from functools import lru_cache
from math import comb

import sympy as sp

from .faddeeva import faddeeva


@lru_cache(maxsize=4096)
def _with_square_factor(base: sp.Expr) -> sp.Expr:
    # cached: a law's result repeats the same few radicands many times over (GELU's distance
    # map: 269 radicands, 61 distinct), and factor is the costly part of tidy's first pass
    factored = sp.factor(base)
    squares = [f for f in sp.Mul.make_args(factored)
               if isinstance(f, sp.Pow) and f.exp.is_Integer and f.exp % 2 == 0]
    return factored if squares else base


def factor_radicands(expr: sp.Expr) -> sp.Expr:
    """sqrt(4q^2 + 4q + 1) -> 2q + 1: factor a radicand when that exposes a square."""
    return expr.replace(
        lambda e: isinstance(e, sp.Pow) and e.exp.is_Rational and e.exp.q == 2 and e.base.is_Add,
        lambda e: sp.Pow(_with_square_factor(e.base), e.exp))


@lru_cache(maxsize=4096)
def merge_series(expr: sp.Expr) -> sp.Expr:
    """sum_i c_i Sum(f_i, (k, 0, oo)) -> Sum(sum_i c_i f_i, (k, 0, oo)): one series per
    expression (all the series involved converge), its summand collected in the Faddeeva
    value and each coefficient factored."""
    expr = sp.expand(expr, deep=False)
    summands: dict = {}
    rest = sp.S.Zero
    for term in sp.Add.make_args(expr):
        sums = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum)]
        if len(sums) == 1 and len(sums[0].limits) == 1 and sums[0].limits[0][1:] == (0, sp.oo):
            key = sums[0].limits[0]
            summands[key] = summands.get(key, sp.S.Zero) + (term / sums[0]) * sums[0].function
        else:
            rest += term
    for (index, lo, hi), summand in summands.items():
        summand = sp.expand(summand)
        if summand == 0:   # the series cancelled (an odd derivative of sigmoid): no Sum(0)
            continue
        values = list(summand.atoms(faddeeva))
        if len(values) == 1:
            (w,) = values
            collected = sp.collect(summand, w, evaluate=False)
            neat = w.func(sp.factor(w.args[0]))  # i*pi*(2k+1)/(2*sqrt(2q)), not expanded
            summand = sum((sp.factor(c) * (neat if key == w else key)
                           for key, c in collected.items()), sp.S.Zero)
        rest += sp.Sum(summand, (index, lo, hi))
    return rest


def complementary_erf(expr: sp.Expr) -> sp.Expr:
    """K erf(z) - K -> -K erfc(z) (and K erf(z) + K -> K erfc(-z)), then exp(z^2) erfc(z) ->
    w(i z), the Faddeeva value e^{z^2} erfc(z): the truncated moments of ELU-type activations
    come out as e^{2q} (1 - erf(sqrt(2q))), which no fixed precision evaluates at large q
    (erf rounds to 1 and the difference to 0), while w(i z) keeps every digit."""
    if not expr.has(sp.erf):
        return expr
    terms = list(sp.Add.make_args(sp.expand(expr)))
    # The terms of an expanded sum are canonical monomials, so "other + rest expands to 0"
    # is "other is -expand(rest)": a look-up instead of an expansion per pair of terms
    # (hard_tanh's pair moments: 24 s -> well under one on a sum of a few hundred terms).
    where: dict[sp.Expr, list[int]] = {}
    for j, t in enumerate(terms):
        where.setdefault(t, []).append(j)
    changed = False
    for i, term in enumerate(terms):
        erfs = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.erf)]
        if len(erfs) != 1:
            continue
        (e,) = erfs
        rest = term / e
        key = sp.expand(rest)
        matches = [(j, sign) for sign, k in ((-1, -key), (1, key)) for j in where.get(k, ())
                   if j != i]
        if not matches:
            continue
        j, sign = min(matches)   # the first matching term, as a scan in order finds it
        where[sign * key].remove(j)
        where[term].remove(i)
        if sign < 0:
            terms[i], terms[j] = -rest * sp.erfc(e.args[0]), sp.S.Zero
        else:
            terms[i], terms[j] = rest * sp.erfc(-e.args[0]), sp.S.Zero
        where.setdefault(sp.expand(terms[i]), []).append(i)
        changed = True
    if not changed:
        return expr
    out = sp.Add(*terms)
    for term in sp.Add.make_args(out):
        found = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.erfc)]
        exps = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.exp)]
        if len(found) != 1 or len(exps) != 1:
            continue
        z = found[0].args[0]
        if z.is_positive and sp.expand(exps[0].args[0] - z**2) == 0:
            out = out - term + term / (exps[0] * found[0]) * faddeeva(sp.I * z)
    return out


#: An expansion this many times longer than the shortest other form is not factored
#: (factor_terms) unless it holds exponentials and is at most _EXPANSION_ALWAYS_FACTORED
#: operations long.
_EXPANSION_WORTH_FACTORING = 10
_EXPANSION_ALWAYS_FACTORED = 50000
#: Above this many top-level terms before cancellation (_expanded_terms) an expression without
#: exponentials is not expanded at all: on the derivations of every registered activation
#: (gabor's not measured: with exponentials the expansion is always tried, as for its
#: derivative kernel below) it was then never the shortest form nor factored into it, and it
#: took most of tidy's time (GELU's pair moments: 1032 operations, 852 terms, 6 s to expand
#: and cancel back to 232 terms).
_EXPANSION_TERMS = 64


def _expanded_terms(expr: sp.Expr) -> int:
    """The number of terms sp.expand would multiply out at the top level (before like terms
    cancel): sums add, products multiply, a sum to a positive integer power is a multinomial."""
    if expr.is_Add:
        return sum(_expanded_terms(a) for a in expr.args)
    if expr.is_Mul:
        count = 1
        for factor in expr.args:
            count *= _expanded_terms(factor)
        return count
    if expr.is_Pow and expr.base.is_Add and expr.exp.is_Integer and expr.exp > 0:
        terms, power = _expanded_terms(expr.base), int(expr.exp)
        return comb(power + terms - 1, terms - 1)
    return 1


@lru_cache(maxsize=4096)
def tidy(expr: sp.Expr) -> sp.Expr:
    """Try a few inexpensive normal forms and keep the shortest."""
    if expr.has(sp.Sum):
        return merge_series(expr)
    if expr.is_infinite or not expr.free_symbols or expr.has(sp.oo, -sp.oo, sp.zoo):
        return expr
    expr = factor_radicands(expr)
    if expr.has(sp.erf):
        complementary = complementary_erf(expr)
        if complementary is not expr:   # a cancellation made explicit: keep this form
            return complementary
    candidates = [expr, sp.powsimp(sp.factor_terms(sp.together(expr)))]
    expanded = (sp.expand(expr) if expr.has(sp.exp) or _expanded_terms(expr) <= _EXPANSION_TERMS
                else None)
    if expanded is not None:
        candidates.append(expanded)
    # each candidate's count_ops once (it walks the whole tree: a tenth of tidy on long
    # results); the first shortest wins, as min() would pick it
    costs = [sp.count_ops(c) for c in candidates]
    # factor_terms of an expansion that exploded a product of sums costs seconds (GELU's
    # pair moments: 815 operations expanded to 113378, 8 s for 28102). It can still win
    # from far longer when the expansion splits exponentials and it pulls their common
    # factors out (gabor's derivative kernel: 570 -> 40563 -> 423, a form that keeps its
    # float64 digits); an algebraic expansion over 10x longer was never shortened by it in
    # the derivations of every registered activation (factor and together do better), so
    # it is skipped there (erf's nngp_correction 4.1 -> 3 s, GELU's 2x faster).
    if expanded is not None and (costs[-1] <= _EXPANSION_WORTH_FACTORING * min(costs) or (
            expanded.has(sp.exp) and costs[-1] <= _EXPANSION_ALWAYS_FACTORED)):
        candidates.append(sp.factor_terms(expanded))
        costs.append(sp.count_ops(candidates[-1]))
    best = candidates[costs.index(min(costs))]
    # factor is the costly candidate (tens of seconds on high Hermite moments); a single
    # product is already as short as it gets.
    if not expr.has(sp.Function):
        candidates.append(sp.factor(expanded if expanded is not None and best.is_Add else best))
        costs.append(sp.count_ops(candidates[-1]))
    return candidates[costs.index(min(costs))]
