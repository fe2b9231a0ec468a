// Show only the intake fields of the chosen work-order type. Without this script every
// type's fieldset stays visible and the server reads only the chosen type's inputs.
(function () {
  "use strict";
  var select = document.querySelector("[data-wo-type-select]");
  if (!select) { return; }
  var sets = document.querySelectorAll("fieldset[data-wo-type]");
  function show() {
    sets.forEach(function (set) {
      var chosen = set.getAttribute("data-wo-type") === select.value;
      set.hidden = !chosen;
      set.disabled = !chosen; // hidden required inputs must not block submitting
    });
  }
  select.addEventListener("change", show);
  show();
}());
