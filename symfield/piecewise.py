"""Small symbolic utilities shared by the activations and the Gaussian calculus.

``heaviside_form`` rewrites the non-smooth building blocks (Max, Min, Abs, sign, Piecewise) as
sums of products with Heaviside steps. The rewrite is exact almost everywhere, which is what an
expectation needs; it must not be used before differentiating (that is the x*Heaviside(x) trap).

``piecewise_smooth`` goes further for functions of one variable: it finds every point where a
nested non-smooth expression (``Max(-1, Min(1, x))``) switches branch and returns the smooth
piece on each interval between them. Distributional derivatives are built from that
decomposition (``distributional_derivative``): the derivative of each piece on its interval,
plus a Dirac delta (and its derivatives) for every jump of the function or of a derivative.
``normalise_deltas`` rewrites a product g(x) delta^(k)(x - t) by Leibniz' rule with the
values of g at t, so that x*delta(x) is 0 before it is ever squared.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, cmp_to_key

import sympy as sp


class NotAnalysable(Exception):
    """The structure of a piecewise expression could not be worked out (the message says why)."""


#: Building blocks that switch between smooth branches.
NONSMOOTH = (sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside, sp.Piecewise)
#: Most switching points looked for in one expression (bounds the work).
MAX_BREAKPOINTS = 24


def _step(arg: sp.Expr) -> sp.Expr:
    return sp.Heaviside(arg)


def _relational_to_step(cond: sp.Basic) -> sp.Expr:
    """Indicator of a condition built from linear inequalities (boundaries have measure zero)."""
    if cond is sp.true:
        return sp.S.One
    if cond is sp.false:
        return sp.S.Zero
    if isinstance(cond, sp.And):
        return sp.Mul(*[_relational_to_step(a) for a in cond.args])
    if isinstance(cond, sp.Or):
        # 1 - prod(1 - indicator)
        return 1 - sp.Mul(*[1 - _relational_to_step(a) for a in cond.args])
    if isinstance(cond, sp.Not):
        return 1 - _relational_to_step(cond.args[0])
    if isinstance(cond, (sp.StrictLessThan, sp.LessThan)):
        return _step(cond.rhs - cond.lhs)
    if isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan)):
        return _step(cond.lhs - cond.rhs)
    raise ValueError(f"cannot turn the condition {cond} into a step function")


def _piecewise_to_steps(*pairs: tuple) -> sp.Expr:
    total = sp.S.Zero
    not_before = sp.S.One  # indicator that no earlier condition held
    for expr, cond in pairs:
        ind = _relational_to_step(cond)
        total += expr * ind * not_before
        not_before = not_before * (1 - ind)
    return total


def _max_to_steps(*args: sp.Expr) -> sp.Expr:
    first, rest = args[0], args[1:]
    if not rest:
        return first
    other = _max_to_steps(*rest)
    return first * _step(first - other) + other * _step(other - first)


def _min_to_steps(*args: sp.Expr) -> sp.Expr:
    first, rest = args[0], args[1:]
    if not rest:
        return first
    other = _min_to_steps(*rest)
    return first * _step(other - first) + other * _step(first - other)


def _nested(atom: sp.Expr) -> bool:
    """A non-smooth atom whose switching arguments are themselves non-smooth, or a smooth
    function of a non-smooth argument (exp(min(x, 0)))."""
    if isinstance(atom, sp.Piecewise):
        return any(c.has(*NONSMOOTH) for _e, c in atom.args)
    return any(isinstance(a, sp.Basic) and a.has(*NONSMOOTH) for a in atom.args)


def _needs_unnesting(e: sp.Basic) -> bool:
    if isinstance(e, NONSMOOTH):
        return _nested(e)
    if isinstance(e, sp.Pow):
        return e.exp.has(*NONSMOOTH) or (not e.exp.is_Integer and e.base.has(*NONSMOOTH))
    return isinstance(e, sp.Function) and not isinstance(e, sp.DiracDelta) and _nested(e)


def _unnest(expr: sp.Expr, var: sp.Symbol | None) -> sp.Expr:
    """Replace each nested non-smooth atom by its interval decomposition in ``var`` (or in
    its only symbol): rewriting Max(-1, Min(1, x)) atom by atom would put steps inside step
    arguments."""
    def flatten(atom):
        variable = var
        if variable is None:
            symbols = atom.free_symbols
            if len(symbols) != 1:
                return atom
            (variable,) = symbols
        if not atom.has(variable):
            return atom
        try:
            return piecewise_smooth(atom, variable).step_form()
        except NotAnalysable:
            return atom

    return expr.replace(_needs_unnesting, flatten)


def heaviside_form(expr: sp.Expr, var: sp.Symbol | None = None) -> sp.Expr:
    """Rewrite Max, Min, Abs, sign and Piecewise with Heaviside steps (exact almost everywhere).

    Nested building blocks (of ``var``, or of their only symbol) are first split at every
    point where they switch branch (``piecewise_smooth``), so that no step ever has a
    non-smooth argument."""
    if not expr.has(sp.Max, sp.Min, sp.Abs, sp.sign, sp.Piecewise):
        return expr
    out = _unnest(expr, var)
    out = out.replace(sp.Piecewise, lambda *pairs: _piecewise_to_steps(*pairs))
    out = out.replace(sp.Max, _max_to_steps).replace(sp.Min, _min_to_steps)
    out = out.replace(sp.Abs, lambda a: a * (2 * _step(a) - 1))
    out = out.replace(sp.sign, lambda a: 2 * _step(a) - 1)
    return out


def canonical_steps(expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """Write every step as H(var - t) or 1 - H(var - t) (a.e.), so that reflections cancel."""

    def fix(arg, *h0):
        slope = sp.diff(arg, var)
        if slope.is_negative:
            return 1 - sp.Heaviside(-arg)
        return sp.Heaviside(arg)

    return expr.replace(sp.Heaviside, fix)


def parity(expr: sp.Expr, var: sp.Symbol) -> str | None:
    """'even', 'odd' or None (not decided), for an expression in ``var``."""
    if not expr.has(var):
        return "even"
    base = canonical_steps(heaviside_form(expr, var), var)
    flipped = canonical_steps(heaviside_form(expr.subs(var, -var), var), var)
    if sp.expand(flipped - base) == 0:
        return "even"
    if sp.expand(flipped + base) == 0:
        return "odd"
    return None


# ------------------------------------------------------------------------------------------
# Piecewise-smooth functions of one variable
# ------------------------------------------------------------------------------------------
def _sign_at(value: sp.Expr) -> int:
    """-1, 0 or 1 for a value known by its number or its symbols' assumptions."""
    if value.is_zero:
        return 0
    if value.is_positive:
        return 1
    if value.is_negative:
        return -1
    if value.is_number:
        evaluated = sp.N(value, 30)
        if evaluated.is_real and evaluated != 0:
            return 1 if evaluated > 0 else -1
    raise NotAnalysable(f"the sign of {sp.sstr(value)} cannot be decided")


def _specialise(expr: sp.Expr, var: sp.Symbol, sample: sp.Expr) -> sp.Expr:
    """The smooth branch ``expr`` takes near ``sample`` (no switching point there)."""
    if not expr.has(*NONSMOOTH):
        return expr
    if not isinstance(expr, NONSMOOTH):
        return expr.func(*[_specialise(a, var, sample) if isinstance(a, sp.Expr) else a
                           for a in expr.args])
    if isinstance(expr, sp.Piecewise):
        for value, cond in expr.args:
            if _holds(cond, var, sample):
                return _specialise(value, var, sample)
        raise NotAnalysable(f"no branch of {sp.sstr(expr)} holds near x = {sp.sstr(sample)}")
    args = [_specialise(a, var, sample) for a in expr.args]
    at = [a.subs(var, sample) for a in args]
    if isinstance(expr, (sp.Max, sp.Min)):
        best = 0
        for i in range(1, len(args)):
            s = _sign_at(at[i] - at[best])
            if s == 0:
                raise NotAnalysable("a tie between the arguments of a Max/Min at a sample point")
            if (s > 0) == isinstance(expr, sp.Max):
                best = i
        return args[best]
    s = _sign_at(at[0])
    if s == 0:
        raise NotAnalysable("a switching point at a sample point")
    if isinstance(expr, sp.Abs):
        return args[0] if s > 0 else -args[0]
    if isinstance(expr, sp.sign):
        return sp.S(s)
    return sp.S.One if s > 0 else sp.S.Zero  # Heaviside


def _holds(cond: sp.Basic, var: sp.Symbol, sample: sp.Expr) -> bool:
    if cond is sp.true:
        return True
    if cond is sp.false:
        return False
    if isinstance(cond, sp.And):
        return all(_holds(c, var, sample) for c in cond.args)
    if isinstance(cond, sp.Or):
        return any(_holds(c, var, sample) for c in cond.args)
    if isinstance(cond, sp.Not):
        return not _holds(cond.args[0], var, sample)
    if isinstance(cond, sp.Rel) and not isinstance(cond, (sp.Eq, sp.Ne)):
        lhs = _specialise(cond.lhs, var, sample).subs(var, sample)
        rhs = _specialise(cond.rhs, var, sample).subs(var, sample)
        s = _sign_at(lhs - rhs)
        if s == 0:
            raise NotAnalysable("a condition is on its boundary at a sample point")
        greater = isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan))
        return (s > 0) == greater
    raise NotAnalysable(f"the condition {sp.sstr(cond)} is not an inequality")


def _switching_functions(atom: sp.Expr) -> list[sp.Expr]:
    """The functions whose sign decides the branch of one non-smooth atom."""
    if isinstance(atom, (sp.Max, sp.Min)):
        return [a - b for i, a in enumerate(atom.args) for b in atom.args[i + 1:]]
    if isinstance(atom, sp.Piecewise):
        out = []
        for _value, cond in atom.args:
            for rel in (cond.atoms(sp.Rel) if not isinstance(cond, sp.Rel) else {cond}):
                out.append(rel.lhs - rel.rhs)
        return out
    return [atom.args[0]]


def _roots(expr: sp.Expr, var: sp.Symbol) -> list[sp.Expr]:
    """Real roots of a smooth switching function (polynomial of low degree, or solvable)."""
    if not expr.has(var):
        return []
    try:
        poly = sp.Poly(expr, var)
    except sp.PolynomialError:
        poly = None
    if poly is not None and not any(c.has(var) for c in poly.all_coeffs()):
        if poly.degree() > 4:
            raise NotAnalysable(f"cannot locate the switching points of {sp.sstr(expr)}")
        roots = sp.roots(poly, multiple=True)
        if len(roots) != poly.degree():
            raise NotAnalysable(f"cannot locate the switching points of {sp.sstr(expr)}")
    else:
        try:
            roots = sp.solve(expr, var)
        except (NotImplementedError, ValueError, TypeError):
            raise NotAnalysable(f"cannot locate the switching points of {sp.sstr(expr)}") from None
    real = []
    for r in roots:
        r = sp.simplify(r) if r.free_symbols else r
        if r.is_real is False:
            continue
        if r.is_real is None and r.is_number:
            if sp.im(sp.N(r, 30)) != 0:
                continue
        elif r.is_real is None:
            raise NotAnalysable(f"cannot tell whether {sp.sstr(r)} is real")
        real.append(r)
    return real


def _compare(a: sp.Expr, b: sp.Expr) -> int:
    return _sign_at(a - b)


def _samples(points: list[sp.Expr]) -> list[list[sp.Expr]]:
    """Interior points of each interval of the real line cut at ``points`` (sorted): a few
    candidates each, in case one is itself a switching point of some branch."""
    if not points:
        return [[sp.Rational(1, 7), sp.Rational(-2, 9), sp.Rational(5, 11)]]
    out = [[points[0] - 1, points[0] - sp.Rational(1, 3)]]
    out += [[(a + b) / 2, a + (b - a) / 3] for a, b in zip(points, points[1:])]
    out.append([points[-1] + 1, points[-1] + sp.Rational(1, 3)])
    return out


def _specialise_somewhere(expr: sp.Expr, var: sp.Symbol, candidates: list[sp.Expr]):
    """(sample, branch) for the first candidate sample that is not a switching point."""
    failure = None
    for sample in candidates:
        try:
            return sample, _specialise(expr, var, sample)
        except NotAnalysable as e:
            failure = e
    raise failure


@dataclass(frozen=True)
class PiecewiseSmooth:
    """f(x) = pieces[j](x) on (breakpoints[j-1], breakpoints[j]), plus point terms
    weight * delta^(order)(x - point); the pieces are smooth on their intervals."""

    var: sp.Symbol
    breakpoints: tuple[sp.Expr, ...]
    pieces: tuple[sp.Expr, ...]
    deltas: tuple[tuple[sp.Expr, int, sp.Expr], ...] = ()

    def step_form(self) -> sp.Expr:
        """The function written with Heaviside steps of (var - breakpoint)."""
        x, b = self.var, self.breakpoints
        total = sp.S.Zero
        for j, piece in enumerate(self.pieces):
            if piece == 0:
                continue
            factor = piece
            if j > 0:
                factor *= sp.Heaviside(x - b[j - 1])
            if j < len(b):
                factor *= sp.Heaviside(b[j] - x)
            total += factor
        for point, order, weight in self.deltas:
            total += weight * (sp.DiracDelta(x - point, order) if order else sp.DiracDelta(x - point))
        return total

    def jumps(self, order: int) -> list[sp.Expr]:
        """The jump of the order-th derivative at each breakpoint (right minus left)."""
        x = self.var
        out = []
        for j, point in enumerate(self.breakpoints):
            left = sp.diff(self.pieces[j], x, order) if order else self.pieces[j]
            right = sp.diff(self.pieces[j + 1], x, order) if order else self.pieces[j + 1]
            out.append(sp.simplify((right - left).subs(x, point)))
        return out

    def derivative(self) -> "PiecewiseSmooth":
        x = self.var
        deltas = [(p, k + 1, w) for p, k, w in self.deltas]
        for point, jump in zip(self.breakpoints, self.jumps(0)):
            if jump != 0:
                deltas.append((point, 0, jump))
        return PiecewiseSmooth(x, self.breakpoints, tuple(sp.diff(p, x) for p in self.pieces),
                               _collect_deltas(deltas))

    @property
    def kinks(self) -> tuple[sp.Expr, ...]:
        """Breakpoints where the function or one of its derivatives (up to 4) jumps."""
        out = []
        for j, point in enumerate(self.breakpoints):
            if any(self.jumps(order)[j] != 0 for order in range(5)):
                out.append(point)
        return tuple(out) + tuple(dict.fromkeys(p for p, _k, _w in self.deltas
                                                if p not in out))


def _collect_deltas(deltas) -> tuple:
    grouped: dict = {}
    for point, order, weight in deltas:
        grouped[(point, order)] = grouped.get((point, order), sp.S.Zero) + weight
    return tuple((p, k, sp.simplify(w)) for (p, k), w in grouped.items() if sp.simplify(w) != 0)


def _split_deltas(expr: sp.Expr, var: sp.Symbol) -> tuple[sp.Expr, list]:
    """expr = rest + sum of weight * delta^(k)(var - point) (weights at the point)."""
    if not expr.has(sp.DiracDelta):
        return expr, []
    rest, deltas = sp.S.Zero, []
    for term in sp.Add.make_args(sp.expand(expr)):
        if not term.has(sp.DiracDelta):
            rest += term
            continue
        normal = normalise_delta_term(term, var)
        for piece in sp.Add.make_args(normal):
            found = [f for f in sp.Mul.make_args(piece) if isinstance(f, sp.DiracDelta)]
            if len(found) != 1:
                raise NotAnalysable(f"cannot read {sp.sstr(piece)} as a multiple of one delta")
            (d,) = found
            weight = piece / d
            try:
                point = sp.solve(d.args[0], var)
            except NotImplementedError:  # e.g. delta(Min(1, u) + 1): SymPy has no algorithm
                point = []
            if weight.has(var) or len(point) != 1:
                raise NotAnalysable(f"cannot read {sp.sstr(piece)} as a multiple of one delta")
            order = int(d.args[1]) if len(d.args) > 1 else 0
            deltas.append((point[0], order, weight))
    return rest, deltas


@lru_cache(maxsize=1024)
def piecewise_smooth(expr: sp.Expr, var: sp.Symbol) -> PiecewiseSmooth:
    """Decompose a function of ``var`` into smooth pieces between its switching points.

    Raises NotAnalysable when a switching point cannot be located or ordered (e.g. a
    transcendental switching function, or parameters whose order is unknown)."""
    smooth_part, deltas = _split_deltas(expr, var)
    atoms = [a for a in smooth_part.atoms(*NONSMOOTH) if a.has(var)]
    if not atoms:
        return PiecewiseSmooth(var, (), (smooth_part,), _collect_deltas(deltas))
    switching = [s for atom in atoms for s in _switching_functions(atom) if s.has(var)]
    points: list[sp.Expr] = []
    for _round in range(MAX_BREAKPOINTS):
        found: list[sp.Expr] = []
        bounds = [sp.S.NegativeInfinity, *points, sp.S.Infinity]
        for candidates, lo, hi in zip(_samples(points), bounds, bounds[1:]):
            for s in switching:
                _sample, branch = _specialise_somewhere(s, var, candidates)
                for r in _roots(branch, var):
                    inside = (lo.is_infinite or _compare(r, lo) > 0) and \
                             (hi.is_infinite or _compare(r, hi) < 0)
                    if inside and all(sp.expand(r - p) != 0 for p in points + found):
                        found.append(r)
        if not found:
            break
        points = sorted(points + found, key=cmp_to_key(_compare))
        if len(points) > MAX_BREAKPOINTS:
            raise NotAnalysable(f"more than {MAX_BREAKPOINTS} switching points")
    else:
        raise NotAnalysable("the switching points did not settle")
    pieces = [sp.simplify(_specialise_somewhere(smooth_part, var, candidates)[1])
              for candidates in _samples(points)]
    # Adjacent equal pieces: the switch there changes nothing (a touching root).
    kept_points, kept_pieces = [], [pieces[0]]
    for point, piece in zip(points, pieces[1:]):
        if sp.simplify(piece - kept_pieces[-1]) == 0:
            continue
        kept_points.append(point)
        kept_pieces.append(piece)
    return PiecewiseSmooth(var, tuple(kept_points), tuple(kept_pieces), _collect_deltas(deltas))


def distributional_derivative(expr: sp.Expr, var: sp.Symbol, order: int = 1) -> sp.Expr:
    """The order-th derivative of expr in the sense of distributions, in step form: jumps of
    the function or of its derivatives become deltas (and their derivatives) at the jump,
    with weights evaluated there, so x*delta(x) never appears."""
    if order == 0:
        return expr
    if not expr.has(*NONSMOOTH, sp.DiracDelta):
        return sp.diff(expr, var, order)
    try:
        f = piecewise_smooth(expr, var)
    except NotAnalysable:
        return normalise_deltas(sp.diff(heaviside_form(expr), var, order), var)
    for _ in range(order):
        f = f.derivative()
    return f.step_form()


# ------------------------------------------------------------------------------------------
# Products with deltas
# ------------------------------------------------------------------------------------------
def _delta_point(d: sp.DiracDelta, var: sp.Symbol):
    """(point t, order k, scale) with delta^(k)(a x + b) = scale * delta^(k)(x - t)."""
    arg = sp.expand(d.args[0])
    slope = sp.diff(arg, var)
    if slope.has(var) or slope == 0:
        return None
    order = int(d.args[1]) if len(d.args) > 1 else 0
    point = sp.cancel(-(arg - slope * var) / slope)
    return point, order, 1 / (slope**order * sp.Abs(slope))


def _step_beside(h: sp.Heaviside, var: sp.Symbol, point: sp.Expr, side: int) -> sp.Expr:
    """The value of a step just right (side = 1) or left (side = -1) of ``point``."""
    arg = h.args[0]
    at = sp.expand(arg.subs(var, point))
    if at == 0:
        s = _sign_at(sp.diff(arg, var).subs(var, point)) * side
        if s == 0:
            raise NotAnalysable("a step with a flat argument")
    else:
        s = _sign_at(at)
    return sp.S.One if s > 0 else sp.S.Zero


def normalise_delta_term(term: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """g(x) delta^(k)(x - t) rewritten with Leibniz' rule at t (for a product holding one
    delta): x*delta(x) -> 0.

    Steps jumping at t are read as the derivative pairs of one mollifier (H_e' = delta_e, as
    they arise from differentiating an activation), which makes every product with delta
    mollifier-independent: P(H) delta = (int_0^1 P(h) dh) delta (so H delta = delta/2), and
    (L + J H) delta' = L delta' - L' delta + J (delta'/2 - delta^2) - J' delta/2. The product
    rule holds under this reading, so E[phi'^2 + phi phi''] stays the heat-equation
    derivative of E[phi^2]. Products it cannot rewrite (a higher power of a step next to
    delta', deltas of order >= 2 next to a jump) are returned unchanged."""
    factors = sp.Mul.make_args(term)
    deltas = [f for f in factors if isinstance(f, sp.DiracDelta)]
    if len(deltas) != 1 or any(isinstance(f, sp.Pow) and f.base.has(sp.DiracDelta)
                               for f in factors):
        return term
    (d,) = deltas
    found = _delta_point(d, var)
    if found is None:
        return term
    t, k, scale = found
    g = sp.Mul(*[f for f in factors if f is not d])
    if any(a.has(var) for a in g.atoms(sp.Max, sp.Min, sp.Abs, sp.sign, sp.Piecewise)):
        return term
    h = sp.Dummy("h")
    replaced = {}
    try:
        for step in (s_ for s_ in g.atoms(sp.Heaviside) if s_.has(var)):
            arg = step.args[0]
            if sp.expand(arg.subs(var, t)) == 0:    # jumps at t: H(+-(x - t)) -> h or 1 - h
                slope = _sign_at(sp.diff(arg, var).subs(var, t))
                if slope == 0:
                    return term
                replaced[step] = h if slope > 0 else 1 - h
            else:
                replaced[step] = _step_beside(step, var, t, 1)
    except NotAnalysable:
        return term
    G = g.xreplace(replaced)

    def delta(order):
        return sp.DiracDelta(var - t, order) if order else sp.DiracDelta(var - t)

    if not G.has(h):
        total = sp.S.Zero
        for j in range(k + 1):  # g delta^(k) = sum_j (-1)^j C(k, j) g^(j)(t) delta^(k-j)
            total += (-1) ** j * sp.binomial(k, j) * sp.diff(G, var, j).subs(var, t) * delta(k - j)
    elif k == 0:
        total = sp.integrate(sp.expand(G.subs(var, t)), (h, 0, 1)) * delta(0)
    elif k == 1 and sp.degree(sp.expand(G), h) <= 1:
        left, right = G.subs(h, 0), G.subs(h, 1)
        jump = [sp.expand((sp.diff(right, var, j) - sp.diff(left, var, j)).subs(var, t))
                for j in (0, 1)]
        total = (left.subs(var, t) * delta(1) - sp.diff(left, var).subs(var, t) * delta(0)
                 + jump[0] * (delta(1) / 2 - delta(0) ** 2) - jump[1] * delta(0) / 2)
    else:
        return term
    return sp.Add(*[scale * piece for piece in sp.Add.make_args(sp.expand(total))])


def normalise_deltas(expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """``normalise_delta_term`` on every product term of an expanded expression."""
    if not expr.has(sp.DiracDelta):
        return expr
    return sp.Add(*[normalise_delta_term(t, var) if t.has(sp.DiracDelta) else t
                    for t in sp.Add.make_args(sp.expand(expr))])


# ------------------------------------------------------------------------------------------
# Named building blocks of activation formulas (written so the calculus recognises them)
# ------------------------------------------------------------------------------------------
def normal_cdf(y: sp.Expr) -> sp.Expr:
    """Phi(y), the standard normal distribution function, through erf (the erf rule applies)."""
    return (1 + sp.erf(y / sp.sqrt(2))) / 2


def logistic(y: sp.Expr) -> sp.Expr:
    """1/(1 + exp(-y)) written as (1 + tanh(y/2))/2: a polynomial in tanh, so the pole
    expansion applies."""
    return (1 + sp.tanh(y / 2)) / 2


def softplus(y: sp.Expr) -> sp.Expr:
    """log(1 + exp(y)); its derivative is the logistic function."""
    return sp.log(1 + sp.exp(y))


def relu(y: sp.Expr) -> sp.Expr:
    """max(y, 0)."""
    return sp.Max(0, y)


def log1p(y: sp.Expr) -> sp.Expr:
    """log(1 + y)."""
    return sp.log(1 + y)
