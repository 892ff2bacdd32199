"""Providers' own calendars: their busy times limit the slot search; meetings written back."""
