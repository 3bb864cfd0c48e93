"""Callbacks (R3, issue 9): the promised calls back to citizens, persisted from the router log."""
