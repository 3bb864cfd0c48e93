"""Supervisors' switches for the whole centre (night mode override and emergency mode, R1, R5)
and the built-in wallboard page fed by the router's live state."""
