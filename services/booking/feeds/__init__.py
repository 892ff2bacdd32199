"""Subscribable calendar feeds of providers, venues and rooms (webcal)."""
