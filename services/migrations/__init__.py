"""Alembic migrations of the Okno schema, run by `okno migrate`."""
