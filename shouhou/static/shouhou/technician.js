/* The technician's workbench: a signature pad, the location on check-in/finish, and the
   Baidu Maps app link with a web fallback. Vanilla JS, no dependencies. Every form still
   submits without it, except the signature, which has to be drawn. */
(function () {
  "use strict";

  // --- signature pad: pointer events on a <canvas>, a PNG data URL into a hidden input ----

  function initPad(canvas) {
    if (canvas.dataset.ready) return;
    canvas.dataset.ready = "1";
    var form = canvas.closest("form");
    var input = form && form.querySelector('input[name="signature"]');
    var context = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    var last = null;

    function resize() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var rect = canvas.getBoundingClientRect();
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      // An opaque white background: the signature reads the same on any page or thumbnail.
      context.fillStyle = "#fff";
      context.fillRect(0, 0, rect.width, rect.height);
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = "#111";
      drawn = false;
      if (input) input.value = "";
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }

    function save() {
      if (input && drawn) input.value = canvas.toDataURL("image/png");
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = point(event);
      context.beginPath();
      context.arc(last.x, last.y, context.lineWidth / 2, 0, Math.PI * 2);
      context.fillStyle = "#111";
      context.fill();
      drawn = true;
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      event.preventDefault();
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      if (!events.length) events = [event];
      context.beginPath();
      context.moveTo(last.x, last.y);
      events.forEach(function (each) {
        var next = point(each);
        context.lineTo(next.x, next.y);
        last = next;
      });
      context.stroke();
    });
    function stop() {
      if (!drawing) return;
      drawing = false;
      save();
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    canvas.addEventListener("pointerleave", stop);

    var clear = form && form.querySelector("[data-signature-clear]");
    if (clear) clear.addEventListener("click", resize);
    resize();
  }

  function init(root) {
    (root || document).querySelectorAll("canvas[data-signature-pad]").forEach(initPad);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // htmx swaps the job in place; new canvases need their handlers.
  document.addEventListener("htmx:load", function (event) {
    var element = event.detail && event.detail.elt;
    if (element && element.querySelectorAll) init(element.parentNode || element);
  });

  // --- location: fill the hidden latitude/longitude fields before the form is sent --------

  function setField(form, name, value) {
    var field = form.querySelector('input[name="' + name + '"]');
    if (field) field.value = value;
  }

  // Capture phase on the document runs before htmx's own submit handler on the form, so the
  // request waits for the position (or for the refusal, or 8 seconds) and then goes ahead.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-geolocate]")) return;
    if (form.dataset.located === "1" || !("geolocation" in navigator)) return;
    event.preventDefault();
    event.stopPropagation();
    var submitter = event.submitter || null;
    var status = form.querySelector("[data-geolocate-status]");
    if (status) status.textContent = status.dataset.busy || status.textContent;
    if (submitter) submitter.disabled = true;
    var sent = false;
    function send() {
      if (sent) return;
      sent = true;
      form.dataset.located = "1";
      if (submitter) submitter.disabled = false;
      if (form.requestSubmit) form.requestSubmit(submitter || undefined);
      else form.submit();
      // the next press (after an error, say) asks again
      setTimeout(function () { delete form.dataset.located; }, 0);
    }
    navigator.geolocation.getCurrentPosition(
      function (position) {
        setField(form, "latitude", position.coords.latitude.toFixed(6));
        setField(form, "longitude", position.coords.longitude.toFixed(6));
        send();
      },
      function () {
        // Refused or unavailable: the step is still recorded, without a position.
        setField(form, "latitude", "");
        setField(form, "longitude", "");
        send();
      },
      { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 }
    );
    setTimeout(send, 9000);
  }, true);

  // --- Baidu Maps: try the app, fall back to the web page when it did not open -------------

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-fallback]");
    if (!link) return;
    var fallback = link.getAttribute("data-fallback");
    setTimeout(function () {
      if (document.visibilityState === "visible") window.location.href = fallback;
    }, 1500);
  });
})();
