"""lamctl's command line."""

# the release's version; tests/unit/test_startup.py keeps it equal to pyproject.toml's
__version__ = "0.1.0"
