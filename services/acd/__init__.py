"""Automatic call distribution: the router core, the simulator and the staffing calculator.

The core (``router.RouterState`` / ``router.step``) is a pure state machine over the events in
``events`` and the commands in ``commands``; see docs/acd.md.
"""
