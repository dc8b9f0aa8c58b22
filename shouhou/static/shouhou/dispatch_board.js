/* The dispatch board's map: orders and technicians on a plain canvas, no map tiles (works
 * offline). Positions use the equirectangular projection (x = longitude × cos(mid latitude),
 * y = latitude), which is true to scale within a city. Data comes from the board's JSON
 * endpoint (data-source); clicking an order opens its suggestions in #board-panel with htmx.
 * No business rules here: the server decides what is waiting, at risk, and who may take it. */
(function () {
  "use strict";

  var COLOURS = {
    order: "#1f6fd1",
    risk: "#c62828",
    available: "#2e7d32",
    en_route: "#ef8a00",
    on_site: "#6a3fa0",
    off_duty: "#9e9e9e",
    selected: "#111111",
  };
  var REFRESH_MS = 30000;
  var HIT_RADIUS = 12;

  function Board(canvas) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.source = canvas.getAttribute("data-source");
    this.orderUrl = canvas.getAttribute("data-order-url");
    this.status = document.querySelector("[data-map-status]");
    this.data = { orders: [], technicians: [] };
    this.hits = [];
    this.selected = null;
    canvas.addEventListener("click", this.click.bind(this));
  }

  Board.prototype.load = function () {
    var board = this;
    return fetch(this.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        board.data = data;
        board.draw();
      })
      .catch(function (error) {
        if (board.status) board.status.textContent = "⚠ " + error.message;
      });
  };

  Board.prototype.points = function () {
    var points = [];
    this.data.technicians.forEach(function (technician) {
      points.push({ kind: "technician", row: technician, lat: technician.latitude, lng: technician.longitude });
    });
    this.data.orders.forEach(function (order) {
      if (order.latitude === null || order.longitude === null) return;
      points.push({ kind: "order", row: order, lat: order.latitude, lng: order.longitude });
    });
    return points;
  };

  Board.prototype.draw = function () {
    var canvas = this.canvas;
    var context = this.context;
    var points = this.points();
    context.clearRect(0, 0, canvas.width, canvas.height);
    this.hits = [];
    if (!points.length) {
      if (this.status) this.status.textContent = "—";
      return;
    }
    var lats = points.map(function (p) { return p.lat; });
    var lngs = points.map(function (p) { return p.lng; });
    var midLat = (Math.min.apply(null, lats) + Math.max.apply(null, lats)) / 2;
    var scaleX = Math.cos((midLat * Math.PI) / 180);
    var xs = lngs.map(function (lng) { return lng * scaleX; });
    var minX = Math.min.apply(null, xs), maxX = Math.max.apply(null, xs);
    var minY = Math.min.apply(null, lats), maxY = Math.max.apply(null, lats);
    var spanX = Math.max(maxX - minX, 0.01), spanY = Math.max(maxY - minY, 0.01);
    var pad = 20;
    var scale = Math.min((canvas.width - 2 * pad) / spanX, (canvas.height - 2 * pad) / spanY);
    var offsetX = (canvas.width - spanX * scale) / 2, offsetY = (canvas.height - spanY * scale) / 2;
    function project(lat, lng) {
      return [offsetX + (lng * scaleX - minX) * scale, canvas.height - (offsetY + (lat - minY) * scale)];
    }
    // a 1 km scale bar: one degree of latitude is about 111.2 km
    var kilometre = scale / 111.2;
    context.strokeStyle = "#555";
    context.fillStyle = "#555";
    context.font = "12px sans-serif";
    if (kilometre > 4 && kilometre < canvas.width / 2) {
      context.beginPath();
      context.moveTo(10, canvas.height - 10);
      context.lineTo(10 + kilometre, canvas.height - 10);
      context.stroke();
      context.fillText("1 km", 12, canvas.height - 14);
    }
    var board = this;
    points.forEach(function (p) {
      if (p.kind !== "technician") return;
      var xy = project(p.lat, p.lng);
      context.beginPath();
      context.fillStyle = COLOURS[p.row.status] || COLOURS.off_duty;
      context.arc(xy[0], xy[1], 5, 0, 2 * Math.PI);
      context.fill();
    });
    var drawn = 0;
    points.forEach(function (p) {
      if (p.kind !== "order") return;
      var xy = project(p.lat, p.lng);
      context.fillStyle = p.row.risk ? COLOURS.risk : COLOURS.order;
      context.fillRect(xy[0] - 5, xy[1] - 5, 10, 10);
      if (p.row.number === board.selected) {
        context.strokeStyle = COLOURS.selected;
        context.lineWidth = 2;
        context.strokeRect(xy[0] - 8, xy[1] - 8, 16, 16);
        context.lineWidth = 1;
      }
      board.hits.push({ x: xy[0], y: xy[1], number: p.row.number });
      drawn += 1;
    });
    if (this.status) {
      var unlocated = this.data.orders.length - drawn;
      var template = this.status.getAttribute("data-template") || "{orders} / {technicians} / {unlocated}";
      this.status.textContent = template
        .replace("{orders}", drawn)
        .replace("{technicians}", this.data.technicians.length)
        .replace("{unlocated}", unlocated);
    }
  };

  Board.prototype.click = function (event) {
    var rect = this.canvas.getBoundingClientRect();
    var x = ((event.clientX - rect.left) * this.canvas.width) / rect.width;
    var y = ((event.clientY - rect.top) * this.canvas.height) / rect.height;
    var best = null, bestDistance = HIT_RADIUS;
    this.hits.forEach(function (hit) {
      var distance = Math.hypot(hit.x - x, hit.y - y);
      if (distance <= bestDistance) { best = hit; bestDistance = distance; }
    });
    if (!best) return;
    this.open(best.number);
  };

  Board.prototype.open = function (number) {
    this.selected = number;
    this.draw();
    var url = this.orderUrl.replace("NUMBER", encodeURIComponent(number));
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: "#board-panel", swap: "innerHTML" });
    } else {
      window.location.href = "?order=" + encodeURIComponent(number);
    }
  };

  function start() {
    var canvas = document.getElementById("board-map");
    if (!canvas || !canvas.getContext) return;
    var board = new Board(canvas);
    window.shouhouBoard = board;
    board.load();
    window.setInterval(function () { board.load(); }, REFRESH_MS);
    document.body.addEventListener("htmx:afterSwap", function (event) {
      var panel = document.querySelector("#board-panel [data-panel]");
      if (panel) board.selected = panel.getAttribute("data-panel");
      // the lists were refreshed (an assignment, a batch, the 30-second poll): redraw
      if (event.target && (event.target.id === "board-lists" || event.target.id === "board-panel" || event.target.id === "board-batch")) {
        board.load();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
