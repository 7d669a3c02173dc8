// Facets, progressively enhanced; without JavaScript each works as a plain
// form or link.
//  * Focus stays on the facet value clicked: the page reloads with the new
//    search, and the same value's button (same id) is focused again.
//  * The drawer of filters is open beside the results on a wide screen,
//    closed at the top of a phone's page until opened.
//  * Typing in a facet's filter box narrows the values listed in place;
//    Enter opens the facet's own page, which searches all of its values.
(function () {
  "use strict";
  var FOCUS_KEY = "facet-focus";
  var wide = window.matchMedia ? window.matchMedia("(min-width: 761px)") : null;
  var drawer = document.getElementById("filter-drawer");

  function placeDrawer() {
    if (drawer && wide) drawer.open = wide.matches || drawer.dataset.opened === "1";
  }
  if (drawer) {
    placeDrawer();
    if (wide && wide.addEventListener) wide.addEventListener("change", placeDrawer);
    drawer.addEventListener("toggle", function () {
      if (!wide || !wide.matches) drawer.dataset.opened = drawer.open ? "1" : "";
    });
    var jump = document.querySelector(".jump-facets");
    if (jump) jump.addEventListener("click", function (event) {
      event.preventDefault();
      drawer.open = true;
      drawer.dataset.opened = "1";
      var toggle = drawer.querySelector("summary");
      if (toggle) toggle.focus();
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.facet-link[id]");
    if (!button) return;
    var drawer = document.getElementById("filter-drawer");
    try {
      sessionStorage.setItem(FOCUS_KEY, JSON.stringify({
        id: button.id, drawer: !!(drawer && drawer.open && !(wide && wide.matches))
      }));
    } catch (e) { /* storage off: focus is simply not restored */ }
  });

  (function restoreFocus() {
    var saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(FOCUS_KEY) || "null");
      sessionStorage.removeItem(FOCUS_KEY);
    } catch (e) { return; }
    if (!saved || !saved.id) return;
    var target = document.getElementById(saved.id);
    if (!target) return;
    var drawer = document.getElementById("filter-drawer");
    if (drawer && saved.drawer) { drawer.open = true; drawer.dataset.opened = "1"; }
    var more = target.closest("details.facet-more");
    if (more) more.open = true;
    target.focus({ preventScroll: false });
  })();

  function folded(text) { return (text || "").toLowerCase().trim(); }

  // Delegated: the facets may be drawn again without a reload (results as you type).
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("facet-find-input")) return;
    var facet = input.closest(".facet");
    if (!facet) return;
    var wanted = folded(input.value);
    var more = facet.querySelector("details.facet-more");
    if (more && wanted) more.open = true;
    Array.prototype.forEach.call(facet.querySelectorAll(".facet-values > li"), function (item) {
      var label = item.querySelector(".facet-value");
      item.hidden = !!wanted && folded(label && label.textContent).indexOf(wanted) < 0;
    });
  });
})();
