/* Manage Integrations: one change signal refreshes every part of the page (issue 15 point 2).
 *
 * Every 2 seconds (while the tab is visible) it asks GET …/manage/signal for the fingerprint of
 * each part (status, entries, methods, import); when any changed since the last answer (the
 * first time: since the fingerprints the page was rendered with, data-initial) it
 * triggers "manage-changed" on the body (the status and the import history listen), and
 * "manage-<part>-changed" for each part that changed (the entries list, payment methods and
 * the import section listen to theirs), so within a few seconds of a job ending every part
 * agrees with the database, without a reload. A part being edited (focus inside a form of it)
 * is left alone until the focus leaves. No inline scripts: CSP.
 */
(function () {
  "use strict";

  var EVERY_MS = 2000;
  var last = null;
  var pending = {};

  function editing(part) {
    var active = document.activeElement;
    var root = document.querySelector('[data-signal-part="' + part + '"]');
    return !!(root && active && active !== document.body && root.contains(active) &&
      (active.tagName === "INPUT" || active.tagName === "SELECT" || active.tagName === "TEXTAREA"));
  }

  function fire(parts) {
    var any = false;
    parts.forEach(function (part) {
      if (editing(part)) { pending[part] = true; return; }
      delete pending[part];
      any = true;
      htmx.trigger(document.body, "manage-" + part + "-changed");
    });
    if (any) { htmx.trigger(document.body, "manage-changed"); }
  }

  function ask(url) {
    if (document.hidden) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (now) {
        if (!now) { return; }
        var changed = Object.keys(pending);
        if (last) {
          Object.keys(now).forEach(function (part) {
            if (now[part] !== last[part] && changed.indexOf(part) < 0) { changed.push(part); }
          });
        }
        last = now;
        if (changed.length) { fire(changed); }
      })
      .catch(function () { /* the next tick asks again */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var signal = document.getElementById("manage-signal");
    if (!signal || !window.fetch || !window.htmx) { return; }
    var url = signal.getAttribute("data-url");
    try { last = JSON.parse(signal.getAttribute("data-initial")); } catch (e) { last = null; }
    ask(url);
    window.setInterval(function () { ask(url); }, EVERY_MS);
    document.addEventListener("visibilitychange", function () { ask(url); });
  });
})();
