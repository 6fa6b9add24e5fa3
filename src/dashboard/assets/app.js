// The dashboard page. Every string that comes from the cluster (names, AI output, reasons)
// reaches the DOM as a text node or an attribute value through `h`, never as markup, and
// the server's Content-Security-Policy allows no inline script: a startup called
// `<script>alert(1)</script>` is shown, not run.

const state = {
  startups: new Map(),
  providers: new Map(),
  at: Date.now(),
  session: undefined,
};
let page; // { update(): void, dispose?(): void }
let pending = false;

// ---- DOM -----------------------------------------------------------------------------

function h(tag, props, ...children) {
  const el = document.createElement(tag);
  apply(el, props);
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs ?? {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

function apply(el, props) {
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') for (const [p, val] of Object.entries(v)) el.style.setProperty(p, val);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// ---- formatting ----------------------------------------------------------------------

/** "0.004250" → "$0.00425", "15.000000" → "$15.00": the decimal string, trimmed, never a float's rounding. */
function usd(value) {
  const [whole = '0', frac = ''] = String(value ?? '0').split('.');
  const trimmed = frac.replace(/0+$/, '');
  return `$${whole}.${trimmed.length >= 2 ? trimmed : trimmed.padEnd(2, '0')}`;
}

function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const sec = Math.round(ms / 1000);
  if (sec < 60) return `${sec}s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return `${min}m ${String(sec % 60).padStart(2, '0')}s`;
  const hr = Math.floor(min / 60);
  if (hr < 48) return `${hr}h ${String(min % 60).padStart(2, '0')}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

function since(iso, until) {
  if (!iso) return '—';
  const end = until ? Date.parse(until) : Date.now();
  return duration(end - Date.parse(iso));
}

const int = new Intl.NumberFormat('en');
const pct = (x) => (x === null || x === undefined ? '—' : `${Math.round(x * 100)}%`);
const quality = (q) => (q === undefined || q === null ? '—' : q.toFixed(2));

function ago(iso) {
  if (!iso) return '';
  return `${since(iso)} ago`;
}

// ---- shared pieces -------------------------------------------------------------------

const badge = (phase) => h('span', { class: 'badge', dataset: { phase } }, phase);

/** Reconciling, Stalled and BudgetExceeded are abnormal when True (kstatus polarity): False is the good news. */
const ABNORMAL = new Set(['Reconciling', 'Stalled', 'BudgetExceeded']);
function conditionBadge(c) {
  const tone = c.status === 'Unknown' ? 'Unknown' : (c.status === 'True') !== ABNORMAL.has(c.type) ? 'good' : 'bad';
  return h('span', { class: 'badge', dataset: { phase: tone } }, c.status);
}

/** A bar of `used` against `limit`; a budget turns amber then red as it fills, a score (`score`) is simply green. */
function meter(used, limit, text, { score = false } = {}) {
  const ratio = limit > 0 ? Math.min(1, used / limit) : 0;
  const level = score ? 'score' : ratio >= 1 ? 'full' : ratio >= 0.8 ? 'high' : 'ok';
  return h('div', { class: 'meter', title: text },
    h('div', { class: 'bar' }, h('div', { class: 'fill', dataset: { level }, style: { width: `${(ratio * 100).toFixed(1)}%` } })),
    h('div', { class: 'text' }, text));
}

/** The pipeline as columns of small squares, one column per DAG level. */
function miniDag(tasks) {
  if (tasks.length === 0) return h('span', { class: 'name-sub' }, 'no tasks yet');
  const cols = groupByLevel(tasks);
  return h('div', { class: 'dag', role: 'img', 'aria-label': `${tasks.filter((t) => t.phase === 'Succeeded').length} of ${tasks.length} tasks succeeded` },
    cols.map((col) => h('div', { class: 'col' }, col.map((t) => h('span', {
      class: 'node', dataset: { phase: t.phase, task: t.name },
      title: `${t.name}: ${t.phase}${t.provider ? ` on ${t.provider}` : ''}${t.quality !== undefined ? `, quality ${quality(t.quality)}` : ''}`,
    })))));
}

function groupByLevel(tasks) {
  const cols = [];
  for (const t of tasks) (cols[t.level] ??= []).push(t);
  return cols.filter(Boolean);
}

function tile(label, value, hint) {
  return h('div', { class: 'tile' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), hint ? h('div', { class: 'hint' }, hint) : null);
}

function readyReason(s) {
  if (!s.ready) return '';
  if (s.ready.status === 'True') return '';
  return [s.ready.reason, s.ready.message].filter(Boolean).join(': ');
}

const PALETTE = ['#4f46e5', '#0ea5e9', '#16a34a', '#f59e0b', '#db2777', '#7c3aed', '#64748b'];

/** Stacked bars of `series` (buckets of groups with counts), for routing share and analytics. */
function stackedChart(series, keys, { height = 220, label, granularity = 'hour' } = {}) {
  // About the width it is drawn at, so its labels keep their size.
  const width = 1280;
  const pad = { l: 34, r: 8, t: 8, b: 22 };
  const totals = series.map((b) => b.groups.reduce((n, g) => n + (keys.includes(g.key) ? g.count : 0), 0));
  const max = Math.max(1, ...totals);
  const bw = (width - pad.l - pad.r) / Math.max(1, series.length);
  const y = (v) => pad.t + (height - pad.t - pad.b) * (1 - v / max);
  const svgEl = s('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label ?? 'chart' });
  for (const tick of [0, Math.ceil(max / 2), max]) {
    svgEl.append(s('line', { x1: pad.l, x2: width - pad.r, y1: y(tick), y2: y(tick), stroke: '#e4e6ef' }));
    svgEl.append(s('text', { x: pad.l - 6, y: y(tick) + 4, 'text-anchor': 'end' }, String(tick)));
  }
  series.forEach((bucket, i) => {
    let acc = 0;
    for (const [k, key] of keys.entries()) {
      const count = bucket.groups.find((g) => g.key === key)?.count ?? 0;
      if (count === 0) continue;
      svgEl.append(s('rect', {
        x: pad.l + i * bw + 1, width: Math.max(1, bw - 2), y: y(acc + count), height: y(acc) - y(acc + count), fill: PALETTE[k % PALETTE.length], rx: 1.5,
      }, s('title', {}, `${key}: ${count} (${new Date(bucket.start).toLocaleString()})`)));
      acc += count;
    }
  });
  const every = Math.max(1, Math.ceil(series.length / 8));
  series.forEach((bucket, i) => {
    if (i % every !== 0) return;
    const d = new Date(bucket.start);
    const text = granularity === 'day'
      ? d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' })
      : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    svgEl.append(s('text', { x: pad.l + i * bw + bw / 2, y: height - 6, 'text-anchor': 'middle' }, text));
  });
  const legend = h('div', { class: 'legend' }, keys.map((key, k) => h('span', { style: { '--swatch': PALETTE[k % PALETTE.length] } }, key)));
  return h('div', {}, svgEl, legend);
}

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (res.status === 401) {
    location.hash = '#/login';
    throw new Error('sign-in needed');
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `${res.status}`);
  return body;
}

// ---- pages ---------------------------------------------------------------------------

function overview() {
  let filter = '';
  let phase = 'All';
  const root = h('section', { id: 'overview' });
  const tiles = h('div', { class: 'tiles' });
  const body = h('div', { class: 'panel flush' });
  const search = h('input', {
    type: 'search', placeholder: 'Filter by name, industry, template…', 'aria-label': 'Filter startups',
    oninput: (e) => { filter = e.target.value.toLowerCase(); update(); },
  });
  const phases = ['All', 'Running', 'Queued', 'Provisioning', 'Succeeded', 'Failed', 'Suspended'];
  const chips = h('div', { class: 'chips' }, phases.map((p) => h('button', {
    class: 'chip', type: 'button', 'aria-pressed': p === phase ? 'true' : 'false', dataset: { phase: p },
    onclick: () => { phase = p; for (const c of chips.children) c.setAttribute('aria-pressed', c.dataset.phase === p ? 'true' : 'false'); update(); },
  }, p)));
  root.append(h('h1', {}, 'Startups'), h('p', { class: 'sub' }, 'Every Startup the operator manages, live from its caches.'), tiles, h('div', { class: 'toolbar' }, search, chips), body);

  function update() {
    const all = [...state.startups.values()];
    const by = (p) => all.filter((x) => x.phase === p).length;
    const spent = all.reduce((n, x) => n + Number(x.cost.todayUsd), 0);
    const running = all.reduce((n, x) => n + x.tasks.filter((t) => t.phase === 'Running').length, 0);
    const calls = all.reduce((n, x) => n + x.calls.thisHour, 0);
    replace(tiles,
      tile('Startups', int.format(all.length), `${by('Queued')} queued`),
      tile('Building', int.format(by('Running') + by('Provisioning')), `${running} task${running === 1 ? '' : 's'} in flight`),
      tile('Succeeded', int.format(by('Succeeded'))),
      tile('Failed', int.format(by('Failed'))),
      tile('Spend today', usd(spent.toFixed(6)), 'settled, all startups'),
      tile('AI calls this hour', int.format(calls)));
    const rows = all
      .filter((x) => phase === 'All' || x.phase === phase)
      .filter((x) => !filter || [x.name, x.displayName, x.industry, x.category, x.template].some((v) => v.toLowerCase().includes(filter)))
      .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.name.localeCompare(b.name));
    if (rows.length === 0) {
      replace(body, h('div', { class: 'empty' }, all.length === 0 ? 'No Startups yet. kubectl apply -f examples/startup-fintech.yaml' : 'No Startup matches.'));
      return;
    }
    replace(body, h('table', { id: 'startups' },
      h('thead', {}, h('tr', {}, ['Startup', 'Phase', 'Pipeline', 'Tasks', 'Cost today', 'Calls this hour', 'Providers', 'Quality', 'Age'].map((t, i) => h('th', { class: i >= 3 && i !== 4 && i !== 5 && i !== 6 ? 'num' : '' }, t)))),
      h('tbody', {}, rows.map(row))));
  }

  function row(x) {
    const providers = [...new Set(x.tasks.map((t) => t.provider).filter(Boolean))];
    const scored = x.tasks.filter((t) => t.quality !== undefined);
    const meanQ = scored.length ? scored.reduce((n, t) => n + t.quality, 0) / scored.length : undefined;
    const reason = readyReason(x);
    return h('tr', { dataset: { startup: x.name } },
      h('td', {},
        h('a', { class: 'name', href: `#/startups/${encodeURIComponent(x.name)}` }, x.displayName),
        h('div', { class: 'name-sub' }, x.name, x.industry ? ' · ' : '', x.industry, x.category ? ` / ${x.category}` : '', ' · ', x.template)),
      h('td', {}, badge(x.deleting ? 'Deleting' : x.phase), reason && x.phase !== 'Succeeded' ? h('div', { class: 'reason' }, reason) : null),
      h('td', {}, miniDag(x.tasks)),
      h('td', { class: 'num progress' }, `${x.progress.succeeded}/${x.progress.total}`),
      h('td', {}, meter(Number(x.cost.todayUsd), Number(x.cost.limitUsd), `${usd(x.cost.todayUsd)} of ${usd(x.cost.limitUsd)}`)),
      h('td', {}, meter(x.calls.thisHour, x.calls.limit, `${int.format(x.calls.thisHour)} of ${int.format(x.calls.limit)}`)),
      h('td', {}, providers.length ? providers.map((p) => h('span', { class: 'tag' }, p)) : h('span', { class: 'name-sub' }, '—')),
      h('td', { class: 'num' }, quality(meanQ)),
      h('td', { class: 'num', dataset: { since: x.startedAt ?? x.createdAt ?? '', until: x.completedAt ?? '' } }, since(x.startedAt ?? x.createdAt, x.completedAt)));
  }

  update();
  return { el: root, update };
}

function startupPage(name) {
  const root = h('section', { id: 'startup' });
  const head = h('div');
  const statusPart = h('div');
  const detailPart = h('div', {}, h('div', { class: 'panel empty' }, 'Loading details…'));
  root.append(h('div', { class: 'crumbs' }, h('a', { href: '#/' }, 'Startups'), ' / ', name), head, statusPart, detailPart);
  let lastFetch = 0;
  let timer;
  let disposed = false;

  async function loadDetails() {
    lastFetch = Date.now();
    try {
      const d = await getJson(`/api/startups/${encodeURIComponent(name)}`);
      if (!disposed) renderDetails(d);
    } catch (err) {
      if (!disposed) replace(detailPart, h('div', { class: 'error' }, `Could not load details: ${err.message}`));
    }
  }

  function update() {
    const x = state.startups.get(name);
    if (!x) {
      replace(head, h('h1', {}, name));
      replace(statusPart, h('div', { class: 'panel empty' }, 'This Startup does not exist (or was deleted).'));
      return;
    }
    replace(head,
      h('h1', {}, x.displayName, ' ', badge(x.phase)),
      h('p', { class: 'sub' }, x.name, x.industry ? ` · ${x.industry}` : '', x.category ? ` / ${x.category}` : '', ` · template ${x.template}`, x.suspended ? ' · suspended' : '', ` · priority ${x.priority}`));
    const reason = readyReason(x);
    replace(statusPart,
      reason ? h('div', { class: x.phase === 'Failed' ? 'error' : 'notice' }, reason) : null,
      h('div', { class: 'tiles' },
        tile('Tasks', `${x.progress.succeeded}/${x.progress.total}`, `${x.tasks.filter((t) => t.phase === 'Running').length} running`),
        tile('Cost today', usd(x.cost.todayUsd), `of ${usd(x.cost.limitUsd)} a day · ${usd(x.cost.reservedUsd)} held`),
        tile('Calls this hour', int.format(x.calls.thisHour), `of ${int.format(x.calls.limit)} · ${int.format(x.calls.cached)} cached in all`),
        tile('Total spend', usd(x.cost.totalUsd), `${int.format(x.calls.total)} calls`),
        tile('Tokens', int.format(x.tokens.input + x.tokens.output), `${int.format(x.tokens.input)} in · ${int.format(x.tokens.output)} out`),
        tile(x.completedAt ? 'Took' : 'Running for', since(x.startedAt ?? x.createdAt, x.completedAt), x.startedAt ? `started ${new Date(x.startedAt).toLocaleString()}` : 'not started')),
      h('div', { class: 'panel' }, h('h2', {}, 'Pipeline'), graph(x.tasks)),
      h('div', { class: 'panel' }, h('h2', {}, 'Timeline'), gantt(x.tasks)),
      h('div', { class: 'panel flush' }, h('h2', {}, 'Tasks'), taskTable(x.tasks)));
    // The status changed: what the page reads on demand (Events, outputs) probably did too.
    if (Date.now() - lastFetch > 3000) void loadDetails();
    else if (!timer) timer = setTimeout(() => { timer = undefined; void loadDetails(); }, 3000);
  }

  function renderDetails(d) {
    replace(detailPart,
      d.problems.length ? h('div', { class: 'notice' }, d.problems.join(' · ')) : null,
      h('div', { class: 'panel flush' }, h('h2', {}, 'Conditions'), table(['Type', 'Status', 'Reason', 'Message', 'Since'], d.conditions.map((c) => [
        h('span', { class: 'name' }, c.type), conditionBadge(c), c.reason ?? '', h('span', { class: 'reason wide' }, c.message ?? ''), ago(c.lastTransitionTime)]), 'conditions')),
      h('div', { class: 'panel' }, h('h2', {}, `Outputs (${d.outputs.length})`), d.outputs.length === 0 ? h('div', { class: 'name-sub' }, 'No task has stored its output yet.')
        : h('div', { class: 'scroll' }, d.outputs.map((o) => h('details', { class: 'output', dataset: { task: o.task } },
          h('summary', {}, o.task, h('span', { class: 'm' }, `${o.provider} · ${o.model} · quality ${quality(o.quality)}${o.truncated ? ' · preview' : ''}`)),
          h('pre', { class: 'preview' }, o.preview))))),
      h('div', { class: 'grid2' },
        h('div', { class: 'panel' }, h('h2', {}, `Shared context (${d.context.length})`), d.context.length === 0 ? h('div', { class: 'name-sub' }, 'Nothing shared yet.')
          : h('div', { class: 'scroll' }, d.context.map((c) => h('details', { class: 'output' }, h('summary', {}, c.key), h('pre', { class: 'preview' }, c.preview))))),
        h('div', { class: 'panel' }, h('h2', {}, `Project files (${d.files.length})`), fileTree(d.files))),
      h('div', { class: 'grid2' },
        h('div', { class: 'panel flush' }, h('h2', {}, `Events (${d.events.length})`), h('div', { class: 'scroll' }, table(['Type', 'Reason', 'Object', 'Note', 'When'], d.events.map((e) => [
          e.type, e.reason, h('span', { class: 'mono' }, e.object), h('span', { class: 'reason' }, e.note), ago(e.lastAt)]), 'events'))),
        h('div', { class: 'panel flush' }, h('h2', {}, `Namespace objects (${d.objects.length})`), h('div', { class: 'scroll' }, table(['Kind', 'Name', 'Status', 'Age'], d.objects.map((o) => [
          o.kind, h('span', { class: 'mono' }, o.name), h('span', { class: 'reason' }, o.summary), since(o.createdAt)]), 'objects')))));
  }

  update();
  return { el: root, update, dispose: () => { disposed = true; clearTimeout(timer); } };
}

function graph(tasks) {
  if (tasks.length === 0) return h('div', { class: 'name-sub' }, 'The pipeline starts once the Startup is provisioned.');
  return h('div', { class: 'graph', id: 'graph' }, groupByLevel(tasks).map((col) => h('div', { class: 'col' }, col.map((t) => h('div', {
    class: 'card', dataset: { phase: t.phase, task: t.name }, title: t.reason ?? '',
  }, h('div', { class: 't' }, t.name), h('div', { class: 'm' }, t.phase, t.provider ? ` · ${t.provider}` : '', t.quality !== undefined ? ` · q ${quality(t.quality)}` : ''))))));
}

function gantt(tasks) {
  const started = tasks.filter((t) => t.startedAt);
  if (started.length === 0) return h('div', { class: 'name-sub' }, 'No task has started yet.');
  const t0 = Math.min(...started.map((t) => Date.parse(t.startedAt)));
  const t1 = Math.max(...started.map((t) => (t.finishedAt ? Date.parse(t.finishedAt) : Date.now())));
  const span = Math.max(1000, t1 - t0);
  return h('div', { class: 'gantt' }, started.sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt)).map((t) => {
    const a = Date.parse(t.startedAt);
    const b = t.finishedAt ? Date.parse(t.finishedAt) : Date.now();
    return h('div', { class: 'row' },
      h('div', { class: 'label', title: t.name }, t.name),
      h('div', { class: 'lane' }, h('div', { class: 'span', dataset: { phase: t.phase }, style: { left: `${((a - t0) / span) * 100}%`, width: `${((b - a) / span) * 100}%` } })),
      h('div', { class: 'dur' }, duration(b - a)));
  }));
}

function taskTable(tasks) {
  return table(['Task', 'Type', 'Phase', 'Attempts', 'Provider', 'Model', 'Calls', 'Cost', 'Quality', 'Took', 'Reason'], tasks.map((t) => [
    h('span', { class: 'name' }, t.name), t.type, badge(t.phase), t.attempts ?? 0, t.provider ?? '—', t.model ?? '—',
    `${t.calls ?? 0}${t.cachedCalls ? ` (+${t.cachedCalls} cached)` : ''}`, t.costUsd ? usd(t.costUsd) : '—', quality(t.quality),
    t.startedAt ? since(t.startedAt, t.finishedAt) : '—', h('span', { class: 'reason' }, t.reason ?? ''),
  ]), 'tasks');
}

function table(headers, rows, id) {
  if (rows.length === 0) return h('div', { class: 'empty' }, 'None.');
  return h('table', { id }, h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))), h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));
}

function fileTree(files) {
  if (files.length === 0) return h('div', { class: 'name-sub' }, 'The scaffold is not rendered yet.');
  const rootDir = { dirs: new Map(), files: [] };
  for (const f of files) {
    const parts = f.path.split('/');
    let dir = rootDir;
    for (const p of parts.slice(0, -1)) {
      if (!dir.dirs.has(p)) dir.dirs.set(p, { dirs: new Map(), files: [] });
      dir = dir.dirs.get(p);
    }
    dir.files.push({ ...f, base: parts[parts.length - 1] });
  }
  const render = (dir, depth) => h('ul', {},
    [...dir.dirs].sort(([a], [b]) => a.localeCompare(b)).map(([n, d]) => h('li', { class: 'dir' }, h('details', { open: depth < 1 },
      h('summary', {}, h('span', {}, `${n}/`)), render(d, depth + 1)))),
    dir.files.map((f) => h('li', {}, h('span', { class: 'mono' }, f.base),
      f.origin !== 'scaffold' ? h('span', { class: 'origin', dataset: { origin: f.origin } }, f.origin) : null,
      h('span', { class: 'size' }, `${int.format(f.bytes)} B`))));
  return h('div', { class: 'files' }, render(rootDir, 0));
}

function providersPage() {
  const root = h('section', { id: 'providers' });
  const cards = h('div');
  const routing = h('div', { class: 'panel' }, h('h2', {}, 'Routing over the last 48 hours'), h('div', { class: 'name-sub' }, 'Loading…'));
  root.append(h('h1', {}, 'Providers'), h('p', { class: 'sub' }, 'What the learning engine measured per task type, and how it shared tasks among providers.'), routing, cards);
  let disposed = false;
  async function loadRouting() {
    try {
      const report = await getJson('/api/analytics?by=provider&since=48h');
      if (disposed) return;
      const keys = report.groups.map((g) => g.key).slice(0, PALETTE.length);
      replace(routing, h('h2', {}, 'Routing over the last 48 hours'),
        report.groups.length === 0 ? h('div', { class: 'name-sub' }, 'No task has finished in the last 48 hours.')
          : [stackedChart(report.series, keys, { label: 'tasks per hour by provider' }),
            table(['Provider', 'Tasks', 'Share', 'Success', 'Mean quality', 'Mean cost', 'p95 duration'], report.groups.map((g) => [
              g.key, g.count, pct(g.count / report.groups.reduce((n, x) => n + x.count, 0)), pct(g.successRate), quality(g.meanQuality), usd(g.meanCostUsd),
              g.p95Seconds === null ? '—' : duration(g.p95Seconds * 1000)]), 'routing')]);
    } catch (err) {
      if (!disposed) replace(routing, h('h2', {}, 'Routing over the last 48 hours'), h('div', { class: 'error' }, err.message));
    }
  }
  function update() {
    const all = [...state.providers.values()].sort((a, b) => a.name.localeCompare(b.name));
    if (all.length === 0) {
      replace(cards, h('div', { class: 'panel empty' }, 'No AIProvider yet. kubectl apply -f examples/aiprovider-offline.yaml'));
      return;
    }
    replace(cards, all.map((p) => h('div', { class: 'panel flush', dataset: { provider: p.name } },
      h('h2', {}, p.name, ' ', badge(p.ready?.status === 'True' ? 'Ready' : 'Not ready')),
      h('p', { class: 'sub', style: { padding: '0 18px' } }, `${p.type} · ${p.model} · ${usd(p.pricing.inputPerMillionUsd)} / ${usd(p.pricing.outputPerMillionUsd)} per million tokens in / out · at most ${p.maxConcurrency} calls at once`,
        p.ready?.status !== 'True' && p.ready?.message ? ` · ${p.ready.message}` : ''),
      p.stats.length === 0 ? h('div', { class: 'empty' }, 'Nothing measured yet.')
        : table(['Task type', 'Calls', 'Success', 'Quality', 'Latency', 'Mean cost', 'Updated'], p.stats.map((x) => [
          x.taskType, int.format(x.samples), pct(x.successRate), meter(x.meanQuality, 1, quality(x.meanQuality), { score: true }), duration(x.meanLatencyMs), usd(x.meanCostUsd), ago(x.updatedAt)]), `stats-${p.name}`))));
  }
  update();
  void loadRouting();
  const refresh = setInterval(loadRouting, 30_000);
  return { el: root, update, dispose: () => { disposed = true; clearInterval(refresh); } };
}

function analyticsPage() {
  let by = 'industry';
  let window = '30d';
  const root = h('section', { id: 'analytics' });
  const content = h('div');
  const select = (label, options, value, set) => h('label', {}, `${label} `, h('select', { onchange: (e) => { set(e.target.value); void load(); } },
    options.map(([v, t]) => h('option', { value: v, selected: v === value }, t))));
  root.append(h('h1', {}, 'Analytics'), h('p', { class: 'sub' }, 'Kept in the API in bounded form: deleting a Startup does not erase its history. The same figures: GET /api/analytics, npx startup-factory report.'),
    h('div', { class: 'toolbar' },
      select('By', [['industry', 'industry'], ['category', 'category'], ['template', 'template'], ['provider', 'provider']], by, (v) => { by = v; }),
      select('Over', [['24h', 'last 24 hours'], ['48h', 'last 48 hours'], ['7d', 'last 7 days'], ['30d', 'last 30 days'], ['90d', 'last 90 days']], window, (v) => { window = v; })),
    content);
  let disposed = false;
  async function load() {
    try {
      const r = await getJson(`/api/analytics?by=${by}&since=${window}`);
      if (disposed) return;
      const keys = r.groups.map((g) => g.key).slice(0, PALETTE.length);
      replace(content,
        h('div', { class: 'panel' }, h('h2', {}, `${r.unit === 'tasks' ? 'Tasks' : 'Startups'} finished per ${r.granularity}`),
          r.groups.length === 0 ? h('div', { class: 'name-sub' }, 'Nothing finished in this window.') : stackedChart(r.series, keys, { label: `${r.unit} per ${r.granularity}`, granularity: r.granularity })),
        h('div', { class: 'panel flush' }, h('h2', {}, `By ${r.by}`), table(
          [r.by, r.unit, 'Success', 'Mean time', 'p95 time', 'Mean cost', 'Total cost', 'Tokens in', 'Tokens out', ...(r.by === 'provider' ? ['Quality'] : [])],
          r.groups.map((g) => [h('span', { class: 'name' }, g.key), int.format(g.count), pct(g.successRate),
            g.meanSeconds === null ? '—' : duration(g.meanSeconds * 1000), g.p95Seconds === null ? '—' : duration(g.p95Seconds * 1000),
            usd(g.meanCostUsd), usd(g.totalCostUsd), int.format(g.inputTokens), int.format(g.outputTokens), ...(r.by === 'provider' ? [quality(g.meanQuality)] : [])]), 'analytics-table')));
    } catch (err) {
      if (!disposed) replace(content, h('div', { class: 'error' }, err.message));
    }
  }
  void load();
  return { el: root, update: () => {}, dispose: () => { disposed = true; } };
}

function loginPage(error) {
  const root = h('section', { class: 'login panel', id: 'login' },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'sub' }, 'The dashboard obeys the cluster\'s RBAC: paste a token the API server accepts, whose user may list Startups.'),
    error ? h('div', { class: 'error' }, error) : null,
    h('form', { method: 'post', action: '/login' },
      h('textarea', { name: 'token', placeholder: 'kubectl create token <service-account> -n <namespace>', required: true, 'aria-label': 'Bearer token', autocomplete: 'off', spellcheck: 'false' }),
      h('button', { type: 'submit' }, 'Sign in')));
  return { el: root, update: () => {} };
}

// ---- wiring --------------------------------------------------------------------------

function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?');
  page?.dispose?.();
  const app = document.getElementById('app');
  const nav = path.startsWith('/providers') ? 'providers' : path.startsWith('/analytics') ? 'analytics' : path.startsWith('/login') ? '' : 'overview';
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === nav);
  const startup = /^\/startups\/([^/]+)$/.exec(path);
  if (path.startsWith('/login')) page = loginPage(new URLSearchParams(query).get('error'));
  else if (!state.session) page = { el: h('div', { class: 'empty' }, 'Connecting…'), update: () => {} };
  else if (startup) page = startupPage(decodeURIComponent(startup[1]));
  else if (path === '/providers') page = providersPage();
  else if (path === '/analytics') page = analyticsPage();
  else page = overview();
  replace(app, page.el);
}

function scheduleUpdate() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; page?.update(); });
}

function setLive(value) {
  const el = document.getElementById('live');
  el.dataset.state = value;
  el.textContent = value;
}

function connect() {
  const es = new EventSource('/api/stream');
  es.addEventListener('open', () => setLive('live'));
  es.addEventListener('snapshot', (e) => {
    const snap = JSON.parse(e.data);
    state.startups = new Map(snap.startups.map((x) => [x.name, x]));
    state.providers = new Map(snap.providers.map((x) => [x.name, x]));
    setLive('live');
    scheduleUpdate();
  });
  const upsert = (map) => (e) => { const x = JSON.parse(e.data); map().set(x.name, x); scheduleUpdate(); };
  const remove = (map) => (e) => { map().delete(JSON.parse(e.data).name); scheduleUpdate(); };
  es.addEventListener('startup', upsert(() => state.startups));
  es.addEventListener('startup-deleted', remove(() => state.startups));
  es.addEventListener('provider', upsert(() => state.providers));
  es.addEventListener('provider-deleted', remove(() => state.providers));
  es.addEventListener('error', () => {
    setLive('reconnecting');
    // A stream refused (the session ended) is not retried by the browser: find out why.
    if (es.readyState === EventSource.CLOSED) void start();
  });
}

async function start() {
  const res = await fetch('/api/session', { credentials: 'same-origin' });
  if (res.status === 401 || res.status === 403) {
    const body = await res.json().catch(() => ({}));
    setLive('signed out');
    if (!location.hash.startsWith('#/login')) location.hash = `#/login?error=${encodeURIComponent(res.status === 403 ? body.error ?? 'forbidden' : '')}`;
    else route();
    return;
  }
  state.session = await res.json();
  const user = document.getElementById('user');
  replace(user, state.session.user,
    state.session.auth === 'token' ? h('form', { method: 'post', action: '/logout', style: { display: 'inline', 'margin-left': '10px' } }, h('button', { type: 'submit' }, 'Sign out')) : null);
  if (location.hash.startsWith('#/login')) location.hash = '#/';
  route();
  connect();
}

window.addEventListener('hashchange', route);
// Ages and running timelines move with the clock, not with events.
setInterval(() => {
  for (const el of document.querySelectorAll('[data-since]')) if (el.dataset.since && !el.dataset.until) el.textContent = since(el.dataset.since);
}, 1000);
route();
void start();
