"""Staff accounts, roles, login and tokens (R10)."""
