"""Werkbank's tooling: the embedded stack, the CLI for staff and operators, and the demo."""
