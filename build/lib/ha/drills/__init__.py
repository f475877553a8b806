"""Failover drills: a bounded load of citizen journeys, one injected fault, a heal, and
Jepsen-style checks of what the citizens were told against what the store kept."""
