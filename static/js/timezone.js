// Tell the server the browser's time zone (the `tz` cookie), once: dates and filters are then
// shown in it. A `tz` in the URL (a shared link) still wins, and so does a zone picked on the
// list (the `tz_choice` cookie, zone-picker.js). Reloads at most once.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  // IANA names are letters, digits, "/", "_", "+" and "-": safe in a cookie as they are.
  if (!zone || !/^[A-Za-z0-9_\/+-]{1,64}$/.test(zone)) return;
  var match = document.cookie.match(/(?:^|;\s*)tz=([^;]*)/);
  if (match && match[1] === zone) return;
  document.cookie =
    "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
    (location.protocol === "https:" ? "; Secure" : "");
  var linked = new URLSearchParams(location.search).has("tz");
  var chosen = /(?:^|;\s*)tz_choice=[^;]/.test(document.cookie);
  if (!linked && !chosen && document.body.dataset.zone !== zone) location.reload();
})();
