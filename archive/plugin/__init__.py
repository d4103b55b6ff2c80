"""carewatch's Datasette plugin, which ``carewatch serve`` loads through archive/plugins/ (see the
loader there). Its settings come from the metadata archive/serve.py writes (``plugins:
carewatch-archive:``): ``public_database`` and ``private_database`` (the archive file served
twice), ``private_tables`` (subscribers and what they were sent) and ``labels`` (source names,
topic labels, entity names; also the names a search may use).

- hooks.py: every Datasette hook the plugin implements, each handing over to the modules below.
- privacy.py: on the public database's connections a SQLite authorizer refuses every read of the
  private tables, so no table page, JSON export, facet or ``?sql=`` can return a row of them;
  Datasette does not list them there, and is told that no foreign keys lead to them (the article
  page's "links from other tables" would otherwise count rows in them). The same file is opened
  a second time as the private database, which the metadata lets only the signed-in operator
  (root) see. Read-only: every connection of both databases is ``PRAGMA query_only`` (on top of
  Datasette's ``mode=ro``), the authorizer refuses ATTACH and raw page reads (sqlite_dbpage), and
  any request but GET or HEAD is answered 405 (but a POST to the sign-out and the subscription pages).
- facets.py: facets Datasette has no class for: ``through`` (a many-to-many table, e.g. an
  article's topics in article_topics, selected with Datasette's own ``_through=`` filter), ``year``,
  and ``summary`` (several facets counted by one query).
- context.py and rendering.py: reading. Article search results as a list with highlighted FTS5
  snippets (templates/_table.html), the article page with its links and a citation
  (templates/row.html), diffs shown as removed and added words, and links from ids to the
  article, its story and its source.
- search.py: the articles' ``?_search=`` in the alert rule language (in place of Datasette's own
  search), decided as ``carewatch alerts test`` decides; an unknown name answered 400, saying why.
- routes.py: the plugin's own URLs (story pages, meeting pages, evidence packs, feeds), its stylesheet.
- meetings.py: the civic calendar in words: a council meeting's page (its items, their papers and
  each paper's press coverage, what changed), and on an article's page the meeting a paper is from,
  the coverage an official document got and the documents a press article cites
  (carewatch.ops.meetings, over article_links).
- subscribe.py: the self-service subscription pages (sign up, confirm, manage, unsubscribe and the
  RFC 8058 one-click), thin handlers over carewatch.ops.subscriptions, with their CSRF checks.
- settings.py: the plugin's settings, as the metadata gives them.

The queries are the store's (store.archive_queries), reached through the service layer
(carewatch.ops.archive), on Datasette's own connections.
"""
