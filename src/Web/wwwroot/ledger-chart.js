// The only place that talks to ApexCharts. Razor's LedgerChart component calls create, update and destroy.
// Options arrive as JSON; a "ledger" section asks for what JSON cannot carry (label formatters).
const charts = new Map();

function prepare(options) {
  const ledger = options.ledger || {};
  delete options.ledger;
  const pow10 = v => {
    let x = Math.pow(10, v);
    // Widths are usually powers of two: snap a tick that is within 1% of one (2047.4 reads 2048).
    const p2 = Math.pow(2, Math.round(Math.log2(x)));
    if (Math.abs(x - p2) / p2 < 0.01) x = p2;
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
  return options;
}

export function create(element, id, json) {
  destroy(id);
  const chart = new ApexCharts(element, prepare(JSON.parse(json)));
  charts.set(id, chart);
  return chart.render();
}

export function update(id, json) {
  const chart = charts.get(id);
  if (!chart) return Promise.resolve();
  return chart.updateOptions(prepare(JSON.parse(json)), false, false);
}

export function destroy(id) {
  const chart = charts.get(id);
  if (chart) {
    chart.destroy();
    charts.delete(id);
  }
}
