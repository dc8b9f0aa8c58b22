"""Shouhou (售后): an open-source after-sales repair and field-service platform."""

__version__ = "0.1.0"
