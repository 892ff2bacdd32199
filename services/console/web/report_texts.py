"""English of the Berichte pages' German texts (merged into the console's catalogue)."""

from __future__ import annotations

REPORT_ENGLISH: dict[str, str] = {
    "Berichte": "Reports",
    "Filter des Berichts": "Report filters",
    "Von": "From",
    "Bis": "To",
    "Branche (WZ-Abschnitt)": "Sector (WZ section)",
    "Bezirk": "District",
    "Größenklasse": "Size class",
    "Kanal": "Channel",
    "Aufschlüsseln nach": "Break down by",
    "Bericht anzeigen": "Show report",
    "Zeitraum: {first} bis {last}": "Period: {first} to {last}",
    "Alle Tabellen als XLSX": "All tables as XLSX",
    "Monatsbericht {month} als PDF": "Monthly report {month} as PDF",
    "Monatsbericht {month}": "Monthly report {month}",
    "Neutralitätsbericht (zur Veröffentlichung)": "Neutrality report (for publication)",
    "Neutralitätsbericht": "Neutrality report",
    "Zusammenfassung": "Summary",
    "Bedarfe eingegangen": "needs received",
    "vermittelt": "matched",
    "mit Termin, der stattfand": "met (a meeting took place)",
    "mit Ergebnis abgeschlossen": "closed with an outcome",
    "Teilnahmequote": "Attendance rate",
    "Nachrichten zugestellt": "messages delivered",
    "Nachrichten fehlgeschlagen": "messages failed",
    "„{title}“ als CSV": "“{title}” as CSV",
    "Daten des Diagramms als Tabelle": "The chart's data as a table",
    "Bedarfe vom Eingang bis zum Abschluss": "Needs from receipt to outcome",
    "Bedarfe je Monat": "Needs per month",
    "Zustellungen je Kanal": "Deliveries per channel",
    "Eingegangen": "Received",
    "Vermittelt": "Matched",
    "Mit Termin": "Met",
    "Abgeschlossen": "Closed",
    "Dauer": "Durations",
    "Zeitspanne": "Span",
    "Anzahl": "Count",
    "Median (Tage)": "Median (days)",
    "p90 (Tage)": "p90 (days)",
    "Bedarf bis Vorschlag": "Need to proposal",
    "Bedarf bis Termin": "Need to meeting",
    "Bedarf bis Ergebnis": "Need to outcome",
    "Stattgefunden": "Held",
    "Abgelehnt": "Declined",
    "Abgesagt": "Cancelled",
    "Rückmeldungen": "Feedback",
    "Bewertung (1–4)": "Rating (1–4)",
    "Projekt gestartet": "Project started",
    "In Arbeit": "In progress",
    "Kein Folgekontakt": "No follow-up",
    "Zugestellt": "Delivered",
    "Fehlgeschlagen": "Failed",
    "Ausstehend": "Pending",
    "Monat": "Month",
    "Neutralität": "Neutrality",
    "Neutralität je Kategorie": "Neutrality per category",
    "Anbieter vorgeschlagen": "Providers proposed",
    "Vorschläge": "Proposals",
    "Davon gleichauf": "Of which tied",
    "Gini Sichtbarkeit": "Gini of exposure",
    "Gini erste Plätze unter Gleichauf": "Gini of first places among the tied",
    "Gini Sichtbarkeit (alle Anbieter)": "Gini of exposure (all providers)",
    "Vorgeschlagen": "Proposed",
    "Erster Platz": "First place",
    "Gleichauf": "Tied",
    "Erster unter Gleichauf": "First among the tied",
    "Gewählt": "Chosen",
    "Kapazität": "Capacity",
    "Auslastung": "Capacity used",
    "Verfahren": "Method",
    "Taxonomie-Version": "Taxonomy version",
    "Toleranz": "Tolerance",
    "Gewichte": "Weights",
    "Läufe": "Runs",
    "Gespeicherte Monatsberichte": "Stored monthly reports",
    "Noch kein Monatsbericht gespeichert.": "No monthly report stored yet.",
    "Bericht für {name}": "Report for {name}",
    "ohne Angabe": "not stated",
    "Kleinstunternehmen (unter 10)": "Micro enterprise (under 10)",
    "Kleinunternehmen (10–49)": "Small enterprise (10–49)",
    "Mittleres Unternehmen (50–249)": "Medium-sized enterprise (50–249)",
    "Großunternehmen (ab 250)": "Large enterprise (250 and more)",
    "Größe unbekannt": "Size unknown",
    "Erstellt am {when}": "Created on {when}",
    "Dieser Bericht zeigt nur Summen je Kategorie und das Verfahren; einzelne Anbieter sind nicht erkennbar.": (
        "This report shows only totals per category and the method; no single provider can be "
        "recognised."
    ),
    "Die eigenen Zahlen dieses Anbieters: wie oft er vorgeschlagen wurde, wie oft an erster Stelle, wie oft gleichauf mit anderen und wie oft gewählt.": (
        "This provider's own figures: how often it was proposed, how often first, how often tied "
        "with others and how often chosen."
    ),
    "Wie oft welche Anbieter vorgeschlagen wurden und wie gleichmäßig sich die ersten Plätze verteilen, zeigt der Neutralitätsbericht; er nennt keine einzelnen Anbieter und kann veröffentlicht werden.": (
        "How often which providers were proposed, and how evenly first places are spread, is shown "
        "by the neutrality report; it names no single provider and may be published."
    ),
    "Neutralitätsbericht öffnen": "Open the neutrality report",
    "So arbeiten Vermittlung und Rotation": "How matching and rotation work",
    "Für jeden Bedarf bewertet Werkbank alle passenden Anbieter nach festen Kriterien (etwa Kategorie, Text des Bedarfs, Entfernung und Erfahrung). Jedes Kriterium hat ein Gewicht; die gewichtete Summe ergibt die Punktzahl. Anbieter, die ein Ausschlusskriterium verletzen, werden nicht vorgeschlagen.": (
        "For each need Werkbank rates every suitable provider by fixed criteria (such as the "
        "category, the text of the need, distance and experience). Each criterion has a weight; "
        "the weighted sum is the score. Providers that fail a hard criterion are not proposed."
    ),
    "Liegen Punktzahlen so nah beieinander, dass ihr Unterschied kleiner ist als die Toleranz, gelten die Anbieter als gleich gut (gleichauf). Ihre Reihenfolge entscheidet dann nicht der Zufall und nicht die Wirtschaftsförderung, sondern die Rotation: Wer in dieser Gruppe bisher seltener vorne stand, kommt zuerst. So wechseln sich gleich gute Anbieter auf dem ersten Platz ab.": (
        "When scores lie closer together than the tolerance, the providers count as equally good "
        "(tied). Their order is then decided neither by chance nor by the office but by rotation: "
        "whoever in that group has stood first less often so far comes first. So equally good "
        "providers take turns in first place."
    ),
    "Der Gini-Koeffizient misst, wie gleichmäßig etwas verteilt ist: 0 heißt, alle hatten gleich viel; Werte nahe 1 heißen, wenige hatten fast alles. Er wird hier für die Sichtbarkeit (wie oft ein Anbieter vorgeschlagen wurde) und für die ersten Plätze unter gleichauf liegenden Anbietern berechnet.": (
        "The Gini coefficient measures how evenly something is spread: 0 means everyone had the "
        "same; values near 1 mean a few had almost everything. It is computed here for exposure "
        "(how often a provider was proposed) and for first places among tied providers."
    ),
}
