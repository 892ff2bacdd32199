"""The staff console: a read model of every context's events and server-rendered pages."""
