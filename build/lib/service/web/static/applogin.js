// Progressive enhancement for the pages of an e-ID app login (BankID, Freja eID): the
// page works without this script (buttons to check again / get a fresh QR code). With
// it: a new QR code every second where the QR code changes (BankID's, data-refresh),
// <base>/collect every few seconds, status announced through the aria-live region, and
// the order is cancelled when the citizen leaves the page. <base> is the form's
// data-base, e.g. /login/<tx>/bankid.
(function () {
  "use strict";
  var form = document.getElementById("collect-form");
  if (!form) { return; }
  var base = form.getAttribute("data-base");
  var interval = parseInt(form.getAttribute("data-interval"), 10) || 2000;
  var csrf = form.querySelector("input[name=csrf]").value;
  var status = document.getElementById("status");
  var qr = document.getElementById("qr");
  var done = false;
  var n = 0;
  var qrTimer = null;

  if (qr && qr.hasAttribute("data-refresh")) {
    qrTimer = setInterval(function () {
      n += 1;
      qr.src = base + "/qr.svg?n=" + n;
    }, 1000);
  }

  function stop() {
    done = true;
    if (qrTimer) { clearInterval(qrTimer); }
  }

  function collect() {
    if (done) { return; }
    var body = new URLSearchParams();
    body.set("csrf", csrf);
    fetch(base + "/collect", {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"Accept": "application/json"}
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.message && status.textContent !== data.message) {
        status.textContent = data.message;
      }
      if (data.status === "complete" && data.next) {
        stop();
        window.location.assign(data.next);
      } else if (data.status === "failed" || data.status === "error") {
        stop();
        if (qr) { qr.parentNode.hidden = true; }
      } else {
        setTimeout(collect, interval);
      }
    }).catch(function () { setTimeout(collect, interval); });
  }
  setTimeout(collect, interval);
  // A form the citizen submits (check again, cancel) is not "leaving the page".
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (f) {
    f.addEventListener("submit", stop);
  });

  window.addEventListener("pagehide", function () {
    if (done) { return; }
    var body = new URLSearchParams();
    body.set("csrf", csrf);
    navigator.sendBeacon(base + "/cancel", body);
  });
})();
