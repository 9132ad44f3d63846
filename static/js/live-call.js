// A call page follows its call while it is live or being transcribed, with the list's polling
// (live-poll.js): the element that carries data-live-call (the whole call while it is live,
// the transcript while it is processed) is reloaded by htmx ("live-changed") only when the
// dashboard's snapshot holds a newer state of the call than the page shows: status first, then
// the transcript, summary and recording once they are ready.
(function () {
  "use strict";
  var live = window.truedyLive;
  if (!live) return;
  // A call the snapshot does not hold (older than the newest calls Truedy's first page lists)
  // is reloaded this often instead, and any followed call at least this often (a transcript
  // that never comes: the page then says so).
  var UNKNOWN_MS = 10000;
  var AT_LEAST_MS = 30000;
  var SAME_ASK_MS = 6000; // a reload that brought nothing newer is asked again after this
  var lastReload = Date.now();
  var asked = {};

  function followed() {
    return document.querySelector("[data-live-call]");
  }

  function url() {
    var element = followed();
    if (!element) return null;
    return element.dataset.liveUrl + "?watch=" + encodeURIComponent(element.dataset.liveCall);
  }

  function reload(element, why) {
    var now = Date.now();
    if (asked[why] && now - asked[why] < SAME_ASK_MS) return;
    asked[why] = now;
    lastReload = now;
    if (window.htmx) window.htmx.trigger(element, "live-changed");
  }

  function apply(answer) {
    var element = followed();
    if (!element || answer.paused) return; // nothing is known meanwhile: keep what is shown
    var found = (answer.rows || {})[element.dataset.liveCall];
    var now = Date.now();
    if (found && live.newer(found.progress, element.dataset.liveProgress)) {
      reload(element, found.progress);
    } else if (!found && now - lastReload > UNKNOWN_MS) {
      reload(element, "unknown " + Math.floor(now / UNKNOWN_MS));
    } else if (now - lastReload > AT_LEAST_MS) {
      reload(element, "periodic " + Math.floor(now / AT_LEAST_MS));
    }
  }

  function note(text) {
    var box = document.querySelector("[data-live-note]");
    if (box && box.textContent !== text) box.textContent = text;
  }

  var poller = new live.Poller({ url: url, apply: apply, note: note });

  // The call or its transcript was swapped in: follow what the page shows now.
  document.addEventListener("htmx:afterSettle", function (event) {
    var id = event.target.id;
    if (id === "call" || id === "transcript" || event.target.querySelector("[data-live-call]")) {
      poller.restart();
    }
  });

  if (followed()) poller.start(0);
})();
