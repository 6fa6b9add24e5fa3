"""{{ startup.displayName }} API."""
