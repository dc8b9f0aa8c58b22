/* Shouhou customer pages: small progressive enhancements; every page works without this file. */
(function () {
  "use strict";

  // Show the address or the outlet part of the report form, following the chosen mode.
  function syncFulfilment(form) {
    var checked = form.querySelector('input[name="fulfilment_mode"]:checked');
    if (!checked) return;
    form.querySelectorAll("[data-fulfilment]").forEach(function (part) {
      part.hidden = part.getAttribute("data-fulfilment") !== checked.value;
    });
  }

  // 使用当前位置: fill the hidden latitude/longitude fields from the browser.
  function setUpGeolocation(button) {
    if (!("geolocation" in navigator) || button.getAttribute("data-ready") === "1") return;
    button.setAttribute("data-ready", "1");
    var form = button.form;
    var status = document.getElementById(button.getAttribute("data-status") || "geo-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      if (status) status.textContent = button.getAttribute("data-locating");
      navigator.geolocation.getCurrentPosition(
        function (position) {
          form.querySelector('[name="latitude"]').value = position.coords.latitude.toFixed(6);
          form.querySelector('[name="longitude"]').value = position.coords.longitude.toFixed(6);
          // Let the outlet list re-rank by distance.
          form.querySelector('[name="latitude"]').dispatchEvent(new Event("change", { bubbles: true }));
          if (status) status.textContent = button.getAttribute("data-located");
        },
        function () {
          if (status) status.textContent = button.getAttribute("data-failed");
        },
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
      );
    });
  }

  // A double tap submits once: the server is idempotent anyway, this only saves a request.
  function setUpSubmitOnce(form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || button.hasAttribute("formaction") || button.name === "preview") return;
      if (form.getAttribute("data-submitting") === "1") {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-submitting", "1");
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  }

  // After a code was sent, the button waits 60 seconds (the server enforces the same limit).
  function countdown(button) {
    var label = button.textContent;
    var left = 60;
    button.disabled = true;
    var timer = window.setInterval(function () {
      left -= 1;
      button.textContent = label + " (" + left + ")";
      if (left <= 0) {
        window.clearInterval(timer);
        button.disabled = false;
        button.textContent = label;
      }
    }, 1000);
  }

  function enhance(root) {
    root.querySelectorAll("form#intake-form:not([data-ready])").forEach(function (form) {
      form.setAttribute("data-ready", "1");
      syncFulfilment(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "fulfilment_mode") syncFulfilment(form);
      });
      // 选择时间: a free engineer window fills the date and the two-hour slot.
      form.addEventListener("click", function (event) {
        var button = event.target.closest ? event.target.closest("[data-fill-date]") : null;
        if (!button) return;
        form.querySelector('[name="date"]').value = button.getAttribute("data-fill-date");
        form.querySelector('[name="slot"]').value = button.getAttribute("data-fill-slot");
      });
    });
    root.querySelectorAll("[data-geolocate]").forEach(setUpGeolocation);
    root.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      if (form.getAttribute("data-submit-once") === "ready") return;
      form.setAttribute("data-submit-once", "ready");
      setUpSubmitOnce(form);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target.parentNode || document); });
  document.addEventListener("htmx:afterRequest", function (event) {
    var button = event.detail.elt;
    if (button && button.hasAttribute && button.hasAttribute("data-sms-button") && event.detail.successful) {
      countdown(button);
    }
  });
})();
