// The call page's player and transcript, kept in step: select a turn to play from it, the turn
// being spoken is highlighted (aria-current), announced politely and kept in view; speed, ±10 s,
// a link to the current moment, "jump to time", the find's matches on a strip under the player,
// a docked mini-player on phones, and recovery when the recording's link dies mid-listen; and a
// live call's elapsed time, counted on from the server's figure.
// Without JavaScript the player is a plain <audio>, each timestamp a ?t= link and "jump to time"
// a form that loads ?t=.
(function () {
  "use strict";
  var SPEED_KEY = "truedy:playback-rate";
  var AUTOSCROLL_KEY = "truedy:autoscroll";
  var HAND_SCROLL_PAUSE_MS = 4000; // auto-scroll waits this long after the reader scrolls
  var RETRY_WINDOW_MS = 30000; // at most one automatic reload of the audio per window
  var RECONNECT_DELAY_MS = 1000; // a storage blip gets a moment to pass before we ask again
  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  var phone = window.matchMedia("(max-width: 720px)"); // as the stylesheet's narrow layout
  var handScrolledAt = 0;
  var matchStarts = { starts: [], current: null }; // the find's matches, for the strip

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

  // A moment as people type it, by the rules of the server's ?t= (calls/services/transcripts.py
  // parse_offset): 83, 83.5, 1:23, 1:23:00, 83:00, 1h23m, 1m23s. Seconds, or null.
  var LONGEST = 24 * 3600;
  function parseOffset(text) {
    var value = String(text).trim().toLowerCase();
    var seconds = null;
    var match;
    if (/^\d{1,5}(\.\d{1,3})?$/.test(value)) {
      seconds = parseFloat(value);
    } else if ((match = /^(?:(\d{1,2}):)?(\d{1,3}):(\d{2}(?:\.\d{1,3})?)$/.exec(value))) {
      var secs = parseFloat(match[3]);
      if (secs >= 60 || (match[1] && parseInt(match[2], 10) >= 60)) return null;
      seconds = parseInt(match[1] || "0", 10) * 3600 + parseInt(match[2], 10) * 60 + secs;
    } else if (
      (match = /^(?:(\d{1,2})h)?(?:(\d{1,3})m)?(?:(\d{1,5}(?:\.\d{1,3})?)s)?$/.exec(value)) &&
      (match[1] || match[2] || match[3])
    ) {
      seconds =
        parseInt(match[1] || "0", 10) * 3600 +
        parseInt(match[2] || "0", 10) * 60 +
        parseFloat(match[3] || "0");
    }
    return seconds !== null && isFinite(seconds) && seconds <= LONGEST ? seconds : null;
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

  function scrollToTurn(turn) {
    turn.scrollIntoView({ block: "center", behavior: reducedMotion.matches ? "auto" : "smooth" });
  }

  function keepInView(turn) {
    if (!autoScrollOn() || Date.now() - handScrolledAt < HAND_SCROLL_PAUSE_MS) return;
    var box = turn.getBoundingClientRect();
    var bar = document.querySelector("[data-review-bar]");
    var barBox = bar ? bar.getBoundingClientRect() : null;
    // Below the player bar where it is above the transcript (it sticks there); beside the
    // transcript, on wide screens, it hides nothing.
    var top =
      barBox && barBox.left < box.right && barBox.right > box.left ? Math.max(0, barBox.bottom) : 0;
    if (box.top >= top && box.bottom <= window.innerHeight) return;
    scrollToTurn(turn);
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

  function callDuration(audio) {
    if (audio && isFinite(audio.duration) && audio.duration > 0) return audio.duration;
    var strip = document.querySelector("[data-hit-marks]");
    return strip ? parseFloat(strip.dataset.duration) || 0 : 0;
  }

  // The find's matches on the strip under the player, one mark per matching turn, placed by
  // the turn's start; a click plays from there (the [data-seek] handler below).
  function drawMatches() {
    var strip = document.querySelector("[data-hit-marks]");
    if (!strip) return;
    strip.querySelectorAll(".hit").forEach(function (mark) {
      mark.remove();
    });
    var duration = callDuration(audioElement());
    if (!duration) return;
    matchStarts.starts.forEach(function (start) {
      var mark = document.createElement("span");
      mark.className = "hit" + (start === matchStarts.current ? " current" : "");
      mark.dataset.seek = start.toFixed(2);
      mark.title = "Match at " + clock(start);
      mark.style.left = Math.min(100, (100 * start) / duration) + "%";
      strip.appendChild(mark);
    });
  }

  function drawPlayed(audio) {
    var played = document.querySelector("[data-played]");
    var duration = callDuration(audio);
    if (played && duration) {
      played.style.transform = "scaleX(" + Math.min(1, audio.currentTime / duration) + ")";
    }
  }

  // Phones: once the player has scrolled away, its main controls dock at the bottom.
  function setUpMiniPlayer(audio) {
    var mini = document.querySelector("[data-mini-player]");
    var player = audio.closest("[data-player]");
    if (!mini || !player || !("IntersectionObserver" in window)) return;
    var playerInView = true;
    var update = function () {
      mini.hidden = !(phone.matches && !playerInView);
    };
    new IntersectionObserver(function (entries) {
      playerInView = entries[entries.length - 1].isIntersecting;
      update();
    }).observe(player);
    phone.addEventListener("change", update);
  }

  function showMiniState(audio) {
    var toggle = document.querySelector("[data-mini-toggle]");
    if (toggle) toggle.textContent = audio.paused ? "Play" : "Pause";
    var time = document.querySelector("[data-mini-time]");
    if (time) {
      var duration = callDuration(audio);
      time.textContent = clock(audio.currentTime) + (duration ? " / " + clock(duration) : "");
    }
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
    document.querySelectorAll("[data-player-tools], [data-hit-marks]").forEach(function (part) {
      part.hidden = false;
    });

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

    setUpMiniPlayer(audio);
    var showPosition = function () {
      drawPlayed(audio);
      showMiniState(audio);
    };
    audio.addEventListener("loadedmetadata", function () {
      drawMatches(); // placed by the call's duration until the recording's own is known
      showPosition();
    });
    audio.addEventListener("pause", showPosition);
    if (audio.readyState >= 1) drawMatches();
    showPosition();

    audio.addEventListener("timeupdate", function () {
      state.position = audio.currentTime;
      if (!audio.paused) markCurrent(turnAt(audio.currentTime), true);
      showPosition();
    });
    audio.addEventListener("seeking", function () {
      state.position = audio.currentTime;
    });
    audio.addEventListener("seeked", function () {
      state.position = audio.currentTime;
      markCurrent(turnAt(audio.currentTime), false);
      showPosition();
    });
    audio.addEventListener("play", function () {
      showPosition();
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
    if (target.closest("[data-mini-toggle]")) {
      window.truedyPlayer.toggle();
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

  // "Jump to time": seek there and bring its turn into view, or only the turn without a
  // recording. Unreadable input is explained beside the field and nothing is requested; a time
  // on another page of a very long transcript is left to the form, which loads that page.
  function jumpMessage(form, text, invalid) {
    var message = form.querySelector("[data-jump-message]");
    var input = form.querySelector("input[name=t]");
    if (!message.dataset.hint) message.dataset.hint = message.textContent;
    message.textContent = text || message.dataset.hint;
    message.classList.toggle("is-invalid", invalid);
    if (invalid) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function onThisPage(seconds) {
    var list = document.getElementById("transcript-turns");
    if (!list) return true;
    var from = parseFloat(list.dataset.startsAt);
    var until = parseFloat(list.dataset.nextStartsAt);
    return !(seconds < from) && !(seconds >= until);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("[data-jump]");
    if (!form) return;
    var input = form.querySelector("input[name=t]");
    var seconds = parseOffset(input.value);
    if (seconds === null) {
      event.preventDefault();
      var typed = input.value.trim();
      jumpMessage(
        form,
        (typed ? "“" + typed.slice(0, 20) + "” is not a time: " : "Type a time: ") +
          "like 1:23:00, 83:00, 4980 or 1h23m.",
        true
      );
      input.focus();
      return;
    }
    if (!onThisPage(seconds)) return;
    event.preventDefault();
    jumpMessage(form, "", false);
    var audio = audioElement();
    if (audio) seek(audio, seconds, false);
    var turn = turnAt(audio ? Math.min(seconds, callDuration(audio) || seconds) : seconds);
    if (turn) {
      if (!audio) markCurrent(turn, false);
      scrollToTurn(turn);
    }
  });

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("[data-jump]");
    if (form && event.target.getAttribute("aria-invalid")) jumpMessage(form, "", false);
  });

  // The find's matches (transcript-search.js): where they are, and which one is current.
  document.addEventListener("truedy:matches", function (event) {
    matchStarts = event.detail;
    drawMatches();
  });

  // A live call's elapsed time, counted on each second from the figure the server rendered:
  // no request, and no trust in the browser's clock agreeing with Truedy's.
  var ticking = null;
  function tickElapsed() {
    var counters = document.querySelectorAll("[data-elapsed]");
    if (!counters.length) {
      clearInterval(ticking);
      ticking = null;
      return;
    }
    var now = Date.now();
    counters.forEach(function (counter) {
      if (!counter.dataset.since) counter.dataset.since = String(now);
      var seconds = parseInt(counter.dataset.elapsed, 10) + (now - Number(counter.dataset.since)) / 1000;
      counter.textContent = clock(seconds);
    });
  }
  function startTicking() {
    if (ticking === null && document.querySelector("[data-elapsed]")) {
      tickElapsed();
      ticking = setInterval(tickElapsed, 1000);
    }
  }

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
    startTicking();
    // Opened at a moment without a recording: the server marked its turn; bring it into view.
    var cued = document.querySelector(".turns .turn[aria-current]");
    if (cued && !audioElement()) cued.scrollIntoView({ block: "center" });
  });
  document.addEventListener("htmx:load", function (event) {
    setUpAll(event.target);
    startTicking();
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
    parseOffset: parseOffset,
  };
})();
