// Review keys: p pass, f fail, u follow-up. Each presses the review panel's own button, so the
// verdict goes exactly as a click would send it (with htmx, or as a plain form), and in a review
// queue the answer takes the reviewer straight on to the queue's next call. Active only where a
// panel that may take verdicts is on the page ([data-review-keys]); never while the reviewer
// types in a field, holds a modifier, has the shortcuts dialog open, or a verdict is on its way.
(function () {
  "use strict";
  if (window.truedyReview) return; // loaded twice (a page and a panel): one listener

  var KEYS = { p: "pass", f: "fail", u: "follow-up" };
  var sending = false;

  function verdictForKey(key) {
    return Object.prototype.hasOwnProperty.call(KEYS, key) ? KEYS[key] : null;
  }

  function typing(target) {
    if (!target || !target.closest) return false;
    return Boolean(
      target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']")
    );
  }

  function verdictButton(verdict) {
    return document.querySelector(
      "[data-review-keys] [data-verdict-form] button[data-verdict='" + verdict + "']"
    );
  }

  function dialogOpen() {
    var dialog = document.getElementById("shortcuts");
    return Boolean(dialog && dialog.open);
  }

  function onKeydown(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.repeat || typing(event.target) || dialogOpen()) return;
    var verdict = verdictForKey(event.key);
    if (!verdict) return;
    var button = verdictButton(verdict);
    if (!button || button.disabled || sending) return;
    event.preventDefault();
    sending = true;
    button.click();
  }

  // A verdict is on its way from the click until htmx has its answer (or the page goes).
  document.addEventListener("htmx:afterRequest", function () {
    sending = false;
  });
  document.addEventListener("keydown", onKeydown);

  window.truedyReview = { verdictForKey: verdictForKey, typing: typing };
})();
