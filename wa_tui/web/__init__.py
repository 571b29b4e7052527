"""`wa-tui web`: the recorder's dashboard in a browser, read-only.

Each browser tab is a session: a follower of the recorder's files (`wa-tui --follow`)
run as its own process under Textual's web driver, in its own process group, with an
allow-listed environment and a private temporary folder; `session.py` speaks the driver's
packets. `server.py` serves the page (textual-serve's browser assets, served from the
package), the WebSocket each session speaks over, and its downloads, all behind the
exporter's web configuration (wa_tui/outputs/serving.py). No Textual is imported here:
the sessions draw, the server only carries bytes.
"""
