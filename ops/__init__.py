"""The service layer: what carewatch does, as plain functions taking typed settings and a store
handle and returning typed results. The interfaces (cli, daemon, demo, archive) call these."""
