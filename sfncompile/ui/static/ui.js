// Live pages: while <main data-live="1"> (a run or task still going), fetch the same
// page's <main> again every 2 s and swap it in. The server renders and escapes
// everything; this only moves its HTML into place.
(function () {
  "use strict";
  var PERIOD = 2000;
  function live() {
    var main = document.getElementById("main");
    return main && main.getAttribute("data-live") === "1";
  }
  function tick() {
    var url = new URL(window.location.href);
    url.searchParams.set("partial", "1");
    fetch(url.toString(), { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#main");
        var main = document.getElementById("main");
        if (fresh && main) {
          var logs = main.querySelectorAll("pre.log");
          var stuck = Array.prototype.map.call(logs, function (pre) {
            return pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
          });
          main.replaceWith(fresh);
          fresh.querySelectorAll("pre.log").forEach(function (pre, i) {
            if (stuck[i] !== false) { pre.scrollTop = pre.scrollHeight; }
          });
        }
      })
      .catch(function () { /* the server may be restarting: try again */ })
      .then(function () { if (live()) { window.setTimeout(tick, PERIOD); } });
  }
  function start() {
    document.querySelectorAll("pre.log").forEach(function (pre) { pre.scrollTop = pre.scrollHeight; });
    if (live()) { window.setTimeout(tick, PERIOD); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
