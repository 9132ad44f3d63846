// Live updates: the polling the list (live-list.js) and a call page (live-call.js) share.
//
// A page asks /calls/live/ every few seconds, only while it has something to follow, and not
// while its tab is hidden. The answer is small JSON from the dashboard's shared snapshot (no
// Truedy request of its own); an unchanged one is a 304 to If-None-Match. The answer says when
// to ask next ("poll", in seconds; 0: no need). When the updates are paused (Truedy or the
// dashboard unreachable) the page says why and asks again, more slowly, until they resume.
(function () {
  "use strict";
  var RETRY_SECONDS = 10; // after the dashboard did not answer
  var pollers = [];

  function Poller(options) {
    this.url = options.url; // () -> the URL to ask now, or null: nothing to follow
    this.apply = options.apply; // (answer) -> void
    this.note = options.note; // (text) -> void; "" when all is well
    this.etag = null;
    this.lastUrl = null;
    this.timer = null;
    this.busy = false;
    this.parked = false; // due while the tab was hidden
    this.stopped = false;
    this.next = 0; // seconds, as the last answer said
    this.paused = ""; // the last answer's notice
    this.offset = null; // the server's clock minus ours (ms), once an answer has come
    this.generation = 0; // bumped by restart: an answer to an older page is dropped
    pollers.push(this);
  }

  // Ask after `seconds` (0: now), forgetting what was planned.
  Poller.prototype.start = function (seconds) {
    this.stopped = false;
    this.schedule(seconds || 0);
  };

  // A new page of results: its answer is not the last one's.
  Poller.prototype.restart = function () {
    this.generation += 1;
    this.busy = false;
    this.etag = null;
    this.start(0);
  };

  Poller.prototype.stop = function () {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = null;
  };

  Poller.prototype.schedule = function (seconds) {
    var self = this;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped || !(seconds >= 0)) return;
    this.timer = setTimeout(function () {
      self.timer = null;
      self.poll();
    }, seconds * 1000);
  };

  Poller.prototype.poll = function () {
    var self = this;
    if (this.stopped || this.busy) return;
    if (document.hidden) {
      this.parked = true; // visibilitychange asks as soon as the page is seen again
      return;
    }
    var url = this.url();
    if (!url) return; // nothing to follow: the page starts us again when there is
    if (url !== this.lastUrl) {
      this.etag = null;
      this.lastUrl = url;
    }
    var headers = { Accept: "application/json" };
    if (this.etag) headers["If-None-Match"] = this.etag;
    this.busy = true;
    var generation = this.generation;
    fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 304) return null;
        var type = response.headers.get("Content-Type") || "";
        if (response.redirected || type.indexOf("application/json") !== 0) {
          throw new SignedOut();
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        self.etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (answer) {
        if (generation !== self.generation) return; // the page changed meanwhile
        self.busy = false;
        if (answer) {
          self.offset = answer.now - Date.now();
          self.paused = answer.paused || "";
          self.next = answer.poll;
          self.apply(answer);
        }
        self.note(self.paused);
        if (self.next > 0) self.schedule(self.next);
      })
      .catch(function (error) {
        if (generation !== self.generation) return;
        self.busy = false;
        self.etag = null;
        if (error instanceof SignedOut) {
          self.stop();
          self.note("Live updates stopped: you are signed out. Reload the page to sign in.");
          return;
        }
        self.note("Live updates paused: the dashboard did not answer. Trying again…");
        self.schedule(RETRY_SECONDS);
      });
  };

  // The server's clock now (ms since the epoch), or null before its first answer.
  Poller.prototype.serverNow = function () {
    return this.offset === null ? null : Date.now() + this.offset;
  };

  function SignedOut() {}

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) return;
    pollers.forEach(function (poller) {
      if (poller.parked) {
        poller.parked = false;
        poller.poll();
      }
    });
  });

  // "3.1764000000000.2" newer than "3.1763999990000.1"? (status rank, last update, state)
  function newer(progress, than) {
    var a = String(progress || "").split(".").map(Number);
    var b = String(than || "").split(".").map(Number);
    for (var i = 0; i < Math.max(a.length, b.length); i++) {
      var x = a[i] || 0;
      var y = b[i] || 0;
      if (x !== y) return x > y;
    }
    return false;
  }

  // m:ss, or h:mm:ss from an hour up (as the server's `duration` filter writes it).
  function duration(seconds) {
    var total = Math.max(0, Math.floor(seconds));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = total % 60;
    var ss = (secs < 10 ? "0" : "") + secs;
    if (!hours) return minutes + ":" + ss;
    return hours + ":" + (minutes < 10 ? "0" : "") + minutes + ":" + ss;
  }

  window.truedyLive = { Poller: Poller, newer: newer, duration: duration };
})();
