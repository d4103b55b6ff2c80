"""Every schema change, in order. Never change a table by hand: add a migration here."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("carewatch")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("articles").create(
        {
            "article_id": str,
            "url": str,
            "canonical_url": str,
            "url_key": str,
            "source_id": str,
            "title": str,
            "author": str,
            "published": str,
            "first_seen": str,
            "updated": str,
            "kind": str,
            "text": str,
            "content_hash": str,
            "minhash": bytes,
            "shingles": int,
            "topics": str,  # JSON: [{topic, label, score, evidence}]
            "relevance": float,
            "relevant": int,
            "version": int,
        },
        pk="article_id",
        not_null={"url", "url_key", "source_id", "first_seen"},
    )
    db.table("articles").create_index(["url_key"], unique=True)
    db.table("articles").create_index(["content_hash"])
    db.table("articles").create_index(["first_seen"])
    db.table("articles").create_index(["source_id"])
    db.table("articles").enable_fts(["title", "text"], fts_version="FTS5", create_triggers=True)

    db.table("article_topics").create(
        {"article_id": str, "topic": str, "score": float},
        pk=("article_id", "topic"),
        foreign_keys=[("article_id", "articles", "article_id")],
    )
    db.table("article_topics").create_index(["topic"])
    db.table("article_versions").create(
        {
            "article_id": str,
            "version": int,
            "url": str,
            "title": str,
            "published": str,
            "text": str,
            "content_hash": str,
            "seen": str,
        },
        pk=("article_id", "version"),
        foreign_keys=[("article_id", "articles", "article_id")],
    )
    db.table("article_aliases").create(
        {"url_key": str, "url": str, "article_id": str, "source_id": str, "reason": str, "seen": str},
        pk="url_key",
        foreign_keys=[("article_id", "articles", "article_id")],
    )
    db.table("fetches").create(
        {
            "id": int,
            "source_id": str,
            "url": str,
            "role": str,
            "started": str,
            "status": str,
            "http_status": int,
            "bytes": int,
            "duration_ms": int,
            "items_found": int,
            "error_kind": str,
            "error": str,
        },
        pk="id",
        not_null={"source_id", "url", "started", "status"},
    )
    db.table("fetches").create_index(["source_id", "started"])
    db.table("deliveries").create(
        {
            "id": int,
            "subscriber": str,
            "channel": str,
            "address": str,
            "frequency": str,
            "articles": str,  # JSON list of article_id
            "why": str,  # JSON {article_id: [matched keywords and topics]}
            "article_count": int,
            "subject": str,
            "status": str,  # pending | sent | failed
            "attempts": int,
            "last_error": str,
            "created": str,
            "sent": str,
            "message_id": str,
        },
        pk="id",
        not_null={"subscriber", "channel", "status", "created"},
    )
    db.table("deliveries").create_index(["subscriber", "status"])
    db.table("alerted").create(
        {"subscriber": str, "article_id": str, "delivery_id": int},
        pk=("subscriber", "article_id"),
        foreign_keys=[("delivery_id", "deliveries", "id"), ("article_id", "articles", "article_id")],
    )


@migrations()
def m002_crawl_state(db: Database) -> None:
    db.table("http_validators").create({"url": str, "etag": str, "last_modified": str, "saved": str}, pk="url")
    db.table("backfills").create(
        {"source_id": str, "since": str, "next_url": str, "pages": int, "finished": int, "updated": str},
        pk=("source_id", "since"),
    )
    db.table("fetches").add_column("items_new", int)


@migrations()
def m003_extraction_fields(db: Database) -> None:
    articles = db.table("articles")
    articles.add_column("authors", str)  # JSON list
    articles.add_column("extraction", str)  # JSON {field: path}
    articles.add_column("judgement", str)  # Ofsted reports: overall judgement
    articles.add_column("inspection_dates", str)
    articles.add_column("authority", str)


@migrations()
def m004_lsh_bands(db: Database) -> None:
    """Near-duplicate candidates from an index in the archive, not from memory."""
    from carewatch.core.lsh import band_keys

    db.table("lsh_bands").create({"band": int, "key": int, "article_id": str}, pk=("band", "key", "article_id"))
    db.execute("CREATE INDEX IF NOT EXISTS lsh_bands_article ON lsh_bands(article_id)")
    for article_id, minhash in db.execute(
        "SELECT article_id, minhash FROM articles WHERE minhash IS NOT NULL"
    ).fetchall():
        db.table("lsh_bands").insert_all(
            ({"band": b, "key": k, "article_id": article_id} for b, k in enumerate(band_keys(minhash))), ignore=True
        )


@migrations()
def m005_versions_diff(db: Database) -> None:
    db.table("article_versions").add_column("diff", str)  # to the version that replaced this one
    db.table("article_versions").add_column("changed", float)  # share of words changed
    db.table("articles").add_column("edited", str)  # when a substantive edit was last seen
    db.table("alerted").add_column("version", int)  # the version a subscriber was sent


@migrations()
def m006_stories(db: Database) -> None:
    db.table("articles").add_column("story_id", str)
    db.table("articles").add_column("story_terms", str)  # JSON list
    db.table("articles").create_index(["story_id"])
    db.table("articles").create_index(["published"])
    db.table("story_df").create({"term": str, "df": int}, pk="term")


@migrations()
def m007_tag_evidence(db: Database) -> None:
    """Each tag with its evidence; entities per article; why an article is (not) relevant."""
    db.table("article_topics").add_column("evidence", str)  # JSON [[term, count, [positions]], ...]
    db.table("articles").add_column("entities", str)  # JSON [{entity, name, count, evidence}]
    db.table("articles").add_column("relevance_evidence", str)  # JSON [[what, count, [positions]], ...]
    db.table("article_entities").create(
        {"article_id": str, "entity": str, "name": str, "count": int, "evidence": str},
        pk=("article_id", "entity"),
        foreign_keys=[("article_id", "articles", "article_id")],
    )
    db.table("article_entities").create_index(["entity"])
    db.table("retag_progress").create({"taxonomy": str, "last_rowid": int, "done": int, "started": str}, pk="taxonomy")


@migrations()
def m008_alert_matching(db: Database) -> None:
    """Rules matched once per new article (alerts.match), and deliveries retried with backoff."""
    db.table("alert_matches").create(
        {"subscriber": str, "article_id": str, "matched": str, "rules": str, "terms": str},
        pk=("subscriber", "article_id"),
        foreign_keys=[("article_id", "articles", "article_id")],
    )
    db.table("alert_cursor").create({"subscriber": str, "rules": str, "last_rowid": int}, pk="subscriber")
    db.table("deliveries").add_column("next_attempt", str)  # a failed delivery is retried from then (capped backoff)


@migrations()
def m010_job_runs(db: Database) -> None:
    """The daemon's runs: when each job last ran (schedules survive a restart) and that none overlap."""
    db.table("job_runs").create(
        {"id": int, "job": str, "started": str, "finished": str, "status": str, "detail": str}, pk="id"
    )
    db.table("job_runs").create_index(["job", "started"])
    db.table("operator_notices").create({"key": str, "sent": str, "message": str}, pk="key")


@migrations()
def m009_captures(db: Database) -> None:
    """Where the raw response behind each article's current text is kept (scrapers.warc): a WARC
    record, by file (relative to raw_dir), offset and length; ``carewatch reprocess`` reads it back."""
    db.table("captures").create(
        {
            "id": int,
            "article_id": str,
            "url": str,
            "warc_file": str,
            "offset": int,
            "length": int,
            "sha256": str,
            "record_id": str,
            "fetched": str,
            "content_type": str,
            "status": int,
        },
        pk="id",
        not_null={"article_id", "warc_file", "offset", "length"},
        foreign_keys=[("article_id", "articles", "article_id")],
    )
    db.table("captures").create_index(["article_id"])


@migrations()
def m011_search_order(db: Database) -> None:
    """Fast newest-first search pages at any archive size (``carewatch serve``; docs/archive.md).

    Datasette searches a table with ``<fts_pk> IN (SELECT rowid FROM articles_fts WHERE ... MATCH ...)``.
    With ``rowid`` there, SQLite fetches and sorts every matching row, whole (200 ms for a common
    word in 100k articles). ``seq`` is a plain copy of the rowid, set by a trigger when an article is
    stored, and config/datasette.yaml makes it the table's ``fts_pk``: a column with no index of
    its own, so SQLite walks the (published, seq) or (first_seen, seq) index newest first and stops
    after a page of matches, and counts and facets read one narrow covering index instead of the
    rows. The FTS triggers are narrowed to changes of the indexed text (tags and story updates no
    longer rewrite the index entry)."""
    db.execute("DROP TRIGGER IF EXISTS articles_au")
    db.execute(
        'CREATE TRIGGER "articles_au" AFTER UPDATE OF "title", "text" ON "articles" BEGIN\n'
        '  INSERT INTO "articles_fts" ("articles_fts", rowid, "title", "text") '
        'VALUES(\'delete\', old.rowid, old."title", old."text");\n'
        '  INSERT INTO "articles_fts" (rowid, "title", "text") VALUES (new.rowid, new."title", new."text");\n'
        "END"
    )
    db.table("articles").add_column("seq", int)
    db.execute("UPDATE articles SET seq = rowid")
    db.execute(
        'CREATE TRIGGER "articles_seq" AFTER INSERT ON "articles" BEGIN\n'
        "  UPDATE articles SET seq = new.rowid WHERE rowid = new.rowid;\n"
        "END"
    )
    db.execute("DROP INDEX IF EXISTS idx_articles_published")
    db.execute("DROP INDEX IF EXISTS idx_articles_first_seen")
    db.table("articles").create_index(["published", "seq"])
    db.table("articles").create_index(["first_seen", "seq"])
    db.table("articles").create_index(
        ["article_id", "source_id", "relevant", "published", "seq"], index_name="idx_articles_facets"
    )


@migrations()
def m012_feed_tokens(db: Database) -> None:
    """Each subscription's Atom feed is served by ``carewatch serve`` at ``/-/feeds/<token>.atom``:
    the token (random, made once by ``carewatch alerts feed-url``) is the feed's only key, and
    lives here, in a table the public archive cannot read (config/datasette.yaml private_tables)."""
    db.table("feed_tokens").create(
        {"subscriber": str, "token": str, "created": str}, pk="subscriber", not_null={"token", "created"}
    )
    db.table("feed_tokens").create_index(["token"], unique=True)


@migrations()
def m013_page_pending(db: Database) -> None:
    """``articles.page_pending``: 1 for an entry kept from its feed because its page failed (too large,
    not HTML, a redirect loop...). It is not matched or alerted, and the crawls fetch the page again;
    when one reads it, the row is written anew (store.articles.save_article) and matched as new. A
    feed-only source's entries (``follow: false``) are never pending. Rows stored before this are 0."""
    db.table("articles").add_column("page_pending", int, not_null_default=0)
    db.table("articles").create_index(["source_id", "page_pending"])


@migrations()
def m014_stored_time(db: Database) -> None:
    """``articles.stored``: when carewatch wrote the article's current text (a new article, its page
    read at last, an edit), in UTC to the millisecond. ``first_seen`` and ``updated`` are when the
    page was fetched, to the second; the time between is extraction, tagging and the write, which
    bench/latency.py reports. Rows stored before this have none (NULL)."""
    db.table("articles").add_column("stored", str)


@migrations()
def m015_alert_matches_by_article(db: Database) -> None:
    """``alert_matches`` keyed by (article_id, subscriber), with an index on subscriber: a crawl's
    new articles, each matched for many subscribers, land together in the key instead of one row
    in each subscriber's part of it, so matching 100 new articles for 1,000 rules writes about a
    quarter of the pages it did (bench/alerts.py: WAL frames of the commit)."""
    db.table("alert_matches").transform(pk=("article_id", "subscriber"))
    db.table("alert_matches").create_index(["subscriber"])


@migrations()
def m016_subscriptions(db: Database) -> None:
    """Self-service subscriptions (ops.subscriptions, the /subscribe pages of ``carewatch serve``):

    - ``subscriptions``: one row a subscriber kept in the database (``managed_by`` web or cli), or a
      subscriber of alerts.yaml (``operator``) who paused or unsubscribed through a link; status
      pending, active, paused, unsubscribed or deleted; the consent record (when and from which
      address it signed up, confirmed, was approved). ``email_key`` is the address's SHA-256
      (lower-cased), so an address is found without scanning and kept once.
    - ``subscription_events``: the history of each one (signed up, confirmed, changed, paused, …).
    - ``subscription_tokens``: the links' tokens, only as SHA-256, each for one subscriber and one
      purpose (confirm, manage, unsubscribe), with its expiry and when it was used.
    - ``signup_attempts``: when, for which address (its key) and from which client, for the rate limits.
    All four are private: the public archive cannot read them (config/datasette.yaml)."""
    db.table("subscriptions").create(
        {
            "subscriber": str,
            "email": str,
            "email_key": str,
            "name": str,
            "status": str,
            "managed_by": str,
            "frequency": str,
            "at": str,
            "day": str,
            "topics": str,
            "keywords": str,
            "rules": str,
            "created": str,
            "updated": str,
            "signed_up_at": str,
            "signed_up_from": str,
            "confirmed_at": str,
            "confirmed_from": str,
            "approved_at": str,
            "unsubscribed_at": str,
        },
        pk="subscriber",
        not_null={"status", "managed_by", "created", "updated"},
    )
    db.execute(
        "CREATE UNIQUE INDEX idx_subscriptions_email_key ON subscriptions (email_key) WHERE email_key IS NOT NULL"
    )
    db.table("subscription_events").create(
        {"id": int, "subscriber": str, "at": str, "event": str, "client": str, "detail": str},
        pk="id",
        not_null={"subscriber", "at", "event"},
    )
    db.table("subscription_events").create_index(["subscriber", "id"])
    db.table("subscription_tokens").create(
        {"token_hash": str, "subscriber": str, "purpose": str, "created": str, "expires": str, "used": str},
        pk="token_hash",
        not_null={"subscriber", "purpose", "created", "expires"},
    )
    db.table("subscription_tokens").create_index(["subscriber"])
    db.table("signup_attempts").create(
        {"id": int, "at": str, "email_key": str, "client": str, "outcome": str}, pk="id", not_null={"at"}
    )
    db.table("signup_attempts").create_index(["email_key", "at"])
    db.table("signup_attempts").create_index(["client", "at"])


@migrations()
def m017_meetings(db: Database) -> None:
    """The civic calendar (``cmis`` and ``moderngov`` sources; store.meetings):

    - ``meetings``: one row a meeting (``meeting_id`` is ``<source>:<the system's id>``): committee,
      start (UTC), status (scheduled, cancelled, moved, held) as last seen, venue, its page.
    - ``agenda_items``: its numbered items, with their text, topics and relevance as tagged.
    - ``meeting_documents``: the documents its page links to, at the meeting or an item; each is
      also an archive entry of kind ``document`` (in ``articles``, found by ``url_key``), unless
      its fetch failed (the fetch log says why).
    - ``meeting_changes``: what changed between crawls (moved, cancelled, agenda republished,
      papers added), with before and after.
    - ``article_links``: an article and the document or meeting it covers, and how that was found.
    - ``calendar_alerted``: what a subscriber's digests showed under "Coming up" (an agenda item)
      and "Not yet covered" (an official document), with the version shown (an item's meeting
      start, status and papers), so each appears once, and again only when that changes;
      ``deliveries.calendar`` holds what a digest showed of them (JSON), to send it again the same.
    - ``articles.outlinks``: the page's links (JSON), which the links to documents are found by;
      ``link_cursor``: the last article the linking pass (ops.links) has read."""
    db.table("meetings").create(
        {
            "meeting_id": str,
            "source_id": str,
            "external_id": str,
            "committee": str,
            "committee_facts": str,  # what committee: in a rule matches (core.query.committee_facts)
            "start": str,
            "status": str,
            "status_text": str,
            "venue": str,
            "url": str,
            "authority": str,
            "published_note": str,
            "agenda_hash": str,
            "first_seen": str,
            "updated": str,
        },
        pk="meeting_id",
        not_null={"source_id", "external_id", "committee", "status", "url", "first_seen", "updated"},
    )
    db.table("meetings").create_index(["start"])
    db.table("meetings").create_index(["committee", "start"])
    db.table("agenda_items").create(
        {
            "item_id": str,
            "meeting_id": str,
            "position": int,
            "number": str,
            "title": str,
            "text": str,
            "topics": str,  # JSON: [{topic, label, score}]
            "relevance": float,
            "relevant": int,
            "papers_hash": str,
            "first_seen": str,
            "updated": str,
        },
        pk="item_id",
        not_null={"meeting_id", "position", "title", "first_seen", "updated"},
        foreign_keys=[("meeting_id", "meetings", "meeting_id")],
    )
    db.table("agenda_items").create_index(["meeting_id", "position"])
    db.table("meeting_documents").create(
        {"meeting_id": str, "url_key": str, "item_id": str, "title": str, "url": str, "first_seen": str},
        pk=("meeting_id", "url_key"),
        not_null={"url", "first_seen"},
        foreign_keys=[("meeting_id", "meetings", "meeting_id")],
    )
    db.table("meeting_documents").create_index(["url_key"])
    db.table("meeting_documents").create_index(["item_id"])
    db.table("meeting_changes").create(
        {"id": int, "meeting_id": str, "item_id": str, "at": str, "change": str, "before": str, "after": str},
        pk="id",
        not_null={"meeting_id", "at", "change"},
        foreign_keys=[("meeting_id", "meetings", "meeting_id")],
    )
    db.table("meeting_changes").create_index(["meeting_id", "id"])
    db.table("article_links").create(
        {
            "article_id": str,
            "target_kind": str,  # document | meeting
            "target_id": str,  # a document's article_id, or a meeting_id
            "how": str,
            "evidence": str,
            "score": float,
            "found": str,
        },
        pk=("article_id", "target_kind", "target_id"),
        not_null={"how", "found"},
        foreign_keys=[("article_id", "articles", "article_id")],
    )
    db.table("article_links").create_index(["target_kind", "target_id"])
    db.table("calendar_alerted").create(
        {"subscriber": str, "target": str, "version": str, "delivery_id": int, "at": str},
        pk=("subscriber", "target"),
        not_null={"version", "at"},
    )
    db.table("deliveries").add_column("calendar", str)
    db.table("articles").add_column("outlinks", str)
    db.table("link_cursor").create({"name": str, "last_rowid": int, "updated": str}, pk="name")


@migrations()
def m018_shingle_samples(db: Database) -> None:
    """``shingle_samples``: each article's sampled shingles (core.lsh.shingle_samples), the
    candidates for a text contained in a longer one (issue 22). Filled here from every stored text
    of 40 shingles or more (a few seconds per 10,000 articles), then by the store as articles come."""
    from carewatch.core.lsh import MIN_SHINGLES, SHINGLE, normalise_text, shingle_samples, shingles

    db.table("shingle_samples").create({"hash": int, "article_id": str}, pk=("hash", "article_id"))
    db.execute("CREATE INDEX IF NOT EXISTS shingle_samples_article ON shingle_samples(article_id)")
    rows = db.execute("SELECT article_id, text FROM articles WHERE text IS NOT NULL AND text != ''")
    for article_id, text in rows.fetchall():
        normalised = normalise_text(text)
        if len(shingles(normalised.split(), SHINGLE)) < MIN_SHINGLES:  # compared exactly only
            continue
        db.conn.executemany(
            "INSERT OR IGNORE INTO shingle_samples (hash, article_id) VALUES (?, ?)",
            [(h, article_id) for h in shingle_samples(text, normalised)],
        )


@migrations()
def m019_story_related(db: Database) -> None:
    """``story_related``: two articles close enough to be on one subject but not to be one story
    (store.stories: between ``story_related_similarity`` and ``story_similarity``): digests show
    both, each naming the other, instead of hiding one under the other (issue 22)."""
    db.table("story_related").create(
        {"article_id": str, "related_id": str, "similarity": float}, pk=("article_id", "related_id")
    )
    db.execute("CREATE INDEX IF NOT EXISTS story_related_related ON story_related(related_id)")
