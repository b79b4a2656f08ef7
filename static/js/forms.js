/* Every page: the server's answer to an HTMX form is always shown next to the form that sent it
 * (no inline scripts: CSP).
 *
 * htmx does not swap 4xx/5xx answers. Ours are of two kinds:
 * - the section itself, re-rendered with its message (a 400/422 naming the fields, a 409 busy, a
 *   503 Xero not answering): its root element carries the id of the element the form targets, so
 *   it is swapped in like a success;
 * - a short message (text, or the small errors/_inline.html fragment): it is put in a
 *   role="alert" box right after the form, which stays as it was.
 * No answer at all (network down, time-out) says so in the same box. A new request from the form
 * clears its box. A placeholder marked data-swap-errors takes any answer (the section it loads
 * says what went wrong itself). Successes are said by the fragments themselves ("Saved.", "Import queued: …").
 *
 * A date picker shows its date in the browser's locale (10/08/2026 or 08/10/2026); the
 * <output data-said-for="<input id>"> beside it says the chosen date as every page writes dates,
 * "8 Oct 2026", so the two never leave a reader guessing which is the day and which the month.
 */
(function () {
  "use strict";

  var MAX_TEXT = 400;
  var NO_ANSWER = "The server did not answer: check your connection and try again.";

  function formOf(elt) {
    if (!elt || !elt.closest) { return null; }
    return elt.closest("form") || elt;
  }

  function boxAfter(anchor) {
    var box = anchor.nextElementSibling;
    if (box && box.hasAttribute("data-form-message")) { return box; }
    box = document.createElement("p");
    box.setAttribute("data-form-message", "");
    anchor.insertAdjacentElement("afterend", box);
    return box;
  }

  function showError(anchor, text) {
    if (!anchor || !anchor.isConnected) { return; }
    var box = boxAfter(anchor);
    box.className = "form-message inline-error";
    box.setAttribute("role", "alert");
    box.setAttribute("aria-live", "assertive");
    box.textContent = text;
    anchor.setAttribute("aria-describedby", box.id || (box.id = "form-message-" + Date.now()));
  }

  function clear(anchor) {
    var box = anchor && anchor.nextElementSibling;
    if (box && box.hasAttribute("data-form-message")) { box.remove(); }
  }

  function parse(xhr) {
    var type = (xhr.getResponseHeader("Content-Type") || "").toLowerCase();
    if (type.indexOf("html") === -1) { return null; }
    return new DOMParser().parseFromString(xhr.responseText, "text/html");
  }

  /* The answer is the target re-rendered (its root has the target's id): swap it in. */
  function isSectionFor(target, doc) {
    if (!doc || !target) { return false; }
    if (target.hasAttribute("data-swap-errors")) { return true; }  // a placeholder for a section
    if (!target.id) { return false; }
    var root = doc.body.firstElementChild;
    return Boolean(root && root.id === target.id);
  }

  function messageOf(xhr, doc) {
    var text;
    if (doc) {
      var part = doc.querySelector("[role=alert], .inline-error, main") || doc.body;
      text = part.textContent;
    } else {
      text = xhr.responseText || "";
    }
    text = text.replace(/\s+/g, " ").trim();
    if (!text) { text = "That did not work (HTTP " + xhr.status + "). Please try again."; }
    return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT - 1) + "…" : text;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    clear(formOf(event.detail.elt));
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status < 400) { return; }
    var doc = parse(xhr);
    if (isSectionFor(event.detail.target, doc)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      return;
    }
    event.detail.shouldSwap = false;
    showError(formOf(event.detail.requestConfig ? event.detail.requestConfig.elt : event.target),
      messageOf(xhr, doc));
  });

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function dayText(iso) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    if (!parts) { return ""; }
    return Number(parts[3]) + " " + MONTHS[Number(parts[2]) - 1] + " " + parts[1];
  }

  function sayDate(event) {
    var input = event.target;
    if (!input || input.type !== "date" || !input.id) { return; }
    var said = document.querySelector('output[data-said-for="' + input.id + '"]');
    if (said) { said.textContent = dayText(input.value); }
  }
  document.addEventListener("input", sayDate);
  document.addEventListener("change", sayDate);

  function noAnswer(event) {
    showError(formOf(event.detail.elt || event.target), NO_ANSWER);
  }
  document.addEventListener("htmx:sendError", noAnswer);
  document.addEventListener("htmx:timeout", noAnswer);
})();
