"""De-duplication quality and cost: labelled edited copies of real articles through ``Deduper`` +
``save_article`` as a crawl runs them, then the per-article cost of checking and storing as the
archive grows. Run: ``.venv/bin/python bench/dedup.py [--originals N] [--negatives N] [--sizes 10000,100000]``.

Texts (read from ``../shared/data``, never copied into the repository): fundus gold bodies,
mozilla-readability expected articles (``expected.html.gz`` as text), trafilatura-eval pages through
``pipelines.extract.extract_html``. Kept: >= 150 words; exact duplicates dropped (normalised text);
then any text sharing >= 30% of its word 5-shingles (exact containment, the shorter side) with an
earlier kept text is dropped too, so that two unrelated "real" articles are really unrelated and the
labels are right. Fixed order, fixed seed.

Quality: N originals, each with 1-2 edited copies (one edit each, or two edits for "combined"),
each copy from another source ("syndicator-k") at another URL; plus unrelated real articles
(negatives). All go, shuffled with every original before its own copies, through one ``Deduper`` over
``SqliteSeenIndex`` on a fresh SQLite file, each checked article then stored with ``save_article``.
TP = a copy marked duplicate_of its original (or of another copy of the same original, stored as
an article because it was missed). FP = any article marked duplicate_of something it is not a copy
of (a negative or an original merged, a copy merged into another story). FN = a copy not marked
duplicate of its own story (a copy merged into the wrong story is one FP and one FN).

Cost: an archive of S synthetic articles (each 12-25 sentences drawn at random from the real
texts' sentences) is written directly in batched transactions with the same rows ``save_article``
writes (articles row incl. FTS triggers, LSH band keys) - building it through ``save_article`` one
article per transaction would take too long at 100k. Then 200 new articles (100 near-copies of
archived articles, 100 new texts) are timed through ``Deduper.check`` + ``save_article``, one
transaction each as in a crawl. Sizes are built incrementally on the same file (the timed
articles stay in it); build time is reported apart.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.extraction import (
    _read_gz,
    html_text,
    load_fundus,
    load_readability,
    load_trafilatura,
)
from carewatch.config.schema import Settings
from carewatch.core.items import Article, article_id_for
from carewatch.core.lsh import band_keys
from carewatch.core.urls import url_key
from carewatch.pipelines.dedupe import Deduper, content_hash, normalise_text, signature
from carewatch.store.articles import _fields, save_article
from carewatch.store.db import open_db
from carewatch.store.seen import SqliteSeenIndex
from carewatch.store.stories import story_terms

SEED = 20240607
MIN_WORDS = 150
POOL_OVERLAP = 0.30  # drop a real text sharing this share of its shingles with an earlier one
TARGET_P, TARGET_R = 0.98, 0.95
QUALITY_DAYS = 60  # the labelled set's articles are spread over this many days (stories look within days)
ARCHIVE_START = datetime(2021, 1, 1, tzinfo=UTC)
SETTINGS = Settings()  # as shipped, --story-similarity overrides
PER_DAY = 100  # synthetic archive articles per day (first_seen = published), overridden by --per-day

BOILERPLATE = [
    "Sign up to our newsletter for the latest news straight to your inbox.",
    "Follow us on Twitter and Facebook.",
    "Share this article",
    "Share this article: Facebook Twitter Email WhatsApp",
    "Read more: the latest headlines from around the country",
    "This article was originally published by our partner site and is republished with permission.",
    "Advertisement",
    "Want more stories like this? Subscribe for unlimited access.",
    "Copyright 2024. All rights reserved.",
    "Have you got a story? Email our newsdesk.",
    "Comments are closed.",
    "Related articles",
]
SYNONYMS = {
    "said": "stated",
    "says": "states",
    "told": "informed",
    "big": "large",
    "large": "big",
    "small": "little",
    "new": "fresh",
    "people": "residents",
    "children": "youngsters",
    "help": "assist",
    "show": "reveal",
    "shows": "reveals",
    "however": "but",
    "also": "too",
    "many": "numerous",
    "very": "really",
    "get": "obtain",
    "make": "create",
    "made": "created",
    "need": "require",
    "use": "employ",
    "used": "employed",
    "start": "begin",
    "started": "began",
    "end": "finish",
    "important": "key",
    "problem": "issue",
    "problems": "issues",
    "council": "authority",
    "government": "administration",
    "report": "study",
    "years": "years'",
    "year": "twelve months",
    "week": "seven days",
    "month": "four weeks",
    "would": "could",
    "will": "shall",
    "which": "that",
    "about": "around",
    "because": "as",
    "after": "following",
    "before": "prior to",
    "then": "subsequently",
    "but": "yet",
    "sagte": "erklärte",
    "und": "sowie",
    "auch": "ebenfalls",
    "neue": "frische",
    "sehr": "äußerst",
    "aber": "doch",
}
EDITS = [
    "headline",
    "para added",
    "para removed",
    "reordered",
    "boilerplate",
    "truncated",
    "quotes",
    "rewording",
    "combined (2 edits)",
]


# ---------------------------------------------------------------- real texts


def _extract_worker(args):
    path, url = args
    from carewatch.pipelines.extract import extract_html

    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError()))
    signal.alarm(20)
    try:
        r = extract_html(_read_gz(path), url) or {}
        return (r.get("title") or "", r.get("text") or "")
    except Exception:
        return ("", "")
    finally:
        signal.alarm(0)


def _shingles(text: str) -> set[str]:
    w = normalise_text(text).split()
    return {" ".join(w[i : i + 5]) for i in range(max(1, len(w) - 4))}


def real_texts() -> tuple[list[dict], dict]:
    """[{title, text, origin}] in a fixed order, and counts of what was dropped."""
    skips: Counter = Counter()
    raw: list[dict] = []
    for p in load_fundus(skips):
        raw.append({"title": p.get("title") or "", "text": p["gold_text"], "origin": "fundus"})
    for p in load_readability(skips):
        raw.append(
            {"title": p.get("title") or "", "text": html_text(_read_gz(p["gold_html_path"])), "origin": "readability"}
        )
    tpages = load_trafilatura(skips)
    with mp.get_context("fork").Pool(max(1, min(2, os.cpu_count() or 1))) as pool:
        for title, text in pool.imap(_extract_worker, [(p["path"], p["url"]) for p in tpages], chunksize=8):
            raw.append({"title": title, "text": text, "origin": "trafilatura"})
    stats = Counter()
    kept, hashes = [], set()
    index: dict[str, list[int]] = defaultdict(list)  # shingle -> kept text numbers
    for r in raw:
        # tidy: non-empty lines, collapsed spaces, paragraphs kept as lines
        lines = [re.sub(r"\s+", " ", ln).strip() for ln in r["text"].splitlines()]
        r["text"] = "\n".join(ln for ln in lines if ln)
        if len(r["text"].split()) < MIN_WORDS:
            stats["< 150 words"] += 1
            continue
        h = content_hash(r["text"])
        if h in hashes:
            stats["exact duplicate"] += 1
            continue
        sh = _shingles(r["text"])
        shared = Counter(k for s in sh for k in index.get(s, ()))
        if any(c >= POOL_OVERLAP * min(len(sh), kept[k]["n"]) for k, c in shared.items()):
            stats[f"shares >= {POOL_OVERLAP:.0%} with a kept text"] += 1
            continue
        hashes.add(h)
        for s in sh:
            index[s].append(len(kept))
        kept.append({**r, "n": len(sh)})
    stats["kept"] = len(kept)
    for k in Counter(r["origin"] for r in kept).items():
        stats[f"kept from {k[0]}"] = k[1]
    return kept, stats


# ---------------------------------------------------------------- edits


def _paras(text: str, rng: random.Random) -> list[str]:
    ps = [p for p in text.split("\n") if p.strip()]
    if len(ps) >= 4:
        return ps
    sents = re.split(r"(?<=[.!?])\s+", " ".join(ps))  # few paragraphs: group sentences in threes
    return [" ".join(sents[i : i + 3]) for i in range(0, len(sents), 3)] or ps


def _has_quotes(text: str) -> bool:
    return bool(re.search(r"[\"“„«][^\"“”„«»]{15,}?[\"”“»]", text))


def apply_edit(
    kind: str, title: str, text: str, rng: random.Random, pool: list[dict], vocab: list[str]
) -> tuple[str, str]:
    if kind == "headline":
        words = title.split() or ["Story"]
        new = rng.choice(["Breaking:", "Update:", "Revealed:", "Exclusive:", "Watch:"])
        return f"{new} {' '.join(words[: max(3, len(words) * 2 // 3)])} - what we know", text
    ps = _paras(text, rng)
    if kind == "para added":
        other = _paras(rng.choice(pool)["text"], rng)
        ps.insert(rng.randrange(len(ps) + 1), max(rng.sample(other, min(3, len(other))), key=len))
    elif kind == "para removed":
        del ps[rng.randrange(len(ps))]
    elif kind == "reordered":  # move two paragraphs elsewhere (a sub-editor's reshuffle)
        for _ in range(2):
            p = ps.pop(rng.randrange(len(ps)))
            ps.insert(rng.randrange(len(ps) + 1), p)
    elif kind == "boilerplate":
        lines = rng.sample(BOILERPLATE, rng.randint(2, 4))
        cut = rng.randint(0, len(lines))
        ps = lines[:cut] + ps + lines[cut:]
    elif kind == "truncated":
        words = sum(len(p.split()) for p in ps)
        keep, out = int(words * rng.uniform(0.6, 0.8)), []
        for p in ps:
            w = p.split()
            if keep <= 0:
                break
            out.append(" ".join(w[:keep]))
            keep -= len(w)
        ps = out
    elif kind == "quotes":  # a few words inside up to 3 quotations replaced
        t = "\n".join(ps)
        spans = list(re.finditer(r"([\"“„«])([^\"“”„«»]{15,}?)([\"”“»])", t))
        for m in sorted(rng.sample(spans, min(3, len(spans))), key=lambda m: -m.start()):
            w = m.group(2).split()
            for i in rng.sample(range(len(w)), min(len(w), rng.randint(2, 4))):
                w[i] = SYNONYMS.get(w[i].lower(), rng.choice(vocab))
            t = t[: m.start(2)] + " ".join(w) + t[m.end(2) :]
        return title, t
    elif kind == "rewording":  # 5% of words replaced by a synonym or another word
        out = []
        for p in ps:
            w = p.split()
            for i in range(len(w)):
                if rng.random() < 0.05:
                    w[i] = SYNONYMS.get(w[i].lower(), rng.choice(vocab))
            out.append(" ".join(w))
        ps = out
    return title, "\n".join(ps)


def make_copy(title: str, text: str, rng: random.Random, pool: list[dict], vocab: list[str]) -> tuple[str, str, str]:
    kinds = [k for k in EDITS if k != "quotes" or _has_quotes(text)]
    kind = rng.choice(kinds)
    if kind == "combined (2 edits)":
        for k in rng.sample([k for k in kinds if k != kind], 2):
            title, text = apply_edit(k, title, text, rng, pool, vocab)
        return kind, title, text
    title, text = apply_edit(kind, title, text, rng, pool, vocab)
    return kind, title, text


COVERAGE = ["rewrite", "rewrite + quote", "brief", "late lead"]
FRAMES = ["", "", "Row over", "Questions over", "What next for", "Reaction as", "Analysis:", "Explained:"]
BEAT = [
    "Birmingham City Council",
    "Birmingham Children's Trust",
    "Ofsted",
    "Andy Street",
    "the Department for Education",
    "UNISON",
    "West Midlands Police",
    "Sandwell",
    "the High Court",
    "the Local Government Association",
]
BEAT_LINES = [
    "{a} and {b} were again in the spotlight this week.",
    "The row involves {a}, {b} and {c}.",
    "It is the latest in a series of stories about {a} and {b}.",
    "{a} said it would respond to {b} in due course.",
]


def sentences(text: str) -> list[str]:
    """A text's sentences (split after . ! ?), for the generated articles of the benchmarks."""
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text.replace("\n", " ")) if s.strip()]


def _named(word: str) -> bool:
    return word[:1].isupper() or any(c.isdigit() for c in word)


def _paraphrase(sentence: str, rng: random.Random, vocab: list[str]) -> str:
    """Another outlet's wording of one sentence: names and figures mostly kept (a tenth dropped), 30% of the
    other words swapped for a synonym or another word, a tenth dropped, and the clauses around a comma swapped
    half the time."""
    out = []
    for i, w in enumerate(sentence.split()):
        r = rng.random()
        if i and _named(w):
            if r >= 0.1:
                out.append(w)
        elif r < 0.30:
            out.append(SYNONYMS.get(w.lower(), rng.choice(vocab)))
        elif r >= 0.40:
            out.append(w)
    s = " ".join(out)
    if "," in s and rng.random() < 0.5:
        a, b = s.split(",", 1)
        s = f"{b.strip().rstrip('.')}, {a[:1].lower() + a[1:]}."
        s = s[:1].upper() + s[1:]
    return s


def make_coverage(
    title: str, text: str, rng: random.Random, background: dict, vocab: list[str]
) -> tuple[str, str, str]:
    """Another outlet's own article on the same event: not a copy. Its headline keeps the original's names and
    figures with other words; its body rewords the lead and 2-5 sentences (those naming people, places or
    figures preferred), may keep one quotation verbatim (a press-release quote), and adds 1-3 paragraphs of the
    outlet's own background from an unrelated real article. "brief": the reworded lead and one more sentence
    only. "late lead": the background comes first, the event after it."""
    kind = rng.choices(COVERAGE, weights=[35, 25, 20, 20])[0]
    sents = sentences(text)
    words = title.split()
    head = [w for i, w in enumerate(words) if (i and _named(w)) or rng.random() < 0.4]
    new_title = " ".join(filter(None, [rng.choice(FRAMES), " ".join(head) or title]))
    lead = [_paraphrase(s, rng, vocab) for s in sents[:2]]
    rest = sents[2:]
    if kind == "brief":
        body = lead + [_paraphrase(s, rng, vocab) for s in rest[:1]]
        return kind, new_title, " ".join(body)
    weights = [3 if any(_named(w) for w in s.split()[1:]) else 1 for s in rest]
    picked = sorted(set(rng.choices(range(len(rest)), weights=weights, k=rng.randint(2, 5)))) if rest else []
    body = [_paraphrase(rest[i], rng, vocab) for i in picked]
    if kind == "rewrite + quote":
        quoted = [s for s in rest if _has_quotes(s)]
        if quoted:
            body.insert(rng.randrange(len(body) + 1), rng.choice(quoted))
    own = sentences(background["text"])
    start = rng.randrange(max(1, len(own) - 9))
    own_paras = [" ".join(own[j : j + 3]) for j in range(start, min(len(own), start + 3 * rng.randint(1, 3)), 3)]
    lead_para = " ".join(lead)
    body_paras = [" ".join(body[j : j + 2]) for j in range(0, len(body), 2)]
    if kind == "late lead":
        paras = own_paras[:2] + [lead_para] + body_paras + own_paras[2:]
    else:
        paras = [lead_para] + body_paras
        for p in own_paras:
            paras.insert(rng.randint(1, len(paras)), p)
    return kind, new_title, "\n".join(paras)


def _beat(text: str, rng: random.Random) -> str:
    """Prefix a line naming 2-3 of the beat's recurring names (as every story on one beat does)."""
    a, b, c = rng.sample(BEAT, 3)
    line = rng.choice(BEAT_LINES).format(a=a, b=b, c=c)
    return f"{line[:1].upper() + line[1:]}\n{text}"


def _article(source_id: str, url: str, title: str, text: str, n: int) -> Article:
    return Article(
        source_id=source_id,
        url=url,
        canonical_url=url,
        url_key=url_key(url),
        title=title,
        text=text,
        fetched_at="2024-01-01T00:00:00+00:00",
    )  # each feed step sets its own time


# ---------------------------------------------------------------- quality


def labelled_items(pool: list[dict], n_orig: int, n_neg: int, rng: random.Random, beat_share: float):
    """[(group, role, kind, article, published)] in publication order, and the originals' and negatives' pool
    indexes. role: original, copy (edited copy, must be merged), coverage (another outlet's own article on the
    same event: same story, not merged) or negative (a story of its own, group < 0)."""
    vocab = sorted({w for r in pool[:200] for w in r["text"].split() if w.isalpha() and len(w) > 3})
    order = list(range(len(pool)))
    rng.shuffle(order)
    if n_orig + n_neg > len(pool):
        n_neg = max(0, len(pool) - n_orig)
        print(f"  (only {len(pool)} usable real texts: negatives cut to {n_neg})")
    originals, negatives = order[:n_orig], order[n_orig : n_orig + n_neg]
    background = [pool[i] for i in order[n_orig + n_neg :]] or [pool[i] for i in negatives]
    used: dict[int, list[float]] = defaultdict(list)  # background text -> the days it was used (reused weeks apart)

    def own_background(day: datetime) -> dict:
        d = (day - base).total_seconds() / 86400
        free = [i for i in range(len(background)) if all(abs(u - d) > 3 * QUALITY_DAYS / 8 for u in used[i])]
        i = rng.choice(free or range(len(background)))
        used[i].append(d)
        return background[i]

    base = datetime(2024, 1, 1, tzinfo=UTC)
    items = []  # (group, role, kind, article, published)
    for gi, idx in enumerate(originals):
        r = pool[idx]
        day = base + timedelta(days=rng.uniform(0, QUALITY_DAYS))
        beat = rng.random() < beat_share
        text = _beat(r["text"], rng) if beat else r["text"]
        items.append(
            (
                gi,
                "original",
                None,
                _article(f"publisher-{gi % 40}", f"https://publisher{gi % 40}.example/news/{gi}", r["title"], text, 0),
                day,
            )
        )
        for k in range(rng.randint(1, 2)):
            kind, t, x = make_copy(r["title"], text, rng, [pool[i] for i in negatives] or pool, vocab)
            items.append(
                (
                    gi,
                    "copy",
                    kind,
                    _article(f"syndicator-{k + 1}", f"https://syndicator{k + 1}.example/story/{gi}-{k}", t, x, 0),
                    day + timedelta(hours=rng.uniform(0.5, 48)),
                )
            )
        for k in range(rng.choices([0, 1, 2, 3], weights=[25, 35, 25, 15])[0]):
            kind, t, x = make_coverage(r["title"], r["text"], rng, own_background(day), vocab)
            x = _beat(x, rng) if beat else x
            items.append(
                (
                    gi,
                    "coverage",
                    kind,
                    _article(f"outlet-{k + 1}", f"https://outlet{k + 1}.example/{gi}", t, x, 0),
                    day + timedelta(hours=rng.uniform(0.5, 48)),
                )
            )
    for ni, idx in enumerate(negatives):
        r = pool[idx]
        text = _beat(r["text"], rng) if rng.random() < beat_share else r["text"]
        items.append(
            (
                -1 - ni,
                "negative",
                None,
                _article(f"publisher-{ni % 40}", f"https://publisher{ni % 40}.example/other/{ni}", r["title"], text, 0),
                base + timedelta(days=rng.uniform(0, QUALITY_DAYS)),
            )
        )
    items.sort(key=lambda it: it[4])  # as a crawl sees them: in publication order, each original before its copies
    return items, originals, negatives


def quality(pool: list[dict], n_orig: int, n_neg: int, rng: random.Random, tmp: Path, beat_share: float) -> None:
    items, originals, negatives = labelled_items(pool, n_orig, n_neg, rng, beat_share)
    group_of = {article_id_for(it[3].url_key): it[0] for it in items}
    db = open_db(tmp / "quality.db")
    deduper = Deduper(SqliteSeenIndex(db), SETTINGS)
    tp = fp = fn = 0
    per = defaultdict(Counter)
    reasons = Counter()
    fps = []
    t0 = time.perf_counter()
    for g, role, kind, a, when in items:
        stamp = when.isoformat(timespec="seconds")
        a = dataclasses.replace(a, fetched_at=stamp, published=stamp)
        checked = deduper.check(a)
        save_article(db, checked, SETTINGS)
        dup = checked.duplicate_of
        if dup:
            reasons[(checked.duplicate_reason or "").split(" (")[0]] += 1
        if role == "copy":
            per[kind]["copies"] += 1
            a_orig = pool[originals[g]]
            so, sc = _shingles(a_orig["text"]), _shingles(checked.text)
            per[kind]["jacc"] += len(so & sc) / max(1, len(so | sc))
            if dup and group_of.get(dup) == g:
                tp += 1
                per[kind]["found"] += 1
            else:
                fn += 1
                if dup:
                    fp += 1
                    fps.append((role, kind, checked.duplicate_reason))
        elif dup:
            fp += 1
            fps.append((role, kind, checked.duplicate_reason))
    elapsed = time.perf_counter() - t0
    n_copies = sum(1 for it in items if it[1] == "copy")
    n_cov = sum(1 for it in items if it[1] == "coverage")
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / n_copies if n_copies else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print(
        f"  fed {len(items)} articles ({len(originals)} originals, {n_copies} copies, {n_cov} other outlets' own "
        f"coverage, {len(negatives)} negatives; {beat_share:.0%} of stories and negatives carry a line of shared "
        f"beat names) over {QUALITY_DAYS} days in {elapsed:.1f}s ({1000 * elapsed / len(items):.1f} ms/article, "
        "check + save_article)"
    )
    print("\n  Near-duplicates (a copy must be merged into its original; coverage and negatives must not be merged)")
    print(f"  TP {tp}  FP {fp}  FN {fn}   reasons given: {dict(reasons)}")
    print(f"  precision {p:.3f}  (target >= {TARGET_P})  {'OK' if p >= TARGET_P else 'BELOW TARGET'}")
    print(f"  recall    {r:.3f}  (target >= {TARGET_R})  {'OK' if r >= TARGET_R else 'BELOW TARGET'}")
    print(f"  F1        {f1:.3f}")
    print(
        f"\n  {'edit':<20}{'copies':>7}{'found':>7}{'recall':>8}{'mean Jaccard':>14}"
        "   (exact 5-shingle Jaccard, copy vs original)"
    )
    for k in EDITS:
        c = per[k]
        if c["copies"]:
            print(
                f"  {k:<20}{c['copies']:>7}{c['found']:>7}"
                f"{c['found'] / c['copies']:>8.3f}{c['jacc'] / c['copies']:>14.2f}"
            )
    for role, kind, reason in fps[:10]:
        print(f"  FP: {role}{' (' + kind + ')' if kind else ''} marked {reason}")
    stories(db, items, group_of)
    db.close()


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def stories(db, items, group_of: dict) -> None:
    """Pairwise precision and recall of story grouping over the stored articles (copies merged as aliases are
    not articles; a missed copy is, and belongs to its original's story). Gold: an original, its copies and the
    other outlets' coverage form one story; every negative is a story of its own."""
    rows = db.execute("SELECT article_id, story_id FROM articles").fetchall()
    gold = {aid: group_of[aid] for aid, _ in rows}
    pred = dict(rows)
    cells = Counter((pred[a], gold[a]) for a in pred)
    tp = sum(_pairs(n) for n in cells.values())
    pp = sum(_pairs(n) for n in Counter(pred.values()).values())
    gp = sum(_pairs(n) for n in Counter(gold.values()).values())
    p = tp / pp if pp else 0.0
    r = tp / gp if gp else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    # per coverage kind: is the piece in its original's story?
    story_of_group = {
        g: pred[aid]
        for aid, g in gold.items()
        if g >= 0
        and aid in pred
        and any(it[1] == "original" and article_id_for(it[3].url_key) == aid for it in items if it[0] == g)
    }
    per = defaultdict(Counter)
    for g, role, kind, a, _ in items:
        aid = article_id_for(a.url_key)
        if role == "coverage" and aid in pred:
            per[kind]["n"] += 1
            per[kind]["joined"] += pred[aid] == story_of_group.get(g)
    merged_wrong = sum(1 for aid, g in gold.items() if g < 0 and sum(1 for x in pred.values() if x == pred[aid]) > 1)
    exact = sum(
        1
        for s, members in _group(pred).items()
        if len({gold[m] for m in members}) == 1
        and len(members) == sum(1 for m in gold.values() if m == gold[members[0]])
    )
    print(
        f"\n  Stories (pairwise over {len(pred)} stored articles, {len(set(gold.values()))} true stories, "
        f"{len(set(pred.values()))} found)"
    )
    print(f"  pairs: true {gp}, found {pp}, right {tp}")
    print(f"  precision {p:.3f}  (target >= {TARGET_P})  {'OK' if p >= TARGET_P else 'BELOW TARGET'}")
    print(f"  recall    {r:.3f}  (target >= {TARGET_R})  {'OK' if r >= TARGET_R else 'BELOW TARGET'}")
    print(
        f"  F1        {f1:.3f}   stories found exactly: {exact}; "
        f"negatives wrongly grouped with something: {merged_wrong}"
    )
    print(f"\n  {'coverage kind':<20}{'pieces':>7}{'in story':>9}{'recall':>8}")
    for k in COVERAGE:
        c = per[k]
        if c["n"]:
            print(f"  {k:<20}{c['n']:>7}{c['joined']:>9}{c['joined'] / c['n']:>8.3f}")


def _group(pred: dict) -> dict:
    out = defaultdict(list)
    for aid, s in pred.items():
        out[s].append(aid)
    return out


# ---------------------------------------------------------------- cost vs archive size

_SENTS: list[str] = []


class CountingSeenIndex(SqliteSeenIndex):
    """SqliteSeenIndex that counts the LSH candidates the archive returns (to see whether they grow)."""

    calls = rows = 0

    def near_candidates(self, keys):
        out = super().near_candidates(keys)
        self.calls += 1
        self.rows += len(out)
        return out


def _synth(rng: random.Random) -> str:
    k = rng.randint(12, 25)
    s = [rng.choice(_SENTS) for _ in range(k)]
    return "\n".join(" ".join(s[i : i + 3]) for i in range(0, k, 3))


def _rows_worker(args):
    """Articles rows and band rows for synthetic archive articles [start, stop), as save_article writes them."""
    start, stop = args
    arts, bands, df = [], [], Counter()
    for i in range(start, stop):
        rng = random.Random(SEED * 7919 + i)
        text = _synth(rng)
        sig, n = signature(text)
        url = f"https://archive{i % 200}.example/a/{i}"
        when = (ARCHIVE_START + timedelta(days=i / PER_DAY)).isoformat(timespec="seconds")
        a = Article(
            source_id=f"archive-{i % 200}",
            url=url,
            canonical_url=url,
            url_key=url_key(url),
            title=f"Archive story {i}",
            text=text,
            fetched_at=when,
            published=when,
            content_hash=content_hash(text),
            minhash=sig.hashvalues.astype("uint64").tobytes(),
            shingles=n,
        )
        aid = article_id_for(a.url_key)
        terms = story_terms(a.title, a.text)
        df.update(terms)
        arts.append(
            {
                "article_id": aid,
                "url": a.url,
                "canonical_url": a.canonical_url,
                "url_key": a.url_key,
                "source_id": a.source_id,
                "first_seen": a.fetched_at,
                "updated": a.fetched_at,
                "version": 1,
                **_fields(a),
                "story_id": aid,
                "story_terms": json.dumps(sorted(terms)),
            }
        )
        bands += [{"band": b, "key": k, "article_id": aid} for b, k in enumerate(band_keys(a.minhash))]
    return arts, bands, df


def grow(db, have: int, want: int, procs: int) -> float:
    t0 = time.perf_counter()
    step = 2000
    chunks = [(s, min(s + step, want)) for s in range(have, want, step)]
    with mp.get_context("fork").Pool(procs) as pool, db.atomic():
        for arts, bands, df in pool.imap(_rows_worker, chunks):
            db["articles"].insert_all(arts, batch_size=500)
            db["lsh_bands"].insert_all(bands, batch_size=2000, ignore=True)
            db.conn.executemany(
                "INSERT INTO story_df (term, df) VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
                list(df.items()),
            )
    return time.perf_counter() - t0


def cost(pool: list[dict], sizes: list[int], rng: random.Random, tmp: Path) -> None:
    global _SENTS
    vocab = sorted({w for r in pool[:200] for w in r["text"].split() if w.isalpha() and len(w) > 3})
    _SENTS = sorted({s for r in pool for s in sentences(r["text"]) if 6 <= len(s.split()) <= 60})
    print(
        f"  synthetic archive: 12-25 sentences each, drawn from {len(_SENTS)} real sentences; "
        "rows written directly in batched transactions (same columns as save_article, FTS triggers, LSH bands, "
        f"story terms and story_df counts; story_id = own id, no story matching), {PER_DAY} articles/day "
        "(published = first_seen); timed articles dated on the archive's newest day"
    )
    path = tmp / "cost.db"
    db = open_db(path)
    procs = max(1, min(2, os.cpu_count() or 1))
    have, results = 0, []
    print(
        f"\n  {'archive':>9}{'build s':>9}{'ms/article':>12}{'median':>8}{'p95':>8}{'copy ms':>9}{'new ms':>8}"
        f"{'check ms':>9}{'cands':>6}{'copies found':>14}{'db MB':>8}"
    )
    for si, size in enumerate(sizes):
        build = grow(db, have, size, procs) if size > have else 0.0
        have = max(have, size)  # synthetic articles; earlier sizes' timed articles stay in the file too
        stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        db.execute("ANALYZE")
        # 100 near-copies of archived articles, 100 new synthetic texts
        ids = rng.sample(range(have), 100)
        olds = [
            db.execute(
                "SELECT article_id, title, text FROM articles WHERE url_key = ?",
                [url_key(f"https://archive{i % 200}.example/a/{i}")],
            ).fetchone()
            for i in ids
        ]
        batch = []
        for j, (aid, title, text) in enumerate(olds):
            kind, t, x = make_copy(title, text, rng, pool, vocab)
            batch.append((aid, _article("syndicator-x", f"https://synd.example/s{si}/{j}", t, x, 0)))
        for j in range(100):
            batch.append((None, _article("fresh", f"https://fresh.example/s{si}/{j}", f"New {j}", _synth(rng), 0)))
        rng.shuffle(batch)
        seen = CountingSeenIndex(db)
        deduper = Deduper(seen, SETTINGS)
        times, copy_t, new_t, check_t, found = [], [], [], [], 0
        for n, (aid, a) in enumerate(batch):
            when = ARCHIVE_START + timedelta(days=have / PER_DAY, seconds=60 * n)  # the archive's newest day
            a = dataclasses.replace(a, fetched_at=when.isoformat(timespec="seconds"))
            t0 = time.perf_counter()
            checked = deduper.check(a)
            t1 = time.perf_counter()
            save_article(db, checked)
            dt = 1000 * (time.perf_counter() - t0)
            times.append(dt)
            check_t.append(1000 * (t1 - t0))
            (copy_t if aid else new_t).append(dt)
            found += bool(aid and checked.duplicate_of == aid)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mb = sum(os.path.getsize(p) for p in (path, Path(str(path) + "-wal")) if p.exists()) / 1e6
        mean = statistics.fmean(times)
        results.append((size, mean))
        print(
            f"  {stored:>9}{build:>9.1f}{mean:>12.2f}{statistics.median(times):>8.2f}"
            f"{sorted(times)[int(0.95 * len(times))]:>8.2f}"
            f"{statistics.fmean(copy_t):>9.2f}{statistics.fmean(new_t):>8.2f}"
            f"{statistics.fmean(check_t):>9.2f}{seen.rows / max(1, seen.calls):>6.1f}{found:>10}/100{mb:>8.0f}"
        )
    print(
        "  ms/article = Deduper.check + save_article (one transaction), mean of 200; copy/new ms: means by kind;"
        " check ms: Deduper.check alone; cands: stored LSH candidates per look-up; db MB: file + WAL after checkpoint"
    )
    for (s1, c1), (s2, c2) in zip(results, results[1:]):
        print(f"  archive x{s2 / s1:.1f} ({s1} -> {s2}): cost per article x{c2 / c1:.2f}")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--originals", type=int, default=300)
    parser.add_argument("--negatives", type=int, default=600)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument(
        "--beat-share",
        type=float,
        default=0.3,
        help="share of stories and negatives given a line of the beat's recurring names",
    )
    parser.add_argument("--seed", type=int, default=SEED, help="another seed gives another labelled set")
    parser.add_argument("--story-similarity", type=float, default=SETTINGS.story_similarity)
    parser.add_argument("--quality-only", action="store_true", help="skip the cost part")
    parser.add_argument("--per-day", type=int, default=PER_DAY, help="synthetic archive articles per day")
    args = parser.parse_args()
    globals()["PER_DAY"] = args.per_day
    globals()["SETTINGS"] = SETTINGS.model_copy(update={"story_similarity": args.story_similarity})
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    t0 = time.perf_counter()
    print("Real texts")
    pool, stats = real_texts()
    print("  " + ", ".join(f"{k}: {v}" for k, v in stats.items()) + f"  ({time.perf_counter() - t0:.0f}s)")
    with tempfile.TemporaryDirectory() as tmp:
        print("\nDetection quality (Deduper + SqliteSeenIndex + save_article, fresh SQLite file)")
        quality(pool, args.originals, args.negatives, random.Random(args.seed), Path(tmp), args.beat_share)
        if args.quality_only:
            return
        print("\nCost vs archive size (200 articles timed per size: 100 near-copies of archived ones, 100 new)")
        cost(pool, sizes, random.Random(SEED + 1), Path(tmp))
    print(f"\ntotal {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
    from realset import run_real_set  # bench/realset.py, beside this script

    run_real_set("real_pairs.py", "stories and near-duplicates")
