"""The host's side of scoring: the HTTP client for a running service and the parity check."""
