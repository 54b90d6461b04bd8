"""Test support: the independent references (oracles) and the helpers the test files share.

Imported as ``support`` (tests/conftest.py puts tests/ on sys.path); nothing here is a test.
"""
