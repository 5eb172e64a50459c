// A small dependency-free SVG chart library for the ops view: line charts (gaps for missing values) and
// stacked bar charts, with axes, a legend and a <title> tooltip on every point.
(function (global) {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2"];
  const SIZE = { width: 520, height: 220, left: 56, right: 26, top: 28, bottom: 40 };

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function format(value, kind) {
    if (value === null || value === undefined || Number.isNaN(value)) return "-";
    if (kind === "pct") return (value * 100).toFixed(value < 0.1 && value > 0 ? 1 : 0) + "%";
    if (kind === "usd") return "$" + value.toFixed(value < 1 ? 4 : 2);
    if (kind === "int") return Math.round(value).toLocaleString("en");
    return value >= 100 ? Math.round(value).toLocaleString("en") : value.toFixed(1);
  }

  // The axis top: 100% for rates; for counts four whole-number steps, so every gridline is an integer.
  function niceMax(value, kind) {
    if (kind === "pct") return value <= 1 ? 1 : value;
    if (!(value > 0)) return kind === "int" ? 4 : 1;
    if (kind === "int") {
      const raw = Math.ceil(value / 4);
      const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
      const step = [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= raw);
      return 4 * step;
    }
    const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    for (const f of [1, 2, 2.5, 5, 10]) if (value <= f * magnitude) return f * magnitude;
    return value;
  }

  function frame(svg, title, labels, maxValue, kind, xOf) {
    const { width, height, left, right, top, bottom } = SIZE;
    const plotH = height - top - bottom;
    svg.appendChild(el("text", { x: left, y: 16, "font-size": 13, "font-weight": 600 }, title));
    for (let k = 0; k <= 4; k++) {
      const y = top + plotH - (plotH * k) / 4;
      svg.appendChild(el("line", { x1: left, x2: width - right, y1: y, y2: y, stroke: "#e5e7eb" }));
      svg.appendChild(el("text", { x: left - 6, y: y + 4, "font-size": 10, "text-anchor": "end" },
        format((maxValue * k) / 4, kind)));
    }
    const every = Math.max(1, Math.floor(labels.length / 8));
    labels.forEach((label, i) => {
      if (i % every) return;
      svg.appendChild(el("text", { x: xOf(i), y: top + plotH + 14, "font-size": 10, "text-anchor": "middle" },
        label.length === 10 ? label.slice(5) : label));
    });
  }

  function legend(svg, names) {
    let x = SIZE.left;
    const y = SIZE.height - 8;
    names.forEach((name, n) => {
      svg.appendChild(el("rect", { x: x, y: y - 9, width: 10, height: 10, fill: PALETTE[n % PALETTE.length] }));
      svg.appendChild(el("text", { x: x + 14, y: y, "font-size": 11 }, name));
      x += 24 + 7 * name.length;
    });
  }

  function svgRoot(title) {
    return el("svg", { viewBox: `0 0 ${SIZE.width} ${SIZE.height}`, width: SIZE.width, height: SIZE.height,
      role: "img", "aria-label": title, class: "chart" });
  }

  // series: [{name, values: [number|null]}]; kind: "num" | "pct" | "usd" | "int".
  function lineChart(title, labels, series, kind) {
    const svg = svgRoot(title);
    const { width, left, right, top, bottom, height } = SIZE;
    const plotW = width - left - right, plotH = height - top - bottom;
    const values = series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined));
    const maxValue = niceMax(values.length ? Math.max(...values) : 0, kind);
    const step = plotW / Math.max(1, labels.length - 1);
    const xOf = (i) => left + (labels.length > 1 ? i * step : plotW / 2);
    const yOf = (v) => top + plotH - (v / maxValue) * plotH;
    frame(svg, title, labels, maxValue, kind, xOf);
    let points = 0;
    series.forEach((s, n) => {
      const colour = PALETTE[n % PALETTE.length];
      let run = [];
      const flush = () => {
        if (run.length > 1) svg.appendChild(el("polyline", { fill: "none", stroke: colour, "stroke-width": 2,
          points: run.join(" ") }));
        run = [];
      };
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) { flush(); return; }
        run.push(`${xOf(i).toFixed(1)},${yOf(v).toFixed(1)}`);
        const dot = el("circle", { cx: xOf(i).toFixed(1), cy: yOf(v).toFixed(1), r: 3, fill: colour, class: "point" });
        dot.appendChild(el("title", {}, `${s.name} ${labels[i]}: ${format(v, kind)}`));
        svg.appendChild(dot);
        points++;
      });
      flush();
    });
    legend(svg, series.map((s) => s.name));
    svg.dataset.points = String(points);
    return svg;
  }

  // series: [{name, values: [number]}], stacked per label.
  function stackedBars(title, labels, series) {
    const svg = svgRoot(title);
    const { width, left, right, top, bottom, height } = SIZE;
    const plotW = width - left - right, plotH = height - top - bottom;
    const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
    const maxValue = niceMax(Math.max(0, ...totals), "int");
    const slot = plotW / Math.max(1, labels.length);
    const xOf = (i) => left + slot * i + slot / 2;
    frame(svg, title, labels, maxValue, "int", xOf);
    const barW = Math.max(2, slot * 0.6);
    let bars = 0;
    labels.forEach((label, i) => {
      let base = top + plotH;
      series.forEach((s, n) => {
        const h = ((s.values[i] || 0) / maxValue) * plotH;
        if (h <= 0) return;
        base -= h;
        const rect = el("rect", { x: (xOf(i) - barW / 2).toFixed(1), y: base.toFixed(1), width: barW.toFixed(1),
          height: h.toFixed(1), fill: PALETTE[n % PALETTE.length], class: "bar" });
        rect.appendChild(el("title", {}, `${s.name} ${label}: ${s.values[i]}`));
        svg.appendChild(rect);
        bars++;
      });
    });
    legend(svg, series.map((s) => s.name));
    svg.dataset.points = String(bars);
    return svg;
  }

  // The text alternative of a chart: a one-line summary the image points to, and the numbers as a table.
  let figures = 0;
  function figure(svg, labels, series, kind) {
    const title = svg.getAttribute("aria-label");
    const id = "chart-" + ++figures;
    const node = document.createElement("figure");
    node.className = "chart-figure";
    const caption = document.createElement("figcaption");
    caption.id = id + "-summary";
    caption.textContent = summary(title, labels, series, kind);
    svg.setAttribute("aria-describedby", caption.id);
    const details = document.createElement("details");
    const toggle = document.createElement("summary");
    toggle.textContent = "Data table: " + title;
    details.append(toggle, table(title, labels, series, kind));
    node.append(svg, caption, details);
    return node;
  }

  function summary(title, labels, series, kind) {
    if (!labels.length) return title + ": no data in this window.";
    const parts = series.map((s) => {
      const known = s.values.map((v, i) => [v, i]).filter(([v]) => v !== null && v !== undefined);
      if (!known.length) return s.name + " has no data";
      const values = known.map(([v]) => v);
      const [last, at] = known[known.length - 1];
      return `${s.name} ${format(last, kind)} on ${labels[at]} (lowest ${format(Math.min(...values), kind)}, ` +
        `highest ${format(Math.max(...values), kind)})`;
    });
    return `${title}, ${labels[0]} to ${labels[labels.length - 1]}: ${parts.join("; ")}.`;
  }

  function table(title, labels, series, kind) {
    const node = document.createElement("table");
    const caption = document.createElement("caption");
    caption.textContent = title;
    const head = document.createElement("tr");
    for (const name of ["Date", ...series.map((s) => s.name)]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      head.append(th);
    }
    const rows = labels.map((label, i) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = label;
      tr.append(th);
      for (const s of series) {
        const td = document.createElement("td");
        td.textContent = format(s.values[i], kind || "int");
        tr.append(td);
      }
      return tr;
    });
    const thead = document.createElement("thead");
    thead.append(head);
    const tbody = document.createElement("tbody");
    tbody.append(...rows);
    node.append(caption, thead, tbody);
    return node;
  }

  global.KeelCharts = { lineChart, stackedBars, figure, format };
})(window);
