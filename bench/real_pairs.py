"""Story grouping and near-duplicates on real, hand-labelled article pairs (issue 22).
Run: ``.venv/bin/python bench/real_pairs.py [--labels bench/real_sets/pairs.yaml] [--show N] [--heldout-errors]``
(the held-out and fresh parts' misjudged pairs are counted, and listed only with ``--heldout-errors``).

Labels: ``bench/real_sets/pairs.yaml`` (URLs, dates, labels, split; how they were made: ``PAIRS.md``).
Texts: never in the repository. A search-tool page is read from the cache
(``/work/cache/carewatch-real/pairs/<sha1 of url>.json``, or ``$CAREWATCH_REAL_CACHE``); a page from
``../shared/data`` (``shared:`` in the label file) is read from there, as ``bench/extraction.py`` reads
it (fundus gold body, readability expected article, trafilatura-eval page through carewatch's own
extractor). Figures are printed for ``tune``, ``heldout`` and (when present) ``fresh`` and ``fresh2`` (pairs
collected and labelled after the rules were written: PAIRS.md) separately.

Near-duplicates, for each pair, in the same run:
- carewatch: two URLs with one ``url_key`` (scheme, ``www.``, tracking parameters ignored) are one
  article to carewatch, the later text a version of it: merged. Otherwise a fresh
  ``pipelines.dedupe.Deduper`` (no archive, so only its in-run index, as within one crawl) checks
  the earlier article, then the later one (its source: the URL's host): the pair is merged when
  the later one comes back ``duplicate_of`` the earlier. That is the whole decision as a crawl makes
  it: exact text, the MinHash/LSH candidate search (and whatever other candidate search ``Deduper``
  has when this runs), then ``near_copy_of`` (``exact_similarity``, ``sentences_aligned``,
  ``is_near_copy``) with the default ``Settings``.
- verdict only: ``near_copy_of(Settings(), a, b)`` (shingles, then sentences found again), as if every pair
  were compared.
- candidate recall: whether the two signatures' LSH ``band_keys`` share a key (band and value), i.e.
  whether the MinHash candidate search alone would ever compare them; reported over the labelled
  near-duplicates, separately from the decision. Texts under ``MIN_SHINGLES`` are never candidates.
- baseline: Jaccard of word 5-shingles (``normalise_text``) >= 0.8.

Stories, for each pair (``store.stories``, reproduced without a database):
- carewatch stories rule: the later article is "new", the earlier is in the archive. As
  ``assign_story`` does: a different source (here: the URL's host without ``www.``), the earlier one's
  date inside ``[later - story_window_days, later + story_window_days + 1]`` (dates compared as
  ISO strings, as the SQL ``BETWEEN`` does), and ``story_verdict`` on ``similarity(story_terms(a),
  story_terms(b), weight)``, the two headlines' ``story_events`` and the calendar days between them
  says "story". Approximation, the
  only one: the IDF weights. carewatch takes document frequencies and the article count from its
  archive (``story_df``, ``max(rowid)``); here they come from a background corpus of every distinct
  text in the label file plus the fundus gold bodies and readability expected articles in
  ``../shared/data`` (the pair's own two texts included, as ``assign_story`` counts the new article
  before comparing). Pairwise only: no story bridging.
- carewatch overall: the stories rule, or the pair merged as a near-duplicate (a copy is shown as the
  same entry in a digest).
- baseline: TF-IDF cosine (word unigrams, IDF ``ln((1+N)/(1+df))+1`` over the same background
  corpus, L2-normalised) >= 0.5 and the dates within 3 days of each other.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.extraction import DATA, _read_gz, html_text, load_fundus, load_readability
from carewatch.config.schema import Settings
from carewatch.core.items import Article, article_id_for
from carewatch.core.lsh import band_keys
from carewatch.core.urls import url_key
from carewatch.pipelines.dedupe import (
    MIN_SHINGLES,
    Deduper,
    exact_similarity,
    near_copy_of,
    normalise_text,
    signature,
)
from carewatch.pipelines.extract import extract_html
from carewatch.store.stories import similarity, story_events, story_terms, story_verdict

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "real_sets" / "pairs.yaml"
CACHE = Path(os.environ.get("CAREWATCH_REAL_CACHE", "/work/cache/carewatch-real/pairs"))
SETTINGS = Settings()
BASE_JACCARD = 0.8
BASE_COSINE, BASE_DAYS = 0.5, 3
_TOKEN = re.compile(r"\w+")


def cache_path(url: str) -> Path:
    return CACHE / (hashlib.sha1(url.encode("utf-8")).hexdigest() + ".json")


_shared_memo: dict[str, tuple[str, str]] = {}


def shared_text(rel: str) -> tuple[str, str]:
    """(title, text) of a page in ../shared/data, read as bench/extraction.py reads it."""
    if rel in _shared_memo:
        return _shared_memo[rel]
    path = DATA / rel
    if rel.startswith("fundus-news-parser-tests/"):
        page = next(p for p in load_fundus(Counter()) if p["id"] == rel.split("/", 1)[1])
        out = (page.get("title") or "", page["gold_text"])
    elif rel.startswith("mozilla-readability-test-pages/"):
        meta = json.loads((path / "expected-metadata.json").read_text(encoding="utf-8"))
        out = (meta.get("title") or "", html_text(_read_gz(path / "expected.html.gz")))
    else:  # trafilatura-eval: the page through carewatch's extractor, as a crawl would store it
        got = extract_html(_read_gz(path), "https://example.invalid/") or {}
        out = (got.get("title") or "", got.get("text") or "")
    _shared_memo[rel] = out
    return out


def load_item(item: dict) -> dict:
    """The label file's side of a pair, with its title and text."""
    if item.get("shared"):
        title, text = shared_text(item["shared"])
    else:
        cached = json.loads(cache_path(item["url"]).read_text(encoding="utf-8"))
        title, text = cached.get("title") or "", cached.get("text") or ""
    host = urlsplit(item["url"]).hostname or ""
    return {**item, "title": title, "text": text, "source": host.removeprefix("www.")}


def background() -> list[str]:
    """The corpus the IDF weights are counted on (see the module docstring)."""
    docs = [p["gold_text"] for p in load_fundus(Counter()) if p.get("gold_text")]
    docs += [html_text(_read_gz(p["gold_html_path"])) for p in load_readability(Counter())]
    return [d for d in docs if d.strip()]


# ---------------------------------------------------------------------------- near-duplicates


def _article(side: dict) -> Article:
    return Article(
        source_id=side["source"] or "unknown",
        url=side["url"],
        fetched_at=side["published"] + "T12:00:00+00:00",
        url_key=url_key(side["url"]),
        title=side["title"],
        published=side["published"],
        text=side["text"],
        kind="html",
    )


def ordered(a: dict, b: dict) -> tuple[dict, dict]:
    """(earlier, later): the order a crawl would meet them in (ties: as labelled)."""
    return (b, a) if b["published"] < a["published"] else (a, b)


def carewatch_merges(a: dict, b: dict) -> tuple[bool, str]:
    """Whether a crawl meeting the earlier article, then the later one, stores the later as a copy of it
    (a same-host pair counts too: Deduper calls that an edited version)."""
    first, second = ordered(a, b)
    if url_key(first["url"]) == url_key(second["url"]):  # one page to carewatch: the other is a version of it
        return True, "same URL (url_key): one article, the other text stored as a version"
    deduper = Deduper(None, SETTINGS)
    art1 = deduper.check(_article(first))
    art2 = deduper.check(_article(second))
    merged = art2.duplicate_of is not None and art2.duplicate_of == article_id_for(art1.url_key)
    return merged, art2.duplicate_reason or ""


def candidates(a: str, b: str) -> tuple[bool, int, int]:
    """(LSH band keys shared, shingles of a, shingles of b)."""
    sa, na = signature(a)
    sb, nb = signature(b)
    if na < MIN_SHINGLES or nb < MIN_SHINGLES:
        return False, na, nb

    ka = band_keys(sa.hashvalues.astype(np.uint64).tobytes())
    kb = band_keys(sb.hashvalues.astype(np.uint64).tobytes())
    return any(x == y for x, y in zip(ka, kb, strict=True)), na, nb


def _five(text: str) -> set[tuple[str, ...]]:
    words = normalise_text(text).split()
    return {tuple(words)} if len(words) < 5 else set(zip(*(words[i:] for i in range(5)), strict=False))


def jaccard5(a: str, b: str) -> float:
    """The baseline's own measure (written here, not carewatch's)."""
    sa, sb = _five(a), _five(b)
    return len(sa & sb) / max(1, len(sa | sb))


# ---------------------------------------------------------------------------- stories


class Idf:
    def __init__(self, docs: list[str], titles: list[str]) -> None:
        self.n_story = len(docs)
        self.story_df: Counter = Counter()
        for title, text in zip(titles, docs, strict=True):
            self.story_df.update(story_terms(title, text))
        self.n_tok = len(docs)
        self.tok_df: Counter = Counter()
        for text in docs:
            self.tok_df.update(set(_TOKEN.findall(text.lower())))

    def story_similarity(self, a: dict, b: dict) -> float:
        ta, tb = story_terms(a["title"], a["text"]), story_terms(b["title"], b["text"])
        weight = {t: math.log(1 + self.n_story / max(1, self.story_df[t])) for t in ta | tb}
        return similarity(ta, tb, weight)

    def cosine(self, a: str, b: str) -> float:
        def vec(text: str) -> dict[str, float]:
            tf = Counter(_TOKEN.findall(text.lower()))
            v = {t: c * (math.log((1 + self.n_tok) / (1 + self.tok_df[t])) + 1) for t, c in tf.items()}
            norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
            return {t: x / norm for t, x in v.items()}

        va, vb = vec(a), vec(b)
        return sum(x * vb.get(t, 0.0) for t, x in va.items())


def in_window(earlier: str, later: str) -> bool:
    day = date.fromisoformat(later[:10])
    lo = (day - timedelta(days=SETTINGS.story_window_days)).isoformat()
    hi = (day + timedelta(days=SETTINGS.story_window_days + 1)).isoformat()
    return lo <= earlier <= hi


def days_apart(a: str, b: str) -> int:
    return abs((date.fromisoformat(a[:10]) - date.fromisoformat(b[:10])).days)


# ---------------------------------------------------------------------------- scoring


def prf(pred: list[bool], gold: list[bool]) -> tuple[int, int, int, float | None, float | None]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    return tp, fp, fn, (tp / (tp + fp) if tp + fp else None), (tp / (tp + fn) if tp + fn else None)


def fmt(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:.3f}"


def line(name: str, pred: list[bool], gold: list[bool]) -> tuple[str, float | None]:
    tp, fp, fn, p, r = prf(pred, gold)
    f1 = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
    return f"  {name:<44} P {fmt(p)}  R {fmt(r)}  F1 {fmt(f1)}   (TP {tp}, FP {fp}, FN {fn})", f1


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "n/a"


def evaluate(rows: list[dict], split: str, show: int, show_heldout: bool = False) -> None:
    rows = [r for r in rows if r["split"] == split]
    kinds = Counter(r["kind"] for r in rows)
    print(f"\n=== {split}: {len(rows)} pairs ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
    nd_gold = [r["near_duplicate"] for r in rows]
    print("\n near-duplicates (label near_duplicate):")
    s1, f_cw = line("carewatch Deduper (candidates + verdict)", [r["merged"] for r in rows], nd_gold)
    s2, _ = line("carewatch verdict only (every pair compared)", [r["verdict"] for r in rows], nd_gold)
    s3, f_base = line(
        f"baseline: word 5-shingle Jaccard >= {BASE_JACCARD}", [r["j5"] >= BASE_JACCARD for r in rows], nd_gold
    )
    print(s1, s2, s3, sep="\n")
    pos = [r for r in rows if r["near_duplicate"]]
    cand = sum(r["candidate"] for r in pos)
    print(
        f"  candidate recall (LSH band keys shared):       {cand}/{len(pos)}"
        + (f" = {cand / len(pos):.3f}" if pos else "")
    )
    for kind in ("re-edit", "contained-copy"):
        ks = [r for r in pos if r["kind"] == kind]
        if ks:
            print(
                f"    {kind:<15} candidates {sum(r['candidate'] for r in ks)}/{len(ks)}, merged "
                f"{sum(r['merged'] for r in ks)}/{len(ks)}, "
                f"baseline {sum(r['j5'] >= BASE_JACCARD for r in ks)}/{len(ks)}"
            )
    print(f"  F1 ratio carewatch / baseline: {ratio(f_cw, f_base)}")

    st_gold = [r["same_story"] for r in rows]
    print("\n stories (label same_story):")
    s1, _ = line("carewatch stories rule (store.stories)", [r["story_rule"] for r in rows], st_gold)
    s2, f_cw = line(
        "carewatch overall (story rule or merged copy)", [r["story_rule"] or r["merged"] for r in rows], st_gold
    )
    s3, f_base = line(
        f"baseline: TF-IDF cosine >= {BASE_COSINE}, <= {BASE_DAYS} days", [r["base_story"] for r in rows], st_gold
    )
    print(s1, s2, s3, sep="\n")
    for kind in ("same-event", "same-subject-different-event", "re-edit", "contained-copy"):
        ks = [r for r in rows if r["kind"] == kind]
        if ks:
            print(
                f"    {kind:<29} carewatch together {sum(r['story_rule'] or r['merged'] for r in ks)}/{len(ks)}"
                f" (rule {sum(r['story_rule'] for r in ks)}), baseline {sum(r['base_story'] for r in ks)}/{len(ks)}"
            )
    diff = [r for r in rows if r["kind"] == "same-subject-different-event"]
    near = [r for r in diff if r["in_window"]]
    print(
        f"  different-event pairs inside the story window: {len(near)}/{len(diff)}, "
        f"joined by carewatch {sum(r['story_rule'] or r['merged'] for r in near)}/{len(near)}"
    )
    print(f"  F1 ratio carewatch overall / baseline: {ratio(f_cw, f_base)}")

    def dump(title: str, bad: list[dict], what: str) -> None:
        print(f"\n {title}: {len(bad)}")
        if split == "heldout" and not show_heldout:
            return  # counted, not listed: that part is for measuring, not for tuning on (fresh, fresh2:
            # tuning parts once measured, bench/real_sets/PAIRS.md)
        for r in bad[:show]:
            print(
                f"  {r['id']} {r['kind']:<29} {what}  j3 {r['j3']:.2f} c3 {r['c3']:.2f} j5 {r['j5']:.2f} "
                f"story {r['story_sim']:.3f} cos {r['cos']:.2f} {r['days']}d cand {int(r['candidate'])}"
            )
            print(f"      a {r['a']['url'][:110]}")
            print(f"      b {r['b']['url'][:110]}")
            print(f"      {r['reason']}")

    dump(
        "near-duplicates carewatch missed (labelled near_duplicate, not merged)",
        [r for r in rows if r["near_duplicate"] and not r["merged"]],
        "missed",
    )
    dump(
        "merged by carewatch but not near-duplicates",
        [r for r in rows if r["merged"] and not r["near_duplicate"]],
        "merged",
    )
    dump(
        "one story, carewatch kept apart",
        [r for r in rows if r["same_story"] and not (r["story_rule"] or r["merged"])],
        "apart ",
    )
    dump(
        "different events, carewatch put together",
        [r for r in rows if not r["same_story"] and (r["story_rule"] or r["merged"])],
        "joined",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--show", type=int, default=100, help="misjudged pairs listed per list")
    ap.add_argument(
        "--heldout-errors",
        action="store_true",
        help="also list the held-out part's misjudged pairs (do not tune on them)",
    )
    args = ap.parse_args()
    pairs = yaml.safe_load(args.labels.read_text(encoding="utf-8"))["pairs"]
    missing = [
        p["id"] for p in pairs for s in (p["a"], p["b"]) if not s.get("shared") and not cache_path(s["url"]).exists()
    ]
    if len(set(missing)) == len(pairs):
        sys.exit(f"no pair's texts are cached (cache: {CACHE}; see bench/real_sets/PAIRS.md)")
    if missing:
        print(
            f"texts not cached for {len(set(missing))} pairs, left out: {', '.join(sorted(set(missing)))} "
            f"(cache: {CACHE}; bench/real_sets/cache_texts.py says how to rebuild it)"
        )
        pairs = [p for p in pairs if p["id"] not in set(missing)]
    loaded = []
    for p in pairs:
        loaded.append({**p, "a": load_item(p["a"]), "b": load_item(p["b"])})
    distinct = {}
    for p in loaded:
        for s in (p["a"], p["b"]):
            distinct[s["url"] + (s.get("shared") or "")] = (s["title"], s["text"])
    bg = background()
    idf = Idf([t for _, t in distinct.values()] + bg, [ti for ti, _ in distinct.values()] + [""] * len(bg))
    print(
        f"{len(pairs)} labelled pairs, {len(distinct)} distinct texts; IDF background {idf.n_story} documents "
        f"({len(distinct)} from the set, {len(bg)} from ../shared/data); settings: near_duplicate_similarity "
        f"{SETTINGS.near_duplicate_similarity}, near_duplicate_overlap {SETTINGS.near_duplicate_overlap}, "
        f"story_window_days {SETTINGS.story_window_days}, story_similarity {SETTINGS.story_similarity} (related from "
        f"{SETTINGS.story_related_similarity}, certain from {SETTINGS.story_certain_similarity}, "
        f"+{SETTINGS.story_similarity_per_day} a day apart; story_events: "
        f"{len(SETTINGS.story_events)})"
    )
    rows = []
    for p in loaded:
        a, b = p["a"], p["b"]
        j3, c3 = exact_similarity(a["text"], b["text"])
        merged, why = carewatch_merges(a, b)
        cand, na, nb = candidates(a["text"], b["text"])
        first, second = ordered(a, b)
        sim = idf.story_similarity(second, first)
        window = in_window(first["published"], second["published"])
        events = [story_events(x["title"] or x["text"][:200], SETTINGS) for x in (second, first)]
        apart = days_apart(first["published"], second["published"])
        rule = (
            first["source"] != second["source"] and window and story_verdict(sim, *events, SETTINGS, apart) == "story"
        )
        cos = idf.cosine(a["title"] + "\n" + a["text"], b["title"] + "\n" + b["text"])
        days = days_apart(a["published"], b["published"])
        rows.append(
            {
                **p,
                "j3": j3,
                "c3": c3,
                "j5": jaccard5(a["text"], b["text"]),
                "verdict": near_copy_of(SETTINGS, a["text"], b["text"])[0],
                "merged": merged,
                "why": why,
                "candidate": cand,
                "story_sim": sim,
                "story_rule": rule,
                "in_window": window,
                "cos": cos,
                "days": days,
                "base_story": cos >= BASE_COSINE and days <= BASE_DAYS,
            }
        )
    # fresh, fresh2, fresh3: collected and labelled after the rules were written (PAIRS.md)
    for split in ("tune", "heldout", "fresh", "fresh2", "fresh3"):
        if any(r["split"] == split for r in rows):
            evaluate(rows, split, args.show, args.heldout_errors)


if __name__ == "__main__":
    main()
