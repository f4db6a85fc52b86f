"""The tests: `unit` (logic without services: the aggregates through their methods, and
the layer rules read from the source), `integration` (the service over a real store:
SQLite, and PostgreSQL and Redis when they run), `e2e` (the HTTP API and the command line).

`conftest.py` gives each test a fresh store. Tests may import any layer; nothing imports them."""
