// AirMap: a <canvas> map of an area of operations with air tracks drawn on it, used by the
// console's air picture and exercise replay pages. No dependency, no per-track DOM.
//
//   const map = AirMap.create(canvas, {south, north, west, east});
//   map.setTracks([{id, lat, lon, heading_deg, speed_mps, altitude_m, identity, label}, …]);
//     (optional label_side: "left" puts the label left of the symbol; later tracks draw on top)
//   map.setTrails({id: [[lat, lon], …], …});       // drawn under the tracks, oldest first
//   map.setEllipse(id, {lat, lon, cov: [[ee, en], [ne, nn]]});   // m², east/north; or null
//   map.select(id);  map.onSelect(function (id) {…});           // id, or null when cleared
//   map.setBounds({south, north, west, east});      // fit another area (and make it "reset")
//   map.resetView();  map.redraw();  map.drawNow();  map.ready();
//   map.stats                                       // {frames, lastFrameMs, lines}
// redraw() draws at the next animation frame (calls in between cost nothing); drawNow() draws
// at once; ready() says whether the geography has been drawn.
//
// Geography: Natural Earth 1:50m coastlines and borders from GET <console>/map/lines.json
// (fetched once per page, shared by every map). Projection: equirectangular scaled by the
// cosine of the bounds' middle latitude, fitted to the bounds; panning is a pure translation.
//
// Symbols (APP-6 air frames, the upper half of each shape, over a flat base line):
//   friend, assumed friend  cyan-blue #80E0FF, semicircle (dome);
//   hostile, suspect        red #FF8080, half diamond (chevron);
//   neutral                 green #AAFFAA, half square;
//   unknown, pending        yellow #FFFF80, half quatrefoil (two lobes);
//   assumed friend, suspect and pending have a dashed frame; any other identity is unknown.
// A leader line points along the heading, 6 px plus 1 px per 10 m/s; the label gives the
// callsign or track number, the speed in knots and the flight level (FLnnn, from altitude_m).
//
// Input: drag or arrow keys pan, the wheel or + / − zoom (buttons too), 0 or "Reset view"
// restores the fitted view, a click selects the nearest track, Escape clears the selection.
// Nothing moves on its own: views change only on input, so prefers-reduced-motion needs no
// other treatment here. The canvas keeps the caller's accessible name (a default is set when
// it has none); the page's track list beside it is its text alternative.
//
// Speed: coastlines, borders and the graticule are drawn into an offscreen canvas once per
// zoom or resize (with a margin so that a pan only shifts it); each frame copies it and draws
// the tracks on top, at most once per animation frame.
"use strict";

(function () {
  const COLOURS = {
    friend: "#80E0FF",
    hostile: "#FF8080",
    neutral: "#AAFFAA",
    unknown: "#FFFF80",
  };
  const SEA = "#0f1f2e";
  const COAST = "#8fb0cc";
  const BORDER = "#5d7892";
  const GRID = "rgba(160, 190, 220, 0.16)";
  const GRID_TEXT = "rgba(190, 210, 230, 0.7)";
  const KNOTS = 1.943844;
  const M_PER_DEG = 111320;
  const MARGIN = 0.5; // of the view's size, on each side of the offscreen base layer
  const ZOOM_STEP = 1.25;
  const PAN_STEP = 60; // px per arrow key press

  const script = document.currentScript;
  const consoleBase = script && script.src ? script.src.replace(/assets\/airmap\.js(\?.*)?$/, "") : "/console/";
  let linesPromise = null;

  // The lines, fetched once; each line kept as a Float64Array (lon, lat, …) with its box.
  function loadLines() {
    if (!linesPromise) {
      linesPromise = fetch(consoleBase + "map/lines.json", { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw new Error("map lines: HTTP " + r.status);
          return r.json();
        })
        .then(function (json) {
          const prepare = function (lines) {
            return lines.map(function (l) {
              const xy = Float64Array.from(l);
              let w = 180, e = -180, s = 90, n = -90;
              for (let i = 0; i < xy.length; i += 2) {
                if (xy[i] < w) w = xy[i];
                if (xy[i] > e) e = xy[i];
                if (xy[i + 1] < s) s = xy[i + 1];
                if (xy[i + 1] > n) n = xy[i + 1];
              }
              return { xy: xy, w: w, e: e, s: s, n: n };
            });
          };
          return { coast: prepare(json.coast || []), borders: prepare(json.borders || []) };
        });
    }
    return linesPromise;
  }

  // friend | hostile | neutral | unknown, and whether the frame is dashed.
  function identityOf(text) {
    const id = String(text || "").toLowerCase().replace(/[\s_]+/g, "-");
    switch (id) {
      case "friend": return ["friend", false];
      case "assumed-friend": case "assumedfriend": return ["friend", true];
      case "hostile": return ["hostile", false];
      case "suspect": case "joker": case "faker": return ["hostile", true];
      case "neutral": return ["neutral", false];
      case "pending": return ["unknown", true];
      default: return ["unknown", false];
    }
  }

  function flightLevel(altitudeM) {
    if (typeof altitudeM !== "number" || !isFinite(altitudeM)) return "";
    const fl = Math.max(0, Math.round(altitudeM / 0.3048 / 100));
    return "FL" + String(fl).padStart(3, "0");
  }

  function niceStep(raw, steps) {
    for (const s of steps) if (s >= raw) return s;
    return steps[steps.length - 1];
  }

  function create(canvas, bounds) {
    if (!canvas.getAttribute("aria-label") && !canvas.getAttribute("aria-labelledby")) {
      canvas.setAttribute("aria-label", "Map of the area; the list beside it gives every track");
    }
    if (!canvas.hasAttribute("tabindex")) canvas.tabIndex = 0;
    canvas.classList.add("airmap");
    const frame = canvas.parentElement;
    frame.classList.add("airmap-frame");

    let fitted = null; // {lat0, cos0, cLon, cLat, k}
    let view = null; // centre and scale now
    let size = { w: 0, h: 0, dpr: 1 };
    let lines = null;
    let tracks = [];
    let trails = {};
    let ellipse = null;
    let selected = null;
    let selectCallbacks = [];
    let pending = 0; // the animation frame asked for, if any
    const stats = { frames: 0, lastFrameMs: 0, lines: 0 };
    const base = document.createElement("canvas");
    let baseView = null; // the view the base layer was drawn for
    const ctx = canvas.getContext("2d");
    const bctx = base.getContext("2d");

    // Controls: zoom in, zoom out, reset.
    const controls = document.createElement("div");
    controls.className = "airmap-controls";
    function button(text, label, action) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.setAttribute("aria-label", label);
      b.title = label;
      b.addEventListener("click", function () { action(); canvas.focus(); });
      controls.appendChild(b);
      return b;
    }
    button("+", "Zoom in", function () { zoomAt(ZOOM_STEP, size.w / 2, size.h / 2); });
    button("−", "Zoom out", function () { zoomAt(1 / ZOOM_STEP, size.w / 2, size.h / 2); });
    button("Reset view", "Reset view", function () { resetView(); });
    frame.appendChild(controls);

    function fit(b) {
      const lat0 = (b.south + b.north) / 2;
      const cos0 = Math.cos(lat0 * Math.PI / 180);
      const spanX = Math.max(1e-6, (b.east - b.west) * cos0);
      const spanY = Math.max(1e-6, b.north - b.south);
      const k = Math.min(size.w / spanX, size.h / spanY) || 1;
      fitted = { lat0: lat0, cos0: cos0, cLon: (b.west + b.east) / 2, cLat: lat0, k: k };
    }

    function project(v, lat, lon) {
      return [
        (lon - v.cLon) * fitted.cos0 * v.k + size.w / 2,
        size.h / 2 - (lat - v.cLat) * v.k,
      ];
    }

    function unproject(v, x, y) {
      return [v.cLat - (y - size.h / 2) / v.k, v.cLon + (x - size.w / 2) / (fitted.cos0 * v.k)];
    }

    function resize() {
      const r = canvas.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, Math.round(r.width));
      const h = Math.max(1, Math.round(r.height));
      if (w === size.w && h === size.h && dpr === size.dpr) return false;
      size = { w: w, h: h, dpr: dpr };
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      const keep = view && fitted ? { lat: view.cLat, lon: view.cLon, ratio: view.k / fitted.k } : null;
      fit(bounds);
      view = keep
        ? { cLat: keep.lat, cLon: keep.lon, k: fitted.k * keep.ratio }
        : { cLat: fitted.cLat, cLon: fitted.cLon, k: fitted.k };
      baseView = null;
      return true;
    }

    // The base layer: sea, graticule, coastlines and borders, for `v`, with a margin around.
    function drawBase(v) {
      const mw = Math.round(size.w * MARGIN), mh = Math.round(size.h * MARGIN);
      const bw = size.w + 2 * mw, bh = size.h + 2 * mh;
      base.width = Math.round(bw * size.dpr);
      base.height = Math.round(bh * size.dpr);
      const c = bctx;
      c.setTransform(size.dpr, 0, 0, size.dpr, 0, 0);
      c.fillStyle = SEA;
      c.fillRect(0, 0, bw, bh);
      c.translate(mw, mh);
      const nw = unproject(v, -mw, -mh), se = unproject(v, size.w + mw, size.h + mh);
      const north = nw[0], west = nw[1], south = se[0], east = se[1];
      // Graticule: about six lines across the view.
      const step = niceStep((east - west) / 6, [0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30]);
      c.strokeStyle = GRID;
      c.lineWidth = 1;
      c.beginPath();
      for (let lon = Math.ceil(west / step) * step; lon <= east; lon += step) {
        const x = Math.round(project(v, 0, lon)[0]) + 0.5;
        c.moveTo(x, -mh);
        c.lineTo(x, size.h + mh);
      }
      for (let lat = Math.ceil(south / step) * step; lat <= north; lat += step) {
        const y = Math.round(project(v, lat, 0)[1]) + 0.5;
        c.moveTo(-mw, y);
        c.lineTo(size.w + mw, y);
      }
      c.stroke();
      c.fillStyle = GRID_TEXT;
      c.font = "11px 'DejaVu Sans', sans-serif";
      c.textBaseline = "top";
      const decimals = step < 1 ? (step < 0.5 ? 2 : 1) : 0;
      for (let lon = Math.ceil(west / step) * step; lon <= east; lon += step) {
        const x = project(v, 0, lon)[0];
        for (const y0 of [-mh, 0, size.h]) {
          c.fillText(Math.abs(lon).toFixed(decimals) + (lon < 0 ? "°W" : "°E"), x + 3, y0 + 3);
        }
      }
      c.textBaseline = "bottom";
      for (let lat = Math.ceil(south / step) * step; lat <= north; lat += step) {
        const y = project(v, lat, 0)[1];
        for (const x0 of [-mw, 0, size.w]) {
          c.fillText(Math.abs(lat).toFixed(decimals) + (lat < 0 ? "°S" : "°N"), x0 + 3, y - 2);
        }
      }
      if (lines) {
        let drawn = 0;
        const strokeLines = function (list, colour, width) {
          c.strokeStyle = colour;
          c.lineWidth = width;
          c.beginPath();
          for (const l of list) {
            if (l.e < west || l.w > east || l.n < south || l.s > north) continue;
            drawn += 1;
            const xy = l.xy;
            let p = project(v, xy[1], xy[0]);
            c.moveTo(p[0], p[1]);
            for (let i = 2; i < xy.length; i += 2) {
              p = project(v, xy[i + 1], xy[i]);
              c.lineTo(p[0], p[1]);
            }
          }
          c.stroke();
        };
        c.setLineDash([4, 3]);
        strokeLines(lines.borders, BORDER, 1);
        c.setLineDash([]);
        strokeLines(lines.coast, COAST, 1.2);
        stats.lines = drawn;
      }
      baseView = { cLat: v.cLat, cLon: v.cLon, k: v.k, mw: mw, mh: mh };
    }

    function baseOffset() {
      // Where the base layer's view centre lies on the canvas now (a pan only moves it).
      const p = project(view, baseView.cLat, baseView.cLon);
      return [p[0] - size.w / 2, p[1] - size.h / 2];
    }

    function needBase() {
      if (!baseView || baseView.k !== view.k) return true;
      const off = baseOffset();
      return Math.abs(off[0]) > baseView.mw || Math.abs(off[1]) > baseView.mh;
    }

    function symbolPath(c, kind, x, y, r) {
      c.beginPath();
      switch (kind) {
        case "friend":
          c.moveTo(x - r, y);
          c.arc(x, y, r, Math.PI, 2 * Math.PI);
          c.closePath();
          break;
        case "hostile":
          c.moveTo(x - r * 1.15, y);
          c.lineTo(x, y - r * 1.15);
          c.lineTo(x + r * 1.15, y);
          c.closePath();
          break;
        case "neutral":
          c.rect(x - r * 0.9, y - r * 0.9 * 1.1, r * 1.8, r * 0.9 * 1.1);
          break;
        default: {
          const q = r * 0.5;
          c.moveTo(x - r, y);
          c.arc(x - q, y, q, Math.PI, 2 * Math.PI);
          c.arc(x + q, y, q, Math.PI, 2 * Math.PI);
          c.closePath();
        }
      }
    }

    function drawTrails(c) {
      c.lineWidth = 1.5;
      c.globalAlpha = 0.7;
      const byId = new Map(tracks.map(function (t) { return [String(t.id), t]; }));
      for (const id of Object.keys(trails)) {
        const pts = trails[id];
        if (!pts || pts.length < 2) continue;
        const t = byId.get(String(id));
        c.strokeStyle = t ? COLOURS[identityOf(t.identity)[0]] : "#c0c8d0";
        c.beginPath();
        let p = project(view, pts[0][0], pts[0][1]);
        c.moveTo(p[0], p[1]);
        for (let i = 1; i < pts.length; i++) {
          p = project(view, pts[i][0], pts[i][1]);
          c.lineTo(p[0], p[1]);
        }
        c.stroke();
      }
      c.globalAlpha = 1;
    }

    function drawEllipse(c) {
      if (!ellipse) return;
      const [[a, b], [, d]] = ellipse.cov;
      const mean = (a + d) / 2, diff = (a - d) / 2;
      const root = Math.sqrt(diff * diff + b * b);
      const l1 = Math.max(0, mean + root), l2 = Math.max(0, mean - root);
      const angle = 0.5 * Math.atan2(2 * b, a - d); // from east, counter-clockwise
      const pxPerM = view.k / M_PER_DEG;
      const scale = 2.448; // the 95 % ellipse of a 2-D normal
      const p = project(view, ellipse.lat, ellipse.lon);
      c.strokeStyle = "#ffffff";
      c.lineWidth = 1;
      c.setLineDash([3, 3]);
      c.beginPath();
      c.ellipse(p[0], p[1], Math.max(1, scale * Math.sqrt(l1) * pxPerM), Math.max(1, scale * Math.sqrt(l2) * pxPerM), -angle, 0, 2 * Math.PI);
      c.stroke();
      c.setLineDash([]);
    }

    function drawTracks(c) {
      const r = 7;
      c.font = "11px 'DejaVu Sans', sans-serif";
      c.textBaseline = "top";
      c.lineWidth = 1.5;
      const pad = 40;
      for (const t of tracks) {
        const p = project(view, t.lat, t.lon);
        if (p[0] < -pad || p[1] < -pad || p[0] > size.w + pad || p[1] > size.h + pad) continue;
        const [kind, dashed] = identityOf(t.identity);
        const colour = COLOURS[kind];
        c.strokeStyle = colour;
        // Leader line along the heading, longer when faster.
        const speed = typeof t.speed_mps === "number" ? t.speed_mps : 0;
        if (typeof t.heading_deg === "number") {
          const len = r + 6 + speed * 0.1;
          const h = t.heading_deg * Math.PI / 180;
          c.beginPath();
          c.moveTo(p[0], p[1]);
          c.lineTo(p[0] + Math.sin(h) * len, p[1] - Math.cos(h) * len);
          c.stroke();
        }
        if (dashed) c.setLineDash([3, 2]);
        symbolPath(c, kind, p[0], p[1], r);
        c.fillStyle = "rgba(15, 31, 46, 0.55)";
        c.fill();
        c.stroke();
        if (dashed) c.setLineDash([]);
        c.fillStyle = colour;
        c.fillRect(p[0] - 1.5, p[1] - 1.5, 3, 3);
        const line1 = t.label === undefined || t.label === null ? String(t.id) : String(t.label);
        const fl = flightLevel(t.altitude_m);
        const line2 = Math.round(speed * KNOTS) + " kt" + (fl ? " " + fl : "");
        // A second layer of tracks at the same places (a picture over the truth) labels on the
        // left, so that both stay readable.
        const left = t.label_side === "left";
        c.textAlign = left ? "right" : "left";
        const lx = left ? p[0] - r - 3 : p[0] + r + 3;
        c.fillText(line1, lx, p[1] + 1);
        c.fillText(line2, lx, p[1] + 13);
        c.textAlign = "left";
        if (selected !== null && String(t.id) === String(selected)) {
          c.strokeStyle = "#ffffff";
          c.lineWidth = 2;
          c.strokeRect(p[0] - r - 4, p[1] - r - 5, 2 * r + 8, r + 9);
          c.lineWidth = 1.5;
        }
      }
    }

    function drawScaleBar(c) {
      const mPerPx = M_PER_DEG / view.k;
      const target = mPerPx * size.w / 5;
      const steps = [];
      for (let e = 0; e <= 7; e++) for (const m of [1, 2, 5]) steps.push(m * Math.pow(10, e));
      const metres = niceStep(target, steps);
      const px = metres / mPerPx;
      const x = 12, y = size.h - 14;
      c.fillStyle = "rgba(15, 31, 46, 0.75)";
      c.fillRect(x - 6, y - 20, px + 12, 28);
      c.strokeStyle = "#ffffff";
      c.lineWidth = 2;
      c.beginPath();
      c.moveTo(x, y - 5);
      c.lineTo(x, y);
      c.lineTo(x + px, y);
      c.lineTo(x + px, y - 5);
      c.stroke();
      c.fillStyle = "#ffffff";
      c.font = "11px 'DejaVu Sans', sans-serif";
      c.textBaseline = "bottom";
      const km = metres / 1000;
      const text = (km >= 1 ? km + " km" : metres + " m") + " (" + (metres / 1852).toFixed(metres < 18520 ? 1 : 0) + " NM)";
      c.fillText(text, x, y - 6);
    }

    function frameNow() {
      pending = 0;
      const started = performance.now();
      resize();
      if (needBase()) drawBase(view);
      const c = ctx;
      c.setTransform(1, 0, 0, 1, 0, 0);
      const off = baseOffset();
      c.drawImage(base, Math.round((off[0] - baseView.mw) * size.dpr), Math.round((off[1] - baseView.mh) * size.dpr));
      c.setTransform(size.dpr, 0, 0, size.dpr, 0, 0);
      drawTrails(c);
      drawEllipse(c);
      drawTracks(c);
      drawScaleBar(c);
      stats.frames += 1;
      stats.lastFrameMs = performance.now() - started;
    }

    function redraw() {
      if (pending) return;
      pending = window.requestAnimationFrame(frameNow);
    }

    // Draws at once (callers that time their work, such as a scrubbed timeline).
    function drawNow() {
      if (pending) window.cancelAnimationFrame(pending);
      frameNow();
    }

    function zoomAt(factor, x, y) {
      const k = Math.min(Math.max(view.k * factor, fitted.k / 8), fitted.k * 400);
      const at = unproject(view, x, y);
      view.k = k;
      // Keep the point under the cursor where it was.
      const after = unproject(view, x, y);
      view.cLat += at[0] - after[0];
      view.cLon += at[1] - after[1];
      redraw();
    }

    function panBy(dx, dy) {
      view.cLon -= dx / (fitted.cos0 * view.k);
      view.cLat += dy / view.k;
      redraw();
    }

    function resetView() {
      fit(bounds);
      view = { cLat: fitted.cLat, cLon: fitted.cLon, k: fitted.k };
      redraw();
    }

    function nearest(x, y) {
      let best = null, bestD = 14 * 14;
      for (const t of tracks) {
        const p = project(view, t.lat, t.lon);
        const d = (p[0] - x) * (p[0] - x) + (p[1] - y) * (p[1] - y);
        if (d < bestD) { bestD = d; best = t.id; }
      }
      return best;
    }

    function choose(id) {
      selected = id;
      redraw();
      for (const cb of selectCallbacks) cb(id);
    }

    // Pointer: drag pans, a click without a drag selects.
    let drag = null;
    canvas.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, moved: 0 };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      drag.moved += Math.abs(dx) + Math.abs(dy);
      drag.x = e.clientX;
      drag.y = e.clientY;
      if (dx || dy) panBy(dx, dy);
    });
    canvas.addEventListener("pointerup", function (e) {
      if (!drag) return;
      const moved = drag.moved;
      drag = null;
      if (moved < 4) {
        const r = canvas.getBoundingClientRect();
        choose(nearest(e.clientX - r.left, e.clientY - r.top));
      }
    });
    canvas.addEventListener("pointercancel", function () { drag = null; });
    canvas.addEventListener("wheel", function (e) {
      e.preventDefault();
      const r = canvas.getBoundingClientRect();
      zoomAt(e.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    canvas.addEventListener("keydown", function (e) {
      const keys = {
        ArrowLeft: function () { panBy(PAN_STEP, 0); },
        ArrowRight: function () { panBy(-PAN_STEP, 0); },
        ArrowUp: function () { panBy(0, PAN_STEP); },
        ArrowDown: function () { panBy(0, -PAN_STEP); },
        "+": function () { zoomAt(ZOOM_STEP, size.w / 2, size.h / 2); },
        "=": function () { zoomAt(ZOOM_STEP, size.w / 2, size.h / 2); },
        "-": function () { zoomAt(1 / ZOOM_STEP, size.w / 2, size.h / 2); },
        "0": resetView,
        Home: resetView,
        Escape: function () { choose(null); },
      };
      const act = keys[e.key];
      if (act) {
        e.preventDefault();
        act();
      }
    });
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () { redraw(); }).observe(canvas);
    } else {
      window.addEventListener("resize", redraw);
    }

    loadLines().then(function (l) {
      lines = l;
      baseView = null;
      redraw();
    }).catch(function (e) {
      if (window.console) window.console.warn(String(e));
    });
    resize();
    redraw();

    return {
      setTracks: function (list) { tracks = Array.isArray(list) ? list : []; redraw(); },
      setTrails: function (map) { trails = map || {}; redraw(); },
      setEllipse: function (id, e) { ellipse = id === null || id === undefined || !e ? null : e; redraw(); },
      select: function (id) { selected = id === undefined ? null : id; redraw(); },
      onSelect: function (cb) { selectCallbacks.push(cb); },
      setBounds: function (b) { bounds = b; resetView(); },
      resetView: resetView,
      redraw: redraw,
      drawNow: drawNow,
      // Whether the geography has been drawn (tests wait for it).
      ready: function () { return lines !== null && baseView !== null; },
      stats: stats,
    };
  }

  window.AirMap = { create: create, identityOf: identityOf, flightLevel: flightLevel, COLOURS: COLOURS };
})();
