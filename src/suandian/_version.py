"""The package version.

Its own module, so that modules of the package read it without importing :mod:`suandian`.
"""

__version__ = "0.1.0"
