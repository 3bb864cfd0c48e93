"""Supervisors' switches for the whole centre: night mode override and emergency mode (R1, R5)."""
