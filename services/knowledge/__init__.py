"""The knowledge service: service catalogue, FAQ with Russian full-text search, call scripts
and outdated-information notices (R8, R9, R17)."""
