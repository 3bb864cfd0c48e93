"""Discrete-event simulator driving the ACD core with synthetic calls (``okno sim``)."""
