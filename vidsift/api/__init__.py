"""`vidsift serve`: an HTTP JSON API over one workspace (a face, like the CLI and the page).

``schemas`` describes the JSON shapes (the same as the CLI's ``--json``), ``auth`` the tokens,
scopes and rate limits, ``app`` the routes (``create_app``), ``client`` a small Python client.
See docs/serve.md.
"""
