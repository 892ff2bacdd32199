"""Pure domain logic of the matching service: no I/O, no frameworks."""
