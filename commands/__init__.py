"""The write side: one handler per command, and the wiring (bootstrap) of every adapter."""
