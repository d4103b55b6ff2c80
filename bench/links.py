"""Story <-> document links (pipelines/links.py) against the labelled set in bench/links_set/, beside a
baseline measured in the same run. Run: ``.venv/bin/python bench/links.py [--check]``.

Labelled set: article-document pairs, each labelled link or not, with the kind of case it models
(bench/links_set/README.md): ``tuning.yaml``, the part looked at while writing the rules, and
``heldout.yaml``, written and labelled before any rule existed and not tuned on. The candidate
documents and meetings are in ``documents.yaml``; every article is offered all of them, as the
store offers the documents near an article's date, and each labelled pair is scored on whether that
document is among the links found. Where a pair names a real text (``text_from``: the seeds and
Ofsted's reports in ../shared/), it is read from there at run time; a pair whose article text is
absent is skipped and counted, a document whose text is absent falls back to its short ``text``.

Baseline (same run): link when one of the article's hrefs is one of the document's addresses
(compared by ``core.urls.url_key``, as carewatch compares pages), or the article contains the
document's exact title (case and spacing ignored).

Exit status: 1 with ``--check`` when precision or recall of either part is below 0.95.
"""

from __future__ import annotations

import argparse
import sys
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from carewatch.core.urls import url_key
from carewatch.pipelines.links import OfficialDoc, find_links

SET = ROOT / "bench" / "links_set"
SHARED = ROOT.parent / "shared"
PARTS = ("tuning", "heldout")
TARGET_P, TARGET_R = 0.95, 0.95


@cache
def shared_text(path: str) -> str | None:
    """A real text from ../shared/ (a seed's text, or a report PDF's first three pages)."""
    file = SHARED / path
    if not file.exists():
        return None
    if file.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(file).pages[:3])
    return file.read_text(encoding="utf-8")


def load_documents() -> list[OfficialDoc]:
    docs = []
    for d in yaml.safe_load((SET / "documents.yaml").read_text(encoding="utf-8"))["documents"]:
        text = (shared_text(d["text_from"]) if d.get("text_from") else None) or d.get("text") or ""
        docs.append(
            OfficialDoc(
                doc_id=d["doc_id"],
                kind=d["kind"],
                title=d["title"],
                url=d.get("url"),
                urls=tuple(d.get("urls") or ()),
                committee=d.get("committee"),
                date=d.get("date"),
                authority=d.get("authority"),
                text=text,
                doc_type=d.get("doc_type"),
            )
        )
    return docs


def load_part(name: str) -> tuple[list[dict], int]:
    """The part's pairs with their article text resolved, and how many were skipped (text absent)."""
    pairs, skipped = [], 0
    for p in yaml.safe_load((SET / f"{name}.yaml").read_text(encoding="utf-8"))["pairs"]:
        article = dict(p["article"])
        if article.get("text_from"):
            text = shared_text(article["text_from"])
            if text is None:
                skipped += 1
                continue
            article["text"] = text
        pairs.append({**p, "article": article})
    return pairs, skipped


def carewatch_links(article: dict, docs: list[OfficialDoc]) -> dict[str, object]:
    found = find_links(article["text"], tuple(article.get("links") or ()), article.get("published"), docs)
    return {link.doc_id: link for link in found}


def baseline_links(article: dict, docs: list[OfficialDoc]) -> dict[str, object]:
    hrefs = {url_key(u) for u in article.get("links") or ()}
    flat = " ".join(article["text"].split()).casefold()
    out = {}
    for doc in docs:
        addresses = {url_key(u) for u in (doc.url, *doc.urls) if u}
        if hrefs & addresses or " ".join(doc.title.split()).casefold() in flat:
            out[doc.doc_id] = True
    return out


def evaluate(pairs: list[dict], docs: list[OfficialDoc], predict) -> dict:
    """Precision, recall and F1 of ``predict`` on the pairs, with the misclassified ones."""
    tp = fp = fn = tn = 0
    wrong = []
    cache: dict[int, dict] = {}
    for p in pairs:
        key = id(p["article"]) if "text_from" not in p["article"] else hash(p["article"]["text"])
        found = cache.setdefault(key, predict(p["article"], docs))
        got = p["doc"] in found
        if got and p["link"]:
            tp += 1
        elif got:
            fp += 1
            wrong.append((p, "false link", found[p["doc"]]))
        elif p["link"]:
            fn += 1
            wrong.append((p, "missed", None))
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(pairs),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "wrong": wrong,
    }


def unscored(pairs: list[dict], docs: list[OfficialDoc]) -> list[tuple[str, str, str]]:
    """Links carewatch finds to documents no pair labels for that article (not scored; printed to be
    read): (first pair id of the article, doc_id, how)."""
    articles: dict[str, tuple[dict, set[str]]] = {}
    for p in pairs:
        key = p["article"]["text"]
        articles.setdefault(key, (p, set()))[1].add(p["doc"])
    out = []
    for p, labelled in articles.values():
        for doc_id, link in carewatch_links(p["article"], docs).items():
            if doc_id not in labelled:
                out.append((p["id"], doc_id, link.how))
    return out


def run_all() -> dict[str, dict]:
    """Both parts, carewatch and baseline: ``{part: {"carewatch": ..., "baseline": ..., "skipped": n}}``."""
    docs = load_documents()
    out = {}
    for name in PARTS:
        pairs, skipped = load_part(name)
        out[name] = {
            "carewatch": evaluate(pairs, docs, carewatch_links),
            "baseline": evaluate(pairs, docs, baseline_links),
            "skipped": skipped,
            "links": sum(p["link"] for p in pairs),
            "unscored": unscored(pairs, docs),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if P or R of either part < 0.95")
    args = parser.parse_args()
    results = run_all()
    docs = load_documents()
    real = sum(1 for d in yaml.safe_load((SET / "documents.yaml").read_text())["documents"] if d.get("text_from"))
    print(
        f"labelled set: {sum(r['carewatch']['n'] for r in results.values())} pairs; {len(docs)} candidate documents "
        f"({real} with real text from ../shared/{'' if SHARED.exists() else ' (absent: stand-in text used)'})"
    )
    ok = True
    for name, r in results.items():
        a, b = r["carewatch"], r["baseline"]
        skipped = f"; {r['skipped']} skipped, text absent" if r["skipped"] else ""
        print(f"\n== {name} ({a['n']} pairs: {r['links']} links, {a['n'] - r['links']} non-links{skipped})")
        print(f"  {'':<10}{'precision':>10}{'recall':>8}{'F1':>7}   tp  fp  fn  tn")
        for label, s in (("carewatch", a), ("baseline", b)):
            print(
                f"  {label:<10}{s['precision']:>10.3f}{s['recall']:>8.3f}{s['f1']:>7.3f}  "
                f"{s['tp']:>3} {s['fp']:>3} {s['fn']:>3} {s['tn']:>3}"
            )
        ratio = a["f1"] / b["f1"] if b["f1"] else float("inf")
        part_ok = a["precision"] >= TARGET_P and a["recall"] >= TARGET_R
        ok &= part_ok
        print(
            f"  ratio carewatch/baseline: F1 {ratio:.2f}, precision {a['precision'] / max(b['precision'], 1e-9):.2f}, "
            f"recall {a['recall'] / max(b['recall'], 1e-9):.2f}   "
            f"(target P >= {TARGET_P} and R >= {TARGET_R}) {'OK' if part_ok else 'BELOW TARGET'}"
        )
        for label, s in (("carewatch", a), ("baseline", b)):
            if not s["wrong"]:
                print(f"  {label} misclassified: none")
                continue
            print(f"  {label} misclassified:")
            for p, what, link in s["wrong"]:
                how = f" [{link.how}: {link.evidence[:70]!r}]" if link is not None and link is not True else ""
                print(f"    {p['id']:<5} {what:<10} {p['doc']:<32} {p['case']}{how}")
        print(
            f"  carewatch links to documents not labelled for the article (not scored, read them): {len(r['unscored'])}"
        )
        for pair_id, doc_id, how in r["unscored"]:
            print(f"    {pair_id:<5} {doc_id:<32} {how}")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
