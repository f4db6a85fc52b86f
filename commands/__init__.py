"""The write side, layer 1: the commands (`messages`), one handler per command (`handlers`
maps them) that loads aggregates from the event store, asks the ports (`ports`) what only
the world knows, decides through the aggregates and saves the events; approvals, the pool
sweep, imports, the configuration and `crm check` too.

Imports the aggregates and nothing above: the ports' adapters live in `commands/adapters`
(or with the read models), and `commands.bootstrap`, the composition root, is the one
module that may import every layer to wire them."""
