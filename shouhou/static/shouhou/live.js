/* Shouhou live pages: listen to the page's Server-Sent Event stream and, on an event, fetch the
   page's fragment again through htmx (docs/live.md). Without JavaScript or EventSource the page
   simply stays as it was rendered; reloading shows the news. */
(function () {
  "use strict";

  var FIELDS = "input:not([type=hidden]), textarea, select";

  function start(indicator) {
    if (indicator.getAttribute("data-live-ready") === "1" || !window.EventSource) return;
    indicator.setAttribute("data-live-ready", "1");
    var streamUrl = indicator.getAttribute("data-live-stream");
    var last = indicator.getAttribute("data-live-last");
    var targetSelector = indicator.getAttribute("data-live-target");
    var onlyOrder = indicator.getAttribute("data-live-order") || "";
    var label = indicator.querySelector(".live-label");
    var timer = null;
    var failed = false;
    // The page's own action (an htmx POST) answers with the changed fragment and its notice;
    // the event it causes must not replace that answer a moment later.
    var ownActions = 0;
    var quietUntil = 0;
    document.addEventListener("htmx:beforeRequest", function (event) {
      if (event.detail.requestConfig && event.detail.requestConfig.verb !== "get") ownActions += 1;
    });
    document.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.requestConfig && event.detail.requestConfig.verb !== "get") {
        ownActions = Math.max(0, ownActions - 1);
        quietUntil = Date.now() + 1500;
      }
    });

    function show(state) {
      indicator.setAttribute("data-live-state", state);
      if (label) label.textContent = indicator.getAttribute(state === "on" ? "data-live-on" : "data-live-off");
      indicator.hidden = false;
    }

    // Someone typing in the fragment keeps their words: refresh once they leave the field.
    function busy(target) {
      var active = document.activeElement;
      return active && target.contains(active) && active.matches(FIELDS);
    }

    function refresh() {
      timer = null;
      var target = document.querySelector(targetSelector);
      if (!target) return;
      if (busy(target)) {
        target.addEventListener("focusout", function later() {
          target.removeEventListener("focusout", later);
          schedule();
        });
        return;
      }
      var url = indicator.getAttribute("data-live-refresh");
      if (indicator.hasAttribute("data-live-keep-query")) url += window.location.search;
      window.htmx.ajax("GET", url, { target: targetSelector, swap: "outerHTML" });
    }

    // Several events of one change (a status and an assignment) make one request.
    function schedule() {
      if (timer === null) timer = window.setTimeout(refresh, 150);
    }

    var source = null;

    function streamFrom(id) {
      if (!id) return streamUrl;
      return streamUrl + (streamUrl.indexOf("?") < 0 ? "?" : "&") + "last=" + encodeURIComponent(id);
    }

    function connect() {
      // From where the page was rendered, or (back from the page cache) the newest event seen.
      var from = streamFrom(indicator.getAttribute("data-live-seen") || last);
      source = new EventSource(from);
      show("connecting");
      source.addEventListener("open", function () {
        show("on");
        if (failed) schedule(); // back after a drop: the stream resumed, make sure we are current
        failed = false;
      });
      source.addEventListener("error", function () {
        failed = true;
        show("off"); // the browser reconnects by itself, sending Last-Event-ID
      });
      source.addEventListener("workorder", function (event) {
        var data = {};
        try { data = JSON.parse(event.data); } catch (error) { return; }
        indicator.setAttribute("data-live-seen", data.id);
        if (onlyOrder && data.order !== onlyOrder) return;
        if (ownActions > 0 || Date.now() < quietUntil) return;
        schedule();
      });
    }

    connect();
    window.addEventListener("pagehide", function () { if (source) source.close(); });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) connect(); // back from the page cache: listen again
    });
  }

  function startAll() {
    document.querySelectorAll("[data-live-stream]").forEach(start);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startAll);
  } else {
    startAll();
  }
})();
