"""Rebuild the real sets' text cache (outside the repository) from pages copied out of the search tool.

The real labelled sets keep URLs and labels only (issue 22); their texts live in a cache outside the
repository (/work/cache/carewatch-real/{relevance,pairs}/<sha1 of url>.json) that a fresh machine
does not have. Only an agent can call the search tool, so the cache is rebuilt in two steps:

    python bench/real_sets/cache_texts.py todo --chunks 4 --out /tmp/todo
        writes, for each set, the pages still missing from the cache, in chunks a person (or helper)
        can work through: for relevance pages the query that found each one (``found_by``), for
        pair pages the pair's group, reason and URL (search its headline words).
    python bench/real_sets/cache_texts.py ingest /tmp/cachein
        reads every ``*.txt`` under that folder, each holding one or more pages copied from the
        search tool's answers, and writes their cache files (a page of both sets goes to both):

            ### url: https://...
            ### query: the query that returned it
            the excerpt, exactly as the tool returned it
            ### url: https://... (the next page)

    python bench/real_sets/cache_texts.py status
        how many labelled pages of each set are cached.

Written by hand: the cache's format is this project's own; no library knows it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
from collections import defaultdict
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CACHE_ROOT = Path(os.environ.get("CAREWATCH_REAL_CACHE_ROOT", "/work/cache/carewatch-real"))
PAGE_START = re.compile(r"^### url:\s*(\S+)\s*$")
QUERY_LINE = re.compile(r"^### query:\s*(.*?)\s*$")


def sha1_name(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8")).hexdigest() + ".json"


def relevance_pages() -> list[dict]:
    return yaml.safe_load((HERE / "relevance.yaml").read_text(encoding="utf-8"))["pages"]


def pair_items() -> dict[str, dict]:
    """url -> {"published", "date_source", "pairs": [(id, group, kind, reason)]} for search-tool pages."""
    items: dict[str, dict] = {}
    for p in yaml.safe_load((HERE / "pairs.yaml").read_text(encoding="utf-8"))["pairs"]:
        for side in (p["a"], p["b"]):
            if side.get("shared"):
                continue
            item = items.setdefault(
                side["url"], {"published": side["published"], "date_source": side["date_source"], "pairs": []}
            )
            item["pairs"].append((p["id"], p["group"], p["kind"], p["reason"]))
    return items


def cached(kind: str, url: str) -> bool:
    return (CACHE_ROOT / kind / sha1_name(url)).is_file()


def todo(chunks: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    by_query: dict[str, list[str]] = defaultdict(list)
    for p in relevance_pages():
        if not cached("relevance", p["url"]):
            by_query[p["found_by"]].append(p["url"])
    by_group: dict[str, list[str]] = defaultdict(list)
    items = pair_items()
    for url, item in items.items():
        if not cached("pairs", url):
            by_group[item["pairs"][0][1]].append(url)
    write_chunks(out / "relevance", sorted(by_query.items()), chunks, relevance_block)
    write_chunks(out / "pairs", sorted(by_group.items()), chunks, lambda g, urls: pairs_block(g, urls, items))
    print(f"relevance: {sum(map(len, by_query.values()))} pages missing, {len(by_query)} queries")
    print(f"pairs: {sum(map(len, by_group.values()))} pages missing, {len(by_group)} groups")
    print(f"chunks written under {out}")


def relevance_block(query: str, urls: list[str]) -> str:
    return f"QUERY (corpus pages unless a page is not found there; then try docs): {query}\n" + "".join(
        f"  - {u}\n" for u in urls
    )


def pairs_block(group: str, urls: list[str], items: dict[str, dict]) -> str:
    lines = [f"GROUP {group}"]
    for u in urls:
        reasons = "; ".join(f"{pid} {kind}: {reason}" for pid, _, kind, reason in items[u]["pairs"])
        lines.append(f"  - {u}\n      published {items[u]['published']}; {reasons}")
    return "\n".join(lines) + "\n"


def write_chunks(base: Path, blocks: list, chunks: int, render) -> None:
    base.mkdir(parents=True, exist_ok=True)
    for old in base.glob("chunk-*.txt"):
        old.unlink()
    if not blocks:
        return
    sizes = [0] * chunks
    texts: list[list[str]] = [[] for _ in range(chunks)]
    for key, urls in sorted(blocks, key=lambda kv: -len(kv[1])):
        i = sizes.index(min(sizes))
        sizes[i] += len(urls)
        texts[i].append(render(key, urls))
    for i, parts in enumerate(texts):
        if parts:
            (base / f"chunk-{i + 1}.txt").write_text("\n".join(parts), encoding="utf-8")


def parse(path: Path) -> list[dict]:
    pages, current = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        start = PAGE_START.match(line)
        if start:
            current = {"url": start.group(1), "query": "", "lines": []}
            pages.append(current)
            continue
        if current is None:
            continue
        query = QUERY_LINE.match(line)
        if query and not current["lines"]:
            current["query"] = query.group(1)
            continue
        current["lines"].append(line)
    for page in pages:
        page["text"] = "\n".join(page.pop("lines")).strip("\n")
    return pages


def ingest(folder: Path) -> None:
    wanted_rel = {p["url"] for p in relevance_pages()}
    items = pair_items()
    written = {"relevance": 0, "pairs": 0}
    unknown, short = [], []
    for path in sorted(folder.rglob("*.txt")):
        for page in parse(path):
            url, text = page["url"], page["text"]
            if len(text) < 200:
                short.append((path.name, url, len(text)))
                continue
            record = {"url": url, "title": "", "text": text, "fetched_via": "search tool", "query": page["query"]}
            hit = False
            if url in wanted_rel:
                save("relevance", url, record)
                written["relevance"] += 1
                hit = True
            if url in items:
                extra = {k: items[url][k] for k in ("published", "date_source")}
                save("pairs", url, {**record, **extra})
                written["pairs"] += 1
                hit = True
            if not hit:
                unknown.append((path.name, url))
    print(f"written: relevance {written['relevance']}, pairs {written['pairs']}")
    for name, url in unknown:
        print(f"  not a labelled page: {name}: {url}")
    for name, url, n in short:
        print(f"  too short ({n} characters), skipped: {name}: {url}")
    status()


def save(kind: str, url: str, record: dict) -> None:
    path = CACHE_ROOT / kind / sha1_name(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")


def status() -> None:
    rel = relevance_pages()
    items = pair_items()
    print(f"relevance: {sum(cached('relevance', p['url']) for p in rel)} of {len(rel)} pages cached")
    print(f"pairs: {sum(cached('pairs', u) for u in items)} of {len(items)} search-tool pages cached")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="verb", required=True)
    t = sub.add_parser("todo")
    t.add_argument("--chunks", type=int, default=4)
    t.add_argument("--out", type=Path, default=Path("/tmp/todo"))
    i = sub.add_parser("ingest")
    i.add_argument("folder", type=Path)
    sub.add_parser("status")
    args = ap.parse_args()
    if args.verb == "todo":
        todo(args.chunks, args.out)
    elif args.verb == "ingest":
        ingest(args.folder)
    else:
        status()


if __name__ == "__main__":
    main()
