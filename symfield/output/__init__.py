"""Output: LaTeX documents and plots."""
