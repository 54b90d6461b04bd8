"""Numbers for the Gaussian calculus: quadrature, series, compiled float64 and mpmath evaluation."""
