"""Pure domain logic of the booking service: no I/O, no frameworks."""
