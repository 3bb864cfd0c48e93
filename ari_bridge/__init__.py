"""The bridge between Asterisk (ARI + AMI) and the rest of Okno.

Only :mod:`ari_bridge.translate` sees raw Asterisk data; everything past it speaks the typed
domain events of :mod:`ari_bridge.events`.
"""
