// The session's WebSocket address, made from the page's own: the same origin, under
// TLS when the page is, below wherever a reverse proxy serves the page.
(function () {
  const address = new URL("ws", window.location.href);
  address.protocol = address.protocol === "https:" ? "wss:" : "ws:";
  address.search = "";
  address.hash = "";
  document.getElementById("terminal").dataset.sessionWebsocketUrl = address.href;
})();
