"""What the archive holds about one article, gathered for an evidence pack (``carewatch evidence``):
read-only queries and reads of the WARC files, nothing written.

- the article: title, URLs (its own, its canonical one, every copy or re-issue kept as an alias,
  every URL a version or a capture came from), first seen, source;
- every text it has had: the kept versions (``article_versions``) and the current one, each with
  when it was seen and the full word diff to the text that replaced it (recomputed from the stored
  texts, not truncated as the stored ``diff`` is), beside the share of words the store recorded;
- every raw capture (``captures``): the response record read back from its WARC file by offset
  and length, byte for byte, with the request and metadata records written with it; the payload's
  sha256 checked against the ``captures`` row and against the record's own
  ``WARC-Payload-Digest`` header;
- the fetch log (``fetches``) of every one of those URLs, and from it, per URL, whether the page
  was taken down: a fetch answered 404, 410 or 451 after the last time it was seen online (a
  successful fetch or a capture), with how often it was confirmed since; a page that answered so
  and was online again later is "restored"; none, "no sign of removal".

The store knows nothing of files or formats: cli/evidence.py writes the bundle from this.
"""

from __future__ import annotations

import difflib
import html
import io
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from carewatch.core.digests import sha256_digest
from carewatch.core.errors import CarewatchError
from carewatch.core.items import parse_timestamp
from carewatch.core.urls import url_key
from carewatch.store.articles import find_article
from carewatch.store.captures import COLUMNS as CAPTURE_COLUMNS
from carewatch.store.db import fetch_all, fetch_one
from carewatch.store.versions import _words, word_diff

GONE = (404, 410, 451)  # Not Found, Gone, Unavailable For Legal Reasons
ARTICLE_FIELDS = (
    "article_id",
    "title",
    "url",
    "canonical_url",
    "url_key",
    "source_id",
    "author",
    "published",
    "first_seen",
    "updated",
    "edited",
    "kind",
    "version",
    "content_hash",
    "relevant",
    "story_id",
)


@dataclass
class Version:
    label: str  # "kept 1", "kept 2", ..., "current"
    stored_version: int  # article_versions.version, or articles.version for the current text
    current: bool
    title: str
    text: str
    url: str | None
    published: str | None
    content_hash: str | None
    seen_from: str | None  # when this text was first seen (None: not known)
    replaced_at: str | None  # when the text that replaced it was seen (None: current, or never current)
    recorded_changed: float | None  # the share of words changed, as the store recorded it
    note: str = ""
    next_label: str | None = None  # the text that replaced it
    changed: float | None = None  # share of words changed to next_label (recomputed)
    diff_lines: str = ""  # full word diff to next_label: '- removed words' / '+ added words' lines
    diff_inline: str = ""  # the same as one text: '[-removed-]{+added+}' with the words around them
    diff_html: str = ""  # the same as HTML with <del> and <ins>


@dataclass
class Capture:
    number: int
    id: int
    url: str
    warc_file: str
    offset: int
    length: int
    sha256: str | None  # as the captures table recorded it
    record_id: str | None
    fetched: str | None
    content_type: str | None
    status: int | None
    payload: bytes | None = None
    http_head: str = ""  # the status line and headers as received
    target_uri: str | None = None  # WARC-Target-URI: the URL the response came from
    http_status: int | None = None  # as the record says
    http_headers: list[tuple[str, str]] = field(default_factory=list)
    records: bytes = b""  # the response record and its request and metadata records, as in the WARC file
    metadata: dict = field(default_factory=dict)  # the metadata record (source, role, what the feed said)
    payload_sha256: str | None = None  # computed now
    matches_table: bool = False
    warc_digest: str | None = None  # WARC-Payload-Digest of the record
    matches_warc_digest: bool | None = None
    problem: str | None = None

    @property
    def verified(self) -> bool:
        return self.problem is None and self.matches_table and self.matches_warc_digest is not False


@dataclass
class Removal:
    url: str
    url_key: str
    state: str  # removed | restored | no sign of removal | never fetched
    last_seen_online: str | None
    gone_at: str | None = None  # the first fetch that found it gone after last_seen_online
    gone_status: int | None = None
    confirmations: int = 0  # later fetches that found it gone too
    last_checked: str | None = None
    last_status: str | None = None

    def sentence(self) -> str:
        if self.state == "removed":
            again = (
                f"; confirmed by {self.confirmations} later fetch(es), the last at {self.last_checked}"
                if self.confirmations
                else ""
            )
            return (
                f"{self.url} was taken down: it answered HTTP {self.gone_status} at {self.gone_at}, after it was "
                f"last seen online at {self.last_seen_online}{again}."
            )
        if self.state == "restored":
            return (
                f"{self.url} answered HTTP {self.gone_status} at {self.gone_at} but was online again at "
                f"{self.last_seen_online}: no sign of removal now."
            )
        if self.state == "never fetched":
            return f"{self.url}: no fetch of this URL is in the fetch log: no sign of removal."
        return (
            f"{self.url}: no sign of removal (last fetched at {self.last_checked}, {self.last_status}; "
            f"last seen online at {self.last_seen_online})."
        )


@dataclass
class Evidence:
    article: dict
    source: dict  # id, and name, kind, url when the source is still configured
    urls: list[dict]  # url, url_key, role, source_id, reason, seen
    versions: list[Version]
    captures: list[Capture]
    fetches: list[dict]
    removals: list[Removal]
    topics: list[str]
    alias_note: str | None = None  # when the reference given was a copy's URL

    @property
    def removed(self) -> list[Removal]:
        return [r for r in self.removals if r.state == "removed"]

    def removal_summary(self) -> str:
        if not self.removed:
            return (
                "No sign of removal: no fetch of the article's URLs answered 404, 410 or 451 "
                "after it was last seen online."
            )
        return " ".join(r.sentence() for r in self.removed)


# -- versions and diffs ------------------------------------------------------------------------------


def _ops(old: str, new: str) -> tuple[list[str], list[str], list[tuple]]:
    """The word-level matching word_diff uses (store.versions): words and their opcodes."""
    a = [w for w in _words(old) if w[0].isalnum()]
    b = [w for w in _words(new) if w[0].isalnum()]
    matcher = difflib.SequenceMatcher(None, [w.casefold() for w in a], [w.casefold() for w in b], autojunk=False)
    return a, b, matcher.get_opcodes()


def full_diff(old: str, new: str, context: int = 8) -> tuple[float, str, str, str]:
    """(share of words changed, '-'/'+' lines as the store writes them but whole, the inline
    '[-old-]{+new+}' form with ``context`` words around each change, the inline form as HTML)."""
    share = word_diff(old, new)[0]
    a, b, ops = _ops(old, new)
    lines, inline, out_html = [], [], []
    for n, (op, i1, i2, j1, j2) in enumerate(ops):
        if op == "equal":
            words = a[i1:i2]
            out_html.append(html.escape(" ".join(words)))
            first, last = n == 0, n == len(ops) - 1
            if len(words) > 2 * context or (first or last) and len(words) > context:
                head = [] if first else words[:context]
                tail = [] if last else words[-context:]
                inline.append(" ".join([*head, "…", *tail]))
            else:
                inline.append(" ".join(words))
            continue
        if op in ("delete", "replace"):
            lines.append("- " + " ".join(a[i1:i2]))
            inline.append("[-" + " ".join(a[i1:i2]) + "-]")
            out_html.append("<del>" + html.escape(" ".join(a[i1:i2])) + "</del>")
        if op in ("insert", "replace"):
            lines.append("+ " + " ".join(b[j1:j2]))
            inline.append("{+" + " ".join(b[j1:j2]) + "+}")
            out_html.append("<ins>" + html.escape(" ".join(b[j1:j2])) + "</ins>")
    return share, "\n".join(lines), " ".join(x for x in inline if x).strip(), _quoted_diff_html(old, new)


_WORD = re.compile(r"\w+(?:['’]\w+)*")


def _quoted_diff_html(old: str, new: str) -> str:
    """The diff as HTML that quotes the texts as written: the same word matching as ``_ops`` (words
    only, case-folded), but the new text shown with its own punctuation, spacing and line breaks
    around and between the words, a removed passage as the old text wrote it in ``<del>``, an
    added one in ``<ins>``."""
    a = [(m.start(), m.end()) for m in _WORD.finditer(old or "")]
    b = [(m.start(), m.end()) for m in _WORD.finditer(new or "")]
    words_a = [old[s:e].casefold() for s, e in a]
    words_b = [new[s:e].casefold() for s, e in b]
    matcher = difflib.SequenceMatcher(None, words_a, words_b, autojunk=False)
    out, pos = [], 0  # pos: how much of the new text is written
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        start = b[j1][0] if j1 < len(b) else len(new or "")  # where the next new word starts
        out.append(html.escape(new[pos:start]) if op != "equal" else "")
        pos = max(pos, start) if op != "equal" else pos
        if op in ("delete", "replace"):
            out.append("<del>" + html.escape(old[a[i1][0] : a[i2 - 1][1]]) + "</del>")
            if j1 < len(b):
                out.append(" ")
        if op in ("insert", "replace", "equal"):
            end = b[j2 - 1][1]
            text = html.escape(new[pos:end])
            out.append(text if op == "equal" else f"<ins>{text}</ins>")
            pos = end
    out.append(html.escape(new[pos:]))
    return "".join(out)


def _versions(db: Database, article: dict) -> list[Version]:
    kept = fetch_all(
        db.execute("SELECT * FROM article_versions WHERE article_id = ? ORDER BY version", [article["article_id"]])
    )
    out: list[Version] = []
    start = article["first_seen"]
    for n, r in enumerate(kept, 1):
        replaced = r.get("diff") is not None or r.get("changed") is not None
        v = Version(
            label=f"kept {n}",
            stored_version=r["version"],
            current=False,
            title=r["title"] or "",
            text=r["text"] or "",
            url=r["url"],
            published=r["published"],
            content_hash=r["content_hash"],
            seen_from=start if replaced else None,
            replaced_at=r["seen"] if replaced else None,
            recorded_changed=r.get("changed"),
        )
        if replaced:
            start = r["seen"]
        else:
            v.note = (
                f"kept at {r['seen']} with no diff recorded: an older edition that reached carewatch after a "
                "newer one (never the current text), or a version kept before diffs were recorded"
            )
        out.append(v)
    out.append(
        Version(
            label="current",
            stored_version=article["version"],
            current=True,
            title=article["title"] or "",
            text=article["text"] or "",
            url=article["canonical_url"] or article["url"],
            published=article["published"],
            content_hash=article["content_hash"],
            seen_from=start,
            replaced_at=None,
            recorded_changed=None,
        )
    )
    # each text that was replaced, against the text that replaced it (the next one that was current)
    chain = [v for v in out if v.replaced_at or v.current]
    for v, nxt in zip(chain, chain[1:]):
        v.next_label = nxt.label
        v.changed, v.diff_lines, v.diff_inline, v.diff_html = full_diff(
            f"{v.title}\n{v.text}", f"{nxt.title}\n{nxt.text}"
        )
    return out


# -- captures ------------------------------------------------------------------------------------------


def _gzip_member(f, pos: int, limit: int = 64 * 2**20) -> bytes:
    """The gzip member (one WARC record) starting at ``pos``, as bytes; b'' at the end of the file."""
    f.seek(pos)
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    raw = bytearray()
    while not d.eof and len(raw) < limit:
        chunk = f.read(65536)
        if not chunk:
            return b""  # truncated (a record still being written): not a whole member
        raw += chunk
        d.decompress(chunk)
        while d.unconsumed_tail:
            d.decompress(d.unconsumed_tail)
    return bytes(raw[: len(raw) - len(d.unused_data)]) if d.eof else b""


def read_capture(raw_dir: Path, row: dict, number: int) -> Capture:
    """One capture read back from its WARC file and checked; a problem is recorded, never raised."""
    from warcio.archiveiterator import ArchiveIterator

    c = Capture(number=number, **{k: row[k] for k in ("id", *CAPTURE_COLUMNS)})
    path = Path(raw_dir) / row["warc_file"]
    try:
        with open(path, "rb") as f:
            f.seek(row["offset"])
            blob = f.read(row["length"])
            if len(blob) != row["length"]:
                c.problem = f"{row['warc_file']}: {len(blob)} bytes at offset {row['offset']}, not {row['length']}"
                return c
            recs = [(r, r.raw_stream.read()) for r in ArchiveIterator(io.BytesIO(blob))]  # each read in turn
            if len(recs) != 1 or recs[0][0].rec_type != "response":
                c.problem = f"{row['warc_file']}@{row['offset']}: not one response record"
                return c
            rec, c.payload = recs[0]
            record_id = rec.rec_headers.get_header("WARC-Record-ID")
            c.warc_digest = rec.rec_headers.get_header("WARC-Payload-Digest")
            c.target_uri = rec.rec_headers.get_header("WARC-Target-URI")
            if rec.http_headers:
                c.http_head = rec.http_headers.to_str()
                c.http_status = int(rec.http_headers.get_statuscode())
                c.http_headers = list(rec.http_headers.headers)
            if row["record_id"] and record_id != row["record_id"]:
                c.problem = f"{row['warc_file']}@{row['offset']}: record {record_id}, not {row['record_id']}"
            records = [blob]
            pos = row["offset"] + row["length"]
            for _ in range(4):  # the request and metadata records written with it
                member = _gzip_member(f, pos)
                if not member:
                    break
                [other] = list(_parsed(member))
                if other[1] != record_id:
                    break
                records.append(member)
                if other[0] == "metadata":
                    try:
                        c.metadata = json.loads(other[2].decode("utf-8"))
                    except ValueError:
                        pass
                pos += len(member)
            c.records = b"".join(records)
    except OSError as e:
        c.problem = f"{path}: {e.strerror or e}"
        return c
    except Exception as e:
        c.problem = f"{row['warc_file']}@{row['offset']}: unreadable record: {type(e).__name__}: {e}"
        return c
    c.payload_sha256, warc_form = sha256_digest(c.payload)
    c.matches_table = c.payload_sha256 == row["sha256"]
    if c.warc_digest:
        c.matches_warc_digest = c.warc_digest == warc_form
    if not c.problem and not c.matches_table:
        c.problem = f"payload sha256 {c.payload_sha256} is not the {row['sha256']} recorded in the captures table"
    elif not c.problem and c.matches_warc_digest is False:
        c.problem = f"payload digest does not match the record's WARC-Payload-Digest {c.warc_digest}"
    return c


def _parsed(member: bytes):
    from warcio.archiveiterator import ArchiveIterator

    for rec in ArchiveIterator(io.BytesIO(member)):
        yield rec.rec_type, rec.rec_headers.get_header("WARC-Concurrent-To"), rec.raw_stream.read()


# -- fetches and removal ---------------------------------------------------------------------------------


def _when(s: str | None) -> datetime | None:
    if not s:
        return None
    try:
        return parse_timestamp(s)
    except ValueError:
        return None


def _fetches(db: Database, keys: set[str]) -> list[dict]:
    """Every fetch-log row of one of these URL keys, oldest first."""
    rows: dict[int, dict] = {}
    for key in keys:
        path = "/" + key.split("/", 1)[1] if "/" in key else key
        for row in fetch_all(
            db.execute("SELECT * FROM fetches WHERE instr(url, ?) > 0", [path if path != "/" else key.split("/")[0]])
        ):
            try:
                k = url_key(row["url"])
            except ValueError:
                continue
            if k in keys:
                rows[row["id"]] = {**row, "url_key": k}
    return sorted(rows.values(), key=lambda r: (_when(r["started"]) or datetime.min.replace(tzinfo=UTC), r["id"]))


def _removal(url: str, key: str, fetches: list[dict], sightings: list[str | None]) -> Removal:
    mine = [f for f in fetches if f["url_key"] == key]
    ok = [
        f["started"]
        for f in mine
        if f["status"] in ("ok", "not_modified") and (f["http_status"] is None or f["http_status"] < 400)
    ]
    seen = [(when, s) for s in [*ok, *sightings] if s and (when := _when(s))]
    last_online_at, last_online = max(seen) if seen else (None, None)
    gone = [f for f in mine if f["http_status"] in GONE]
    r = Removal(url=url, url_key=key, state="no sign of removal", last_seen_online=last_online)
    if mine:
        r.last_checked = mine[-1]["started"]
        r.last_status = (f"HTTP {mine[-1]['http_status']}" if mine[-1]["http_status"] else mine[-1]["status"]) + (
            f" ({mine[-1]['error_kind']})" if mine[-1]["error_kind"] else ""
        )
    else:
        r.state = "never fetched"
    after = [f for f in gone if last_online_at is None or (_when(f["started"]) or last_online_at) > last_online_at]
    if after:
        r.state, r.gone_at, r.gone_status = "removed", after[0]["started"], after[0]["http_status"]
        r.confirmations = len(after) - 1
        r.last_checked = after[-1]["started"] if r.confirmations else r.last_checked
    elif gone:
        r.state, r.gone_at, r.gone_status = "restored", gone[-1]["started"], gone[-1]["http_status"]
    return r


# -- all of it -------------------------------------------------------------------------------------------


def gather(db: Database, ref: str, raw_dir: Path | None, sources: dict[str, dict] | None = None) -> Evidence:
    """Everything the archive holds about the article ``ref`` (id or URL); see the module."""
    found = find_article(db, ref)
    row = fetch_one(db.execute("SELECT * FROM articles WHERE article_id = ?", [found.article_id]))
    if row is None:  # find_article found it a moment ago: only a concurrent delete gets here
        raise CarewatchError(f"{found.article_id}: no longer in the archive (deleted while being read)")
    note = (
        f"{ref.strip()} is not stored as an article of its own ({found.alias_reason}): this is the article it "
        "was kept as"
        if found.via == "copy"
        else None
    )
    aid = row["article_id"]
    article = {k: row.get(k) for k in ARTICLE_FIELDS}
    try:
        topics = [t["topic"] for t in json.loads(row.get("topics") or "[]")]
    except (ValueError, TypeError, KeyError):
        topics = []
    source = {"id": row["source_id"], **(sources or {}).get(row["source_id"], {})}

    urls: list[dict] = []

    def add(
        url: str | None, role: str, source_id: str | None = None, reason: str | None = None, seen: str | None = None
    ) -> None:
        if not url:
            return
        try:
            key = url_key(url)
        except ValueError:
            key = url
        if any(u["url"] == url for u in urls):
            return
        urls.append({"url": url, "url_key": key, "role": role, "source_id": source_id, "reason": reason, "seen": seen})

    add(row["canonical_url"], "canonical URL", row["source_id"], seen=row["first_seen"])
    add(row["url"], "URL as fetched", row["source_id"], seen=row["first_seen"])
    for a in db.execute(
        "SELECT url, source_id, reason, seen FROM article_aliases WHERE article_id = ? ORDER BY seen", [aid]
    ).fetchall():
        add(a[0], "alias", a[1], a[2], a[3])
    versions = _versions(db, row)
    for v in versions:
        add(v.url, f"URL of version {v.label}")
    capture_rows = fetch_all(
        db.execute(
            "SELECT id, " + ", ".join(CAPTURE_COLUMNS) + " FROM captures WHERE article_id = ? ORDER BY id", [aid]
        )
    )
    for c in capture_rows:
        add(c["url"], "capture")
    captures = []
    for n, c in enumerate(capture_rows, 1):
        if raw_dir is None:
            cap = Capture(number=n, **c)
            cap.problem = "no raw_dir: the WARC files cannot be found"
            captures.append(cap)
        else:
            captures.append(read_capture(raw_dir, c, n))

    keys = {u["url_key"] for u in urls}
    fetches = _fetches(db, keys)
    removals = []
    for key in dict.fromkeys(u["url_key"] for u in urls):
        first = next(u for u in urls if u["url_key"] == key)
        sightings = [c.fetched for c in captures if c.url and url_key(c.url) == key and not c.problem]
        sightings += [u["seen"] for u in urls if u["url_key"] == key and u["seen"]]
        if key == row["url_key"]:
            sightings += [row["first_seen"], row["updated"]]
        removals.append(_removal(first["url"], key, fetches, sightings))
    return Evidence(
        article=article,
        source=source,
        urls=urls,
        versions=versions,
        captures=captures,
        fetches=fetches,
        removals=removals,
        topics=topics,
        alias_note=note,
    )
