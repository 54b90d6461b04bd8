"""Command-line interface: argument parsing, printing and exit codes only (no mathematics)."""
