"""The write side's adapters: the event store over SQLAlchemy, and the mutable stores beside it
(credentials and sessions, the sign-in throttle, number sequences, photo files, the clock).
Each implements a port of `commands.ports`; `commands.bootstrap` wires them."""
