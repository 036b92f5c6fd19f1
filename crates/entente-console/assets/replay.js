// The exercise replay page: a recorded run (data.json, pre-shaped per aircraft and per nation's
// track, samples sorted by time) drawn on the air map (airmap.js) at the time of the timeline.
// Any instant is found by binary search in each series and interpolated between samples, so a
// scrub costs the same anywhere in the run.
//
// What the page measured is in window.entente.replay (and the Performance API): loadMs (page
// start to the run's first drawing), dataMs (fetching and reading data.json), lastScrubMs and
// scrubMs (each scrub's handling, drawing included), with the time and events shown.
"use strict";

(function () {
  const root = document.getElementById("replay");
  if (!root) return;
  const $ = function (id) { return document.getElementById(id); };
  const range = $("replay-time");
  const clock = $("replay-clock");
  const utc = $("replay-utc");
  const playButton = $("replay-play");
  const speedSelect = $("replay-speed");
  const nationSelect = $("replay-nation");
  const marks = $("replay-marks");
  const currentText = $("replay-current");
  const nextText = $("replay-next");
  const rows = $("replay-aircraft-rows");
  const errorBox = $("replay-error");
  const gospaCanvas = $("replay-gospa");
  const eventItems = Array.from(document.querySelectorAll("#replay-events li[data-t]"));
  const KNOTS = 1.943844;
  const M_PER_DEG = 111320;
  const TRAIL_S = 600;
  // The review's chart colours (entente_exercise::aar's palette), one per nation in order.
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

  const measures = { loadMs: null, dataMs: null, lastScrubMs: null, scrubMs: [], time: 0, current: "", next: "", nation: "" };
  window.entente = Object.assign(window.entente || {}, { replay: measures });

  let data = null;
  let map = null;
  let t = 0;
  let playing = false;
  let lastWall = 0;
  let selected = null;

  function two(n) { return String(n).padStart(2, "0"); }
  function hms(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return two(Math.floor(s / 3600)) + ":" + two(Math.floor(s / 60) % 60) + ":" + two(s % 60);
  }

  // The index of the last sample at or before `x`, or −1.
  function before(ts, x) {
    let lo = 0, hi = ts.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid] <= x) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  // Where a series is at `x`: interpolated between its samples, with heading and speed from the
  // segment; null before its first sample or once a sample period has passed without one.
  function sample(s, x, period) {
    const i = before(s.t, x);
    if (i < 0) return null;
    const gap = 1.5 * period;
    const j = i + 1 < s.t.length && s.t[i + 1] - s.t[i] <= 3 * period ? i + 1 : -1;
    if (j < 0 && x - s.t[i] > gap) return null;
    const a = j < 0 ? (i > 0 && s.t[i] - s.t[i - 1] <= 3 * period ? i - 1 : i) : i;
    const b = j < 0 ? i : j;
    const f = j < 0 || s.t[b] === s.t[a] ? 0 : (x - s.t[a]) / (s.t[b] - s.t[a]);
    const lat = j < 0 ? s.lat[i] : s.lat[a] + (s.lat[b] - s.lat[a]) * f;
    const lon = j < 0 ? s.lon[i] : s.lon[a] + (s.lon[b] - s.lon[a]) * f;
    let heading = null, speed = 0;
    if (a !== b && s.t[b] > s.t[a]) {
      const dx = (s.lon[b] - s.lon[a]) * Math.cos(lat * Math.PI / 180) * M_PER_DEG;
      const dy = (s.lat[b] - s.lat[a]) * M_PER_DEG;
      speed = Math.hypot(dx, dy) / (s.t[b] - s.t[a]);
      heading = (Math.atan2(dx, dy) * 180 / Math.PI + 360) % 360;
    }
    const h = s.h ? (j < 0 ? s.h[i] : s.h[a] + (s.h[b] - s.h[a]) * f) : undefined;
    return { lat: lat, lon: lon, heading: heading, speed: speed, h: h, index: i };
  }

  function trail(s, x, now) {
    const from = Math.max(0, before(s.t, x - TRAIL_S));
    const i = now.index;
    const pts = [];
    for (let k = from; k <= i; k++) pts.push([s.lat[k], s.lon[k]]);
    pts.push([now.lat, now.lon]);
    return pts;
  }

  function eventText(e) {
    return hms(e.t) + " " + e.text + " " + e.subject + (e.target ? " → " + e.target : "") + (e.nation ? " (" + e.nation + ")" : "");
  }

  function cell(tag, text, cls) {
    const c = document.createElement(tag);
    c.textContent = text;
    if (cls) c.className = cls;
    return c;
  }

  // Everything at time `x`: the map's tracks and trails, the clock, the events, the table.
  function show(x) {
    t = Math.min(Math.max(0, x), data.duration);
    const tracks = [];
    const trails = {};
    const table = document.createDocumentFragment();
    const pictureRows = document.createDocumentFragment();
    const nation = nationSelect.value;
    const picture = nation && data.pictures[nation] ? data.pictures[nation] : [];
    for (const s of picture) {
      const p = sample(s, t, data.picture_period);
      if (!p) continue;
      const id = nation + "-" + s.track;
      tracks.push({ id: id, lat: p.lat, lon: p.lon, heading_deg: p.heading, speed_mps: p.speed, identity: "unknown", label: "T" + s.track, label_side: "left" });
      trails[id] = trail(s, t, p);
      const tr = document.createElement("tr");
      tr.dataset.id = id;
      tr.appendChild(cell("th", nation + " T" + s.track));
      tr.lastChild.scope = "row";
      tr.appendChild(cell("td", "track of " + nation + "'s picture"));
      tr.appendChild(cell("td", p.lat.toFixed(3) + "° N", "num"));
      tr.appendChild(cell("td", p.lon.toFixed(3) + "° E", "num"));
      tr.appendChild(cell("td", Math.round(p.speed * KNOTS) + " kt", "num"));
      tr.appendChild(cell("td", "", "num"));
      if (id === selected) tr.className = "selected";
      pictureRows.appendChild(tr);
    }
    for (const a of data.truth) {
      const p = sample(a, t, data.truth_period);
      if (!p) continue;
      const id = "e" + a.entity;
      tracks.push({ id: id, lat: p.lat, lon: p.lon, heading_deg: p.heading, speed_mps: p.speed, altitude_m: p.h, identity: a.identity, label: a.callsign });
      trails[id] = trail(a, t, p);
      const tr = document.createElement("tr");
      tr.dataset.id = id;
      tr.appendChild(cell("th", a.callsign));
      tr.lastChild.scope = "row";
      tr.appendChild(cell("td", a.role === "fighter" ? "fighter (friend)" : a.identity === "suspect" ? "traffic (not responding)" : "traffic"));
      tr.appendChild(cell("td", p.lat.toFixed(3) + "° N", "num"));
      tr.appendChild(cell("td", p.lon.toFixed(3) + "° E", "num"));
      tr.appendChild(cell("td", Math.round(p.speed * KNOTS) + " kt", "num"));
      tr.appendChild(cell("td", window.AirMap.flightLevel(p.h), "num"));
      if (id === selected) tr.className = "selected";
      table.appendChild(tr);
    }
    table.appendChild(pictureRows);
    rows.replaceChildren(table);
    map.setTracks(tracks);
    map.setTrails(trails);
    range.value = String(Math.round(t));
    clock.textContent = "T+" + hms(t);
    utc.textContent = new Date((data.epoch + t) * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
    // The current event is the last one reached; the next ones are those still to come.
    const k = before(data.events.map(function (e) { return e.t; }), t);
    const current = k >= 0 ? data.events[k] : null;
    const coming = data.events.slice(k + 1, k + 4);
    currentText.textContent = "Current event: " + (current ? eventText(current) : "none yet");
    nextText.textContent = "Next: " + (coming.length ? coming.map(eventText).join("; ") : "—");
    eventItems.forEach(function (li, n) {
      li.classList.toggle("current", n === k);
      li.classList.toggle("past", n < k);
      if (n === k) li.setAttribute("aria-current", "true"); else li.removeAttribute("aria-current");
    });
    for (const m of marks.children) m.classList.toggle("past", Number(m.dataset.t) <= t);
    measures.time = t;
    measures.current = currentText.textContent;
    measures.next = nextText.textContent;
    measures.nation = nation;
    drawGospa();
  }

  // A scrub: shown and drawn at once, and timed.
  function scrubTo(x) {
    performance.mark("replay-scrub-start");
    show(x);
    map.drawNow();
    performance.mark("replay-scrub-end");
    const m = performance.measure("replay-scrub", "replay-scrub-start", "replay-scrub-end");
    measures.lastScrubMs = m.duration;
    measures.scrubMs.push(m.duration);
    if (measures.scrubMs.length > 200) measures.scrubMs.shift();
  }

  function setPlaying(on) {
    playing = on && t < data.duration;
    playButton.textContent = playing ? "Pause" : "Play";
    playButton.setAttribute("aria-pressed", playing ? "true" : "false");
    if (playing) {
      lastWall = performance.now();
      window.requestAnimationFrame(tick);
    }
  }

  function tick(now) {
    if (!playing) return;
    const speed = Number(speedSelect.value) || 1;
    const next = t + (now - lastWall) / 1000 * speed;
    lastWall = now;
    show(next);
    if (t >= data.duration) { setPlaying(false); return; }
    window.requestAnimationFrame(tick);
  }

  // The GOSPA of each nation over the run, with the replay time as a line.
  let gospaBase = null;
  function drawGospa() {
    if (!gospaCanvas || !data) return;
    const r = gospaCanvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width)), h = Math.max(1, Math.round(r.height));
    const pad = { l: 34, r: 8, t: 8, b: 18 };
    if (!gospaBase || gospaBase.w !== w || gospaBase.h !== h) {
      const c = document.createElement("canvas");
      c.width = w * dpr;
      c.height = h * dpr;
      const g = c.getContext("2d");
      g.scale(dpr, dpr);
      g.fillStyle = "#ffffff";
      g.fillRect(0, 0, w, h);
      let max = 1;
      for (const n of Object.keys(data.quality)) for (const v of data.quality[n].gospa) max = Math.max(max, v / 1000);
      max *= 1.1;
      const X = function (s) { return pad.l + s / Math.max(1, data.duration) * (w - pad.l - pad.r); };
      const Y = function (km) { return h - pad.b - km / max * (h - pad.t - pad.b); };
      g.strokeStyle = "#d5dae0";
      g.fillStyle = "#56606b";
      g.font = "10px 'DejaVu Sans', sans-serif";
      g.lineWidth = 1;
      g.beginPath();
      for (let km = 0; km <= max; km += max > 8 ? 2 : 1) {
        g.moveTo(pad.l, Y(km));
        g.lineTo(w - pad.r, Y(km));
        g.fillText(km + " km", 2, Y(km) + 3);
      }
      const stepMin = data.duration > 3 * 3600 ? 60 : 30;
      for (let m = 0; m * 60 <= data.duration; m += stepMin) g.fillText(m + " min", X(m * 60) - 8, h - 4);
      g.stroke();
      data.nations.forEach(function (n, i) {
        const q = data.quality[n];
        if (!q) return;
        g.strokeStyle = PALETTE[i % PALETTE.length];
        g.lineWidth = 1.5;
        g.beginPath();
        for (let k = 0; k < q.t.length; k++) {
          if (k === 0) g.moveTo(X(q.t[k]), Y(q.gospa[k] / 1000)); else g.lineTo(X(q.t[k]), Y(q.gospa[k] / 1000));
        }
        g.stroke();
      });
      gospaBase = { canvas: c, w: w, h: h, X: X };
      gospaCanvas.width = w * dpr;
      gospaCanvas.height = h * dpr;
    }
    const ctx = gospaCanvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(gospaBase.canvas, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.strokeStyle = "#1b2430";
    ctx.lineWidth = 1;
    const x = Math.round(gospaBase.X(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, pad.t);
    ctx.lineTo(x, h - pad.b);
    ctx.stroke();
  }

  // Events close in time go on lanes below one another, so that every mark can be clicked.
  function buildMarks() {
    const frag = document.createDocumentFragment();
    const laneEnds = [];
    const gap = 0.012 * Math.max(1, data.duration);
    for (const e of data.events) {
      let lane = laneEnds.findIndex(function (end) { return e.t - end >= gap; });
      if (lane < 0) { lane = laneEnds.length; laneEnds.push(e.t); } else { laneEnds[lane] = e.t; }
      const b = document.createElement("button");
      b.type = "button";
      b.className = "mark m-" + e.milestone;
      b.dataset.t = String(e.t);
      b.dataset.milestone = e.milestone;
      b.setAttribute("aria-label", eventText(e));
      b.title = eventText(e);
      b.style.left = (e.t / Math.max(1, data.duration) * 100) + "%";
      b.style.top = (lane * 1.05) + "rem";
      frag.appendChild(b);
    }
    marks.replaceChildren(frag);
    const height = Math.max(1, laneEnds.length) * 1.05 + 0.1;
    marks.style.height = height + "rem";
    marks.parentElement.style.paddingTop = height + "rem";
  }

  function wire() {
    range.addEventListener("input", function () { scrubTo(Number(range.value)); });
    range.addEventListener("keydown", function (e) {
      const step = e.shiftKey ? 60 : 10;
      const keys = {
        ArrowLeft: -step, ArrowDown: -step, ArrowRight: step, ArrowUp: step, PageUp: 600, PageDown: -600,
      };
      if (e.key in keys) {
        e.preventDefault();
        scrubTo(t + keys[e.key]);
      } else if (e.key === "Home" || e.key === "End") {
        e.preventDefault();
        scrubTo(e.key === "Home" ? 0 : data.duration);
      } else if (e.key === " ") {
        e.preventDefault();
        setPlaying(!playing);
      }
    });
    playButton.addEventListener("click", function () {
      if (!playing && t >= data.duration) t = 0;
      setPlaying(!playing);
    });
    nationSelect.addEventListener("change", function () { scrubTo(t); });
    document.addEventListener("click", function (e) {
      const target = e.target.closest ? e.target.closest("button[data-t]") : null;
      if (!target) return;
      setPlaying(false);
      scrubTo(Number(target.dataset.t));
    });
    map.onSelect(function (id) {
      selected = id;
      for (const tr of rows.children) tr.classList.toggle("selected", tr.dataset.id === id);
    });
    if (typeof ResizeObserver !== "undefined" && gospaCanvas) {
      new ResizeObserver(function () { gospaBase = null; drawGospa(); }).observe(gospaCanvas);
    }
  }

  performance.mark("replay-data-start");
  fetch(root.dataset.data, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) throw new Error("the run's data could not be loaded (HTTP " + r.status + ")");
      return r.json();
    })
    .then(function (json) {
      data = json;
      performance.mark("replay-data-end");
      measures.dataMs = performance.measure("replay-data", "replay-data-start", "replay-data-end").duration;
      map = window.AirMap.create($("replay-map"), data.area);
      measures.map = map;
      buildMarks();
      wire();
      show(0);
      map.drawNow();
      performance.mark("replay-ready");
      // From the start of the page's navigation to the run's first drawing.
      measures.loadMs = performance.measure("replay-load", { start: 0, end: "replay-ready" }).duration;
      root.dataset.ready = "true";
    })
    .catch(function (e) {
      errorBox.hidden = false;
      errorBox.textContent = String(e.message || e);
    });
})();
