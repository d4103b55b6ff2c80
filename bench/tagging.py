"""Topic tagging and relevance against the hand-labelled set in tests/tagging_set/, beside a keyword
baseline, and the speed of re-tagging a large archive. Run: ``.venv/bin/python bench/tagging.py
[--archive 100000]``.

Labelled set: 165 short articles written and labelled for this project (tests/tagging_set/*.yaml:
relevant or not, the topics a campaigner would give, the confusable each irrelevant one models). It
is split by a hash of each id into a development part (2/3, the one looked at while writing
config/topics.yaml) and a held-out part (1/3, never looked at); both are printed, and the whole.

Baseline (same run): relevant = the text names "Birmingham" and one of the phrases children's
services / children's social care / children's trust / child protection / looked after / in care /
care leavers / fostering / social worker; a topic = any of its label's obvious keywords appears.

Re-tag speed: an archive of N generated articles (each 12-25 sentences drawn from the labelled texts)
is written to a SQLite file, then ``carewatch tag --retag`` (the real command, a real process) re-tags
it; the bench prints articles per second and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from carewatch.config import load_config
from carewatch.pipelines.tag import Tagger

SET = ROOT / "tests" / "tagging_set"
TOPICS = [
    "privatisation",
    "ofsted",
    "funding",
    "child_deaths",
    "workforce",
    "leadership",
    "send",
    "campaigns",
    "council_finances",
]
TARGET_F1, TARGET_P, TARGET_R = 0.85, 0.95, 0.95
# Outlets whose scope is Birmingham's own services: in config/sources.yaml their sources say `local: true`.
LOCAL = {
    "Birmingham Against the Cuts",
    "Birmingham Children's Trust",
    "Birmingham City Council",
    "Birmingham City Council e-petitions",
    "Birmingham Parent Carer Forum",
    "Birmingham SEND Voice",
    "Birmingham Socialist Party",
    "Chamberlain Files",
    "The Chamberlain Files",
    "UNISON Birmingham Branch",
    "UNISON Birmingham branch",
}

BASELINE_SUBJECTS = re.compile(
    r"children['’]?s services|children['’]?s social care|children['’]?s trust|child protection|looked[- ]after|"
    r"in care|care leavers?|foster|social workers?",
    re.I,
)
BASELINE_TOPICS = {
    "privatisation": r"privati[sz]",
    "ofsted": r"ofsted",
    "funding": r"\bcuts?\b|budget|funding",
    "child_deaths": r"death|serious case review",
    "workforce": r"social workers?|staff",
    "leadership": r"director|chief executive|commissioner|leader",
    "send": r"\bSEND\b|special educational needs",
    "campaigns": r"campaign|protest|petition",
    "council_finances": r"section 114|equal pay|council tax",
}


def load_set() -> list[dict]:
    items = []
    for f in sorted(SET.glob("*.yaml")):
        items += yaml.safe_load(f.read_text(encoding="utf-8"))
    return items


def held_out(item: dict) -> bool:
    return int(hashlib.sha1(item["id"].encode()).hexdigest(), 16) % 3 == 0


def baseline(item: dict) -> tuple[set[str], bool]:
    text = f"{item['title']}\n{item['text']}"
    relevant = "birmingham" in text.lower() and bool(BASELINE_SUBJECTS.search(text))
    return {t for t, pat in BASELINE_TOPICS.items() if re.search(pat, text, re.I)}, relevant


def score(items: list[dict], predict) -> dict:
    per = {t: Counter() for t in TOPICS}
    rel = Counter()
    for it in items:
        topics, relevant = predict(it)
        gold = set(it.get("topics") or [])
        for t in TOPICS:
            per[t]["tp" if t in gold and t in topics else "fp" if t in topics else "fn" if t in gold else "tn"] += 1
        rel["tp" if relevant and it["relevant"] else "fp" if relevant else "fn" if it["relevant"] else "tn"] += 1
    out = {}
    for t, c in per.items():
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        out[t] = (p, r, 2 * p * r / (p + r) if p + r else 0.0, c["tp"] + c["fn"])
    out["macro_f1"] = sum(out[t][2] for t in TOPICS) / len(TOPICS)
    p = rel["tp"] / (rel["tp"] + rel["fp"]) if rel["tp"] + rel["fp"] else 0.0
    r = rel["tp"] / (rel["tp"] + rel["fn"]) if rel["tp"] + rel["fn"] else 0.0
    out["relevance"] = (p, r, rel)
    return out


def quality(show_errors: bool) -> None:
    config = load_config(ROOT / "config")
    tagger = Tagger(config.topics, config.entities)

    def ours(it: dict) -> tuple[set[str], bool]:
        topics, _, relevant, _, _ = tagger.tag(
            it["title"], it["text"], str(it.get("published") or ""), it["source"] in LOCAL
        )
        return {m.topic for m in topics}, relevant

    items = load_set()
    parts = {
        "development": [i for i in items if not held_out(i)],
        "held-out": [i for i in items if held_out(i)],
        "all": items,
    }
    print(
        f"labelled set: {len(items)} articles ({sum(i['relevant'] for i in items)} relevant), "
        f"{len(parts['development'])} development, {len(parts['held-out'])} held-out"
    )
    for name, part in parts.items():
        a, b = score(part, ours), score(part, baseline)
        print(f"\n== {name} ({len(part)} articles)")
        print(f"  {'topic':<18}{'n':>4}  {'carewatch P/R/F1':>20}  {'baseline P/R/F1':>20}")
        for t in TOPICS:
            pa, ra, fa, n = a[t]
            pb, rb, fb, _ = b[t]
            print(f"  {t:<18}{n:>4}  {pa:>6.2f} {ra:>6.2f} {fa:>6.2f}  {pb:>6.2f} {rb:>6.2f} {fb:>6.2f}")
        print(
            f"  {'macro-F1':<22}{a['macro_f1']:>20.3f}{b['macro_f1']:>22.3f}   (target >= {TARGET_F1}) "
            f"{'OK' if a['macro_f1'] >= TARGET_F1 else 'BELOW TARGET'}   "
            f"ratio {a['macro_f1'] / max(b['macro_f1'], 1e-9):.2f}"
        )
        (pa, ra, ca), (pb, rb, cb) = a["relevance"], b["relevance"]
        ok = pa >= TARGET_P and ra >= TARGET_R
        print(
            f"  relevance precision {pa:.3f} recall {ra:.3f}  (tp {ca['tp']} fp {ca['fp']} fn {ca['fn']})   "
            f"baseline precision {pb:.3f} recall {rb:.3f}  (tp {cb['tp']} fp {cb['fp']} fn {cb['fn']})   "
            f"(target P >= {TARGET_P} at R >= {TARGET_R}) {'OK' if ok else 'BELOW TARGET'}"
        )
    if show_errors:
        print("\n== development errors")
        for it in parts["development"]:
            topics, relevant = ours(it)
            gold = set(it.get("topics") or [])
            if topics != gold or relevant != it["relevant"]:
                print(
                    f"  {it['id']} rel {it['relevant']}->{relevant} "
                    f"missing {sorted(gold - topics)} extra {sorted(topics - gold)}"
                    f"  {it['title'][:60]!r}"
                )


def retag_speed(n: int) -> None:

    from bench.dedup import sentences
    from carewatch.core.items import article_id_for
    from carewatch.core.urls import url_key
    from carewatch.store.db import open_db

    items = load_set()
    sents = [s for it in items for s in sentences(it["text"]) if len(s.split()) >= 5]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archive.db"
        db = open_db(path)
        rng = random.Random(7)
        t0 = time.perf_counter()
        rows = []
        for i in range(n):
            url = f"https://archive{i % 50}.example/a/{i}"
            k = url_key(url)
            text = "\n".join(rng.choice(sents) for _ in range(rng.randint(12, 25)))
            rows.append(
                {
                    "article_id": article_id_for(k),
                    "url": url,
                    "canonical_url": url,
                    "url_key": k,
                    "source_id": f"archive-{i % 50}",
                    "title": f"Archive story {i}",
                    "text": text,
                    "published": f"20{10 + i % 15:02d}-0{1 + i % 9}-1{i % 10}",
                    "first_seen": "2024-01-01",
                    "updated": "2024-01-01",
                    "version": 1,
                }
            )
            if len(rows) == 5000:
                db["articles"].insert_all(rows, batch_size=1000)
                rows = []
        if rows:
            db["articles"].insert_all(rows, batch_size=1000)
        db.close()
        print(f"\narchive of {n} generated articles written in {time.perf_counter() - t0:.1f}s")
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                str(Path(sys.executable).parent / "carewatch"),
                "--config",
                str(ROOT / "config"),
                "--db",
                str(path),
                "tag",
                "--retag",
            ],
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:])
        print(
            f"carewatch tag --retag: {n} articles in {elapsed:.1f}s = {n / elapsed:.0f} articles/s; "
            f"peak resident memory of the process {peak:.0f} MB (exit {proc.returncode})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=int, default=100_000, help="articles to re-tag (0: skip)")
    parser.add_argument("--errors", action="store_true", help="list the development part's errors")
    args = parser.parse_args()
    quality(args.errors)
    if args.archive:
        retag_speed(args.archive)


if __name__ == "__main__":
    main()
    from realset import run_real_set  # bench/realset.py, beside this script

    run_real_set("real_relevance.py", "relevance and topics")
