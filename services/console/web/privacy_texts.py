"""English of the Datenschutz pages' German texts (merged into ``texts.ENGLISH``)."""

from __future__ import annotations

PRIVACY_ENGLISH: dict[str, str] = {
    "Datenschutz": "Data protection",
    "Auskunft (Art. 15 DSGVO) und Löschung (Art. 17 DSGVO) für die Organisation und ihre Kontakte.": (
        "Access (Art. 15 GDPR) and erasure (Art. 17 GDPR) for the organisation and its contacts."
    ),
    "Auskunft und Löschung": "Access and erasure",
    "Art": "Kind",
    "Kontakt": "Contact",
    "Kontakte": "Contacts",
    "Organisation": "Organisation",
    "Auskunft (Art. 15 DSGVO)": "Access (Art. 15 GDPR)",
    "Löschung (Art. 17 DSGVO)": "Erasure (Art. 17 GDPR)",
    "Stellt alles zusammen, was die Dienste über die Person speichern (bei einer Organisation: über ihre Kontakte), als JSON-Dokument und als lesbare Zusammenfassung.": (
        "Gathers everything the services store about the person (for an organisation: about its "
        "contacts), as a JSON document and as a readable summary."
    ),
    "Auskunft anfordern": "Request access",
    "Löschen …": "Erase …",
    "Auskunft und Löschung sind Administratorinnen und Administratoren vorbehalten.": (
        "Access and erasure are reserved for administrators."
    ),
    "Wirklich löschen?": "Really erase?",
    "Gelöscht oder unumkehrbar pseudonymisiert werden in allen Diensten (Vermittlung, Terminbuchung, Benachrichtigungen, Verwaltungskonsole) und in den Ereignisströmen:": (
        "Erased or irreversibly pseudonymised in every service (matching, booking, "
        "notifications, console) and in the event streams:"
    ),
    "Name, E-Mail-Adresse und Telefonnummer von {name}": "Name, email address and phone number of {name}",
    "die Teilnahme an {count} Termin(en) mit Rückmeldungen, Kommentaren und Feedback": (
        "the attendance of {count} meeting(s) with answers, comments and feedback"
    ),
    "Inhalte und Empfänger von {count} Zustellung(en); noch wartende Nachrichten werden nicht mehr versandt": (
        "contents and recipients of {count} deliveries; messages still waiting are not sent"
    ),
    "Name und Profil von {name}": "Name and profile of {name}",
    "Name, E-Mail-Adresse und Telefonnummer aller Kontakte": (
        "Name, email address and phone number of every contact"
    ),
    "die Texte von {count} Bedarf(en)": "the texts of {count} need(s)",
    "die Namen in {count} Vorschlag/Vorschlägen": "the names in {count} proposal(s)",
    "die personenbezogenen Angaben in {count} Termin(en), Einladungen, Zustellungen und unzustellbaren Ereignissen": (
        "the personal data in {count} meeting(s), invitations, deliveries and dead letters"
    ),
    "Zahlen, Kennungen und Zeitpunkte bleiben für die Statistik erhalten. Die Löschung kann nicht rückgängig gemacht werden.": (
        "Counts, ids and times stay for the statistics. The erasure cannot be undone."
    ),
    "Ja, endgültig löschen": "Yes, erase for good",
    "Löschauftrag": "Erasure request",
    "Auskunft": "Access request",
    "Angefordert": "Requested",
    "Ausstehend": "Waiting for",
    "Bestätigungen": "Confirmations",
    "Dienst": "Service",
    "Geänderte Zeilen": "Rows changed",
    "Gelöschte Nachrichten": "Messages deleted",
    "Noch keine.": "None yet.",
    "In Bearbeitung": "In progress",
    "Erledigt": "Done",
    "Überfällig": "Overdue",
    "Wird zusammengestellt": "Being assembled",
    "Vermittlung": "Matching",
    "Terminbuchung": "Booking",
    "Benachrichtigungen": "Notifications",
    "Verwaltungskonsole": "Console",
    "Auskunft als JSON herunterladen": "Download the export as JSON",
    "Lesbare Zusammenfassung herunterladen": "Download the readable summary",
}
