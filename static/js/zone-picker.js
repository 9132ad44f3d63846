// "Times in": a text field whose suggestions (<datalist>) narrow as you type any part of a name
// ("tokyo", "new_york"). The ~420 names are fetched once, when the field is first used: the page
// carries only the zone in effect, and the names' URL carries their version, so the browser keeps
// them. The browser's own zone and the zones picked lately come first. A zone picked here is the
// one later visits open in (the `tz_choice` cookie, read by ViewerTimezoneMiddleware), until the
// browser's zone is picked again. An unknown name goes to the server, which says so (400).
(function () {
  "use strict";
  var RECENT = "truedy:recent-zones"; // localStorage: the last zones picked, newest first
  var RECENT_MAX = 5;
  var CHOICE_COOKIE = "tz_choice";
  var YEAR = 365 * 24 * 3600;
  var names = null;
  var loading = null;

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return "";
    }
  }

  function recentZones() {
    try {
      var stored = JSON.parse(localStorage.getItem(RECENT) || "[]");
      return Array.isArray(stored) ? stored : [];
    } catch (error) {
      return [];
    }
  }

  function load(input) {
    if (!loading) {
      loading = fetch(input.dataset.zoneNames, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("time zones: HTTP " + response.status);
          return response.json();
        })
        .then(function (body) {
          names = body.zones;
          return names;
        });
      loading.catch(function () {
        loading = null; // the field still takes a typed name; the next focus tries again
      });
    }
    return loading;
  }

  function offer(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list || list.dataset.filled || !names) return;
    var known = {};
    names.forEach(function (name) {
      known[name] = true;
    });
    var browser = browserZone();
    var first = browser ? [[browser, "your browser's zone"]] : [];
    recentZones().forEach(function (zone) {
      if (known[zone]) first.push([zone, "picked lately"]);
    });
    var seen = {};
    var options = document.createDocumentFragment();
    first.concat(names.map(function (name) { return [name, ""]; })).forEach(function (entry) {
      if (seen[entry[0]]) return;
      seen[entry[0]] = true;
      var option = document.createElement("option");
      option.value = entry[0];
      if (entry[1]) option.label = entry[1];
      options.appendChild(option);
    });
    list.appendChild(options);
    list.dataset.filled = "true";
  }

  // "tokyo" or "new york" means the one zone whose city it names.
  function resolve(text) {
    if (!names || names.indexOf(text) >= 0) return text;
    var wanted = text.toLowerCase().replace(/ /g, "_");
    var found = names.filter(function (name) {
      var lower = name.toLowerCase();
      return lower === wanted || lower.slice(lower.lastIndexOf("/") + 1) === wanted;
    });
    return found.length === 1 ? found[0] : text;
  }

  function remember(zone) {
    var browser = browserZone();
    if (names && names.indexOf(zone) >= 0) {
      var recent = recentZones().filter(function (name) {
        return name !== zone;
      });
      recent.unshift(zone);
      try {
        localStorage.setItem(RECENT, JSON.stringify(recent.slice(0, RECENT_MAX)));
      } catch (error) {
        // storage off: no recent zones
      }
    } else if (zone !== browser) {
      return; // not a zone we know: the server will say so
    }
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie =
      CHOICE_COOKIE + "=" + (zone === browser ? "" : zone) + "; path=/; SameSite=Lax" + secure +
      "; max-age=" + (zone === browser ? 0 : YEAR);
  }

  function zoneField(target) {
    return target && target.matches && target.matches("input[data-zone-names]") ? target : null;
  }

  document.addEventListener("focusin", function (event) {
    var input = zoneField(event.target);
    if (!input) return;
    input.select(); // typing replaces the zone, and the suggestions follow what is typed
    load(input).then(function () {
      offer(input);
    }, function () {});
  });

  // Capturing, so this runs before htmx's listener on the form: only a new zone is sent.
  document.addEventListener(
    "change",
    function (event) {
      var input = zoneField(event.target);
      if (!input) return;
      var zone = resolve(input.value.trim());
      input.value = zone || input.dataset.applied || "";
      if (!zone || zone === input.dataset.applied) {
        event.stopPropagation();
        return;
      }
      input.dataset.applied = zone;
      remember(zone);
    },
    true
  );

  // A suggestion picked from the list applies at once (typing waits for Enter or leaving).
  document.addEventListener("input", function (event) {
    var input = zoneField(event.target);
    var picked = !(event instanceof InputEvent) || event.inputType === "insertReplacementText";
    if (!input || !picked || !names || names.indexOf(input.value) < 0) return;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
