"""Call records (R8): every call with its full timeline, written from the router log."""
