"""Pure logic of the console: no I/O."""
