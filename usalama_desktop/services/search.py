"""Full-text search that stays fast at a million records.

FTS5 answers a prefix query ("kawang*") by merging every term under the prefix, and does it badly when asked for
the newest matches first (seconds at 1M rows). So the last word's prefix is expanded here, through the index's own
vocabulary, into the few real terms it stands for, and the query becomes exact terms only. Pages are then read
from the index newest first, a chunk at a time, and checked against the list's other filters, so a common word
costs what one page costs, not what all its matches cost.
"""

from __future__ import annotations

import re
import unicodedata

from ..store.db import Database
from ..store.spine import TableSpec

NO_MATCH = "\x00no-match"
MAX_WORDS = 12
MAX_EXPANSION = 30
MIN_PREFIX = 3
COMMON = 5000  # a word in this many records or more narrows nothing when a rarer word is given too


def fold(word: str) -> str:
    """As the index's tokenizer (unicode61, remove_diacritics 2) stores a word: lower case, no accents."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def _quote(term: str) -> str:
    return '"' + term.replace('"', "") + '"'


class SearchIndex:
    def __init__(self, db: Database, spec: TableSpec):
        self.db = db
        self.spec = spec

    def _vocab(self) -> str:
        """A per-connection fts5vocab view of the index (temp: nothing is written to the database file)."""
        name = f"{self.spec.name}_vocab"
        created = self.db.__dict__.setdefault("_search_vocab", set())
        if name not in created:
            self.db.execute(f'CREATE VIRTUAL TABLE IF NOT EXISTS temp."{name}" USING '
                            f"fts5vocab(main, '{self.spec.fts_table}', 'row')")
            created.add(name)
        return f'temp."{name}"'

    def expression(self, text: str, tiers) -> str | None:
        """The FTS5 expression for what a user typed (every word must match; the last may be unfinished), limited
        to the columns of the tiers the user may see; None for no words, NO_MATCH when nothing can match."""
        words = list(dict.fromkeys(fold(w) for w in re.findall(r"\w+", text or "", flags=re.UNICODE)))[:MAX_WORDS]
        if not words:
            return None
        parts = [_quote(w) for w in words[:-1]]
        last = words[-1]
        typing = not (text or "").rstrip("\n")[-1:].isspace()
        if typing and len(last) >= MIN_PREFIX and not last.isdigit():  # numbers are typed whole
            upper = last[:-1] + chr(ord(last[-1]) + 1)
            terms = [r[0] for r in self.db.query(f"SELECT term FROM {self._vocab()} WHERE term >= ? AND term < ? "
                                                 "LIMIT ?", (last, upper, MAX_EXPANSION))]
            if not terms:
                return NO_MATCH
            parts.append("(" + " OR ".join(_quote(t) for t in terms) + ")" if len(terms) > 1 else _quote(terms[0]))
        else:
            parts.append(_quote(last))
        cols = " ".join(t for t in ("public", "identifying", "narrative") if t in tiers)
        return f"{{{cols}}} : ({' AND '.join(self._selective(parts))})"

    def _selective(self, parts: list[str]) -> list[str]:
        """Leave out words found in very many records when a rarer one is given (an OB number's "OB", its day and
        year): every result still has the rare word, and the index no longer walks the common words' long lists."""
        if len(parts) < 2:
            return parts
        fts = self.spec.fts_table
        common = []
        for part in parts:
            hits = self.db.scalar(f'SELECT count(*) FROM (SELECT rowid FROM "{fts}" WHERE "{fts}" MATCH ? LIMIT ?)',
                                  (part, COMMON))
            common.append(hits >= COMMON)
        kept = [p for p, c in zip(parts, common, strict=True) if not c]
        return kept or parts

    def newest(self, expression: str, before: int | None, limit: int) -> list[int]:
        """Row ids matching ``expression``, newest first, below ``before``."""
        fts = self.spec.fts_table
        sql = f'SELECT rowid FROM "{fts}" WHERE "{fts}" MATCH ?'
        params: list = [expression]
        if before is not None:
            sql += " AND rowid < ?"
            params.append(before)
        sql += " ORDER BY rowid DESC LIMIT ?"
        params.append(limit)
        return [r[0] for r in self.db.query(sql, params)]
