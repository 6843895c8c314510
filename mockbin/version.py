"""mockbin's version: one place, imported by the package, the admin API, the docs and the CLI."""

__version__ = "0.1.0"
