"""Read and validate the YAML config folder. Errors name the file, the line and the field.

PyYAML gives line numbers only on its node tree, so each file is parsed once into that tree,
the values are constructed from it, and a pydantic error path (or a cross-reference check's) is
walked down the same tree to the line it points at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from carewatch.config.environment import find_config_dir, with_environment
from carewatch.config.messages import apostrophe_hint, describe
from carewatch.config.schema import Alerts, Config, Entities, Settings, Sources, Topics, query_names
from carewatch.core.errors import ConfigError
from carewatch.core.query import UnknownName, check_names, unknown_name

BUNDLED = Path(__file__).resolve().parent  # the config folder shipped with carewatch


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, v in node.value if k.value == part), None)
            if child is None:
                return line
            line = (key or child).start_mark.line + 1
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _error(path: Path, node: yaml.Node | None, loc: tuple[Any, ...], message: str) -> ConfigError:
    """``FILE:LINE: FIELD: MESSAGE``, the line found by walking LOC down the file's node tree."""
    return ConfigError(f"{path}:{_line_of(node, loc)}: {'.'.join(map(str, loc))}: {message}")


_KEY = re.compile(r"""^\s*(?:-\s+)*("[^"]*"|'[^']*'|[^\s#'"\[\]{},:-][^#:]*?)\s*:(?:\s|$)""")


def _key_near(text: str, line: int) -> str:
    """' in KEY': the key written on LINE of a file that does not parse, else the nearest key above
    it: the field a YAML syntax error (or an undecodable byte) is in, as far as it can be known."""
    lines = text.splitlines()
    for i in range(min(line, len(lines)), 0, -1):
        if m := _KEY.match(lines[i - 1]):
            return f" in {m[1].strip(chr(39) + chr(34))}"
    return ""


def _yaml_error(path: Path, text: str, e: yaml.YAMLError) -> ConfigError:
    """One line naming the file, line and key of a YAML syntax error. A bracket or quote left open is
    reported where it was opened (PyYAML's own mark is where it gave up, often the end of the file)."""
    mark, context = getattr(e, "problem_mark", None), getattr(e, "context", None) or ""
    problem = getattr(e, "problem", None) or str(e)
    if mark is None:
        return ConfigError(f"{path}: not valid YAML: {problem}")
    line, hint = mark.line + 1, ""
    opened = getattr(e, "context_mark", None)
    lines = text.splitlines()
    quote = "'<scalar>'" in problem and mark.line < len(lines) and apostrophe_hint(lines[mark.line], mark.column)
    if quote:
        return ConfigError(f"{path}:{line}: not valid YAML{_key_near(text, line)}: {quote}")
    if opened is not None and ("flow" in context or "quoted scalar" in context):
        line = opened.line + 1
        hint = f" (the {'quote' if 'quoted' in context else 'bracket'} opened on this line is never closed)"
    elif "'\\t'" in problem:
        hint = " (indent with spaces: YAML does not allow tabs)"
    return ConfigError(f"{path}:{line}: not valid YAML{_key_near(text, line)}: {problem}{hint}")


def _duplicate_key(node: yaml.Node | None, loc: tuple[Any, ...] = ()) -> tuple[tuple[Any, ...], int, int] | None:
    """The first key written twice in one mapping, as (field, line, first line): plain YAML keeps the
    last silently, so a setting pasted twice would change behaviour without a word."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is not None and key.tag != "tag:yaml.org,2002:merge":
                if name in first:
                    return loc + (name,), key.start_mark.line + 1, first[name]
                first[name] = key.start_mark.line + 1
            if found := _duplicate_key(value, loc + (name,)):
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            if found := _duplicate_key(item, loc + (i,)):
                return found
    return None


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """(node tree, values) of a YAML document, parsed once (yaml.compose then yaml.safe_load would
    parse it twice)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _read(path: Path, model: type[BaseModel]) -> tuple[BaseModel, yaml.Node | None]:
    """The file validated by MODEL, and its node tree (for the line numbers of later checks)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: file not found") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e}") from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - raw.rfind(b"\n", 0, e.start)
        key = _key_near(raw.decode("utf-8", "replace"), line)
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text{key}: byte {raw[e.start]:#04x} at column {column} (save the file as UTF-8)"
        ) from e
    try:
        node, data = _parse(text)
    except yaml.YAMLError as e:
        raise _yaml_error(path, text, e) from e
    if dup := _duplicate_key(node):
        loc, line, first = dup
        raise ConfigError(
            f"{path}:{line}: {'.'.join(map(str, loc))}: duplicate key {loc[-1]!r} (first on line "
            f"{first}; only one may be given)"
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}:1: (top level): expected a mapping of settings at the top level, not a {type(data).__name__}"
        )
    try:
        return model.model_validate(data), node
    except ValidationError as e:
        lines = []
        for err in e.errors():
            loc = tuple(err["loc"])
            field = ".".join(str(p) for p in loc) or "(top level)"
            line = _line_of(node, loc) or 1  # an empty file has no node: its first line
            msg = describe(dict(err), model) + (" (the file is empty)" if node is None else "")
            lines.append(f"{path}:{line}: {field}: {msg}")
        raise ConfigError("\n".join(lines)) from e


def load_config(directory: str | os.PathLike[str] | None = None) -> Config:
    """Load and validate every file of the config folder; raise ConfigError naming file, line, field.
    The settings are settings.yaml's with the environment's overrides applied (config.environment);
    a snapshot (a ``.json`` file a parent wrote) is taken as it is, overrides already in it."""
    d = find_config_dir(directory)
    if d.is_file() and d.suffix == ".json":  # a snapshot a parent process handed to its crawl child
        return Config.model_validate_json(d.read_text(encoding="utf-8"))
    if not d.is_dir():
        raise ConfigError(f"{d}: config folder not found (use --config DIR or $CAREWATCH_CONFIG)")
    settings, settings_node = (
        _read(d / "settings.yaml", Settings) if (d / "settings.yaml").exists() else (Settings(), None)
    )
    sources, sources_node = _read(d / "sources.yaml", Sources)
    # topics.yaml falls back to the bundled topics, so a config folder need only list sources.
    topics_file = d / "topics.yaml" if (d / "topics.yaml").exists() else BUNDLED / "topics.yaml"
    topics, topics_node = _read(topics_file, Topics)
    alerts_file = d / "alerts.yaml"
    alerts, alerts_node = _read(alerts_file, Alerts) if alerts_file.exists() else (Alerts(), None)
    entities_file = d / "entities.yaml" if (d / "entities.yaml").exists() else BUNDLED / "entities.yaml"
    entities, entities_node = _read(entities_file, Entities)
    assert isinstance(settings, Settings) and isinstance(sources, Sources)
    assert isinstance(topics, Topics) and isinstance(alerts, Alerts) and isinstance(entities, Entities)
    _check_unique_sources(d / "sources.yaml", sources_node, sources)
    names = query_names(topics, sources.sources, entities)
    _check_query_names(topics_file, topics_node, _topic_queries(topics), names, exact=True)
    _check_query_names(entities_file, entities_node, _entity_queries(entities), names, exact=True)
    _check_topic_references(topics_file, topics_node, topics)
    _check_local_entities(topics_file, topics_node, topics, entities)
    _check_cross_references(alerts_file, alerts_node, topics, alerts, sources, names)
    settings = with_environment(settings)
    _check_signup_links(d / "settings.yaml", settings_node, settings)
    return Config(
        directory=str(d),
        settings=settings,
        sources=sources.sources,
        topics=topics,
        alerts=alerts,
        entities=entities,
    )


def _check_local_entities(path: Path, node: yaml.Node | None, topics: Topics, entities: Entities) -> None:
    """relevance.local_entities names entities of entities.yaml."""
    for i, eid in enumerate(topics.relevance.local_entities):
        if eid not in entities.entities:
            loc = ("relevance", "local_entities", i)
            raise _error(path, node, loc, unknown_name("entity", eid, entities.entities))


def _check_signup_links(path: Path, node: yaml.Node | None, settings: Settings) -> None:
    """Sign-up (open or approval) mails links to confirm, manage and unsubscribe: they are made from
    public_url (or $CAREWATCH_PUBLIC_URL), never from the Host a request names (which whoever sends
    the request chooses), so sign-up without it would mail links that lead nowhere."""
    if settings.signup != "closed" and not settings.public_url:
        raise ConfigError(
            f"{path}:{_line_of(node, ('signup',)) or 1}: signup: {settings.signup!r} needs public_url (or "
            "$CAREWATCH_PUBLIC_URL), where 'carewatch serve' is published: the confirmation email's link "
            "is made from it"
        )


def _check_unique_sources(path: Path, node: yaml.Node | None, sources: Sources) -> None:
    """Source ids and names are unique (a name is how digests and the archive show a source, so two
    alike could not be told apart): the second use is named by its own line and index."""
    for field, what in (("id", "source id"), ("name", "source name")):
        first: dict[str, int] = {}
        for i, s in enumerate(sources.sources):
            value = getattr(s, field)
            key = value.strip().casefold() if field == "name" else value
            if key in first:
                j = first[key]
                raise _error(
                    path,
                    node,
                    ("sources", i, field),
                    f"duplicate {what} {value!r} "
                    f"(also sources.{j}.{field}, line {_line_of(node, ('sources', j, field))})",
                )
            first[key] = i


def _check_topic_references(path: Path, node: yaml.Node | None, topics: Topics) -> None:
    """``topic:ID`` in a topic's rules or exclusions must name another topic, with no cycle."""
    from carewatch.core.query import parse

    uses: dict[str, set[str]] = {}
    for tid, topic in topics.topics.items():
        spots = [("rules", i, r.query) for i, r in enumerate(topic.rules)] + [
            ("exclude", i, q) for i, q in enumerate(topic.exclude)
        ]
        for key, i, query in spots:
            for name, value in parse(query).fields():
                if name != "topic" or value not in topics.topics:  # unknown: _check_query_names
                    continue
                loc = ("topics", tid, key, i) + (("query",) if key == "rules" else ())
                if value == tid:
                    raise _error(path, node, loc, f"topic {tid!r} refers to itself in {query!r}")
                uses.setdefault(tid, set()).add(value)
    seen: set[str] = set()

    def visit(tid: str, path_: tuple[str, ...]) -> None:
        if tid in path_:
            raise ConfigError(f"{path}: topics refer to each other in a cycle: {' -> '.join(path_ + (tid,))}")
        if tid in seen:
            return
        for other in uses.get(tid, ()):
            visit(other, path_ + (tid,))
        seen.add(tid)

    for tid in uses:
        visit(tid, ())


def _at(loc: tuple[Any, ...], q: Any) -> tuple[tuple[Any, ...], str]:
    """(field, query) of a list entry: a bare query, or an evidence or dated alias (its ``query``)."""
    return (loc, q) if isinstance(q, str) else (loc + ("query",), q.query)


def _topic_queries(topics: Topics) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(field, query) of every query in topics.yaml."""
    for tid, topic in topics.topics.items():
        for key in ("terms", "rules", "not_counting", "exclude"):
            for i, q in enumerate(getattr(topic, key)):
                yield _at(("topics", tid, key, i), q)
    for key in ("places", "not_places", "other_places", "subjects", "rules", "not_counting", "exclude"):
        for i, q in enumerate(getattr(topics.relevance, key)):
            yield _at(("relevance", key, i), q)
    if (addressed := topics.relevance.addressed_to_reader) is not None:
        yield _at(("relevance", "addressed_to_reader", "words"), addressed.words)
        for i, q in enumerate(addressed.unless):
            yield _at(("relevance", "addressed_to_reader", "unless", i), q)


def _entity_queries(entities: Entities) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(field, query) of every alias in entities.yaml."""
    for eid, entity in entities.entities.items():
        for i, a in enumerate(entity.aliases):
            yield _at(("entities", eid, "aliases", i), a)


def _check_query_names(
    path: Path,
    node: yaml.Node | None,
    queries: Iterable[tuple[tuple[Any, ...], str]],
    names: dict,
    exact: bool = False,
) -> None:
    """Every topic:, source: and entity: a query names exists (core.query.check_names; ``exact``:
    ``exact:`` is allowed, as in the tagging rules), the error naming the file, line and field."""
    for loc, query in queries:
        try:
            check_names(query, names, exact)
        except UnknownName as e:
            raise _error(path, node, loc, str(e)) from None


def _check_cross_references(
    path: Path, node: yaml.Node | None, topics: Topics, alerts: Alerts, sources: Sources, names: dict
) -> None:
    """Subscribers: unique ids, and the topics, sources and entities they name (also in their rules) exist."""
    seen: set[str] = set()
    source_ids = {s.id for s in sources.sources}
    for i, sub in enumerate(alerts.subscribers):
        if sub.id in seen:
            raise _error(path, node, ("subscribers", i, "id"), f"duplicate subscriber id {sub.id!r}")
        seen.add(sub.id)
        _check_query_names(path, node, ((("subscribers", i, "rules", j), r) for j, r in enumerate(sub.rules)), names)
        for j, source in enumerate(sub.sources):
            if source not in source_ids:
                raise _error(
                    path,
                    node,
                    ("subscribers", i, "sources", j),
                    f"unknown source {source!r} (not an id in sources.yaml)",
                )
        for j, topic in enumerate(sub.topics):
            if topic not in topics.topics:
                known = ", ".join(sorted(topics.topics))
                raise _error(
                    path, node, ("subscribers", i, "topics", j), f"unknown topic {topic!r} (topics.yaml has: {known})"
                )
