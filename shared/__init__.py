"""Werkbank's common package: event contracts, settings, database and messaging plumbing.

It is the only code the services share. Nothing here knows about a particular service.
"""
