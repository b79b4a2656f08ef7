/* Set-up wizard and mapping page: small progressive enhancements (no inline scripts: CSP).
 *
 * Long account lists get a filter box: typing narrows the options of the select below it.
 * (Refused and failed answers are shown on every page by forms.js.)
 */
(function () {
  "use strict";

  var FILTER_FROM = 9; // options; shorter lists need no filter

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
