"""Names of the streams (under the centre's prefix) the bridge writes menu results to."""

CALL_VARIABLES = "call-variables"
"""One entry per call that ran a menu: `call_id`, `variables` (JSON), `outcome`, `did`,
`caller`, `started_at`, `ended_at` (Unix seconds); the call-records writer reads it."""
IVR_OUTCOMES = "ivr-outcomes"
"""Outcomes a service follows up: recorded messages (`kind` complaint or message, `file`) for
the complaints worker. (Callback requests go to the router as `CallbackRequested` events.)"""
