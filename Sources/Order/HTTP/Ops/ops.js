'use strict';
const body = document.body;
const lanes = body.dataset.lanes.split(' ');
const services = body.dataset.services.split(' ');
const $ = (id) => document.getElementById(id);
const keys = { api: sessionStorage.getItem('orderly.api-key') || '', admin: sessionStorage.getItem('orderly.admin-key') || '' };
let parked = {};
let pending = 0;

// el('div', {class: 'x', style: {left: '1px'}}, 'text', child): elements built without parsing any text as HTML;
// styles go through the CSSOM, which the page's Content-Security-Policy allows (style attributes it does not).
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name === 'style') {
      for (const [property, setting] of Object.entries(value)) node.style.setProperty(property, setting);
    } else if (value !== null && value !== undefined) {
      node.setAttribute(name, value);
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function say(id, text, info) {
  const node = $(id);
  node.hidden = !text;
  node.textContent = text || '';
  node.className = info ? 'message info' : 'message';
}

function busy(delta) {
  pending += delta;
  body.dataset.state = pending > 0 ? 'loading' : 'ready';
}

async function call(method, path, key) {
  const headers = { 'Accept': 'application/json' };
  if (key === 'api' && keys.api) headers['X-API-Key'] = keys.api;
  if (key === 'admin' && keys.admin) headers['X-Admin-Key'] = keys.admin;
  busy(1);
  try {
    const response = await fetch(path, { method, headers, cache: 'no-store' });
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (error) { json = null; }
    if (!response.ok) {
      const detail = json && (json.detail || json.title) ? (json.detail || json.title) : text.slice(0, 200);
      throw new Error(response.status + ' ' + detail);
    }
    return json;
  } finally {
    busy(-1);
  }
}

function time(text) {
  if (!text) return '';
  const date = new Date(text);
  return date.toISOString().slice(11, 23);
}

function ms(value) {
  if (value === null || value === undefined) return '';
  if (Math.abs(value) < 1000) return value + ' ms';
  return (value / 1000).toFixed(value < 10000 ? 2 : 1) + ' s';
}

function laneIndex(name) {
  const index = lanes.indexOf(name);
  return index < 0 ? 0 : index;
}

// One row of swimlanes: a wire from the emitter's lane to each lane that takes the event.
function flowRow(entry) {
  const from = laneIndex(entry.from);
  const to = entry.to.map(laneIndex);
  const all = [from, ...to];
  const low = Math.min(...all);
  const high = Math.max(...all);
  const row = el('div', { class: 'row ' + entry.kind, 'data-event-type': entry.type, 'data-outcome': entry.kind },
    el('div', { class: 'time' }, el('b', {}, entry.offset), entry.clock));
  lanes.forEach((lane, index) => row.append(el('div', { class: 'lane-bg', style: { 'grid-column': String(index + 2) } })));
  const flow = el('div', { class: 'flow', style: { left: '150px', right: '0' } });
  const center = (index) => ((index + 0.5) / lanes.length * 100) + '%';
  if (high > low) {
    flow.append(el('div', { class: 'wire ' + entry.kind, style: { left: center(low), width: ((high - low) / lanes.length * 100) + '%' } }));
  }
  for (const index of to) if (index !== from) flow.append(el('div', { class: 'tip', style: { left: center(index) } }));
  flow.append(el('div', { class: 'dot', style: { left: center(from) } }));
  const middle = (low + high) / 2;
  flow.append(el('div', { class: 'label', style: { left: center(middle) } }, entry.type));
  flow.append(el('div', { class: 'detail', style: { left: center(middle) } }, entry.detail));
  row.append(flow);
  return row;
}

function describe(event) {
  let detail = event.outcome;
  if (event.from_status || event.to_status) detail += ' ' + (event.from_status || '–') + ' → ' + (event.to_status || '–');
  if (event.reason) detail += ' · ' + event.reason;
  return detail;
}

async function showOrder(id) {
  say('order-message', '');
  $('summary').replaceChildren();
  $('timeline').replaceChildren();
  if (!id) return;
  let timeline;
  try {
    timeline = await call('GET', '/v1/orders/' + encodeURIComponent(id) + '/timeline', 'api');
  } catch (error) {
    say('order-message', 'Timeline of ' + id + ': ' + error.message);
    return;
  }
  $('summary').append(el('div', { class: 'summary' },
    el('span', {}, el('b', {}, 'Order '), el('span', { class: 'mono' }, timeline.order_id)),
    el('span', { class: 'status ' + timeline.status, id: 'order-status' }, timeline.status),
    el('span', {}, el('b', {}, 'Trace '), el('span', { class: 'mono', id: 'trace-id' }, timeline.trace_id || '–')),
    el('span', {}, el('b', {}, 'Events '), timeline.events.length),
    el('span', {}, el('b', {}, 'Took '), ms(timeline.duration_ms))));
  const grid = el('div', { class: 'grid', style: { '--lanes': String(lanes.length) } });
  grid.append(el('div', { class: 'lanes' }, el('div', {}, 'since placed'), ...lanes.map((lane) => el('div', {}, lane))));
  for (const event of timeline.events) {
    const to = event.handled_by ? [event.handled_by] : event.consumers;
    const clock = time(event.at) + (event.since_previous_ms !== null ? ' · +' + ms(event.since_previous_ms) : '');
    const row = flowRow({ type: event.type, kind: event.outcome, from: event.emitted_by, to, offset: '+' + ms(event.since_start_ms),
      clock, detail: describe(event) });
    row.title = event.type + '\nevent ' + event.event_id + '\nemitted by ' + event.emitted_by + (event.source ? ' (' + event.source + ')' : '')
      + '\nat ' + (event.event_time || '–') + '\nrecorded ' + event.recorded_at + '\ntrace ' + (event.trace_id || '–');
    row.dataset.eventId = event.event_id;
    grid.append(row);
  }
  for (const [service, message] of parkedAbout(timeline.order_id)) {
    grid.append(flowRow({ type: 'parked: ' + (message.type || 'unknown type'), kind: 'parked', from: service, to: [],
      offset: 'parked', clock: time(message.parked_at), detail: message.reason || '' }));
  }
  $('timeline').append(grid);
}

function parkedAbout(orderID) {
  const found = [];
  for (const service of services) {
    for (const message of (parked[service] && parked[service].messages) || []) {
      if (message.subject === orderID) found.push([service, message]);
    }
  }
  return found;
}

async function replay(service, messageID) {
  const query = messageID ? '?message_id=' + encodeURIComponent(messageID) : '';
  try {
    const answer = await call('POST', '/v1/admin/services/' + service + '/parked/replay' + query, 'admin');
    say('parking-message', service + ': ' + answer.replayed.length + ' message(s) sent back to ' + answer.work_queue, true);
  } catch (error) {
    say('parking-message', service + ': replay failed: ' + error.message);
  }
  await loadParking();
}

function parkingTable(service, listing) {
  const box = el('div', { class: 'queue', 'data-service': service });
  const count = el('span', { class: 'count' + (listing && listing.count > 0 ? ' some' : ''), 'data-count': listing ? listing.count : '' },
    listing ? listing.count : '?');
  const all = el('button', { type: 'button', class: 'secondary' }, 'Replay all');
  all.disabled = !listing || listing.count === 0;
  all.addEventListener('click', () => replay(service));
  box.append(el('h3', {}, service, el('span', { class: 'mono' }, listing ? listing.queue : ''), count, all));
  if (!listing) return box;
  if (listing.messages.length === 0) {
    box.append(el('p', { class: 'empty' }, 'Nothing parked.'));
    return box;
  }
  const table = el('table', {}, el('tr', {}, ...['type', 'about', 'reason', 'parked at', 'attempts', 'kind', 'replays', ''].map((name) =>
    el('th', {}, name))));
  for (const message of listing.messages) {
    const button = el('button', { type: 'button' }, 'Replay');
    button.disabled = !message.message_id;
    button.addEventListener('click', () => replay(service, message.message_id));
    table.append(el('tr', { 'data-message-id': message.message_id || '' },
      el('td', { class: 'mono' }, message.type || '–'), el('td', { class: 'mono' }, message.subject || '–'),
      el('td', { class: 'reason' }, message.reason || message.last_error || '–'),
      el('td', {}, message.parked_at ? new Date(message.parked_at).toISOString().replace('T', ' ').slice(0, 19) : '–'),
      el('td', {}, message.attempts ?? '–'), el('td', {}, message.failure_kind || '–'), el('td', {}, message.replays),
      el('td', {}, button)));
  }
  box.append(table);
  if (listing.count > listing.messages.length) {
    box.append(el('p', { class: 'empty' }, (listing.count - listing.messages.length) + ' more not shown.'));
  }
  return box;
}

async function loadParking() {
  say('parking-message', '');
  if (!keys.admin) {
    say('parking-message', 'Enter the admin key to see the parking queues.', true);
    return;
  }
  const errors = [];
  const listings = await Promise.all(services.map(async (service) => {
    try {
      return await call('GET', '/v1/admin/services/' + service + '/parked?limit=50', 'admin');
    } catch (error) {
      errors.push(service + ': ' + error.message);
      return null;
    }
  }));
  parked = {};
  services.forEach((service, index) => { parked[service] = listings[index]; });
  $('parking').replaceChildren(...services.map((service) => parkingTable(service, parked[service])));
  if (errors.length) say('parking-message', errors.join(' · '));
}

async function refresh() {
  await loadParking();
  await showOrder($('order-id').value.trim());
}

function readFragment() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.has('api_key')) keys.api = fragment.get('api_key');
  if (fragment.has('admin_key')) keys.admin = fragment.get('admin_key');
  sessionStorage.setItem('orderly.api-key', keys.api);
  sessionStorage.setItem('orderly.admin-key', keys.admin);
  const order = fragment.get('order') || '';
  // The keys leave the address bar (and the history entry) at once.
  history.replaceState(null, '', location.pathname + (order ? '#order=' + encodeURIComponent(order) : ''));
  $('order-id').value = order;
  $('api-key').value = keys.api;
  $('admin-key').value = keys.admin;
}

$('keys').addEventListener('submit', (event) => {
  event.preventDefault();
  keys.api = $('api-key').value.trim();
  keys.admin = $('admin-key').value.trim();
  sessionStorage.setItem('orderly.api-key', keys.api);
  sessionStorage.setItem('orderly.admin-key', keys.admin);
  refresh();
});
$('order-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = $('order-id').value.trim();
  history.replaceState(null, '', location.pathname + (id ? '#order=' + encodeURIComponent(id) : ''));
  showOrder(id);
});
$('refresh-parking').addEventListener('click', () => refresh());
readFragment();
busy(1);
refresh().finally(() => busy(-1));
