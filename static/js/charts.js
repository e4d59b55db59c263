// Draws the results charts with plotly.js (served by the platform) from JSON blocks on the page.
// Each slot <div class="chart" data-chart="KIND" data-source="ID"> names its kind and its data.
(function () {
  "use strict";
  if (!window.Plotly) { return; }
  var PALETTE = ["#1d4ed8", "#ea580c", "#059669", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];
  var CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  var LAYOUT = {
    margin: { l: 48, r: 16, t: 8, b: 40 }, height: 300, font: { family: "system-ui, sans-serif", size: 12 },
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    // Above the plot, so a legend never sits on the x-axis title.
    legend: { orientation: "h", x: 0, y: 1.02, xanchor: "left", yanchor: "bottom" }
  };
  var WITH_LEGEND = { l: 48, r: 16, t: 40, b: 48 };

  function layout(extra) { return Object.assign({}, LAYOUT, extra || {}); }
  function colour(i) { return PALETTE[i % PALETTE.length]; }

  function figure(v) {
    if (v === null || v === undefined) { return "unknown"; }
    return Math.abs(v) >= 100 ? Math.round(v).toLocaleString() : String(Math.round(v * 100) / 100);
  }

  // Under each customer's id (a pseudonym where the id was personal data), its key figures.
  function hoverText(d, i, segmentName) {
    var lines = ["<b>" + segmentName + "</b>"];
    if (d.points) {
      lines.unshift("Customer " + d.points.ids[i]);
      d.points.key.forEach(function (f) { lines.push(f + ": " + figure(d.points.features[f][i])); });
    }
    return lines.join("<br>");
  }

  // One trace per segment (noise, -1, in grey as "Unassigned"), points given by xy(i).
  function bySegment(d, xy, size) {
    var traces = [];
    d.names.concat(["Unassigned"]).forEach(function (name, s) {
      var wanted = s < d.names.length ? s : -1, x = [], y = [], text = [];
      d.map.segment.forEach(function (label, i) {
        if ((wanted < 0 && label < 0) || label === wanted) {
          var p = xy(i); x.push(p[0]); y.push(p[1]); text.push(hoverText(d, i, name));
        }
      });
      if (!x.length) { return; }
      traces.push({ type: "scatter", mode: "markers", name: name, x: x, y: y, text: text, hovertemplate: "%{text}<extra></extra>",
                    marker: { size: size, opacity: 0.7, color: wanted < 0 ? "#9ca3af" : colour(s) } });
    });
    return traces;
  }

  var draw = {
    map: function (el, d) {
      var traces = bySegment(d, function (i) { return [d.map.x[i], d.map.y[i]]; }, 5);
      Plotly.newPlot(el, traces, layout({ height: 400, margin: WITH_LEGEND, xaxis: { title: { text: "PC 1" }, zeroline: false }, yaxis: { title: { text: "PC 2" }, zeroline: false } }), CONFIG);
    },
    scatter: function (el, d) {
      var features = Object.keys(d.points.features);
      var pickers = [document.getElementById("scatter-x-" + el.dataset.source), document.getElementById("scatter-y-" + el.dataset.source)];
      var start = d.points.key.concat(features);
      pickers.forEach(function (select, axis) {
        features.forEach(function (f) { select.add(new Option(f, f)); });
        select.value = start[Math.min(axis, start.length - 1)];
        select.addEventListener("change", redraw);
      });
      function redraw() {
        var fx = pickers[0].value, fy = pickers[1].value;
        var traces = bySegment(d, function (i) { return [d.points.features[fx][i], d.points.features[fy][i]]; }, 5);
        Plotly.react(el, traces, layout({ height: 400, margin: WITH_LEGEND, xaxis: { title: { text: fx }, zeroline: false }, yaxis: { title: { text: fy }, zeroline: false, automargin: true } }), CONFIG);
      }
      redraw();
    },
    sizes: function (el, d) {
      var labels = d.names.map(function (n, i) { return i + ": " + n; });
      var traces = [{ type: "bar", name: "customers", x: labels, y: d.shares.map(function (s) { return 100 * s; }),
                      marker: { color: d.names.map(function (_, i) { return colour(i); }) }, hovertemplate: "%{y:.1f}% of customers<extra></extra>" }];
      if (d.value) {
        traces.push({ type: "bar", name: d.value.feature, x: labels, y: d.value.shares.map(function (s) { return 100 * s; }),
                      marker: { color: "rgba(15,23,42,0.35)" }, hovertemplate: "%{y:.1f}% of " + d.value.feature + "<extra></extra>" });
      }
      Plotly.newPlot(el, traces, layout({ barmode: "group", showlegend: !!d.value, margin: WITH_LEGEND, yaxis: { title: { text: "% of total" }, ticksuffix: "%" }, xaxis: { showticklabels: false } }), CONFIG);
    },
    heatmap: function (el, d) {
      var labels = d.names.map(function (n, i) { return i + ": " + n; });
      Plotly.newPlot(el, [{ type: "heatmap", z: d.heatmap.z, x: d.heatmap.features, y: labels, zmid: 0,
                            colorscale: "RdBu", reversescale: true, hovertemplate: "%{y}<br>%{x}: " + (d.heatmap.unit === "sd" ? "%{z:+.2f} sd" : "%{z:+.0%} vs the average") + "<extra></extra>" }],
                     // Every feature and every segment labelled (dtick 1), the chart as tall as its rows need.
                     layout({ height: Math.max(300, 60 + 28 * labels.length), margin: { l: 160, r: 16, t: 8, b: 40 },
                              xaxis: { automargin: true, tickangle: -30, dtick: 1, tickmode: "linear" },
                              yaxis: { automargin: true, autorange: "reversed", dtick: 1, tickmode: "linear" } }), CONFIG);
    },
    silhouette: function (el, d) {
      var traces = byAlgorithm(d.candidates, "silhouette");
      var chosen = d.candidates.filter(function (c) {
        return c.k === d.selected_k && (!d.selected_algorithm || c.algorithm === d.selected_algorithm);
      })[0];
      if (chosen) {
        traces.push({ type: "scatter", mode: "markers", x: [chosen.k], y: [chosen.silhouette], name: "chosen",
                      marker: { size: 14, symbol: "circle-open", color: "#111827", line: { width: 3 } } });
      }
      Plotly.newPlot(el, traces, layout({ showlegend: traces.length > 2, margin: WITH_LEGEND, xaxis: { title: { text: "segments (k); ringed: the chosen solution" }, dtick: 1 }, yaxis: { title: { text: "silhouette" }, automargin: true } }), CONFIG);
    },
    stability: function (el, d) {
      var traces = d.stability.candidates ? byAlgorithm(d.stability.candidates, "stability")
        : [{ type: "scatter", mode: "lines+markers", x: d.stability.k, y: d.stability.score, line: { color: PALETTE[2] } }];
      Plotly.newPlot(el, traces, layout({ showlegend: traces.length > 1, margin: WITH_LEGEND, xaxis: { title: { text: "segments (k)" }, dtick: 1 }, yaxis: { title: { text: "stability (bootstrap adjusted Rand)" }, automargin: true } }), CONFIG);
    }
  };

  // The top of the merge tree: leaves are the clusters left before the kept merges (their size
  // in rows below them); the dashed line cuts the tree into the chosen segments.
  function dendrogram(el, d) {
    var t = d.dendrogram, leaves = t.leaf_sizes.length, x = [], h = [], order = [];
    for (var i = 0; i < leaves; i++) { h[i] = 0; }
    t.merges.forEach(function (m, j) { h[leaves + j] = m[2]; });
    var root = leaves + t.merges.length - 1;
    (function place(node) {  // leaves left to right in the tree's own order
      if (node < leaves) { x[node] = order.length; order.push(node); return; }
      var m = t.merges[node - leaves];
      place(m[0]); place(m[1]);
      x[node] = (x[m[0]] + x[m[1]]) / 2;
    })(root);
    var lx = [], ly = [];
    t.merges.forEach(function (m, j) {
      var top = m[2];
      lx.push(x[m[0]], x[m[0]], x[m[1]], x[m[1]], null);
      ly.push(h[m[0]], top, top, h[m[1]], null);
    });
    var traces = [
      { type: "scatter", mode: "lines", x: lx, y: ly, line: { color: "#334155", width: 1.5 }, hoverinfo: "skip", showlegend: false },
      { type: "scatter", mode: "markers", x: order.map(function (n) { return x[n]; }), y: order.map(function () { return 0; }),
        marker: { size: 6, color: "#1d4ed8" }, showlegend: false,
        text: order.map(function (n) { return t.leaf_sizes[n]; }), hovertemplate: "%{text} rows<extra></extra>" },
      { type: "scatter", mode: "lines", x: [-0.5, leaves - 0.5], y: [t.cut, t.cut], showlegend: false,
        line: { color: "#dc2626", dash: "dash", width: 1.5 }, hovertemplate: "cut into " + d.selected_k + " segments<extra></extra>" }
    ];
    Plotly.newPlot(el, traces, layout({
      showlegend: false,
      annotations: [{ x: leaves - 0.5, y: t.cut, xanchor: "right", yanchor: "bottom", showarrow: false,
                      text: "cut: " + d.selected_k + " segments", font: { color: "#dc2626", size: 11 } }],
      xaxis: { title: { text: "clusters before the top " + t.merges.length + " merges (rows under each)" },
               tickvals: order.map(function (n) { return x[n]; }), ticktext: order.map(function (n) { return String(t.leaf_sizes[n]); }),
               tickangle: -90, tickfont: { size: 9 }, zeroline: false },
      yaxis: { title: { text: t.linkage + " merge height" }, rangemode: "tozero", automargin: true }
    }), CONFIG);
  }
  draw.dendrogram = dendrogram;

  // One line per algorithm, in the order the sweep tried them.
  function byAlgorithm(candidates, metric) {
    var order = [], groups = {};
    candidates.forEach(function (c) {
      var name = c.algorithm || "kmeans";
      if (!(name in groups)) { groups[name] = []; order.push(name); }
      if (typeof c[metric] === "number") { groups[name].push(c); }
    });
    return order.map(function (name, i) {
      var points = groups[name].slice().sort(function (a, b) { return a.k - b.k; });
      return { type: "scatter", mode: "lines+markers", name: name, line: { color: PALETTE[i % PALETTE.length] },
               x: points.map(function (c) { return c.k; }), y: points.map(function (c) { return c[metric]; }) };
    });
  }

  var cache = {};
  function data(id) {
    if (!(id in cache)) {
      var node = document.getElementById(id);
      cache[id] = node ? JSON.parse(node.textContent) : null;
    }
    return cache[id];
  }

  document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
    var d = data(el.dataset.source);
    var kind = el.dataset.chart;
    if (d && draw[kind]) {
      try { draw[kind](el, d); el.classList.add("drawn"); }
      catch (err) { el.textContent = "This chart could not be drawn."; }
    }
  });
})();
