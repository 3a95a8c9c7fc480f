"""Admin for cases."""
