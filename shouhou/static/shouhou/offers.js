// Countdown on offered jobs: minutes and seconds left; at zero the buttons are disabled
// (the server refuses a late answer anyway and moves the offer on).
(function () {
  "use strict";
  var timers = document.querySelectorAll(".countdown[data-seconds-left]");
  if (!timers.length) return;
  var started = Date.now();
  function tick() {
    var elapsed = Math.floor((Date.now() - started) / 1000);
    timers.forEach(function (timer) {
      var left = Math.max(0, parseInt(timer.dataset.secondsLeft, 10) - elapsed);
      var value = timer.querySelector(".countdown-value");
      if (left > 0) {
        var minutes = Math.floor(left / 60), seconds = left % 60;
        value.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
      } else {
        value.textContent = timer.dataset.doneText;
        var card = timer.closest(".offer");
        if (card) card.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }
    });
  }
  tick();
  setInterval(tick, 1000);
})();
