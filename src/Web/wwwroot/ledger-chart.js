// The only place that talks to ApexCharts. Razor's LedgerChart component calls create, update and destroy.
// Options arrive as JSON; a "ledger" section asks for what JSON cannot carry (label formatters).
const charts = new Map();

// ApexCharts writes legend entries, tooltips and data labels with innerHTML: everything the ledger's data names (a study,
// an owner, a layer) passes through here first, so a name is always shown as text and never run as markup.
const escape = v => String(v ?? '').replace(/[&<>"'`]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' }[c]));
const escaped = f => (v, o) => escape(f ? f(v, o) : v);

const plain = v => typeof v === 'number' ? String(Number(v.toPrecision(4))) : v;
const labels = axis => (Array.isArray(axis) ? axis[0] : axis)?.labels?.formatter;

function escapeEverywhere(options) {
  options.legend = Object.assign({}, options.legend, { formatter: escaped(options.legend && options.legend.formatter) });
  const tooltip = options.tooltip = Object.assign({}, options.tooltip);
  tooltip.x = Object.assign({}, tooltip.x, { formatter: escaped(tooltip.x?.formatter || labels(options.xaxis) || plain) });
  const y = tooltip.y = Object.assign({}, tooltip.y);
  y.formatter = escaped(y.formatter || labels(options.yaxis) || plain);
  y.title = Object.assign({}, y.title, { formatter: name => escape(name) + ': ' });
  if (options.dataLabels) options.dataLabels = Object.assign({}, options.dataLabels, { formatter: escaped(options.dataLabels.formatter || plain) });
  return options;
}

function prepare(options) {
  const ledger = options.ledger || {};
  delete options.ledger;
  const pow10 = v => {
    let x = Math.pow(10, v);
    // Widths are usually powers of two: snap a tick that is within 1% of one (2047.4 reads 2048).
    const p2 = Math.pow(2, Math.round(Math.log2(x)));
    if (Math.abs(x - p2) / p2 < 0.01) x = p2;
    // As the Server's first paint and the report's images write it (ChartStyle.Pow10): 1e15 and 3.2e-5, not every digit.
    if (x >= 1e7 || x < 1e-4) return x.toExponential(1).replace('.0e', 'e').replace('e+', 'e');
    return x >= 100 ? Math.round(x).toString() : Number(x.toPrecision(2)).toString();
  };
  const fixed = d => v => (v === null || v === undefined) ? '' : Number(v).toFixed(d);
  if (ledger.logX) {
    options.xaxis = options.xaxis || {};
    options.xaxis.labels = Object.assign({}, options.xaxis.labels, { formatter: pow10 });
    options.tooltip = Object.assign({}, options.tooltip, { x: { formatter: v => (ledger.xName || 'x') + ' ' + pow10(v) } });
  }
  if (ledger.logY) {
    options.yaxis = Object.assign({}, options.yaxis, { labels: { formatter: pow10 } });
  } else if (ledger.yDecimals !== undefined) {
    options.yaxis = Object.assign({}, options.yaxis, { labels: { formatter: fixed(ledger.yDecimals) } });
  }
  if (ledger.cellLabels) {
    // Heatmap cells without a loss carry a negative code: label them by name, the rest by value.
    const label = v => ledger.cellLabels[String(v)] ?? fixed(ledger.yDecimals ?? 3)(v);
    options.dataLabels = Object.assign({}, options.dataLabels, { formatter: label });
    options.tooltip = Object.assign({}, options.tooltip, { y: { formatter: label } });
  }
  return escapeEverywhere(options);
}

// Each chart's element counts its draws (data-draws) and notes when the last one finished (data-drawn-at, the page's
// clock), so tests and the browser benchmark can wait for a redraw and time it.
function drawn(element) {
  element.dataset.draws = String(Number(element.dataset.draws || 0) + 1);
  element.dataset.drawnAt = String(performance.now());
}

// Every option but the data, to tell a chart whose data alone changed.
function besidesSeries(parsed) {
  return JSON.stringify(Object.assign({}, parsed, { series: undefined }));
}

// A chart's element may leave the page while its draw is on its way (a link followed before the page finished drawing,
// a panel redrawn): there is nothing to draw then, and ApexCharts would reject with "Element not found" and end the page's
// circuit. Blazor hands an element that has left the page as null. A failure while the element is still on the page is a
// real one and is passed on.
const onPage = element => !!element && element.isConnected;
const unlessGone = element => error => { if (onPage(element)) throw error; };

export function create(element, id, json) {
  // A late draw of a page that is gone must not replace the chart of the same id the next page drew meanwhile.
  if (!onPage(element)) return Promise.resolve();
  destroy(id);
  const parsed = JSON.parse(json);
  if (parsed.ledger && parsed.ledger.empty) {
    // Nothing to draw: ApexCharts would draw an empty numeric chart at infinite coordinates, so say so in words.
    element.innerHTML = '';
    const note = document.createElement('p');
    note.className = 'muted chart-empty';
    note.textContent = parsed.ledger.empty;
    element.appendChild(note);
    charts.set(id, { chart: null, element });
    drawn(element);
    return Promise.resolve();
  }
  const options = prepare(parsed);
  // The element's id names the chart too (ApexCharts.getChartByID), so tests can read what it was given.
  options.chart = Object.assign({}, options.chart, { id });
  const chart = new ApexCharts(element, options);
  charts.set(id, { chart, element, rest: besidesSeries(parsed) });
  return chart.render().then(() => drawn(element), unlessGone(element));
}

export function update(element, id, json) {
  const entry = charts.get(id);
  // Only the component's own chart: a late update of a page that is gone must not redraw the next page's chart of its id.
  if (!entry || entry.element !== element) return Promise.resolve();
  if (!onPage(entry.element)) {
    destroy(id);
    return Promise.resolve();
  }
  const parsed = JSON.parse(json);
  // From or to an empty chart: draw it anew.
  if (!entry.chart || (parsed.ledger && parsed.ledger.empty)) return create(entry.element, id, json);
  // Only the data changed (a replay step, a trial ending): updating the series alone spares ApexCharts re-reading
  // every option.
  const rest = besidesSeries(parsed);
  const started = performance.now();
  let drawing;
  if (rest === entry.rest) {
    drawing = entry.chart.updateSeries(parsed.series, false);
  } else {
    const options = prepare(parsed);
    options.chart = Object.assign({}, options.chart, { id });
    drawing = entry.chart.updateOptions(options, false, false);
  }
  entry.rest = rest;
  return drawing.then(() => {
    entry.element.dataset.drawMs = String(performance.now() - started);
    drawn(entry.element);
  }, unlessGone(entry.element));
}

// element: the component's own (null when it has left the page); a chart of the same id whose element is another one still
// on the page belongs to a newer component and stays.
export function destroy(id, element) {
  const entry = charts.get(id);
  if (entry && element !== undefined && entry.element !== element && onPage(entry.element)) return;
  if (entry) {
    charts.delete(id);
    if (!entry.chart) entry.element.innerHTML = '';
    else if (onPage(entry.element)) entry.chart.destroy();
    else {
      // ApexCharts fails to tear down a chart whose element left the page (it reads the element's parent), after it
      // removed its window listener; the rest goes with the element.
      try { entry.chart.destroy(); } catch { /* the element is gone already */ }
    }
  }
}
