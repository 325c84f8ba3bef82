"""Qiyue (契约): customer contract management."""

__version__ = "0.1.0"
