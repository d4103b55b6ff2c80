"""Extraction quality and speed: carewatch's ``extract_html`` beside plain trafilatura on three public
test suites, measured in one run. Run:
``.venv/bin/python bench/extraction.py [--limit N] [--datasets trafilatura,readability,fundus] [--json PATH]``.

Data is read from ``../shared/data`` (never copied into the repository):

- trafilatura-eval (990 pages): ``evaldata.json`` snippets. A ``with`` snippet found = TP, missing = FN;
  a ``without`` snippet found = FP; summed over pages; whitespace collapsed on both sides, case kept.
- mozilla-readability-test-pages (130 cases): body = text of ``expected.html.gz``; title, byline and
  publishedTime from ``expected-metadata.json``. URL given to the extractors: readability's own
  ``http://fakehost/test/page.html``.
- fundus-news-parser-tests (258 pages): ``INDEX.json`` maps each page to ``<Publisher>.json[version]``;
  body = summary + every section's headline and paragraphs; title; authors; publishing_date.

Body scores for readability and fundus are token-level: bag of lower-cased ``\\w+`` tokens,
overlap = sum of min counts, micro-averaged over pages (overlap, predicted and gold tokens summed).
Title: exact match after whitespace collapse and strip (titles, authors and body tokens are also
NFC-normalised with soft hyphens and zero-width characters dropped; snippets are not). Author: the set of names,
case-folded and
whitespace-collapsed, each side split on ; , | & " and " " und ", a leading "By " dropped.
Date: same calendar day (in the gold's own offset when it has one), and same instant where the
gold has a time and an offset (the prediction must have both too).

Each extractor call is timed alone (pages are read and gunzipped first); the order of the two calls
alternates page by page so neither always runs on warm caches. An exception or a timeout in
either extractor counts as an empty result for that page and is counted; the run never aborts.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import signal
import sys
import time
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lxml.html
import trafilatura
from trafilatura.utils import decode_file

from carewatch.pipelines.extract import extract_html

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = ("trafilatura", "readability", "fundus")
EXTRACTORS = ("carewatch", "trafilatura")
READABILITY_URL = "http://fakehost/test/page.html"


# ---------------------------------------------------------------- loading (not timed)


def _read_gz(path: Path) -> str:
    return decode_file(gzip.decompress(path.read_bytes()))


BLOCK_TAGS = {
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "br",
    "hr",
    "tr",
    "td",
    "th",
    "table",
    "blockquote",
    "pre",
    "section",
    "article",
    "figure",
    "figcaption",
    "dd",
    "dt",
    "dl",
    "header",
    "footer",
    "aside",
    "main",
    "nav",
    "img",
    "caption",
}


def html_text(html: str) -> str:
    """Text of readability's expected article: block elements separated, scripts and styles dropped."""
    if not html.strip():
        return ""
    root = lxml.html.fromstring(html)
    for el in list(root.iter("script", "style", "noscript")):
        if el.getparent() is not None:
            el.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.lower() in BLOCK_TAGS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    return root.text_content()


def fundus_body(body) -> str:
    """fundus ArticleBody: {"summary": [str], "sections": [{"headline": [str], "paragraphs": [str]}]}."""
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "\n".join(fundus_body(b) for b in body)
    if isinstance(body, dict):
        parts = list(body.get("summary") or [])
        for sec in body.get("sections") or []:
            parts += list(sec.get("headline") or []) + list(sec.get("paragraphs") or [])
        return "\n".join(p for p in parts if isinstance(p, str))
    return ""


def load_trafilatura(skips: Counter) -> list[dict]:
    base = DATA / "trafilatura-eval"
    gold = json.loads((base / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for url in sorted(gold):
        g = gold[url]
        path = base / "html" / (g["file"] + ".gz")
        if not path.exists():
            skips["html file missing"] += 1
            continue
        if not g.get("with") and not g.get("without"):
            skips["no snippets"] += 1
            continue
        pages.append(
            {"id": g["file"], "url": url, "path": path, "with": g.get("with") or [], "without": g.get("without") or []}
        )
    return pages


def load_readability(skips: Counter) -> list[dict]:
    base = DATA / "mozilla-readability-test-pages" / "pages"
    pages = []
    for case in sorted(p for p in base.iterdir() if p.is_dir()):
        src, exp, meta_p = case / "source.html.gz", case / "expected.html.gz", case / "expected-metadata.json"
        if not (src.exists() and exp.exists() and meta_p.exists()):
            skips["source, expected or metadata file missing"] += 1
            continue
        meta = json.loads(meta_p.read_text(encoding="utf-8"))
        byline = meta.get("byline")
        pages.append(
            {
                "id": case.name,
                "url": READABILITY_URL,
                "path": src,
                "gold_html_path": exp,
                "title": meta.get("title") or None,
                "authors": [byline] if isinstance(byline, str) and byline.strip() else None,
                "date": meta.get("publishedTime") or None,
            }
        )
    return pages


def load_fundus(skips: Counter) -> list[dict]:
    base = DATA / "fundus-news-parser-tests"
    index = json.loads((base / "INDEX.json").read_text(encoding="utf-8"))
    cache: dict[str, dict] = {}
    pages = []
    for e in sorted(index, key=lambda e: e["html"]):
        path = base / e["html"]
        if not path.exists():
            skips["html file missing"] += 1
            continue
        if e["expected_json"] not in cache:
            cache[e["expected_json"]] = json.loads((base / e["expected_json"]).read_text(encoding="utf-8"))
        g = cache[e["expected_json"]].get(e["version_key"])
        if not g:
            skips["version key missing from the gold JSON"] += 1
            continue
        authors = g.get("authors")
        pages.append(
            {
                "id": e["html"],
                "url": e["url"],
                "path": path,
                "gold_text": fundus_body(g.get("body")),
                "title": g.get("title") or None,
                "authors": authors if isinstance(authors, list) and authors else None,
                "date": g.get("publishing_date") or None,
            }
        )
    return pages


LOADERS = {"trafilatura": load_trafilatura, "readability": load_readability, "fundus": load_fundus}
TITLES = {
    "trafilatura": "trafilatura-eval (snippets)",
    "readability": "mozilla-readability-test-pages",
    "fundus": "fundus-news-parser-tests",
}


# ---------------------------------------------------------------- extractors (timed)


class PageTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise PageTimeout()


def run_carewatch(html: str, url: str) -> dict:
    return extract_html(html, url) or {}


def run_trafilatura(html: str, url: str) -> dict:
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    return doc.as_dict() if doc is not None else {}


RUNNERS = {"carewatch": run_carewatch, "trafilatura": run_trafilatura}


def call(name: str, page: dict, timeout: float, stats: dict) -> dict:
    signal.setitimer(signal.ITIMER_REAL, timeout)
    t0 = time.perf_counter()
    try:
        out = RUNNERS[name](page["html"], page["url"])
    except PageTimeout:
        stats["timeouts"] += 1
        out = {}
    except Exception as e:
        stats["exceptions"] += 1
        stats["exception_types"][type(e).__name__] += 1
        out = {}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        stats["seconds"] += time.perf_counter() - t0
    stats["pages"] += 1
    if not (out.get("text") or "").strip():
        stats["empty_text"] += 1
    return out


# ---------------------------------------------------------------- scoring


def collapse(s) -> str:
    """Whitespace collapsed (used as is for the trafilatura-eval snippets, as its README says)."""
    return " ".join(str(s).split()) if s else ""


INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def norm(s) -> str:
    """Titles, authors, body tokens: NFC, soft hyphens and zero-width characters dropped, whitespace collapsed."""
    return collapse(unicodedata.normalize("NFC", str(s)).translate(INVISIBLE)) if s else ""


TOKEN = re.compile(r"\w+")


def tokens(text: str) -> Counter:
    return Counter(TOKEN.findall(norm(text).lower())) if text else Counter()


AUTHOR_SPLIT = re.compile(r"\s*(?:[;,|&]|\band\b|\bund\b)\s*", re.I)
LEADING_BY = re.compile(r"^by\s+", re.I)


def author_set(value) -> frozenset:
    items = value if isinstance(value, (list, tuple, set)) else [value]
    names = set()
    for item in items:
        if not item:
            continue
        for part in AUTHOR_SPLIT.split(norm(item)):
            part = LEADING_BY.sub("", part.strip()).strip().casefold()
            if part:
                names.add(part)
    return frozenset(names)


_YM = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def parse_date(value):
    """-> (calendar date or None, datetime or None, has_time). Handles any ISO precision."""
    if value is None or value == "":
        return None, None, False
    if isinstance(value, datetime):
        return value.date(), value, True
    if isinstance(value, date):
        return value, None, False
    s = str(value).strip()
    if _YM.match(s):  # year or year-month: no calendar day
        return None, None, False
    try:
        dt = datetime.fromisoformat(s.replace("z", "Z"))
    except ValueError:
        m = re.match(r"^(\d{4}-\d{2}-\d{2})", s)
        if not m:
            return None, None, False
        try:
            return date.fromisoformat(m[1]), None, False
        except ValueError:
            return None, None, False
    has_time = bool(re.search(r"\d{4}-?\d{2}-?\d{2}[T ]\d{2}", s))
    return dt.date(), (dt if has_time else None), has_time


def date_scores(gold, pred) -> dict:
    gday, gdt, gtime = parse_date(gold)
    if gday is None:
        return {}
    pday, pdt, ptime = parse_date(pred)
    out = {}
    if gdt is not None and gdt.tzinfo is not None and pdt is not None and pdt.tzinfo is not None:
        pday = pdt.astimezone(gdt.tzinfo).date()
    out["same_day"] = pday is not None and pday == gday
    if gtime and gdt is not None and gdt.tzinfo is not None:
        out["same_instant"] = bool(
            ptime and pdt is not None and pdt.tzinfo is not None and abs(pdt - gdt) < timedelta(seconds=1)
        )
    out["gold_naive_time"] = bool(gtime and gdt is not None and gdt.tzinfo is None)
    return out


def new_acc() -> dict:
    return {
        "tp": 0,
        "fp": 0,
        "fn": 0,
        "overlap": 0,
        "pred_tokens": 0,
        "gold_tokens": 0,
        "title_n": 0,
        "title_ok": 0,
        "author_n": 0,
        "author_ok": 0,
        "day_n": 0,
        "day_ok": 0,
        "instant_n": 0,
        "instant_ok": 0,
    }


def score_page(ds: str, page: dict, out: dict, acc: dict) -> dict:
    text = out.get("text") or ""
    res: dict = {}
    if ds == "trafilatura":
        flat = collapse(text)
        tp = sum(1 for s in page["with"] if collapse(s) in flat)
        fn = len(page["with"]) - tp
        fp = sum(1 for s in page["without"] if collapse(s) in flat)
        res.update(tp=tp, fp=fp, fn=fn)
        acc["tp"] += tp
        acc["fp"] += fp
        acc["fn"] += fn
        return res
    pt, gt = tokens(text), page["gold_tokens"]
    overlap = sum((pt & gt).values())
    res.update(overlap=overlap, pred_tokens=sum(pt.values()), gold_tokens=sum(gt.values()))
    acc["overlap"] += overlap
    acc["pred_tokens"] += res["pred_tokens"]
    acc["gold_tokens"] += res["gold_tokens"]
    if page.get("title"):
        res["title_ok"] = norm(out.get("title")) == norm(page["title"])
        acc["title_n"] += 1
        acc["title_ok"] += res["title_ok"]
    if page.get("authors"):
        res["author_ok"] = author_set(out.get("author")) == author_set(page["authors"])
        acc["author_n"] += 1
        acc["author_ok"] += res["author_ok"]
    if page.get("date"):
        d = date_scores(page["date"], out.get("date"))
        if "same_day" in d:
            res["same_day"] = d["same_day"]
            acc["day_n"] += 1
            acc["day_ok"] += d["same_day"]
        if "same_instant" in d:
            res["same_instant"] = d["same_instant"]
            acc["instant_n"] += 1
            acc["instant_ok"] += d["same_instant"]
    return res


def _div(a: float, b: float) -> float | None:
    return a / b if b else None


def summarise(ds: str, acc: dict) -> dict:
    if ds == "trafilatura":
        tp, fp, fn = acc["tp"], acc["fp"], acc["fn"]
        return {
            "precision": _div(tp, tp + fp),
            "recall": _div(tp, tp + fn),
            "f1": _div(2 * tp, 2 * tp + fp + fn),
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    p, r = _div(acc["overlap"], acc["pred_tokens"]), _div(acc["overlap"], acc["gold_tokens"])
    return {
        "precision": p,
        "recall": r,
        "f1": _div(2 * p * r, p + r) if p is not None and r is not None else None,
        "title_exact": _div(acc["title_ok"], acc["title_n"]),
        "title_n": acc["title_n"],
        "author_exact": _div(acc["author_ok"], acc["author_n"]),
        "author_n": acc["author_n"],
        "date_same_day": _div(acc["day_ok"], acc["day_n"]),
        "date_day_n": acc["day_n"],
        "date_same_instant": _div(acc["instant_ok"], acc["instant_n"]),
        "date_instant_n": acc["instant_n"],
    }


# ---------------------------------------------------------------- output


def fmt(v) -> str:
    return "n/a" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def ratio(a, b) -> str:
    return f"{a / b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "n/a"


def table(rows: list[tuple[str, object, object, bool]], head=("carewatch", "trafilatura", "cw/tf")) -> None:
    w = max(len(r[0]) for r in rows) + 2
    print(f"  {'':<{w}}{head[0]:>12}{head[1]:>13}{head[2]:>8}")
    for label, a, b, with_ratio in rows:
        print(f"  {label:<{w}}{fmt(a):>12}{fmt(b):>13}{ratio(a, b) if with_ratio else '':>8}")


def print_dataset(ds: str, info: dict) -> None:
    s, st = info["scores"], info["stats"]
    print(
        f"\n== {TITLES[ds]}: {info['pages']} pages scored, {sum(info['skipped'].values())} skipped"
        + (" (" + "; ".join(f"{n} {why}" for why, n in info["skipped"].items()) + ")" if info["skipped"] else "")
    )
    cw, tf = s["carewatch"], s["trafilatura"]
    if ds == "trafilatura":
        print("  body: snippet scoring (with found = TP, missing = FN; without found = FP; summed over pages)")
        rows = [
            ("body precision", cw["precision"], tf["precision"], True),
            ("body recall", cw["recall"], tf["recall"], True),
            ("body F1", cw["f1"], tf["f1"], True),
            ("TP / FP / FN", f"{cw['tp']}/{cw['fp']}/{cw['fn']}", f"{tf['tp']}/{tf['fp']}/{tf['fn']}", False),
        ]
    else:
        print("  body: token-level P/R/F1, bag of lower-cased \\w+ tokens, micro-averaged over pages")
        rows = [
            ("body precision", cw["precision"], tf["precision"], True),
            ("body recall", cw["recall"], tf["recall"], True),
            ("body F1", cw["f1"], tf["f1"], True),
            (f"title exact (n={cw['title_n']})", cw["title_exact"], tf["title_exact"], True),
            (f"author set exact (n={cw['author_n']})", cw["author_exact"], tf["author_exact"], True),
            (f"date same day (n={cw['date_day_n']})", cw["date_same_day"], tf["date_same_day"], True),
            (f"date same instant (n={cw['date_instant_n']})", cw["date_same_instant"], tf["date_same_instant"], True),
        ]
    rows += [
        ("exceptions", st["carewatch"]["exceptions"], st["trafilatura"]["exceptions"], False),
        ("timeouts", st["carewatch"]["timeouts"], st["trafilatura"]["timeouts"], False),
        ("empty text", st["carewatch"]["empty_text"], st["trafilatura"]["empty_text"], False),
    ]
    table(rows)
    notes = info.get("notes") or []
    for n in notes:
        print(f"  note: {n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each dataset")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated: " + ",".join(DATASETS))
    parser.add_argument("--json", type=Path, default=None, help="write the results (and per-page scores) here")
    parser.add_argument("--page-timeout", type=float, default=60.0, help="seconds per extractor call")
    args = parser.parse_args()
    chosen = [d.strip() for d in args.datasets.split(",") if d.strip()]
    bad = [d for d in chosen if d not in DATASETS]
    if bad:
        parser.error(f"unknown dataset(s) {bad}; choose from {list(DATASETS)}")
    logging.disable(logging.CRITICAL)  # extractor warnings would drown the tables
    signal.signal(signal.SIGALRM, _alarm)

    # 1. read, gunzip and prepare gold for everything first (not timed)
    t_load = time.perf_counter()
    data: dict[str, dict] = {}
    for ds in chosen:
        skips: Counter = Counter()
        pages = LOADERS[ds](skips)
        if args.limit is not None:
            pages = pages[: args.limit]
        kept = []
        for p in pages:
            try:
                p["html"] = _read_gz(p["path"])
                if ds == "readability":
                    p["gold_tokens"] = tokens(html_text(_read_gz(p.pop("gold_html_path"))))
                elif ds == "fundus":
                    p["gold_tokens"] = tokens(p.pop("gold_text"))
            except Exception as e:
                skips[f"unreadable ({type(e).__name__})"] += 1
                continue
            if ds != "trafilatura" and not p["gold_tokens"]:
                skips["gold body empty"] += 1
                continue
            kept.append(p)
        data[ds] = {"pages": kept, "skipped": skips}
    load_s = time.perf_counter() - t_load
    total_pages = sum(len(d["pages"]) for d in data.values())
    print(
        f"loaded {total_pages} pages in {load_s:.1f}s (read + gunzip + gold, not timed); "
        f"trafilatura {trafilatura.__version__}"
    )

    # warm-up (lazy imports, first-call set-up): one call each, not timed, not scored
    first = next((d["pages"][0] for d in data.values() if d["pages"]), None)
    if first is not None:
        for name in EXTRACTORS:
            try:
                RUNNERS[name](first["html"], first["url"])
            except Exception:
                pass

    # 2. extract and score
    results: dict = {"limit": args.limit, "trafilatura_version": trafilatura.__version__, "datasets": {}}
    total = {n: {"pages": 0, "seconds": 0.0} for n in EXTRACTORS}
    k = 0
    for ds, d in data.items():
        stats = {
            n: {
                "pages": 0,
                "seconds": 0.0,
                "exceptions": 0,
                "timeouts": 0,
                "empty_text": 0,
                "exception_types": Counter(),
            }
            for n in EXTRACTORS
        }
        accs = {n: new_acc() for n in EXTRACTORS}
        per_page = []
        naive_dates = 0
        for page in d["pages"]:
            order = EXTRACTORS if k % 2 == 0 else EXTRACTORS[::-1]
            k += 1
            outs = {n: call(n, page, args.page_timeout, stats[n]) for n in order}
            row = {"id": page["id"]}
            for n in EXTRACTORS:
                row[n] = score_page(ds, page, outs[n], accs[n])
            if page.get("date") and date_scores(page["date"], None).get("gold_naive_time"):
                naive_dates += 1
            per_page.append(row)
            page.pop("html", None)
        scores = {n: summarise(ds, accs[n]) for n in EXTRACTORS}
        notes = []
        if naive_dates:
            notes.append(
                f"{naive_dates} gold date(s) have a time but no offset: same day only, not counted for same instant"
            )
        info = {
            "pages": len(d["pages"]),
            "skipped": dict(d["skipped"]),
            "scores": scores,
            "stats": {n: {**s, "exception_types": dict(s["exception_types"])} for n, s in stats.items()},
            "notes": notes,
            "per_page": per_page,
        }
        print_dataset(ds, info)
        for n in EXTRACTORS:
            total[n]["pages"] += stats[n]["pages"]
            total[n]["seconds"] += stats[n]["seconds"]
            if stats[n]["exception_types"]:
                print(f"  {n} exception types: {dict(stats[n]['exception_types'])}")
        results["datasets"][ds] = info

    # 3. speed
    speed = {
        n: {"pages": t["pages"], "seconds": t["seconds"], "pages_per_s": _div(t["pages"], t["seconds"])}
        for n, t in total.items()
    }
    results["speed"] = speed
    print(
        f"\n== speed: {total['carewatch']['pages']} pages, extraction calls only (one process, call order "
        "alternating page by page)"
    )
    table(
        [
            ("pages/s", speed["carewatch"]["pages_per_s"], speed["trafilatura"]["pages_per_s"], True),
            ("seconds", speed["carewatch"]["seconds"], speed["trafilatura"]["seconds"], True),
        ]
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
        print(f"\nresults written to {args.json}")


if __name__ == "__main__":
    main()
