"""``carewatch evidence ID_OR_URL``: a citable evidence pack about one article, for a complaint, an
FOI request or a journalist.

What the archive holds (store.evidence.gather: read-only) is written as a folder, or a .zip when
``--out`` ends in .zip:

- ``README.md`` and ``summary.html``: the article (title, source, first seen, every URL it was
  found at, copies and re-issues included), whether and when it was taken down, a timeline, every
  version with its text, when it was seen and the word diff to the text that replaced it, the raw
  captures with their sha256 and how they were checked, and the fetch log of its URLs;
- ``versions/*.txt``: each text as stored; ``diffs/*.diff``: the full word diffs;
- ``captures/capture-N.warc.gz``: the response record and its request and metadata records, byte for
  byte as carewatch wrote them when it fetched the page (a valid WARC file: any WARC tool reads
  it); ``captures/capture-N-payload.*``: the body as served, whose sha256 is the one in the
  ``captures`` table (checked, and checked against the record's ``WARC-Payload-Digest``);
  ``captures/capture-N-headers.txt``: the HTTP status line and headers;
- ``fetches.json``: the fetch-log rows of the article's URLs;
- ``manifest.json``: all of the above as data, and the sha256 and size of every file in the pack.

A capture that cannot be read back or does not match its recorded sha256 is reported in the pack
and on the terminal, and the command exits 1. Nothing in the archive is changed.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import json
import os
import shutil
import zipfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from carewatch.config.schema import Config
from carewatch.store.evidence import Evidence

FORMAT = "carewatch-evidence/1"
_EXT = {"html": ".html", "pdf": ".pdf", "json": ".json", "xml": ".xml", "rss": ".xml", "atom": ".xml", "plain": ".txt"}


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ext(content_type: str | None) -> str:
    ct = (content_type or "").split(";")[0].strip().lower()
    for key, ext in _EXT.items():
        if key in ct:
            return ext
    return ".bin"


def _version_file(label: str) -> str:
    return f"versions/{label.replace(' ', '-')}.txt"


def _diff_file(a: str, b: str) -> str:
    return f"diffs/{a.replace(' ', '-')}-to-{b.replace(' ', '-')}.diff"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _timeline(ev: Evidence) -> list[tuple[str, str]]:
    from carewatch.store.evidence import _when

    events = [(ev.article["first_seen"], "first seen by carewatch")]
    for v in ev.versions:
        if v.replaced_at:
            events.append((v.replaced_at, f"a new text seen, replacing {v.label} ({_pct(v.changed)} of words changed)"))
        elif v.note:
            events.append((v.note.split(" with ")[0].removeprefix("kept at "), f"{v.label}: an older edition kept"))
    for c in ev.captures:
        events.append((c.fetched or "", f"capture {c.number}: HTTP {c.status} from {c.url}"))
    for u in ev.urls:
        if u["role"] == "alias":
            events.append((u["seen"] or "", f"also found at {u['url']} ({u['reason']})"))
    first_gone = {(r.url_key, r.gone_at) for r in ev.removed}
    for f in ev.fetches:
        if f["http_status"] and f["http_status"] >= 400:
            taken = (
                " (taken down: the first fetch to find it gone after it was last seen online)"
                if (f["url_key"], f["started"]) in first_gone
                else ""
            )
            events.append((f["started"], f"fetch of {f['url']} answered HTTP {f['http_status']}{taken}"))
    zero = datetime.min.replace(tzinfo=UTC)
    return sorted({e for e in events if e[0]}, key=lambda e: (_when(e[0]) or zero, e[1]))


def _capture_files(c) -> dict[str, str]:
    base = f"captures/capture-{c.number}"
    return {
        "warc": f"{base}.warc.gz",
        "payload": f"{base}-payload{_ext(c.content_type)}",
        "headers": f"{base}-headers.txt",
    }


# -- the Markdown summary -------------------------------------------------------------------------------


def _md_cell(s: object) -> str:
    return str("" if s is None else s).replace("|", "\\|").replace("\n", " ")


def readme(ev: Evidence, meta: dict) -> str:
    a = ev.article
    src = ev.source
    out = [
        f"# Evidence pack: {a['title']}",
        "",
        f"Prepared by carewatch {meta['generator_version']} on {meta['generated']} from the archive "
        f"`{meta['database']}`. Every file in this pack is listed in `manifest.json` with its SHA-256; the raw "
        "captures are byte-for-byte copies of the records carewatch wrote when it fetched the page.",
        "",
    ]
    if ev.alias_note:
        out += [f"> {ev.alias_note}", ""]
    current = ev.versions[-1]
    out += [
        "## The article",
        "",
        "| | |",
        "|---|---|",
        f"| Title | {_md_cell(a['title'])} |",
        f"| URL | {_md_cell(a['canonical_url'] or a['url'])} |",
        f"| Source | {_md_cell(src.get('name') or src['id'])} "
        f"(`{src['id']}`{', ' + src['url'] if src.get('url') else ''}) |",
        f"| Author | {_md_cell(a['author'] or 'not stated')} |",
        f"| Published (as the page says) | {_md_cell(a['published'] or 'not stated')} |",
        f"| First seen by carewatch | {a['first_seen']} |",
        f"| Current text seen since | {current.seen_from or 'n/a'} |",
        f"| Versions | {len(ev.versions)} text(s): {len(ev.versions) - 1} earlier, and the current one "
        f"(carewatch version {a['version']}) |",
        f"| Raw captures | {len(ev.captures)} ({sum(c.verified for c in ev.captures)} verified) |",
        f"| Topics | {_md_cell(', '.join(ev.topics) or 'none')} |",
        f"| Article id | `{a['article_id']}` |",
        "",
    ]
    out += ["## Where it was published", ""]
    for u in ev.urls:
        extra = f" ({u['reason']})" if u["reason"] else ""
        seen = f", seen {u['seen']}" if u["seen"] else ""
        who = f", source `{u['source_id']}`" if u["source_id"] else ""
        out.append(f"- <{u['url']}> — {u['role']}{extra}{who}{seen}")
    out += ["", "## Was it taken down?", "", ev.removal_summary(), ""]
    if len(ev.removals) > 1:
        out += ["Each URL:", ""] + [f"- {r.sentence()}" for r in ev.removals]
    out += [
        "",
        "Evidence of removal is a fetch of the URL answered 404 (Not Found), 410 (Gone) or 451 (Unavailable "
        "For Legal Reasons) after the last time carewatch saw the page online (a successful fetch or a capture).",
        "",
    ]
    out += ["## Timeline (UTC)", ""]
    out += [f"- {when}: {what}" for when, what in _timeline(ev)]
    out += ["", "## Versions", ""]
    for v in ev.versions:
        head = f"### {v.label.capitalize()} (carewatch version {v.stored_version})"
        span = f"Seen from {v.seen_from or 'an unknown time'}" + (
            f" until {v.replaced_at}, when the next text was seen."
            if v.replaced_at
            else " (the current text)."
            if v.current
            else "."
        )
        out += [head, "", span]
        if v.note:
            out += ["", f"Note: {v.note}."]
        out += [
            "",
            f"- Title: {v.title}",
            f"- URL: {v.url or 'n/a'}",
            f"- Published: {v.published or 'not stated'}",
            f"- Content hash (sha256 of the normalised text): `{v.content_hash}`",
            f"- Text: `{_version_file(v.label)}`",
            "",
        ]
        if v.next_label:
            recorded = (
                f"; recorded when it was seen: {_pct(v.recorded_changed)}" if v.recorded_changed is not None else ""
            )
            out += [
                f"Changes from this text to {v.next_label}: {_pct(v.changed)} of the words changed{recorded}. "
                f"Removed words are shown `[-like this-]`, added ones `{{+like this+}}` (whole diff: "
                f"`{_diff_file(v.label, v.next_label)}`):",
                "",
                "~~~~text",
                v.diff_inline or "(no word changed)",
                "~~~~",
                "",
            ]
        out += ["Text:", "", "~~~~text", v.title, "", v.text, "~~~~", ""]
    out += ["## Raw captures", ""]
    if not ev.captures:
        out += [
            "No raw response was kept for this article (stored before captures were kept, or kept from a feed "
            "entry when the page failed).",
            "",
        ]
    else:
        out += [
            "| # | fetched (UTC) | URL | HTTP | type | payload sha256 | checked | files |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in ev.captures:
            files = _capture_files(c)
            check = "verified" if c.verified else f"**NOT VERIFIED**: {c.problem}"
            shown = ", ".join(f"`{p}`" for p in files.values()) if c.payload is not None else "—"
            out.append(
                f"| {c.number} | {c.fetched} | {_md_cell(c.url)} | {c.status} | {_md_cell(c.content_type)} | "
                f"`{c.payload_sha256 or c.sha256}` | {_md_cell(check)} | {shown} |"
            )
        out += [
            "",
            "Verified means: the record was read back from the WARC file carewatch wrote "
            "(`warc_file`, offset and length in the `captures` table), it is the response record named there, "
            "the SHA-256 of its payload equals the `sha256` recorded in the `captures` table when the page was "
            "fetched, and equals the record's own `WARC-Payload-Digest` header. The `-payload` file is that "
            "payload; the `.warc.gz` file holds the same record (with the request and metadata records written "
            "with it), byte for byte.",
            "",
        ]
    out += ["## Fetch log of these URLs", ""]
    if ev.fetches:
        out += ["| started (UTC) | URL | role | status | HTTP | error |", "|---|---|---|---|---|---|"]
        for f in ev.fetches:
            err = f"{f['error_kind']}: {f['error']}" if f["error_kind"] else ""
            out.append(
                f"| {f['started']} | {_md_cell(f['url'])} | {f['role']} | {f['status']} | "
                f"{f['http_status'] or ''} | {_md_cell(err)} |"
            )
        out.append("")
        out.append("(also in `fetches.json`; carewatch deletes fetch-log rows older than `fetch_retention_days`)")
    else:
        out.append("No fetch of these URLs is in the fetch log (rows older than `fetch_retention_days` are deleted).")
    out += [
        "",
        "## Checking this pack",
        "",
        "- `manifest.json` lists every other file with its SHA-256 and size: `sha256sum` a file and compare.",
        "- Each `captures/*.warc.gz` is a WARC file: `warcio index` or `warcio extract` (Python package "
        "`warcio`) read it; its response record's `WARC-Payload-Digest` is `sha256:` and the base-32 "
        "encoding of the payload file's SHA-256 digest.",
        "- The pack is read-only evidence: nothing in the archive was changed to make it.",
        "",
    ]
    return "\n".join(out)


# -- the HTML summary --------------------------------------------------------------------------------

_CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;
overflow-wrap:anywhere}a,td,li{overflow-wrap:anywhere}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top;
text-align:left;font-size:.9rem}code{font-size:.85rem;word-break:break-all}.text{white-space:pre-wrap;border-left:3px
solid #ccc;padding-left:1rem}del{background:#fdd}ins{background:#dfd;text-decoration:none}.bad{color:#b00;
font-weight:bold}.removed{background:#fee;border:1px solid #b00;padding:.5rem}"""


def summary_html(ev: Evidence, meta: dict) -> str:
    e = html.escape
    a, src = ev.article, ev.source
    p: list[str] = [
        "<!doctype html><html lang='en'><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Evidence pack: {e(a['title'] or '')}"
        f"</title><style>{_CSS}</style><body>",
        f"<h1>Evidence pack: {e(a['title'] or '')}</h1>",
        f"<p>Prepared by carewatch {e(meta['generator_version'])} on {e(meta['generated'])} from the archive "
        f"<code>{e(meta['database'])}</code>. Every file in this pack is listed in <code>manifest.json</code> "
        "with its SHA-256.</p>",
    ]
    if ev.alias_note:
        p.append(f"<p><em>{e(ev.alias_note)}</em></p>")
    rows = [
        ("Title", e(a["title"] or "")),
        ("URL", f"<a href='{e(a['canonical_url'] or a['url'])}'>{e(a['canonical_url'] or a['url'])}</a>"),
        ("Source", f"{e(src.get('name') or src['id'])} (<code>{e(src['id'])}</code>)"),
        ("Author", e(a["author"] or "not stated")),
        ("Published (as the page says)", e(a["published"] or "not stated")),
        ("First seen by carewatch", e(a["first_seen"])),
        ("Versions", str(len(ev.versions))),
        ("Raw captures", f"{len(ev.captures)} ({sum(c.verified for c in ev.captures)} verified)"),
        ("Article id", f"<code>{e(a['article_id'])}</code>"),
    ]
    p.append("<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>")
    p.append("<h2>Where it was published</h2><ul>")
    for u in ev.urls:
        p.append(
            f"<li><a href='{e(u['url'])}'>{e(u['url'])}</a>: {e(u['role'])}"
            + (f" ({e(u['reason'])})" if u["reason"] else "")
            + (f", seen {e(u['seen'])}" if u["seen"] else "")
            + "</li>"
        )
    p.append("</ul><h2>Was it taken down?</h2>")
    p.append(f"<p class='{'removed' if ev.removed else ''}'>{e(ev.removal_summary())}</p><ul>")
    p += [f"<li>{e(r.sentence())}</li>" for r in ev.removals if len(ev.removals) > 1]
    p.append("</ul><h2>Timeline (UTC)</h2><ul>")
    p += [f"<li>{e(w)}: {e(t)}</li>" for w, t in _timeline(ev)]
    p.append("</ul><h2>Versions</h2>")
    for v in ev.versions:
        p.append(f"<h3>{e(v.label.capitalize())} (carewatch version {v.stored_version})</h3>")
        p.append(
            f"<p>Seen from {e(v.seen_from or 'an unknown time')}"
            + (f" until {e(v.replaced_at)}" if v.replaced_at else " (the current text)" if v.current else "")
            + f". URL: {e(v.url or 'n/a')}. Published: {e(v.published or 'not stated')}. "
            f"File: <code>{e(_version_file(v.label))}</code>.</p>"
        )
        if v.note:
            p.append(f"<p><em>{e(v.note)}</em></p>")
        if v.next_label:
            p.append(
                f"<p>Changes to {e(v.next_label)}: {_pct(v.changed)} of the words changed "
                "(<del>removed</del>, <ins>added</ins>):</p>"
            )
            p.append(f"<div class='text'>{v.diff_html}</div>")
        p.append(
            f"<details><summary>Text</summary><div class='text'><strong>{e(v.title)}</strong>\n\n{e(v.text)}</div>"
            "</details>"
        )
    p.append("<h2>Raw captures</h2>")
    if ev.captures:
        p.append(
            "<table><tr><th>#</th><th>fetched</th><th>URL</th><th>HTTP</th><th>payload sha256</th><th>checked</th>"
            "<th>files</th></tr>"
        )
        for c in ev.captures:
            files = _capture_files(c) if c.payload is not None else {}
            check = "verified" if c.verified else f"<span class='bad'>NOT VERIFIED: {e(c.problem or '')}</span>"
            p.append(
                f"<tr><td>{c.number}</td><td>{e(c.fetched or '')}</td><td>{e(c.url or '')}</td><td>{c.status}</td>"
                f"<td><code>{e(c.payload_sha256 or c.sha256 or '')}</code></td><td>{check}</td><td>"
                + "<br>".join(f"<a href='{e(f)}'>{e(f)}</a>" for f in files.values())
                + "</td></tr>"
            )
        p.append(
            "</table><p>Verified: read back from the WARC file by offset and length, the payload's SHA-256 equals "
            "the one recorded in the <code>captures</code> table and the record's <code>WARC-Payload-Digest</code>."
            "</p>"
        )
    else:
        p.append("<p>No raw response was kept for this article.</p>")
    p.append("<h2>Fetch log of these URLs</h2>")
    if ev.fetches:
        p.append("<table><tr><th>started</th><th>URL</th><th>role</th><th>status</th><th>HTTP</th><th>error</th></tr>")
        for f in ev.fetches:
            p.append(
                f"<tr><td>{e(f['started'])}</td><td>{e(f['url'])}</td><td>{e(f['role'] or '')}</td>"
                f"<td>{e(f['status'])}</td><td>{f['http_status'] or ''}</td>"
                f"<td>{e((f['error_kind'] or '') + (': ' + f['error'] if f['error'] else ''))}</td></tr>"
            )
        p.append("</table>")
    else:
        p.append("<p>No fetch of these URLs is in the fetch log.</p>")
    p.append("</body></html>")
    return "\n".join(p)


# -- the bundle ------------------------------------------------------------------------------------


def bundle_files(ev: Evidence, meta: dict) -> dict[str, bytes]:
    """Every file of the pack (path -> bytes), manifest.json last."""
    files: dict[str, bytes] = {}
    versions = []
    for v in ev.versions:
        body = (
            f"Title: {v.title}\nURL: {v.url or ''}\nPublished: {v.published or ''}\nSeen from: {v.seen_from or ''}\n"
            f"Replaced at: {v.replaced_at or ('(current)' if v.current else '')}\nContent hash: {v.content_hash}\n\n"
            f"{v.title}\n\n{v.text}\n"
        )
        files[_version_file(v.label)] = body.encode("utf-8")
        entry = {
            k: getattr(v, k)
            for k in (
                "label",
                "stored_version",
                "current",
                "title",
                "url",
                "published",
                "content_hash",
                "seen_from",
                "replaced_at",
                "recorded_changed",
                "note",
            )
        }
        entry["file"] = _version_file(v.label)
        if v.next_label:
            name = _diff_file(v.label, v.next_label)
            files[name] = (f"--- {v.label}\n+++ {v.next_label}\n" + v.diff_lines + "\n").encode("utf-8")
            entry.update(next=v.next_label, changed=v.changed, diff_file=name)
        versions.append(entry)
    captures = []
    for c in ev.captures:
        entry = {
            "number": c.number,
            "captures_id": c.id,
            "url": c.url,
            "fetched": c.fetched,
            "http_status": c.status,
            "content_type": c.content_type,
            "warc_file": c.warc_file,
            "offset": c.offset,
            "length": c.length,
            "record_id": c.record_id,
            "sha256_recorded": c.sha256,
            "sha256_payload": c.payload_sha256,
            "warc_payload_digest": c.warc_digest,
            "matches_captures_table": c.matches_table,
            "matches_warc_payload_digest": c.matches_warc_digest,
            "verified": c.verified,
            "problem": c.problem,
            "request_metadata": c.metadata,
        }
        if c.payload is not None:
            names = _capture_files(c)
            files[names["warc"]] = c.records
            files[names["payload"]] = c.payload
            files[names["headers"]] = c.http_head.encode("utf-8", "replace")
            entry["files"] = names
        captures.append(entry)
    files["fetches.json"] = json.dumps(ev.fetches, indent=2, ensure_ascii=False).encode("utf-8")
    files["README.md"] = readme(ev, meta).encode("utf-8")
    files["summary.html"] = summary_html(ev, meta).encode("utf-8")
    manifest = {
        "format": FORMAT,
        **meta,
        "article": ev.article,
        "source": ev.source,
        "topics": ev.topics,
        "alias_note": ev.alias_note,
        "urls": ev.urls,
        "versions": versions,
        "captures": captures,
        "removal": {
            "removed": bool(ev.removed),
            "summary": ev.removal_summary(),
            "urls": [asdict(r) for r in ev.removals],
        },
        "files": [{"path": p, "sha256": sha256_hex(b), "bytes": len(b)} for p, b in sorted(files.items())],
    }
    files["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    return files


def _is_pack(path: Path) -> bool:
    try:
        if path.is_dir():
            return json.loads((path / "manifest.json").read_text(encoding="utf-8")).get("format") == FORMAT
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist() if n.endswith("/manifest.json") or n == "manifest.json")
            return json.loads(z.read(name)).get("format") == FORMAT
    except (OSError, ValueError, StopIteration, zipfile.BadZipFile, AttributeError):
        return False


def write_bundle(files: dict[str, bytes], out: Path, generated: datetime, force: bool = False) -> Path:
    """The pack as a folder, or a zip (one top folder inside) when ``out`` ends in .zip; written
    beside ``out`` first and moved into place, so a half-written pack never bears the name."""
    from carewatch.core.errors import CarewatchError

    try:
        return _write(files, out, generated, force)
    except OSError as e:
        raise CarewatchError(f"{out}: cannot write the evidence pack: {e.strerror or e}") from e


def _write(files: dict[str, bytes], out: Path, generated: datetime, force: bool) -> Path:
    from carewatch.core.errors import CarewatchError

    if out.exists():
        if not force:
            raise CarewatchError(f"{out} exists: choose another --out, or --force to replace it")
        if not _is_pack(out):
            raise CarewatchError(f"{out} exists and is not an evidence pack: not replacing it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    if out.suffix.lower() == ".zip":
        stamp = generated.timetuple()[:6]
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for path, data in files.items():
                info = zipfile.ZipInfo(f"{out.stem}/{path}", date_time=stamp)
                info.compress_type = zipfile.ZIP_STORED if path.endswith((".gz", ".pdf")) else zipfile.ZIP_DEFLATED
                z.writestr(info, data)
        os.replace(tmp, out)
        return out
    try:
        for path, data in files.items():
            target = tmp / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def make_pack(
    db,
    ref: str,
    raw_dir: Path | None,
    out: str | None,
    *,
    sources: dict | None = None,
    database: str = "",
    force: bool = False,
) -> tuple[Path, Evidence, dict[str, bytes]]:
    """Gather the article ``ref``'s evidence and write the pack; (where, what, the files)."""
    from carewatch.store.evidence import gather

    ev = gather(db, ref, raw_dir, sources)
    generated = datetime.now(UTC).replace(microsecond=0)
    try:
        version = importlib.metadata.version("carewatch")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    meta = {
        "generated": generated.isoformat(),
        "generator": "carewatch evidence",
        "generator_version": version,
        "database": os.path.abspath(database) if database else "",
        "raw_dir": os.fspath(raw_dir or ""),
    }
    files = bundle_files(ev, meta)
    path = Path(out or f"evidence-{ev.article['article_id']}-{generated.strftime('%Y%m%dT%H%M%SZ')}")
    return write_bundle(files, path, generated, force), ev, files


@dataclass(frozen=True)
class BadCapture:
    """A raw capture that could not be read back or does not match its sha256."""

    number: int
    url: str
    problem: str | None


@dataclass(frozen=True)
class EvidencePack:
    """A pack written: where, about which article, what it holds, and the sha256 to cite it by."""

    pack: str
    article_id: str
    title: str | None
    versions: int
    urls: int
    captures: int
    verified: int  # captures matching their recorded sha256
    bad_captures: list[BadCapture]
    fetches: int
    removed: bool
    removal: str  # when it was taken down, in a sentence
    files: int
    manifest_sha256: str
    zip_sha256: str | None  # None: written as a folder


def evidence_pack(
    config: Config, db_path: str, ref: str, out: str | None = None, *, force: bool = False
) -> EvidencePack:
    """Write the evidence pack of the article ``ref`` (an id or a URL) of the archive at ``db_path``,
    its captures read from the ``raw_dir`` setting (else ``<database>-raw``); see the module."""
    from carewatch.ops.database import open_archive
    from carewatch.scrapers.warc import raw_dir_for

    sources = {s.id: {"name": s.name, "kind": s.kind, "url": s.url} for s in config.sources}
    db = open_archive(db_path)
    try:
        path, ev, files = make_pack(
            db, ref, raw_dir_for(config.settings.raw_dir, db_path), out, sources=sources, database=db_path, force=force
        )
    finally:
        db.close()
    bad = [BadCapture(c.number, c.url, c.problem) for c in ev.captures if not c.verified]
    return EvidencePack(
        pack=os.fspath(path),
        article_id=ev.article["article_id"],
        title=ev.article["title"],
        versions=len(ev.versions),
        urls=len(ev.urls),
        captures=len(ev.captures),
        verified=len(ev.captures) - len(bad),
        bad_captures=bad,
        fetches=len(ev.fetches),
        removed=bool(ev.removed),
        removal=ev.removal_summary(),
        files=len(files),
        manifest_sha256=sha256_hex(files["manifest.json"]),
        zip_sha256=sha256_hex(path.read_bytes()) if path.is_file() else None,
    )


def evidence_download(config_dir: str, db_path: str, article_id: str) -> tuple[str, bytes]:
    """The evidence pack of one article as a .zip in memory, for the download button of
    `carewatch serve`'s article page: (its file name, its bytes). The same pack `carewatch evidence
    ID --out FILE.zip` writes, made from the archive opened read-only and the config at
    ``config_dir`` (the sources' names, ``raw_dir``); CarewatchError when no article has this id."""
    import tempfile

    from carewatch.config import load_config
    from carewatch.scrapers.warc import raw_dir_for
    from carewatch.store.db import open_db

    config = load_config(config_dir)
    sources = {s.id: {"name": s.name, "kind": s.kind, "url": s.url} for s in config.sources}
    db = open_db(db_path, read_only=True)
    try:
        with tempfile.TemporaryDirectory(prefix="carewatch-evidence-") as tmp:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            out = Path(tmp) / f"evidence-{_safe_name(article_id)}-{stamp}.zip"
            raw_dir = raw_dir_for(config.settings.raw_dir, db_path)
            path, _, _ = make_pack(db, article_id, raw_dir, str(out), sources=sources, database=db_path)
            return path.name, path.read_bytes()
    finally:
        db.close()


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:64]
