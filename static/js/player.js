// The call page's player and transcript, kept in step: select a turn to play from it, the turn
// being spoken is highlighted (aria-current), announced politely and kept in view; speed, ±10 s,
// a link to the current moment, and recovery when the recording's link dies mid-listen.
// Without JavaScript the player is a plain <audio> and each timestamp a ?t= link.
(function () {
  "use strict";
  var SPEED_KEY = "truedy:playback-rate";
  var AUTOSCROLL_KEY = "truedy:autoscroll";
  var HAND_SCROLL_PAUSE_MS = 4000; // auto-scroll waits this long after the reader scrolls
  var RETRY_WINDOW_MS = 30000; // at most one automatic reload of the audio per window
  var RECONNECT_DELAY_MS = 1000; // a storage blip gets a moment to pass before we ask again
  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  var handScrolledAt = 0;

  function stored(key, fallback) {
    try {
      var value = localStorage.getItem(key);
      return value === null ? fallback : value;
    } catch (error) {
      return fallback;
    }
  }

  function store(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch (error) {
      /* private mode: the choice lasts for this page only */
    }
  }

  function clock(seconds) {
    var whole = Math.max(0, Math.floor(seconds));
    var s = whole % 60;
    var m = Math.floor(whole / 60) % 60;
    var h = Math.floor(whole / 3600);
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function audioElement() {
    return document.querySelector("[data-player] audio");
  }

  function turns() {
    return Array.prototype.slice.call(document.querySelectorAll(".turns .turn[data-start]"));
  }

  // The turn being spoken at `time`: the last one that has started.
  function turnAt(time) {
    var found = null;
    turns().some(function (turn) {
      if (parseFloat(turn.dataset.start) > time + 0.05) return true;
      found = turn;
      return false;
    });
    return found;
  }

  function autoScrollOn() {
    var box = document.querySelector("[data-autoscroll]");
    return !box || box.checked;
  }

  function keepInView(turn) {
    if (!autoScrollOn() || Date.now() - handScrolledAt < HAND_SCROLL_PAUSE_MS) return;
    var box = turn.getBoundingClientRect();
    var player = document.querySelector("[data-player]");
    // Below the sticky player, when it sticks; the top of the window otherwise.
    var top = player ? Math.max(0, player.getBoundingClientRect().bottom) : 0;
    if (box.top >= top && box.bottom <= window.innerHeight) return;
    turn.scrollIntoView({ block: "center", behavior: reducedMotion.matches ? "auto" : "smooth" });
  }

  function markCurrent(turn, announce) {
    document.querySelectorAll(".turns .turn[aria-current]").forEach(function (other) {
      if (other !== turn) other.removeAttribute("aria-current");
    });
    if (!turn || turn.getAttribute("aria-current") === "true") return;
    turn.setAttribute("aria-current", "true");
    keepInView(turn);
    var live = document.querySelector("[data-now-speaking]");
    if (live && announce) {
      var who = turn.querySelector(".who");
      live.textContent = (who ? who.textContent : "") + " at " + clock(turn.dataset.start);
    }
  }

  function say(text) {
    var status = document.querySelector("[data-player-status]");
    if (status) status.textContent = text;
  }

  function seek(audio, seconds, play) {
    var end = isFinite(audio.duration) ? audio.duration : Infinity;
    audio.currentTime = Math.min(Math.max(0, seconds), end);
    markCurrent(turnAt(audio.currentTime), false);
    if (play) audio.play().catch(function () {});
  }

  function momentLink(audio) {
    var url = new URL(audio.dataset.momentUrl, location.href);
    url.searchParams.set("t", String(Math.floor(audio.currentTime)));
    return url.href;
  }

  // The signed link behind /recording can expire or be withdrawn while the page is open: the
  // proxy fetches a fresh one on the next request, so reload the element and carry on.
  function recover(audio, state) {
    var now = Date.now();
    if (now - state.lastRetry < RETRY_WINDOW_MS) {
      explainFailure(audio);
      return;
    }
    state.lastRetry = now;
    // Where the listener was, or was going: a link that dies during a seek fails that seek,
    // and the element still holds its target.
    var position = audio.currentTime || state.position;
    var resume = state.playing;
    say("Reconnecting to the recording…");
    audio.addEventListener(
      "loadedmetadata",
      function () {
        audio.currentTime = position;
        if (resume) audio.play().catch(function () {});
        say("");
      },
      { once: true }
    );
    setTimeout(function () {
      audio.load();
    }, RECONNECT_DELAY_MS);
  }

  // The audit log counts plays from here: the proxy sees a listen as many range requests.
  function reportPlay(audio) {
    var callId = audio.dataset.callId;
    if (!callId) return;
    var token = "";
    try {
      token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      /* no token: the POST is refused, the listen goes on */
    }
    fetch("/calls/" + encodeURIComponent(callId) + "/played", {
      method: "POST",
      headers: { "X-CSRFToken": token },
      credentials: "same-origin",
    }).catch(function () {});
  }

  function explainFailure(audio) {
    fetch(audio.currentSrc || audio.src, {
      headers: { Range: "bytes=0-0" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (response.status === 410) {
          say("The recording has expired: Truedy keeps recordings for 24 hours after a call.");
        } else if (response.ok) {
          say("The recording stopped loading. Press play to try again.");
        } else {
          say("The recording could not be loaded (" + response.status + "). Reload the page to try again.");
        }
      })
      .catch(function () {
        say("The recording could not be loaded: the dashboard is unreachable.");
      });
  }

  function setUp(audio) {
    if (audio.dataset.ready) return;
    audio.dataset.ready = "1";
    var state = { position: 0, playing: false, lastRetry: 0, playReported: false };
    var tools = document.querySelector("[data-player-tools]");
    if (tools) tools.hidden = false;

    var speed = document.querySelector("[data-speed]");
    var rate = stored(SPEED_KEY, "1");
    if (speed) {
      if (speed.querySelector('option[value="' + rate + '"]')) speed.value = rate;
      audio.playbackRate = parseFloat(speed.value);
      speed.addEventListener("change", function () {
        audio.playbackRate = parseFloat(speed.value);
        store(SPEED_KEY, speed.value);
      });
    }
    // A reload (recovery) resets the element's rate: put it back.
    audio.addEventListener("loadedmetadata", function () {
      if (speed) audio.playbackRate = parseFloat(speed.value);
    });

    var autoscroll = document.querySelector("[data-autoscroll]");
    if (autoscroll) {
      autoscroll.checked = stored(AUTOSCROLL_KEY, "on") === "on";
      autoscroll.addEventListener("change", function () {
        store(AUTOSCROLL_KEY, autoscroll.checked ? "on" : "off");
        if (autoscroll.checked) handScrolledAt = 0;
      });
    }

    var start = parseFloat(audio.dataset.start);
    if (!isNaN(start)) {
      var cue = function () {
        if (Math.abs(audio.currentTime - start) > 0.5) audio.currentTime = start;
        var turn = turnAt(start);
        if (turn) {
          markCurrent(turn, false);
          turn.scrollIntoView({ block: "center" });
        }
      };
      if (audio.readyState >= 1) cue();
      else audio.addEventListener("loadedmetadata", cue, { once: true });
    }

    audio.addEventListener("timeupdate", function () {
      state.position = audio.currentTime;
      if (!audio.paused) markCurrent(turnAt(audio.currentTime), true);
    });
    audio.addEventListener("seeking", function () {
      state.position = audio.currentTime;
    });
    audio.addEventListener("seeked", function () {
      state.position = audio.currentTime;
      markCurrent(turnAt(audio.currentTime), false);
    });
    audio.addEventListener("play", function () {
      state.playing = true;
      if (!state.playReported) {
        // One listen per page load: seeks, pause/resume and recover()'s reload play it on.
        state.playReported = true;
        reportPlay(audio);
      }
    });
    audio.addEventListener("pause", function () {
      if (!audio.error) state.playing = false;
    });
    audio.addEventListener("error", function () {
      recover(audio, state);
    });
  }

  document.addEventListener("click", function (event) {
    var audio = audioElement();
    if (!audio) return;
    var target = event.target;
    // A turn's timestamp, or any other link to a moment (data-seek): seek instead of loading.
    var seekLink = target.closest("[data-seek], .turns .turn a.at");
    if (seekLink) {
      event.preventDefault();
      var at = seekLink.dataset.seek || seekLink.closest(".turn").dataset.start;
      seek(audio, parseFloat(at), true);
      return;
    }
    var skip = target.closest("[data-skip]");
    if (skip) {
      seek(audio, audio.currentTime + parseFloat(skip.dataset.skip), false);
      return;
    }
    if (target.closest("[data-copy-moment]")) {
      var link = momentLink(audio);
      var done = function () {
        say("Link to " + clock(audio.currentTime) + " copied.");
      };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(link).then(done, function () {
          say("Copy this link: " + link);
        });
      } else {
        say("Copy this link: " + link);
      }
      return;
    }
    // A click anywhere else on a turn plays from it, unless the reader is selecting its text.
    var turn = target.closest(".turns .turn[data-start]");
    if (turn && !target.closest("a, button") && !String(window.getSelection() || "")) {
      seek(audio, parseFloat(turn.dataset.start), true);
    }
  });

  ["wheel", "touchmove"].forEach(function (name) {
    window.addEventListener(
      name,
      function () {
        handScrolledAt = Date.now();
      },
      { passive: true }
    );
  });
  document.addEventListener("keydown", function (event) {
    if (["PageUp", "PageDown", "Home", "End", "ArrowUp", "ArrowDown"].indexOf(event.key) >= 0) {
      handScrolledAt = Date.now();
    }
  });

  function setUpAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("[data-player] audio").forEach(setUp);
    if (scope.matches && scope.matches("[data-player] audio")) setUp(scope);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpAll(document);
  });
  document.addEventListener("htmx:load", function (event) {
    setUpAll(event.target);
  });

  // For the keyboard shortcuts (shortcuts.js).
  window.truedyPlayer = {
    toggle: function () {
      var audio = audioElement();
      if (!audio) return false;
      if (audio.paused) audio.play().catch(function () {});
      else audio.pause();
      return true;
    },
    skip: function (seconds) {
      var audio = audioElement();
      if (!audio) return false;
      seek(audio, audio.currentTime + seconds, false);
      return true;
    },
  };
})();
