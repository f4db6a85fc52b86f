"""Read-model tables and the typed queries over them (lists, details, reports)."""
