"""Looking for a person everywhere: every text, JSON and bytea column of every schema, and
every message of every stream (iCalendar line folds undone, any case)."""

from __future__ import annotations

import re

import asyncpg
from nats.aio.client import Client as NatsClient

from shared.events.streams import ALL_STREAMS
from shared.privacy import FOLD, unfolded
from tests.support.streams import read_all

_COLUMNS = """
SELECT c.table_schema, c.table_name, c.column_name, c.data_type
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND t.table_type = 'BASE TABLE'
  AND c.data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea', 'ARRAY')
"""

# UTF-8 as text, binary documents (PDF reports) as escaped bytes, like the services' own
# function (shared migration 0005), but in this connection's temporary schema: every schema
# of the database is searched, including some that are no service's.
_BYTEA_AS_TEXT = """
CREATE OR REPLACE FUNCTION pg_temp.bytea_as_text(value bytea) RETURNS text LANGUAGE plpgsql
IMMUTABLE AS $$
BEGIN
    RETURN convert_from(value, 'UTF8');
EXCEPTION WHEN character_not_in_repertoire OR untranslatable_character THEN
    RETURN encode(value, 'escape');
END;
$$
"""


def _text_of(column: str, data_type: str) -> str:
    quoted = '"' + column.replace('"', '""') + '"'
    if data_type == "bytea":
        return f"pg_temp.bytea_as_text({quoted})"
    return f"{quoted}::text"


async def columns_mentioning(conn: asyncpg.Connection, terms: list[str]) -> list[str]:
    """``schema.table.column`` of every column where a term appears."""
    found = []
    lowered = [t.lower() for t in terms]
    await conn.execute(_BYTEA_AS_TEXT)
    for row in await conn.fetch(_COLUMNS):
        text = (
            f"lower(regexp_replace({_text_of(row['column_name'], row['data_type'])}, $2, '', 'g'))"
        )
        sql = (
            f'SELECT count(*) FROM "{row["table_schema"]}"."{row["table_name"]}" '
            f"WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) v WHERE strpos({text}, v) > 0)"
        )
        if await conn.fetchval(sql, lowered, FOLD):
            found.append(f"{row['table_schema']}.{row['table_name']}.{row['column_name']}")
    return found


async def messages_mentioning(client: NatsClient, terms: list[str]) -> list[str]:
    """``stream:subject`` of every stream message where a term appears."""
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    found = []
    for spec in ALL_STREAMS:
        for message in await read_all(client, spec.name, spec.subjects[0]):
            headers = " ".join(f"{k}:{v}" for k, v in (message.headers or {}).items())
            text = unfolded(headers + message.data.decode("utf-8", errors="replace"))
            if pattern.search(text):
                found.append(f"{spec.name}:{message.subject}")
    return found
