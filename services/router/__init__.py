"""The ACD router service: the I/O shell around the pure core in `services.acd`."""
