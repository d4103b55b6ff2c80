"""Full-text search over a large archive: `carewatch search` (ops.search, in process) and
Datasette's own full-text search page (real HTTP requests to a running ``datasette``), beside a
``LIKE '%term%'`` scan of the same table. Claim measured: search over an archive of 100k articles
answers in under 200 ms at the median. Run: ``.venv/bin/python bench/search.py [--articles 100000]
[--repeat 5] [--http-repeat 1] [--all-texts] [--keep FILE]``; about four minutes.

Archive: N generated articles written directly in batched transactions (5,000 rows each) with the
columns ``save_article`` writes (``store.articles._fields``: title, text, content hash, topics,
relevance, authors...; no MinHash, LSH bands or stories, which search does not read), through the
real migrations, so the FTS5 index over title and text is filled by its triggers as in a crawl.
Each article has 12-25 sentences drawn from real texts: news articles from ``../shared/data``
(fundus's gold bodies and Mozilla Readability's expected articles; with ``--all-texts``,
``bench/dedup.py real_texts()``, which adds trafilatura's evaluation pages at a minute's cost)
and, for 30% of articles ("beat" articles: half their sentences and their headline), the 165
hand-labelled Birmingham children's social care articles of ``tests/tagging_set/``. Without
``../shared/data``, the beat sentences only. Dates: one article every 50 minutes from 2013 on
(first_seen; published up to two days earlier), 24 sources. Fixed seed.

Queries (51, the same for every path): campaigners' words (single words, quoted phrases, two words
= both must occur), then English words picked by their document frequency in this archive
(``fts5vocab``): common (20-60% of articles), middling (0.5-5%), rare (2-20 articles, or the 50 rarest when
no word is that rare: with the default texts every sentence recurs in ~100 articles), AND of
two common words, and three searches limited to the last year (``--since``). A query's time is
the median of its runs; the summary gives the median, p95 and max over the queries.

Paths, timed in the same run on the same file (page cache warm: it has just been written):
- ``carewatch search QUERY`` (``ops.search.search``: limit 20, best match first), in process,
  wall time of the call including reading the rows; ``--repeat`` runs;
- Datasette, twice: plain ``python -m datasette serve FILE`` (default settings: facet
  suggestions, 100 rows a page), and as ``carewatch serve`` starts it
  (``cli.serve.datasette_command``: the shipped metadata, plugins and settings, whatever they are
  at the time); ``GET /<db>/articles?_search=Q&_sort_desc=first_seen`` (the HTML page a browser
  gets, with its count and facets; ``first_seen__gte`` for the --since searches) and the same as
  ``.json``; wall time of the HTTP request on loopback; ``--http-repeat`` runs;
- baseline, the same queries as LIKE scans (each word or quoted phrase a substring of the title or
  the text): the newest 20 (``ORDER BY first_seen DESC LIMIT 20``: a common word stops early, a
  rare one scans the table), once per query; and every match (what ranking or counting needs: a
  full scan), on every 4th query only.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml

from bench.dedup import sentences
from carewatch.config import load_config
from carewatch.core.items import Article, article_id_for
from carewatch.core.urls import url_key
from carewatch.ops.search import search
from carewatch.pipelines.dedupe import content_hash
from carewatch.store.articles import _fields
from carewatch.store.db import open_db

SEED = 20240611
TARGET_MS = 200.0
START = datetime(2013, 1, 1, tzinfo=UTC)
MINUTES_APART = 50
BATCH = 5000
SOURCES = [f"source-{i:02d}" for i in range(24)]

CAMPAIGN = [  # (kind, query) as campaigners type them
    ("word", "ofsted"),
    ("word", "safeguarding"),
    ("word", "inadequate"),
    ("word", "privatisation"),
    ("word", "commissioner"),
    ("word", "fostering"),
    ("word", "unison"),
    ("word", "redundancies"),
    ("word", "councillor"),
    ("word", "Birmingham"),
    ("word", "children"),
    ("word", "agency"),
    ("word", "scrutiny"),
    ("word", "caseloads"),
    ("phrase", '"child protection"'),
    ("phrase", '"serious case review"'),
    ("phrase", '"children\'s trust"'),
    ("phrase", '"social workers"'),
    ("phrase", '"section 114"'),
    ("phrase", '"equal pay"'),
    ("phrase", '"care leavers"'),
    ("phrase", '"improvement notice"'),
    ("and", "ofsted inadequate"),
    ("and", "trust budget"),
    ("and", "social caseloads"),
    ("and", "council cuts"),
    ("and", "birmingham ofsted"),
    ("and", "fostering shortage"),
    ("and", "strike unison"),
    ("and", "commissioner report"),
]


# ---------------------------------------------------------------- the archive


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _english(text: str) -> bool:
    words = _words(text)
    return sum(w in ("the", "and", "of", "to") for w in words) >= 0.05 * max(1, len(words))


def _news_texts(all_texts: bool) -> tuple[list[dict], str]:
    """[{title, text}] of real news articles: fundus's gold bodies and Mozilla Readability's expected
    articles (a second), or with ``all_texts`` bench/dedup.py's ``real_texts()`` (those and
    trafilatura's evaluation pages run through the extractor, near-duplicates dropped: a minute)."""
    if all_texts:
        from bench.dedup import real_texts

        pool, stats = real_texts()
        return pool, f"{stats['kept']} real news texts (bench/dedup.py real_texts())"
    from bench.extraction import _read_gz, html_text, load_fundus, load_readability

    skips: Counter = Counter()
    pool = [{"title": p.get("title") or "", "text": p["gold_text"]} for p in load_fundus(skips)]
    pool += [
        {"title": p.get("title") or "", "text": html_text(_read_gz(p["gold_html_path"]))}
        for p in load_readability(skips)
    ]
    return pool, f"{len(pool)} real news texts (fundus, Mozilla Readability)"


def sentence_pools(all_texts: bool = False) -> tuple[list[str], list[str], list[str], list[str], str, set[str]]:
    """(news sentences, news titles, beat sentences, beat titles, what the news came from, English
    words: those of the beat texts, and those used at least 3x as often in English texts as in
    others: the words queries are picked from)."""
    beat_items = []
    for f in sorted((ROOT / "tests" / "tagging_set").glob("*.yaml")):
        beat_items += yaml.safe_load(f.read_text(encoding="utf-8"))
    beat = sorted({s for it in beat_items for s in sentences(it["text"]) if 5 <= len(s.split()) <= 60})
    beat_titles = sorted({it["title"] for it in beat_items})
    english = {w for it in beat_items for w in _words(it["title"] + " " + it["text"])}
    if not (ROOT.parent / "shared" / "data").exists():
        return beat, beat_titles, beat, beat_titles, "(no ../shared/data: beat sentences only)", english
    pool, origin = _news_texts(all_texts)
    news = sorted({s for r in pool for s in sentences(r["text"]) if 5 <= len(s.split()) <= 60})
    titles = sorted({r["title"] for r in pool if r["title"]})
    en, other = Counter(), Counter()
    for r in pool:
        (en if _english(r["text"]) else other).update(_words(r["title"] + " " + r["text"]))
    english |= {w for w, c in en.items() if c >= 3 * other[w]}
    return news, titles, beat, beat_titles, origin, english


def _row(i: int, rng: random.Random, pools: tuple) -> dict:
    news, titles, beat, beat_titles, *_ = pools
    is_beat = rng.random() < 0.3
    k = rng.randint(12, 25)
    sents = [rng.choice(beat if is_beat and rng.random() < 0.5 else news) for _ in range(k)]
    text = "\n".join(" ".join(sents[j : j + 3]) for j in range(0, k, 3))
    title = rng.choice(beat_titles if is_beat else titles)
    seen = START + timedelta(minutes=MINUTES_APART * i)
    published = (seen - timedelta(minutes=rng.randint(0, 2880))).isoformat(timespec="seconds")
    source = SOURCES[i % len(SOURCES)]
    url = f"https://{source}.example/news/{i}"
    a = Article(
        source_id=source,
        url=url,
        canonical_url=url,
        url_key=url_key(url),
        title=title,
        text=text,
        fetched_at=seen.isoformat(timespec="seconds"),
        published=published,
        kind="pdf" if i % 50 == 0 else "html",
        content_hash=content_hash(text),
        relevant=is_beat,
        relevance=2.0 if is_beat else 0.0,
    )
    return {
        "article_id": article_id_for(a.url_key),
        "url": a.url,
        "canonical_url": a.canonical_url,
        "url_key": a.url_key,
        "source_id": a.source_id,
        "first_seen": a.fetched_at,
        "updated": a.fetched_at,
        "version": 1,
        **_fields(a),
        "story_id": article_id_for(a.url_key),
    }


_POOLS: tuple = ()


def _rows(chunk: tuple[int, int]) -> list[dict]:
    start, stop = chunk
    rng = random.Random(SEED * 7919 + start)
    return [_row(i, rng, _POOLS) for i in range(start, stop)]


def build(path: Path, n: int, pools: tuple) -> float:
    """The archive: rows made in worker processes, written here, one transaction per BATCH."""
    global _POOLS
    _POOLS = pools
    t0 = time.perf_counter()
    db = open_db(path)
    chunks = [(start, min(n, start + BATCH)) for start in range(0, n, BATCH)]
    with mp.get_context("fork").Pool(max(1, min(2, os.cpu_count() or 1))) as pool:
        for rows in pool.imap(_rows, chunks):
            with db.atomic():
                db["articles"].insert_all(rows, batch_size=500)
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - t0


# ---------------------------------------------------------------- the queries


def queries(db, n: int, rng: random.Random, english: set[str]) -> list[tuple[str, str, str | None]]:
    """[(kind, query, since)]: the campaigners' words, then English words picked by document frequency."""
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, articles_fts, row)")
    vocab = [
        (t, d)
        for t, d in db.execute("SELECT term, doc FROM temp.search_vocab").fetchall()
        if t.isalpha() and t.isascii() and len(t) >= 4 and t in english and t != "near"  # NEAR: an operator
    ]

    def pick(lo: float, hi: float, k: int) -> list[str]:
        terms = sorted(t for t, d in vocab if lo <= d <= hi)
        return rng.sample(terms, min(k, len(terms)))

    common = pick(0.2 * n, 0.6 * n, 8)
    out = [(kind, q, None) for kind, q in CAMPAIGN]
    out += [("common", t, None) for t in common[:5]]
    out += [("middling", t, None) for t in pick(0.005 * n, 0.05 * n, 5)]
    # rare: in 2 to 20 articles; where the sentence pool is too small for any word to be that rare
    # (every sentence recurs in many articles), the rarest words there are
    rare = pick(2, 20, 5)
    if len(rare) < 5:
        ceiling = sorted(d for _, d in vocab if d >= 2)[:50][-1]
        rare = pick(2, ceiling, 5)
    out += [("rare", t, None) for t in rare]
    out += [("and common", f"{a} {b}", None) for a, b in zip(common[5:8], common[:3])]
    last = db.execute("SELECT max(first_seen) FROM articles").fetchone()[0]
    since = (datetime.fromisoformat(last) - timedelta(days=365)).date().isoformat()
    out += [("since", q, since) for q in ("ofsted", '"child protection"', common[0] if common else "council")]
    return out


def hits(db, q: str, since: str | None) -> int:
    sql = "SELECT count(*) FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid WHERE articles_fts MATCH ?"
    args = [db.quote_fts(q)]
    if since:
        sql += " AND (a.published >= ? OR a.first_seen >= ?)"
        args += [since, since]
    return db.execute(sql, args).fetchone()[0]


# ---------------------------------------------------------------- the paths


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(cmd: list[str], base: str) -> tuple[subprocess.Popen | None, str]:
    """Start a server; (the process once it answers, or None and the last line it printed)."""
    log = tempfile.TemporaryFile()  # not a pipe: a server that logs must never block on it
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            lines = log.read().decode(errors="replace").strip().splitlines()
            return None, lines[-1] if lines else f"exited with code {proc.returncode}"
        try:
            with urllib.request.urlopen(base + "/-/versions.json", timeout=2) as r:
                r.read()
            return proc, ""
        except OSError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return None, "did not answer within 60 s"


def start_datasette(path: Path, serve: bool) -> tuple[subprocess.Popen | None, str, str]:
    """(process, base URL, how): Datasette as `carewatch serve` starts it (cli.serve.datasette_command,
    with the shipped metadata and plugins) when ``serve``, else plain ``python -m datasette serve FILE``."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    if not serve:
        cmd = [sys.executable, "-m", "datasette", "serve", str(path), "--host", "127.0.0.1", "--port", str(port)]
        proc, why = _launch(cmd, base)
        return proc, base, "python -m datasette serve FILE" if proc else f"plain Datasette did not start: {why}"
    try:
        from carewatch.archive.serve import datasette_command

        proc, why = _launch(datasette_command(str(path), "127.0.0.1", port), base)
    except Exception as e:
        proc, why = None, f"{type(e).__name__}: {e}"
    return (
        proc,
        base,
        "carewatch.archive.serve.datasette_command" if proc else f"carewatch serve's Datasette did not start: {why}",
    )


def _get(url: str) -> tuple[float, int, bytes]:
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    return 1000 * (time.perf_counter() - t0), status, body


def datasette_url(base: str, dbname: str, q: str, since: str | None, json_form: bool) -> str:
    params = {"_search": q, "_sort_desc": "first_seen"}
    if since:
        params["first_seen__gte"] = since  # the filter Datasette's UI offers; close to published-or-first-seen
    return f"{base}/{dbname}/articles{'.json' if json_form else ''}?{urllib.parse.urlencode(params)}"


def time_path(fn, qs: list, repeat: int) -> list[float]:
    return [statistics.median(fn(q, since) for _ in range(repeat)) for _, q, since in qs]


def _p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def like_sql(q: str, since: str | None, newest: bool = True) -> tuple[str, list[str]]:
    """The LIKE scan answering the same query: each word or quoted phrase a substring of the title
    or the text (case-insensitive for ASCII), all of them; the newest 20 (``newest``), or every
    match (what a best-first answer or a count needs)."""
    terms = [t.strip('"') for t in re.findall(r'"[^"]+"|\S+', q)]
    where = " AND ".join("(title LIKE ? OR text LIKE ?)" for _ in terms)
    args = [f"%{t}%" for t in terms for _ in (0, 1)]
    if since:
        where += " AND (published >= ? OR first_seen >= ?)"
        args += [since, since]
    return (
        "SELECT article_id, title, published, source_id, canonical_url FROM articles WHERE "
        + where
        + (" ORDER BY first_seen DESC LIMIT 20" if newest else ""),
        args,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of each query by `carewatch search` (its median counts)"
    )
    parser.add_argument("--http-repeat", type=int, default=1, help="runs of each query per Datasette path")
    parser.add_argument(
        "--all-texts",
        action="store_true",
        help="draw sentences from bench/dedup.py real_texts() "
        "too (trafilatura's evaluation pages, extracted: a minute more)",
    )
    parser.add_argument(
        "--keep",
        metavar="FILE",
        help="build the archive here and keep it, or reuse it if it exists (default: a temporary file)",
    )
    args = parser.parse_args()
    t_all = time.perf_counter()
    print("Sentences")
    t0 = time.perf_counter()
    pools = sentence_pools(args.all_texts)
    print(
        f"  news: {len(pools[0])} sentences, {len(pools[1])} titles from {pools[4]}; beat: {len(pools[2])} "
        f"sentences, {len(pools[3])} titles from tests/tagging_set  ({time.perf_counter() - t0:.0f}s)"
    )
    spent: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "archive.db"
        reused = path.exists()
        build_s = 0.0 if reused else build(path, args.articles, pools)
        db = open_db(path)
        n = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        words = db.execute("SELECT sum(length(text) - length(replace(text, ' ', '')) + 1) FROM articles").fetchone()[0]
        print(
            f"\nArchive: {n} articles ({words / n:.0f} words each on average), "
            + (
                f"reused {path}"
                if reused
                else f"written in {build_s:.0f}s (rows + FTS5 triggers, {BATCH} per transaction)"
            )
            + f"; {path.stat().st_size / 1e6:.0f} MB"
        )
        qs = queries(db, n, random.Random(SEED + 1), pools[5])
        counts = [hits(db, q, since) for _, q, since in qs]
        results: dict[str, list[float]] = {}
        config = load_config(ROOT / "config")  # the names a query may use (these queries use none)

        def carewatch_search(q: str, since: str | None) -> float:
            t0 = time.perf_counter()
            rows = search(config, db, q, limit=20, since=since)
            dt = 1000 * (time.perf_counter() - t0)
            assert isinstance(rows, list)
            return dt

        for _, q, since in qs[:3]:  # warm-up, not counted
            search(config, db, q, limit=20, since=since)
        t0 = time.perf_counter()
        results["carewatch"] = time_path(carewatch_search, qs, args.repeat)
        spent["carewatch search"] = time.perf_counter() - t0

        notes, errors = [], []
        dbname = path.stem
        for key, serve in (("ds", False), ("serve", True)):
            proc, base, how = start_datasette(path, serve)
            notes.append(f"{'ds' if not serve else 'serve'}: {how}")
            if proc is None:
                continue
            try:

                def ds(json_form: bool, base: str = base):
                    def one(q: str, since: str | None) -> float:
                        ms, status, body = _get(datasette_url(base, dbname, q, since, json_form))
                        if status != 200 and len(errors) < 5:
                            errors.append(
                                f"HTTP {status} for {q!r} ({'json' if json_form else 'html'}): {body[:200]!r}"
                            )
                        return ms

                    return one

                for _, warm_q, warm_since in qs[:3]:  # warm-up
                    _get(datasette_url(base, dbname, warm_q, warm_since, False))
                t0 = time.perf_counter()
                results[f"{key} html"] = time_path(ds(False), qs, args.http_repeat)
                results[f"{key} json"] = time_path(ds(True), qs, args.http_repeat)
                spent[how] = time.perf_counter() - t0
                answer = json.loads(_get(datasette_url(base, dbname, qs[0][1], None, True))[2])
                got = answer.get("filtered_table_rows_count", answer.get("count"))
                notes[-1] += f"; its JSON count for {qs[0][1]!r}: {got} (FTS count {counts[0]})"
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)

        def like(newest: bool):
            def one(q: str, since: str | None) -> float:
                sql, params = like_sql(q, since, newest)
                t0 = time.perf_counter()
                db.execute(sql, params).fetchall()
                return 1000 * (time.perf_counter() - t0)

            return one

        t0 = time.perf_counter()
        results["LIKE"] = time_path(like(True), qs, 1)
        all_qs = qs[::4]  # a full scan each: a few queries only
        like_all = time_path(like(False), all_qs, 1)
        spent["LIKE baselines"] = time.perf_counter() - t0
        db.close()

    print("Datasette, started twice on the file:")
    for note in notes:
        print(f"  {note}")
    for e in errors:
        print(f"  ! {e}")
    cols = [c for c in ("carewatch", "ds html", "ds json", "serve html", "serve json", "LIKE") if c in results]
    print(
        f"\n{len(qs)} queries; ms per query (its median of {args.repeat} runs for carewatch, {args.http_repeat} per "
        "Datasette path, 1 for LIKE); hits = FTS matches"
    )
    print(
        "  ds = plain `datasette serve FILE`; serve = Datasette as `carewatch serve` runs it; html/json = "
        "/db/articles?_search=Q&_sort_desc=first_seen and its .json"
    )
    print(f"  {'kind':<11}{'query':<28}{'hits':>7}" + "".join(f"{c:>11}" for c in cols))
    for i, ((kind, q, since), c) in enumerate(zip(qs, counts)):
        label = q + (f" --since {since}" if since else "")
        print(f"  {kind:<11}{label[:27]:<28}{c:>7}" + "".join(f"{results[col][i]:>11.1f}" for col in cols))

    print(
        f"\n  baseline, every match: the same LIKE scan without ORDER BY/LIMIT, on {len(all_qs)} of the queries "
        "(every 4th), ms"
    )
    for (kind, q, since), t in zip(all_qs, like_all):
        label = q + (f" --since {since}" if since else "")
        print(f"  {kind:<11}{label[:27]:<28}{t:>11.1f}")

    names = {
        "carewatch": "carewatch search (ops.search, in process)",
        "ds html": "Datasette HTML page (plain)",
        "ds json": "Datasette JSON (plain)",
        "serve html": "Datasette HTML page (carewatch serve)",
        "serve json": "Datasette JSON (carewatch serve)",
        "LIKE": "baseline: LIKE scan, newest 20",
    }
    print(f"\nSummary: {len(qs)} queries on {n} articles; claim: median under {TARGET_MS:.0f} ms")
    print(f"  {'path':<44}{'median':>8}{'p95':>8}{'max':>8}   verdict")
    for col in cols:
        xs = results[col]
        med = statistics.median(xs)
        verdict = "" if col == "LIKE" else ("OK" if med < TARGET_MS else "OVER TARGET")
        print(f"  {names[col]:<44}{med:>8.1f}{_p95(xs):>8.1f}{max(xs):>8.1f}   {verdict}")
    print(
        f"  {'baseline: LIKE scan, every match (' + str(len(all_qs)) + ' q.)':<44}{statistics.median(like_all):>8.1f}"
        f"{_p95(like_all):>8.1f}{max(like_all):>8.1f}"
    )
    cw = results["carewatch"]
    print(
        f"  carewatch search beside the LIKE scans on the same queries (median of per-query ratios): newest 20 "
        f"x{statistics.median(b / a for a, b in zip(cw, results['LIKE'])):.2f}, every match "
        f"x{statistics.median(b / a for a, b in zip(cw[::4], like_all)):.1f} (above 1: carewatch faster)"
    )
    print(
        "\n  time spent: "
        + ", ".join(f"{k} {v:.0f}s" for k, v in spent.items())
        + f"; total {time.perf_counter() - t_all:.0f}s"
    )


if __name__ == "__main__":
    main()
