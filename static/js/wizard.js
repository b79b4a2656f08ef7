/* Set-up wizard and mapping page: small progressive enhancements (no inline scripts: CSP).
 *
 * 1. Show our validation answers: htmx does not swap 4xx/5xx responses by default, but our
 *    fragments answer 422 (refused, problems next to the fields), 409 (busy) and 503 (Xero not
 *    answering) with the section to show.
 * 2. Long account lists get a filter box: typing narrows the options of the select below it.
 */
(function () {
  "use strict";

  var SHOWN_STATUSES = [409, 422, 503];
  var FILTER_FROM = 9; // options; shorter lists need no filter

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && SHOWN_STATUSES.indexOf(xhr.status) !== -1 && xhr.responseText) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function labelOf(select) {
    var label = select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
    return label ? label.textContent.replace(/\s+/g, " ").replace("Suggested", "").trim() : "accounts";
  }

  function filter(select, text) {
    var words = text.toLowerCase().split(/\s+/).filter(Boolean);
    Array.prototype.forEach.call(select.querySelectorAll("option"), function (option) {
      if (!option.value) { return; }
      var label = option.textContent.toLowerCase();
      option.hidden = !words.every(function (word) { return label.indexOf(word) !== -1; });
    });
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      group.hidden = !group.querySelector("option:not([hidden])");
    });
  }

  function enhance(root) {
    var selects = (root.querySelectorAll ? root : document).querySelectorAll("select[data-search]");
    Array.prototype.forEach.call(selects, function (select) {
      if (select.dataset.enhanced || select.options.length < FILTER_FROM) { return; }
      select.dataset.enhanced = "1";
      var box = document.createElement("input");
      box.type = "search";
      box.className = "select-filter";
      box.placeholder = "Type to filter…";
      box.setAttribute("aria-label", "Filter the list: " + labelOf(select));
      box.setAttribute("aria-controls", select.id);
      box.addEventListener("input", function () { filter(select, box.value); });
      box.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); select.focus(); }
      });
      select.parentNode.insertBefore(box, select);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
})();
