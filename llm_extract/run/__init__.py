"""The run layer: the one path every command takes from reports to results (backend stack,
cache, request keys, resume, output sink)."""
