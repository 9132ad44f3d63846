// Keyboard review: j / k next / previous call, space play/pause, ← / → 5 s, "/" search,
// "?" the list of shortcuts. Nothing fires while the reader types in a field or holds a
// modifier, and keys a focused control handles itself are left to it.
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.closest) return false;
    return Boolean(
      target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']")
    );
  }

  // On a list page: move the row selection; past either end, turn the page (list-rows.js).
  function moveRowSelection(step) {
    return window.truedyList ? window.truedyList.move(step) : false;
  }

  // On a call page: follow its Previous/Next call links (the list it was opened from).
  function followCallLink(step) {
    var link = document.querySelector(step > 0 ? ".call-nav a[rel=next]" : ".call-nav a[rel=prev]");
    if (link) {
      link.click();
      return true;
    }
    return Boolean(document.querySelector(".call-nav"));
  }

  function focusSearch() {
    var field =
      document.querySelector("[data-search-box]:not([hidden]) [data-search]") ||
      document.getElementById("f-q") ||
      document.querySelector(".filters select, .filters input");
    if (!field) return false;
    field.focus();
    if (field.select) field.select();
    return true;
  }

  function toggleHelp() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog) return false;
    if (dialog.open) dialog.close();
    else dialog.showModal();
    return true;
  }

  var player = function (action, argument) {
    return window.truedyPlayer ? window.truedyPlayer[action](argument) : false;
  };

  var handlers = {
    j: function () {
      return moveRowSelection(1) || followCallLink(1);
    },
    k: function () {
      return moveRowSelection(-1) || followCallLink(-1);
    },
    " ": function (event) {
      // A focused button, link or the native player's own controls take space themselves.
      if (event.target.closest && event.target.closest("a, button, summary, audio")) return false;
      return player("toggle");
    },
    ArrowLeft: function () {
      return player("skip", -5);
    },
    ArrowRight: function () {
      return player("skip", 5);
    },
    "/": focusSearch,
    "?": toggleHelp,
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    var dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open && event.key !== "?") return; // Escape closes it natively
    var handler = handlers[event.key];
    if (handler && handler(event)) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-shortcuts-open]")) toggleHelp();
    if (event.target.closest("[data-shortcuts-close]")) document.getElementById("shortcuts").close();
  });
})();
