"""One canonical form of an email address, for the mail envelope and the calendar object alike.

An internationalised domain is written in punycode (IDNA 2008 with UTS 46 mapping, as mail
servers and calendar clients resolve it; Python's own "idna" codec is IDNA 2003, which turns
"straße" into the different domain "strasse"). Clients recognise the recipient as an attendee
only when the ATTENDEE line carries the very address the mail went to.
"""

from __future__ import annotations

import idna

__all__ = ["InvalidAddressError", "canonical_address"]


class InvalidAddressError(ValueError):
    pass


def canonical_address(address: str) -> str:
    """The mailbox as it is, the domain in lower-case punycode."""
    local, _, domain = address.strip().rpartition("@")
    if not local or not domain:
        raise InvalidAddressError("not an email address")
    if not local.isascii():
        raise InvalidAddressError("the mailbox name needs SMTPUTF8, which is not supported")
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidAddressError("the domain is not a valid internationalised name") from exc
    return f"{local}@{ascii_domain}"
