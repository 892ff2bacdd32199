"""A few realistic profiles for matching tests."""

from __future__ import annotations

from typing import Any


def contact(contact_id: str, name: str, *, phone: str | None = None) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "name": name,
        "email": f"{contact_id}@example.org",
        "phone": phone,
        "locale": "de",
        "sms_consent": phone is not None,
    }


BAUSTOFF = {
    "name": "Baustoffe Westfalen GmbH",
    "sector_code": "46.73",
    "postcode": "44147",
    "city": "Dortmund",
    "lat": 51.52,
    "lon": 7.45,
    "contacts": [contact("c-bau-1", "Petra Schulte", phone="+4923112345")],
}

PROVIDERS = {
    "p-shop": {
        "name": "ShopSchmiede",
        "profile": "Wir entwickeln Onlineshops mit Shopware und WooCommerce für den Handel.",
        "categories": ["market.shop"],
        "postcode": "44135",
        "city": "Dortmund",
        "lat": 51.51,
        "lon": 7.47,
        "contacts": [contact("c-shop-1", "Jan Becker")],
    },
    "p-chat": {
        "name": "ChatWerk Ruhr",
        "profile": "Kundenchat und Messenger-Lösungen: WhatsApp Business, Chat für Bestellungen "
        "von Stammkunden im Großhandel und Handwerk.",
        "categories": ["market.chat"],
        "postcode": "44137",
        "city": "Dortmund",
        "lat": 51.51,
        "lon": 7.46,
        "contacts": [contact("c-chat-1", "Aylin Demir", phone="+4917012345678")],
    },
    "p-far": {
        "name": "Chat Nord",
        "profile": "Kundenchat und Messenger für den Handel.",
        "categories": ["market.chat"],
        "postcode": "20095",
        "city": "Hamburg",
        "lat": 53.55,
        "lon": 9.99,
        "radius_km": 30,
        "contacts": [contact("c-nord-1", "Nils Hansen")],
    },
}

CHAT_NEED = {
    "company_id": "co-bau",
    "title": "Chat-Kanal für Stammkunden",
    "description": "Wir sind ein Baustoffhändler und möchten für unsere wichtigsten Stammkunden "
    "einen einfachen Chat-Kanal für Bestellungen und Rückfragen, keinen teuren Onlineshop.",
    "categories": ["market.chat"],
    "service_type": "first_advice",
}
