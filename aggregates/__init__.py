"""The domain, pure: the aggregates (customers and their names, contracts, products and
stock, people and departments, settings, targets, approvals, problem reports), their events,
invariants, exact money and the bounds of what an event may carry.

Layer 0, the lowest: no I/O (no database, files, network or clock of its own; the time
comes in a `Context`), and no import of any other folder of the project."""
