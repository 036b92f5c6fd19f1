// The live air picture page: frames arrive as server-sent events ("picture": the fused tracks
// the signed-in user's nation may see; "banner": the classification of what is shown) and are
// drawn on the air map (airmap.js) with a track list beside it. Nothing here decides what is
// shown: the node sends only what was released to the user.
"use strict";

(function () {
  const root = document.getElementById("picture");
  if (!root) return;
  const canvas = document.getElementById("picture-map");
  const status = document.getElementById("picture-status");
  const list = document.getElementById("picture-list");
  const detail = document.getElementById("picture-detail");
  const facts = document.getElementById("picture-detail-facts");
  const contributions = document.getElementById("picture-contributions");
  const title = document.getElementById("picture-detail-title");
  const KNOTS = 1.943844;
  const LIST_LIMIT = 300;

  // What the page received, for whoever checks it (tests, benchmarks).
  const seen = { frames: 0, seq: 0, tracks: 0, latencies: [], time: null };
  window.entente = Object.assign(window.entente || {}, { picture: seen });

  let map = null;
  let selected = null;
  let current = new Map();

  function ensureMap(origin) {
    if (map || !origin || typeof window.AirMap === "undefined") return;
    map = window.AirMap.create(canvas, {
      south: origin[0] - 3.5,
      north: origin[0] + 3.5,
      west: origin[1] - 6.5,
      east: origin[1] + 6.5,
    });
    seen.map = map;
    map.onSelect(function (id) {
      select(id === null || id === undefined ? null : Number(id));
    });
  }

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }

  function flightLevel(t) {
    if (typeof t.altitude_m !== "number") return "";
    return "FL" + String(Math.round(t.altitude_m / 30.48)).padStart(3, "0");
  }

  function nameOf(t) {
    return t.callsign ? t.callsign : "T" + String(t.stn).padStart(4, "0");
  }

  function drawList(tracks) {
    const rows = document.createDocumentFragment();
    const shown = tracks.slice(0, LIST_LIMIT);
    for (const t of shown) {
      const tr = document.createElement("tr");
      tr.dataset.stn = String(t.stn);
      tr.className = "identity-" + t.identity + (t.stn === selected ? " selected" : "");
      const name = document.createElement("th");
      name.scope = "row";
      const button = text("button", nameOf(t), "track-pick");
      button.type = "button";
      button.addEventListener("click", function () { select(t.stn); });
      name.appendChild(button);
      tr.appendChild(name);
      tr.appendChild(text("td", t.identity));
      tr.appendChild(text("td", Math.round(t.speed_mps * KNOTS).toString(), "num"));
      tr.appendChild(text("td", String(Math.round(t.heading_deg)).padStart(3, "0") + "°", "num"));
      const nations = Array.from(new Set(t.contributions.map(function (c) { return c.nation; })));
      tr.appendChild(text("td", nations.join(", ")));
      rows.appendChild(tr);
    }
    list.replaceChildren(rows);
    if (tracks.length > LIST_LIMIT) {
      const tr = document.createElement("tr");
      const td = text("td", (tracks.length - LIST_LIMIT) + " more tracks on the map");
      td.colSpan = 5;
      tr.appendChild(td);
      list.appendChild(tr);
    }
  }

  function drawDetail() {
    const t = selected === null ? null : current.get(selected);
    if (!t) {
      detail.hidden = true;
      if (map) map.setEllipse(null, null);
      return;
    }
    detail.hidden = false;
    title.textContent = "Track " + nameOf(t);
    const rows = [
      ["Identity", t.identity],
      ["Position", t.lat.toFixed(3) + "° N, " + t.lon.toFixed(3) + "° E"],
      ["Speed", Math.round(t.speed_mps * KNOTS) + " kt (" + Math.round(t.speed_mps) + " m/s)"],
      ["Heading", String(Math.round(t.heading_deg)).padStart(3, "0") + "°"],
      ["Flight level", flightLevel(t) || "not reported"],
      ["Quality", t.quality + " of 15"],
      ["1-σ position error", Math.round(Math.sqrt((t.cov[0] + t.cov[2]) / 2)) + " m"],
      ["Label", t.label],
    ];
    const dl = document.createDocumentFragment();
    for (const [k, v] of rows) {
      dl.appendChild(text("dt", k));
      dl.appendChild(text("dd", v));
    }
    facts.replaceChildren(dl);
    const body = document.createDocumentFragment();
    for (const c of t.contributions) {
      const tr = document.createElement("tr");
      tr.appendChild(text("td", c.nation));
      tr.appendChild(text("td", c.sensor));
      tr.appendChild(text("td", c.track));
      tr.appendChild(text("td", c.label));
      body.appendChild(tr);
    }
    contributions.replaceChildren(body);
    if (map) {
      map.setEllipse(t.stn, {
        lat: t.lat,
        lon: t.lon,
        cov: [[t.cov[0], t.cov[1]], [t.cov[1], t.cov[2]]],
      });
    }
  }

  function fetchHistory(stn) {
    fetch(root.dataset.history + encodeURIComponent(String(stn)), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (h) {
        if (!h || !map || selected !== stn) return;
        const trail = {};
        trail[stn] = h.history.map(function (p) { return [p.lat, p.lon]; });
        map.setTrails(trail);
      })
      .catch(function () {});
  }

  function select(stn) {
    selected = stn;
    if (map) {
      map.select(stn);
      if (stn === null) map.setTrails({});
    }
    drawDetail();
    for (const tr of list.querySelectorAll("tr[data-stn]")) {
      tr.classList.toggle("selected", Number(tr.dataset.stn) === stn);
    }
    if (stn !== null) fetchHistory(stn);
  }

  function onPicture(data) {
    const frame = JSON.parse(data);
    seen.frames += 1;
    seen.seq = frame.seq;
    seen.tracks = frame.tracks.length;
    seen.time = frame.time;
    seen.last = frame.tracks.slice(0, 50).map(function (t) {
      return { stn: t.stn, lat: t.lat, lon: t.lon };
    });
    if (frame.made_us) {
      seen.latencies.push(Date.now() - frame.made_us / 1000);
      if (seen.latencies.length > 1000) seen.latencies.shift();
    }
    ensureMap(frame.origin);
    current = new Map(frame.tracks.map(function (t) { return [t.stn, t]; }));
    if (map) {
      map.setTracks(frame.tracks.map(function (t) {
        return {
          id: t.stn,
          lat: t.lat,
          lon: t.lon,
          heading_deg: t.heading_deg,
          speed_mps: t.speed_mps,
          altitude_m: t.altitude_m,
          identity: t.identity,
          label: nameOf(t),
        };
      }));
    }
    const when = frame.time ? frame.time.replace("T", " ").replace(/\.\d+Z$/, " UTC") : "";
    status.textContent = frame.tracks.length === 0
      ? "No track in the picture released to " + root.dataset.nation + " at the moment."
      : frame.tracks.length + " tracks · picture time " + when;
    drawList(frame.tracks);
    if (selected !== null && !current.has(selected)) {
      select(null);
    } else if (selected !== null) {
      drawDetail();
      if (seen.frames % 5 === 0) fetchHistory(selected);
    }
  }

  function onBanner(data) {
    const b = JSON.parse(data);
    for (const id of ["banner-top", "banner-bottom"]) {
      const el = document.getElementById(id);
      if (!el) continue;
      el.textContent = b.text;
      el.className = "classification " + b.class;
    }
  }

  document.getElementById("picture-deselect").addEventListener("click", function () {
    select(null);
  });

  const source = new EventSource(root.dataset.stream);
  seen.source = source;
  source.addEventListener("picture", function (e) { onPicture(e.data); });
  source.addEventListener("banner", function (e) { onBanner(e.data); });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      status.textContent = "The picture stopped: reload the page to sign in again.";
    }
  });
})();
