"""Declarative voice menus (R1, R5, R7, R13, R20): flow schema, a pure per-call engine, tools."""
