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

// The search box: results as you type, and suggestions under the box.
//
// Results: 180 ms after the last keystroke the page asks for the same search
// as the form would send (`?fragment=results`: only what <main> holds) and
// puts it in <main>; the address follows (history.replaceState), so reloading,
// sharing or going back shows the same results.  A newer keystroke aborts the
// request in flight, and a generation number keeps a late answer from painting
// over a newer one.  <main> is aria-busy and a thin bar runs while waiting; the
// result count is announced by one live region, whose text changes (it is
// never replaced).  Enter still submits the form: the page it loads is the
// same as the one painted.
//
// Suggestions: completions from the index (/api/suggest, strings or
// {text, kind, count}), shown as an ARIA combobox with what each one is
// (词, 标题, 作者 ...) and how many documents it finds.  Arrow keys move through
// them, Enter or a click searches the one chosen, Escape closes the list.
//
// While an input method is composing (拼音 being typed, its own candidate
// window open) nothing is asked and the list stays closed: what counts is
// the text the input method commits (compositionend).
//
// Without JavaScript the box is a plain search box and Enter searches.
(function () {
  "use strict";
  var box = document.getElementById("q");
  if (!box || !window.fetch || !box.form) return;
  var form = box.form;
  var composing = false;

  // -- results as you type ---------------------------------------------------

  var RESULTS_DELAY = 180;
  var main = document.getElementById("main");
  var searchPath = pathOf(form.getAttribute("action") || location.pathname);
  var instant = !!(main && window.AbortController && window.DOMParser && window.URLSearchParams &&
                   window.history && history.replaceState && searchPath === location.pathname);
  var resultsTimer = null;
  var inFlight = null;
  var generation = 0;
  var shownUrl = formUrl();
  var bar = null;
  var live = null;

  function pathOf(href) {
    try { return new URL(href, location.href).pathname; } catch (e) { return null; }
  }

  // The search the form would send now, as a relative URL (empty fields left out).
  function formUrl() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && value.trim() !== "") params.append(name, value);
    });
    var query = params.toString();
    return searchPath + (query ? "?" + query : "");
  }

  if (instant) {
    bar = document.createElement("div");
    bar.className = "instant-bar";
    bar.setAttribute("aria-hidden", "true");
    bar.hidden = true;
    document.body.insertBefore(bar, document.body.firstChild);
    // The one live region of updated results, kept outside what is replaced.
    live = document.createElement("p");
    live.id = "instant-status";
    live.className = "visually-hidden";
    live.setAttribute("role", "status");
    main.insertBefore(live, main.firstChild);
  }

  function busy(on) {
    if (on) {
      main.setAttribute("aria-busy", "true");
      bar.hidden = false;
    } else {
      main.removeAttribute("aria-busy");
      bar.hidden = true;
    }
  }

  function scheduleResults() {
    if (!instant) return;
    clearTimeout(resultsTimer);
    if (composing) return;
    resultsTimer = setTimeout(runResults, RESULTS_DELAY);
  }

  function runResults() {
    clearTimeout(resultsTimer);
    if (!instant || composing) return;
    var url = formUrl();
    if (url === shownUrl && !inFlight) return;
    if (inFlight) inFlight.abort();
    var controller = new AbortController();
    var ticket = ++generation;
    inFlight = controller;
    busy(true);
    fetch(url + (url.indexOf("?") >= 0 ? "&" : "?") + "fragment=results", {
      headers: { Accept: "text/html" }, credentials: "same-origin", signal: controller.signal
    })
      .then(function (resp) {
        var type = resp.headers.get("Content-Type") || "";
        if (type.indexOf("text/html") !== 0) throw new Error("not a page of results");
        return resp.text();
      })
      .then(function (html) {
        if (ticket !== generation) return;      // a newer search was sent meanwhile
        paint(html);
        shownUrl = url;
        history.replaceState(history.state, "", new URL(url, location.href).href);
      })
      .catch(function () { /* aborted, offline: the page shown stays, Enter still works */ })
      .then(function () {
        if (ticket !== generation) return;
        inFlight = null;
        busy(false);
      });
  }

  function paint(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var holder = doc.body;
    var meta = holder.querySelector(".instant-fragment");
    if (meta) {
      if (meta.getAttribute("data-title")) document.title = meta.getAttribute("data-title").trim();
      meta.parentNode.removeChild(meta);
    }
    // What the live region says: the notice of a fallback, then the count.
    var said = [];
    var notice = holder.querySelector(".fallback-notice .fallback-line");
    if (notice) said.push(notice.textContent);
    var alert = holder.querySelector("[role=alert]");
    if (alert) said.push(alert.textContent);
    holder.querySelectorAll("[role=status]").forEach(function (el) {
      // The count, not the milliseconds it took (said on every keystroke, that is noise).
      if (el.classList.contains("summary")) said.push(el.textContent.split(/，用[时時]/)[0]);
      // Announced by the one live region instead: one inserted afresh may go unsaid.
      el.removeAttribute("role");
    });
    var keep = live;
    while (main.lastChild && main.lastChild !== keep) main.removeChild(main.lastChild);
    while (main.firstChild && main.firstChild !== keep) main.removeChild(main.firstChild);
    while (holder.firstChild) main.appendChild(document.adoptNode(holder.firstChild));
    live.textContent = said.join(" ").replace(/\s+/g, " ").trim();
    document.dispatchEvent(new CustomEvent("search:results", { detail: { url: formUrl() } }));
  }

  // -- suggestions -----------------------------------------------------------

  var SUGGEST_DELAY = 120;
  // The page's own script (zh-Hant on a 繁體 page): the labels the script adds follow it,
  // as the server's converted text does.
  var TRADITIONAL = /^zh-Hant/i.test(document.documentElement.lang || "");
  var KIND_LABELS = TRADITIONAL ? {
    word: "詞", title: "標題", name: "名稱", author: "作者", city: "城市",
    dynasty: "朝代", fragment: "片段", pinyin: "拼音"
  } : {
    word: "词", title: "标题", name: "名称", author: "作者", city: "城市",
    dynasty: "朝代", fragment: "片段", pinyin: "拼音"
  };
  var list = document.createElement("ul");
  list.id = "q-suggestions";
  list.className = "suggest-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", TRADITIONAL ? "搜索建議" : "搜索建议");
  list.hidden = true;
  form.classList.add("has-suggest");
  box.insertAdjacentElement("afterend", list);
  box.setAttribute("role", "combobox");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", list.id);
  box.setAttribute("aria-expanded", "false");

  // The collection's own suggestions: under a prefix (/news/api/suggest) the form says where.
  var suggestUrl = form.getAttribute("data-suggest-url") ||
    (searchPath || "/").replace(/\/?$/, "/") + "api/suggest";
  var values = [];
  var active = -1;
  var suggestTimer = null;
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
    clearTimeout(resultsTimer);
    if (inFlight) { generation++; inFlight.abort(); }
    form.submit();
  }

  // A suggestion as the API gives it: a string, or {text, kind, count}.
  function asItem(found) {
    if (typeof found === "string") return { text: found, kind: null, count: null };
    if (!found || typeof found.text !== "string") return null;
    return { text: found.text, kind: found.kind || null,
             count: typeof found.count === "number" ? found.count : null };
  }

  function span(className, text) {
    var el = document.createElement("span");
    el.className = className;
    el.textContent = text;
    return el;
  }

  function show(found) {
    // A list answered again while the reader has an option marked keeps that
    // option marked (when it is still offered): Enter then takes what they chose.
    var marked = active >= 0 && !list.hidden ? values[active] : null;
    close();
    if (!found || !found.length || composing) return;
    var items = [];
    found.forEach(function (f) { var item = asItem(f); if (item && item.text) items.push(item); });
    if (!items.length) return;
    values = items.map(function (item) { return item.text; });
    items.forEach(function (item, i) {
      var option = document.createElement("li");
      option.id = "q-suggestion-" + i;
      option.className = "suggest-option" + (item.kind ? " suggest-" + item.kind : "");
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.appendChild(span("suggest-text", item.text));
      var label = item.kind && (KIND_LABELS[item.kind] || "");
      if (label) option.appendChild(span("suggest-kind", label));
      if (item.count !== null) {
        var count = span("suggest-count", item.count.toLocaleString("zh-CN"));
        count.appendChild(span("visually-hidden", " 篇"));
        option.appendChild(count);
      }
      // mousedown, not click: the box must not lose focus (and close the list) first.
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(item.text);
      });
      list.appendChild(option);
    });
    list.hidden = false;
    box.setAttribute("aria-expanded", "true");
    if (marked !== null && values.indexOf(marked) >= 0) {
      active = values.indexOf(marked);
      highlightActive();
    }
  }

  function ask() {
    if (composing) return;
    var q = box.value;
    if (!q.trim()) { close(); return; }
    if (cache.hasOwnProperty(q)) { show(cache[q]); return; }
    var ticket = ++latest;
    fetch(suggestUrl + "?q=" + encodeURIComponent(q) + (TRADITIONAL ? "&script=trad" : ""), { headers: { Accept: "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : []; })
      .then(function (found) {
        cache[q] = found;
        if (ticket === latest && box.value === q && document.activeElement === box) show(found);
      })
      .catch(function () { /* suggestions are a nicety: stay quiet */ });
  }

  function scheduleSuggestions() {
    clearTimeout(suggestTimer);
    if (composing) return;
    suggestTimer = setTimeout(ask, SUGGEST_DELAY);
  }

  box.addEventListener("compositionstart", function () {
    composing = true;
    clearTimeout(suggestTimer);
    clearTimeout(resultsTimer);
    latest++;                      // an answer still on its way is not shown either
    close();
  });
  box.addEventListener("compositionend", function () {
    composing = false;
    scheduleSuggestions();
    scheduleResults();
  });
  box.addEventListener("input", function (event) {
    if (composing || event.isComposing) return;
    scheduleSuggestions();
    scheduleResults();
  });
  box.addEventListener("keydown", function (event) {
    if (composing || event.isComposing || event.keyCode === 229) return;   // the input method's keys
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
  // Enter submits the form: the page loaded says the same as the one painted.
  form.addEventListener("submit", function () {
    clearTimeout(resultsTimer);
    if (inFlight) { generation++; inFlight.abort(); }
  });
})();

// The header's switch between collections (several indexes in one server):
// a <details> list of links, which works without this.  Here: Escape closes
// it (focus back on its summary), a click elsewhere closes it, and each link
// carries the query as it is typed now, so that instant search's query goes
// along to the other collection.
(function () {
  "use strict";
  var switcher = document.querySelector(".collection-switch");
  if (!switcher) return;
  var summary = switcher.querySelector("summary");
  var links = switcher.querySelectorAll("a.collection-link");
  var box = document.getElementById("q");

  switcher.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !switcher.open) return;
    event.preventDefault();
    switcher.open = false;
    summary.focus();
  });
  document.addEventListener("click", function (event) {
    if (switcher.open && !switcher.contains(event.target)) switcher.open = false;
  });

  function carryQuery() {
    if (!box || !window.URL) return;
    var q = box.value.trim() ? box.value : "";
    links.forEach(function (link) {
      var url = new URL(link.href, location.href);
      if (q && q.length <= 1000) url.searchParams.set("q", q);
      else url.searchParams.delete("q");
      link.href = url.pathname + url.search;
    });
  }
  if (box) box.addEventListener("input", carryQuery);
  document.addEventListener("search:results", carryQuery);
})();
