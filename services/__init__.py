"""Okno services: the FastAPI services, the ACD router and their shared library."""
