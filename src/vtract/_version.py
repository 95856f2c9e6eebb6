"""Single source of the vtract version."""

__version__ = "0.1.0"
