// Activity form: show the venue for meetings in person and the link for online ones (both for hybrid).
(function () {
  "use strict";
  const form = document.getElementById("activity-form");
  if (!form) return;
  const mode = form.querySelector("[name=mode]");
  const venue = document.getElementById("field-venue");
  const link = document.getElementById("field-online_link");
  function sync() {
    if (!mode || !venue || !link) return;
    venue.hidden = mode.value === "online";
    link.hidden = mode.value === "offline";
  }
  if (mode) mode.addEventListener("change", sync);
  sync();
})();
