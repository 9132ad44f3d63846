// The call list's rows. A click anywhere on a row opens its call (the Created cell keeps the real
// link, for the keyboard and screen readers; a click that ends a text selection, or lands on
// another link or control, is left alone). A page turned with the pager, or by j / k past either
// end, starts at the top of the results with its first row selected (k: the last row). Coming
// back from a call selects the row it was opened from. shortcuts.js moves the selection through
// window.truedyList.move(step).
(function () {
  "use strict";
  var SELECTED = "selected";
  var LAST_CALL = "truedy:last-call"; // sessionStorage: the path of the call last opened here
  var CALL_PATH = /^\/calls\/[^/]+\/$/;
  var pending = null; // "first" or "last": where the selection goes once the page has turned

  function rowLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("#results a.row-link"));
  }

  function select(link, preventScroll) {
    document.querySelectorAll("#results tr." + SELECTED).forEach(function (row) {
      row.classList.remove(SELECTED);
    });
    link.closest("tr").classList.add(SELECTED);
    link.focus({ preventScroll: Boolean(preventScroll) });
  }

  // j / k: the next or previous row; past either end, the next or previous page.
  function move(step) {
    var links = rowLinks();
    if (!links.length) return false;
    var index = links.indexOf(document.activeElement);
    if (index < 0) {
      var marked = document.querySelector("#results tr." + SELECTED + " a.row-link");
      index = marked ? links.indexOf(marked) : step > 0 ? -1 : links.length;
    }
    var next = index + step;
    if (next < 0 || next >= links.length) {
      var pager = document.querySelector(
        step > 0 ? "#results .pager a[rel=next]" : "#results .pager a[rel=prev]"
      );
      if (pager) {
        pending = step > 0 ? "first" : "last";
        pager.click();
        return true;
      }
      next = Math.min(Math.max(next, 0), links.length - 1);
    }
    select(links[next]);
    return true;
  }

  window.truedyList = { move: move };

  function remember(path) {
    try {
      sessionStorage.setItem(LAST_CALL, path);
    } catch (error) {
      // storage off: coming back simply selects nothing
    }
  }

  document.addEventListener(
    "click",
    function (event) {
      var target = event.target;
      if (!target.closest) return;
      if (target.closest("#results .pager a[href]") && !pending) pending = "first";
      var opened = target.closest("#results a.row-link, #results a.hit-link");
      if (opened) remember(opened.pathname);
    },
    true
  );

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || !event.target.closest) return;
    var row = event.target.closest("#results tbody tr");
    var link = row && row.querySelector("a.row-link");
    if (!link || event.target.closest("a, button, input, select, textarea, label, summary")) return;
    var selection = window.getSelection();
    if (selection && !selection.isCollapsed && String(selection).trim()) return;
    if (event.ctrlKey || event.metaKey) {
      window.open(link.href, "_blank", "noopener");
      return;
    }
    link.click();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) pending = null;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id !== "results" || !pending) return;
    var where = pending;
    pending = null;
    var links = rowLinks();
    if (!links.length) return;
    if (where === "first") {
      event.target.scrollIntoView({ block: "start" });
      select(links[0], true);
    } else {
      select(links[links.length - 1]);
    }
  });

  // Back from a call: its "Back to calls" link selects the call it was on (the referrer; the
  // call page walks the list), the browser's Back the call last opened here.
  function restore() {
    var referrer = null;
    try {
      var from = new URL(document.referrer);
      if (from.origin === location.origin && CALL_PATH.test(from.pathname)) referrer = from.pathname;
    } catch (error) {
      // no referrer
    }
    var stored = null;
    try {
      stored = sessionStorage.getItem(LAST_CALL);
    } catch (error) {
      // storage off
    }
    var navigation = performance.getEntriesByType("navigation")[0];
    var back = navigation && navigation.type === "back_forward";
    var wanted = back ? [stored, referrer] : referrer ? [referrer, stored] : [];
    var links = rowLinks();
    for (var i = 0; i < wanted.length; i++) {
      for (var j = 0; wanted[i] && j < links.length; j++) {
        if (links[j].pathname === wanted[i]) {
          select(links[j], true);
          links[j].closest("tr").scrollIntoView({ block: "center" });
          return;
        }
      }
    }
  }

  restore();
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) restore();
  });
})();
