"""The three Werkbank services. None imports another; they talk only through events."""
