"""Complaints from citizens and their forwarding to the responsible agency (R9)."""
