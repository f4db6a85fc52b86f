"""Pure domain: aggregates, their events and invariants. Imports nothing from the other folders."""
