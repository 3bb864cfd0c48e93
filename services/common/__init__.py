"""Shared library of every Okno process: settings, persistence, logging, metrics, errors."""
