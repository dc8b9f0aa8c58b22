// "Receive push in this browser" on /inbox/settings/: register /sw.js, subscribe with the site's
// VAPID public key and submit the subscription through the page's own form (the server
// validates and stores it). "Stop" unsubscribes the browser and tells the server.
(function () {
  "use strict";
  const box = document.querySelector("[data-push]");
  if (!box) return;
  const status = box.querySelector("[data-push-status]");
  const subscribeForm = box.querySelector("[data-push-subscribe]");
  const stopForm = box.querySelector("[data-push-unsubscribe]");

  function say(key) {
    status.textContent = status.dataset[key] || "";
  }

  function keyBytes(base64url) {
    const base64 = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !window.Notification) {
    say("unsupported");
    subscribeForm.querySelector("button").disabled = true;
    return;
  }

  const registration = navigator.serviceWorker.register(box.dataset.worker, { scope: "/" });

  registration.then((reg) => reg.pushManager.getSubscription()).then((current) => {
    if (current) {
      say("subscribed");
      stopForm.hidden = false;
      stopForm.elements.endpoint.value = current.endpoint;
    }
    if (Notification.permission === "denied") say("denied");
  }).catch(() => say("unsupported"));

  subscribeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say("denied");
        return;
      }
      const reg = await registration;
      const subscription = await reg.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(box.dataset.publicKey),
      });
      const data = subscription.toJSON();
      subscribeForm.elements.endpoint.value = data.endpoint;
      subscribeForm.elements.p256dh.value = data.keys.p256dh;
      subscribeForm.elements.auth.value = data.keys.auth;
      subscribeForm.submit();
    } catch (error) {
      say("failed");
    }
  });

  stopForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const reg = await registration;
      const current = await reg.pushManager.getSubscription();
      if (current) await current.unsubscribe();
    } finally {
      stopForm.submit();
    }
  });
})();
