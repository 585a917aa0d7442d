"""The web dashboard at ``/`` (issue 18): a page of plain ES modules with no build step and
nothing fetched from the internet, which signs in with an API key and uses the public API like
any client. This package only serves it: the page, its static files and the bundled examples,
each with a strict Content-Security-Policy (no inline script or style, no eval)."""
