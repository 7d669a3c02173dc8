// Progressive enhancement only: every feature of the site works without it.
// "/" jumps to the search box (unless the reader is typing somewhere already).
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) return;
    var box = document.getElementById("q");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });
})();

// Suggestions as you type: completions from the index (/api/suggest), shown
// as an ARIA combobox under the search box.  Arrow keys move through them,
// Enter or a click searches the one chosen, Escape closes the list; without
// JavaScript the box is a plain search box.
(function () {
  "use strict";
  var box = document.getElementById("q");
  if (!box || !window.fetch || !box.form) return;
  var form = box.form;
  var list = document.createElement("ul");
  list.id = "q-suggestions";
  list.className = "suggest-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "搜索建议");
  list.hidden = true;
  form.classList.add("has-suggest");
  box.insertAdjacentElement("afterend", list);
  box.setAttribute("role", "combobox");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", list.id);
  box.setAttribute("aria-expanded", "false");

  var values = [];
  var active = -1;
  var timer = null;
  var latest = 0;
  var cache = {};

  function close() {
    list.hidden = true;
    list.textContent = "";
    values = [];
    active = -1;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }

  function highlightActive() {
    var options = list.children;
    for (var i = 0; i < options.length; i++) {
      var on = i === active;
      options[i].setAttribute("aria-selected", on ? "true" : "false");
      options[i].classList.toggle("is-active", on);
    }
    if (active >= 0) box.setAttribute("aria-activedescendant", options[active].id);
    else box.removeAttribute("aria-activedescendant");
  }

  function choose(value) {
    box.value = value;
    close();
    form.submit();
  }

  function show(found) {
    close();
    if (!found || !found.length) return;
    values = found.map(function (item) { return typeof item === "string" ? item : item.text; });
    found.forEach(function (item, i) {
      // A suggestion is {text, kind, count}; a plain string is read as its text.
      var value = typeof item === "string" ? item : item.text;
      var option = document.createElement("li");
      option.id = "q-suggestion-" + i;
      option.className = "suggest-option";
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = value;
      // mousedown, not click: the box must not lose focus (and close the list) first.
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(value);
      });
      list.appendChild(option);
    });
    list.hidden = false;
    box.setAttribute("aria-expanded", "true");
  }

  function ask() {
    var q = box.value;
    if (!q.trim()) { close(); return; }
    if (cache.hasOwnProperty(q)) { show(cache[q]); return; }
    var ticket = ++latest;
    fetch("/api/suggest?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : []; })
      .then(function (found) {
        cache[q] = found;
        if (ticket === latest && box.value === q && document.activeElement === box) show(found);
      })
      .catch(function () { /* suggestions are a nicety: stay quiet */ });
  }

  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 120);
  });
  box.addEventListener("keydown", function (event) {
    if (event.isComposing || event.keyCode === 229) return;   // an input method is composing
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (list.hidden) { if (event.key === "ArrowDown") ask(); return; }
      event.preventDefault();
      var n = values.length;
      active = event.key === "ArrowDown" ? (active + 1) % n : (active <= 0 ? n - 1 : active - 1);
      highlightActive();
    } else if (event.key === "Enter" && !list.hidden && active >= 0) {
      event.preventDefault();
      choose(values[active]);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });
  box.addEventListener("blur", function () { setTimeout(close, 100); });
})();
