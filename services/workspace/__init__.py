"""The operator and supervisor web workspace: server-rendered pages over the other services."""
