// The Newswire dashboard: samples arrive from GET /events (server-sent events); everything
// drawn is computed here from cumulative counts, so a reconnect loses nothing.
"use strict";

const HISTORY_S = 15 * 60;
const RATE_SPAN = 5; // samples (10 s) per rate point, so the lines are steady
const SVG = "http://www.w3.org/2000/svg";
const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
let history = [];

const sum = (totals, keys) => keys.reduce((n, key) => n + (totals[key] || 0), 0);
const rejected = (t) => Object.keys(t).filter((k) => k.endsWith(".rejected")).reduce((n, k) => n + t[k], 0);
const counts = {
  received: (t) => sum(t, ["clean.cleaned"]) + sum(t, ["clean.rejected", "decode.rejected"]),
  published: (t) => sum(t, ["publish.published"]),
  duplicates: (t) => sum(t, ["dedup.duplicate"]),
  decided: (t) => sum(t, ["dedup.duplicate", "dedup.new", "dedup.version"]),
  rejected,
};

// Per-minute rate of a cumulative count, one point per sample.
function ratePoints(count) {
  const points = [];
  for (let i = RATE_SPAN; i < history.length; i++) {
    const a = history[i - RATE_SPAN], b = history[i];
    points.push([b.at, ((count(b.totals) - count(a.totals)) / (b.at - a.at)) * 60]);
  }
  return points;
}

// A share (in %) of one count's growth in another's over each rate span.
function sharePoints(part, whole) {
  const points = [];
  for (let i = RATE_SPAN; i < history.length; i++) {
    const a = history[i - RATE_SPAN], b = history[i];
    const total = whole(b.totals) - whole(a.totals);
    points.push([b.at, total > 0 ? (100 * (part(b.totals) - part(a.totals))) / total : 0]);
  }
  return points;
}

// A value per sample; null where there is none (no story in the last minute: no latency).
const valuePoints = (pick) => history.map((s) => [s.at, pick(s) ?? null]);
const totalLag = (s) => Object.values(s.lag).reduce((n, v) => n + v, 0);

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const step = Math.pow(10, Math.floor(Math.log10(value)));
  for (const m of [1, 2, 4, 6, 8, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

const formatValue = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));

// A line chart of several series over the last fifteen minutes.
function lineChart(id, series) {
  const svg = document.getElementById(id);
  const [W, H, left, bottom, top] = [600, 220, 44, 22, 8];
  const now = history.length ? history[history.length - 1].at : Date.now() / 1000;
  const start = now - HISTORY_S;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map(([, v]) => v ?? 0))));
  const x = (t) => left + ((t - start) / HISTORY_S) * (W - left - 4);
  const y = (v) => H - bottom - (v / max) * (H - bottom - top);
  svg.replaceChildren();
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    svg.append(el("line", { class: "grid", x1: left, x2: W - 4, y1: y(v), y2: y(v) }));
    svg.append(el("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, formatValue(v)));
  }
  for (const minutes of [15, 10, 5, 0]) {
    const label = minutes ? `-${minutes} min` : "now";
    svg.append(el("text", { x: x(now - minutes * 60), y: H - 4, "text-anchor": minutes ? "middle" : "end" }, label));
  }
  for (const s of series) {
    const points = s.points.filter(([t, v]) => t >= start && v !== null);
    if (points.length < 2) continue;
    const d = points.map(([t, v], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join("");
    svg.append(el("path", { class: "series", d, stroke: css(s.color) }));
  }
  const legend = document.getElementById(id.replace("chart", "legend"));
  legend.replaceChildren(...series.map((s) => {
    const span = document.createElement("span");
    span.style.setProperty("--swatch", css(s.color));
    span.textContent = s.name;
    return span;
  }));
}

function sparkline(id, allPoints, color) {
  const svg = document.getElementById(id);
  const points = allPoints.filter(([, v]) => v !== null);
  svg.replaceChildren();
  if (points.length < 2) return;
  const max = Math.max(...points.map(([, v]) => v)) || 1;
  const [t0, t1] = [points[0][0], points[points.length - 1][0]];
  const d = points.map(([t, v], i) => `${i ? "L" : "M"}${(((t - t0) / (t1 - t0 || 1)) * 100).toFixed(2)},${(23 - (v / max) * 22).toFixed(2)}`).join("");
  const path = el("path", { d });
  path.style.stroke = css(color);
  svg.append(path);
}

const last = (points) => (points.length ? points[points.length - 1][1] : null);
const seconds = (v) => (v === null ? "–" : v < 1 ? `${(v * 1000).toFixed(0)} ms` : `${v.toFixed(2)} s`);

function renderTiles(series) {
  const tiles = {
    received: [series.received, (v) => v.toFixed(0), "--received"],
    published: [series.published, (v) => v.toFixed(0), "--published"],
    duplicates: [series.duplicateRate, (v) => `${v.toFixed(1)} %`, "--duplicates"],
    rejected: [series.rejectionRate, (v) => `${v.toFixed(1)} %`, "--rejected"],
    latency: [series.p95, seconds, "--p95"],
    lag: [series.lag, (v) => v.toFixed(0), "--lag"],
  };
  for (const [name, [points, format, color]] of Object.entries(tiles)) {
    const value = last(points);
    document.getElementById(`kpi-${name}`).textContent = value === null ? "–" : format(value);
    sparkline(`spark-${name}`, points.slice(-60), color);
  }
}

function renderBars(kind, entries) {
  const list = document.getElementById(`top-${kind}`);
  const max = entries.length ? entries[0][1] : 1;
  list.replaceChildren(...entries.map(([name, stories]) => {
    const item = document.createElement("li");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${(100 * stories) / max}%`;
    const label = document.createElement("span");
    label.textContent = name;
    const count = document.createElement("span");
    count.textContent = stories;
    item.append(bar, label, count);
    return item;
  }));
}

const STATE_LABELS = { ok: "ok", quiet: "gone quiet", failing: "failing" };

function ago(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${(seconds / 3600).toFixed(1)} h ago`;
}

function renderPushes(pushes) {
  document.getElementById("pushes-panel").hidden = !pushes.length;
  const max = Math.max(1, ...pushes.map((p) => p.delivered));
  document.getElementById("pushes").replaceChildren(...pushes.map((push) => {
    const item = document.createElement("li");
    item.dataset.subscription = push.name;
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${(100 * push.delivered) / max}%`;
    const state = push.failed ? "failing" : push.oldestSeconds > 60 ? "quiet" : "ok";
    const label = document.createElement("span");
    const waiting = document.createElement("span");
    waiting.className = `feed-state ${state}`;
    waiting.textContent = push.oldestSeconds ? `waiting since ${ago(push.oldestSeconds)}` : "up to date";
    label.append(push.name, waiting, ` · ${push.retried} retried · ${push.failed} failed`);
    const count = document.createElement("span");
    count.textContent = push.delivered;
    item.append(bar, label, count);
    return item;
  }));
}

function renderFeeds(feeds, now) {
  document.getElementById("feeds-panel").hidden = !feeds.length;
  const max = Math.max(1, ...feeds.map((f) => f.itemsLastHour));
  document.getElementById("feeds").replaceChildren(...feeds.map((feed) => {
    const item = document.createElement("li");
    item.dataset.feed = feed.name;
    item.dataset.state = feed.state;
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${(100 * feed.itemsLastHour) / max}%`;
    const label = document.createElement("span");
    const state = document.createElement("span");
    state.className = `feed-state ${feed.state}`;
    state.textContent = STATE_LABELS[feed.state] || feed.state;
    const last = feed.lastItemAt ? `last item ${ago(now - feed.lastItemAt)}` : "no item yet";
    label.append(`${feed.name} (${feed.kind})`, state, ` · ${last}`);
    if (feed.state === "failing" && feed.lastError) label.title = feed.lastError;
    const count = document.createElement("span");
    count.textContent = feed.itemsLastHour;
    item.append(bar, label, count);
    return item;
  }));
}

function renderLatest(stories) {
  document.getElementById("latest").replaceChildren(...stories.map((story) => {
    const item = document.createElement("li");
    const headline = document.createElement("span");
    headline.className = "headline";
    headline.textContent = story.headline;
    const meta = document.createElement("span");
    meta.className = "meta";
    const when = story.at ? new Date(story.at).toLocaleTimeString() : "";
    meta.textContent = [story.source, story.version > 1 ? `v${story.version}` : "", when].filter(Boolean).join(" · ");
    const chips = document.createElement("div");
    chips.append(...story.entities.slice(0, 8).map(([kind, name]) => {
      const chip = document.createElement("span");
      chip.className = `chip ${kind}`;
      chip.textContent = name;
      return chip;
    }));
    item.append(headline, meta, chips);
    return item;
  }));
}

function render() {
  if (!history.length) return;
  const latest = history[history.length - 1];
  const series = {
    received: ratePoints(counts.received),
    published: ratePoints(counts.published),
    duplicates: ratePoints(counts.duplicates),
    rejected: ratePoints(counts.rejected),
    duplicateRate: sharePoints(counts.duplicates, counts.decided),
    rejectionRate: sharePoints(counts.rejected, counts.received),
    p50: valuePoints((s) => s.latency.p50),
    p95: valuePoints((s) => s.latency.p95),
    p99: valuePoints((s) => s.latency.p99),
    lag: valuePoints(totalLag),
  };
  renderTiles(series);
  lineChart("chart-throughput", [
    { name: "received", color: "--received", points: series.received },
    { name: "published", color: "--published", points: series.published },
    { name: "duplicates", color: "--duplicates", points: series.duplicates },
    { name: "rejected", color: "--rejected", points: series.rejected },
  ]);
  lineChart("chart-latency", [
    { name: "p50", color: "--p50", points: series.p50 },
    { name: "p95", color: "--p95", points: series.p95 },
    { name: "p99", color: "--p99", points: series.p99 },
  ]);
  lineChart("chart-rates", [
    { name: "duplicates", color: "--duplicates", points: series.duplicateRate },
    { name: "rejected", color: "--rejected", points: series.rejectionRate },
  ]);
  lineChart("chart-lag", [{ name: "all partitions", color: "--lag", points: series.lag }]);
  for (const kind of ["person", "organisation", "place"]) renderBars(kind, latest.top[kind] || []);
  renderLatest(latest.latest);
  renderFeeds(latest.feeds || [], latest.at);
  renderPushes(latest.pushes || []);
  const status = document.getElementById("status");
  status.textContent = latest.ready ? "ready" : "not ready";
  status.className = `status ${latest.ready ? "ok" : "waiting"}`;
  document.getElementById("total-published").textContent = counts.published(latest.totals);
  document.getElementById("worker").textContent = latest.worker;
  document.getElementById("updated").textContent = `updated ${new Date(latest.at * 1000).toLocaleTimeString()}`;
}

const events = new EventSource("events");
events.addEventListener("history", (event) => {
  history = JSON.parse(event.data);
  render();
});
events.addEventListener("sample", (event) => {
  history.push(JSON.parse(event.data));
  const cutoff = history[history.length - 1].at - HISTORY_S;
  while (history.length && history[0].at < cutoff) history.shift();
  render();
});
events.addEventListener("error", () => {
  const status = document.getElementById("status");
  status.textContent = "reconnecting";
  status.className = "status down";
});
