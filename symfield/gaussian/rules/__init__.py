"""The rules of the Gaussian calculus: each closes one kind of Gaussian expectation."""
