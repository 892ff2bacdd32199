"""Deterministic sample data: a Dortmund-like region with KMU, providers and mentors."""

from __future__ import annotations

import random
from typing import Any

DISTRICTS = [
    ("44135", "Dortmund-Innenstadt", 51.513, 7.465),
    ("44137", "Dortmund-Innenstadt-West", 51.511, 7.455),
    ("44139", "Dortmund-Innenstadt-Ost", 51.503, 7.485),
    ("44147", "Dortmund-Hafen", 51.528, 7.447),
    ("44225", "Dortmund-Hombruch", 51.470, 7.445),
    ("44263", "Dortmund-Hörde", 51.485, 7.505),
    ("44287", "Dortmund-Aplerbeck", 51.492, 7.555),
    ("44309", "Dortmund-Brackel", 51.522, 7.556),
    ("44339", "Dortmund-Eving", 51.555, 7.475),
    ("44369", "Dortmund-Huckarde", 51.535, 7.405),
    ("44623", "Herne", 51.538, 7.219),
    ("58452", "Witten", 51.437, 7.336),
]

# (category, service type, title, description) - needs as KMU describe them.
NEEDS = [
    (
        "market.chat",
        "first_advice",
        "Chat-Kanal für Stammkunden",
        "Wir sind ein Baustoffhändler. Unsere wichtigsten Stammkunden aus dem Handwerk bestellen per "
        "Telefon und Fax. Wir wünschen uns einen einfachen Chat-Kanal für Bestellungen und Rückfragen, "
        "keinen teuren Onlineshop.",
    ),
    (
        "market.shop",
        "implementation",
        "Onlineshop für Geschenkartikel",
        "Unser Laden verkauft Geschenkartikel und Deko. Wir möchten einen kleinen Onlineshop mit "
        "Click & Collect aufbauen, damit Kundinnen auch abends bestellen können.",
    ),
    (
        "market.seo",
        "first_advice",
        "Besser gefunden werden",
        "Als Friseursalon werden wir bei Google kaum gefunden. Wir möchten unser Unternehmensprofil "
        "pflegen, Bewertungen sammeln und lokal besser sichtbar werden.",
    ),
    (
        "market.social",
        "training",
        "Instagram für den Hofladen",
        "Wir betreiben einen Hofladen und möchten auf Instagram und Facebook regelmäßig zeigen, was "
        "frisch ist. Wir brauchen eine Schulung, wie man Beiträge plant und Fotos macht.",
    ),
    (
        "market.recruiting",
        "first_advice",
        "Auszubildende online finden",
        "Unser Sanitärbetrieb findet keine Auszubildenden mehr. Wir wollen Stellenanzeigen online "
        "und über soziale Netzwerke verbreiten und eine Karriereseite aufbauen.",
    ),
    (
        "security.backup",
        "implementation",
        "Datensicherung im Büro",
        "In unserem Steuerbüro liegen alle Daten auf einem alten Server ohne regelmäßige "
        "Datensicherung. Wir brauchen ein Backup-Konzept und einen Notfallplan gegen Ransomware.",
    ),
    (
        "security.awareness",
        "training",
        "Phishing erkennen",
        "Unsere Mitarbeitenden haben mehrfach auf Phishing-Mails geklickt. Wir suchen eine "
        "Sicherheitsschulung zu Passwörtern, Phishing und sicherem Arbeiten im Homeoffice.",
    ),
    (
        "processes.cloud",
        "implementation",
        "Gemeinsam an Dokumenten arbeiten",
        "Wir schicken Angebote und Pläne per E-Mail hin und her. Wir möchten in der Cloud "
        "zusammenarbeiten, Dateien teilen und Termine gemeinsam planen.",
    ),
    (
        "processes.erp",
        "first_advice",
        "Warenwirtschaft statt Excel",
        "Unser Großhandel verwaltet Lagerbestände und Bestellungen in Excel-Listen. Wir suchen eine "
        "passende Warenwirtschaft mit Schnittstelle zur Buchhaltung.",
    ),
    (
        "data.analytics",
        "training",
        "Kennzahlen verstehen",
        "Wir haben viele Verkaufsdaten aus der Kasse, werten sie aber nicht aus. Wir möchten einfache "
        "Kennzahlen und Dashboards, um Sortiment und Öffnungszeiten zu planen.",
    ),
    (
        "strategy.ai",
        "first_advice",
        "Künstliche Intelligenz im Kundenservice",
        "Wir bekommen viele gleiche Anfragen per E-Mail. Kann KI beim Beantworten helfen, und was "
        "müssen wir beim Datenschutz beachten?",
    ),
    (
        "strategy.basics",
        "mentoring",
        "Digitale Grundlagen für das Team",
        "Unser Einzelhandelsgeschäft ist kaum digital. Wir wünschen uns einen Digitallotsen, der uns "
        "Schritt für Schritt bei den Grundlagen begleitet: E-Mail, Kalender, Onlinebanking.",
    ),
]
SECTORS = {
    "market.chat": ("46.73", "Baustoffe"),
    "market.shop": ("47.78", "Geschenke"),
    "market.seo": ("96.02", "Salon"),
    "market.social": ("01.13", "Hofladen"),
    "market.recruiting": ("43.22", "Haustechnik"),
    "security.backup": ("69.20", "Steuerberatung"),
    "security.awareness": ("69.10", "Kanzlei"),
    "processes.cloud": ("71.11", "Architektur"),
    "processes.erp": ("46.90", "Großhandel"),
    "data.analytics": ("47.11", "Markt"),
    "strategy.ai": ("79.11", "Reisebüro"),
    "strategy.basics": ("47.71", "Mode"),
}
PROVIDERS = [
    (
        "ChatWerk",
        ["market.chat"],
        "Kundenchat, Messenger und WhatsApp Business für Handel und Handwerk; Chat-Bestellungen für Stammkunden",
    ),
    (
        "ShopSchmiede",
        ["market.shop"],
        "Onlineshops mit Shopware und WooCommerce, Click & Collect, Zahlungsanbieter",
    ),
    (
        "Lokal Sichtbar",
        ["market.seo"],
        "Suchmaschinenoptimierung, Google Unternehmensprofil, Bewertungen, lokale Sichtbarkeit",
    ),
    (
        "Social Ruhr",
        ["market.social"],
        "Social Media Schulung, Instagram und Facebook, Redaktionsplan, Fotos mit dem Smartphone",
    ),
    (
        "Azubi Digital",
        ["market.recruiting"],
        "Online-Recruiting, Karriereseiten, Stellenanzeigen in sozialen Netzwerken für Handwerk",
    ),
    (
        "SicherBackup",
        ["security.backup"],
        "Datensicherung, Backup-Konzepte, Notfallplanung und Schutz vor Ransomware für Büros",
    ),
    (
        "Awareness Lab",
        ["security.awareness"],
        "Sicherheitsschulung: Phishing, Passwörter, sicheres Homeoffice für Mitarbeitende",
    ),
    (
        "Cloudwerk",
        ["processes.cloud"],
        "Cloud-Zusammenarbeit, Dateien teilen, gemeinsame Kalender, Microsoft 365 und Nextcloud",
    ),
    (
        "Lagerlogik",
        ["processes.erp"],
        "Warenwirtschaft und ERP für Großhandel, Lager und Bestellungen, Schnittstelle zur Buchhaltung",
    ),
    (
        "Datenblick",
        ["data.analytics"],
        "Datenanalyse, Kennzahlen und Dashboards aus Kassendaten für den Einzelhandel",
    ),
    (
        "KI-Werkstatt",
        ["strategy.ai"],
        "Künstliche Intelligenz im Kundenservice, Datenschutz, Automatisierung von E-Mail-Anfragen",
    ),
    (
        "Digitallotsen Herne",
        ["strategy.basics"],
        "Ehrenamtliche Digitallotsen begleiten Händler bei digitalen Grundlagen: E-Mail, Kalender, Onlinebanking",
    ),
]
FIRST = [
    "Petra",
    "Jan",
    "Aylin",
    "Marco",
    "Sabine",
    "Deniz",
    "Lena",
    "Thomas",
    "Nina",
    "Okan",
    "Julia",
    "Stefan",
]
LAST = [
    "Schulte",
    "Becker",
    "Demir",
    "Wagner",
    "Kowalski",
    "Yilmaz",
    "Hoffmann",
    "Klein",
    "Wolf",
    "Neumann",
]


def _contact(rng: random.Random, contact_id: str, domain: str, *, sms: bool) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "contact_id": contact_id,
        "name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}@{domain}",
        "phone": f"+49231{rng.randint(1000000, 9999999)}" if sms else None,
        "locale": "en" if rng.random() < 0.15 else "de",
        "sms_consent": sms,
    }


def generate(companies: int = 60, providers: int = 40, seed: int = 2026) -> dict[str, Any]:
    rng = random.Random(seed)
    company_docs, need_docs, provider_docs = {}, {}, {}
    for index in range(companies):
        category, service_type, title, description = NEEDS[index % len(NEEDS)]
        sector, word = SECTORS[category]
        postcode, city, lat, lon = DISTRICTS[index % len(DISTRICTS)]
        company_id = f"kmu-{index + 1:03d}"
        domain = f"{word.lower().replace('ß', 'ss').replace('ö', 'oe').replace('ä', 'ae')}-{index + 1}.example"
        company_docs[company_id] = {
            "name": f"{word} {rng.choice(LAST)} {'GmbH' if index % 3 else 'e.K.'}",
            "sector_code": sector,
            "size": rng.choice([3, 8, 15, 30, 60]),
            "postcode": postcode,
            "city": city.split("-")[0],
            "lat": lat + rng.uniform(-0.01, 0.01),
            "lon": lon + rng.uniform(-0.01, 0.01),
            "contacts": [_contact(rng, f"{company_id}-c1", domain, sms=index % 2 == 0)],
        }
        need_docs[f"need-{index + 1:03d}"] = {
            "company_id": company_id,
            "title": title,
            "description": description,
            "categories": [category],
            "service_type": service_type,
        }
    for index in range(providers):
        name, categories, profile = PROVIDERS[index % len(PROVIDERS)]
        round_ = index // len(PROVIDERS)  # later rounds: the same kind of firm in another district
        postcode, city, lat, lon = DISTRICTS[(index * 5 + round_) % len(DISTRICTS)]
        provider_id = f"prov-{index + 1:03d}"
        suffix = "" if round_ == 0 else f" {city.removeprefix('Dortmund-')}"
        provider_docs[provider_id] = {
            "name": f"{name}{suffix}",
            "kind": "mentor" if "lotsen" in name.lower() else "it_provider",
            "profile": profile,
            "categories": categories,
            "postcode": postcode,
            "city": city.split("-")[0],
            "lat": lat,
            "lon": lon,
            "radius_km": 40,
            "capacity": 3,
            "contacts": [
                _contact(
                    rng, f"{provider_id}-c1", f"provider-{index + 1}.example", sms=index % 3 == 0
                )
            ],
        }
    return {"companies": company_docs, "needs": need_docs, "providers": provider_docs}
