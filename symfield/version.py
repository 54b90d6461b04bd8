"""The package version (one place: the metadata, caches and reports read it here)."""
__version__ = "0.1.0"
