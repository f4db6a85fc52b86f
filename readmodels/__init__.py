"""The read side's queries, layer 2: the read-model tables and the typed queries over them
(lists, details, history, reports, attainment) with the visibility rules applied, and the
adapters of the write-side ports that only the read models answer cheaply.

Imports the aggregates and what the write side shares (the actor with its visibility rules,
the ports, the infra tables); never the API or the workers. Below it, only the composition
root `commands.bootstrap` imports it."""
