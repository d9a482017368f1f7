// The flow view's live updates, on top of a page that works without them: listens to /live and puts the
// fragments the server renders in place, draws each message that moves, announces what happened to screen
// readers, keeps ages ticking, and sends the demo's forms without leaving the page.

const map = document.getElementById('map');
const lines = document.getElementById('map-lines');
const activity = document.getElementById('activity');
const announcer = document.getElementById('announcer');
const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
const KEPT = 40;

/** The centre of a node's card, in the map's own coordinates. */
function centreOf(id) {
  const node = document.getElementById(`node-${id}`);
  if (!node || !map) return undefined;
  const box = node.getBoundingClientRect();
  const origin = map.getBoundingClientRect();
  return { x: box.left - origin.left + box.width / 2, y: box.top - origin.top + box.height / 2 };
}

/** A dashed line from each region to the hub: the routes messages take. */
function drawLines() {
  if (!map || !lines) return;
  const hub = centreOf('hub');
  const box = map.getBoundingClientRect();
  lines.setAttribute('viewBox', `0 0 ${box.width} ${box.height}`);
  lines.replaceChildren();
  if (!hub) return;
  for (const node of map.querySelectorAll('.fv-node[data-node]')) {
    const id = node.dataset.node;
    if (id === 'hub') continue;
    const at = centreOf(id);
    if (!at) continue;
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'line');
    line.setAttribute('x1', String(at.x));
    line.setAttribute('y1', String(at.y));
    line.setAttribute('x2', String(hub.x));
    line.setAttribute('y2', String(hub.y));
    lines.append(line);
  }
}

/** A dot with its label, from its region to the hub and on (or back, when it did not get through). */
function animateMove(move) {
  if (reducedMotion || !map) return;
  const from = centreOf(move.from);
  const hub = centreOf('hub');
  if (!from || !hub) return;
  const to = move.to === 'locator' ? hub : centreOf(move.to);
  const dot = document.createElement('div');
  dot.className = `fv-dot fv-dot--${move.outcome}`;
  dot.setAttribute('aria-hidden', 'true');
  const label = document.createElement('span');
  label.textContent = move.label;
  dot.append(label);
  map.append(dot);
  const at = (p) => ({ transform: `translate(${p.x - 9}px, ${p.y - 9}px)` });
  const path =
    move.outcome === 'delivered' && to
      ? [at(from), at(hub), at(to)]
      : [at(from), at(hub), at({ x: (from.x + hub.x) / 2, y: (from.y + hub.y) / 2 })];
  const animation = dot.animate(path, { duration: 2400, easing: 'ease-in-out' });
  animation.onfinish = () => dot.remove();
}

/** Tells screen readers what happened, politely (a few lines are kept, the oldest dropped). */
function announce(text) {
  if (!announcer) return;
  const line = document.createElement('p');
  line.textContent = text;
  announcer.append(line);
  while (announcer.childElementCount > 5) announcer.firstElementChild.remove();
}

function replace(id, html, flash) {
  const old = document.getElementById(id);
  if (!old) return;
  const template = document.createElement('template');
  template.innerHTML = html;
  const fresh = template.content.firstElementChild;
  if (!fresh) return;
  if (flash && old.className !== fresh.className) fresh.classList.add('fv-flash');
  old.replaceWith(fresh);
}

/** How long ago, as the server writes it: `12 s`, `3 min`, `2 h`. */
function age(iso) {
  const ms = Math.max(0, Date.now() - Date.parse(iso));
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  return `${Math.floor(ms / 3_600_000)} h`;
}

setInterval(() => {
  for (const el of document.querySelectorAll('[data-since]')) el.textContent = age(el.dataset.since);
}, 1000);

function listen() {
  const source = new EventSource('/live');
  source.addEventListener('sync', (e) => {
    const { nodes, safety } = JSON.parse(e.data);
    for (const node of nodes) replace(`node-${node.id}`, node.html, false);
    const panel = document.getElementById('safety');
    if (panel) panel.innerHTML = safety;
    drawLines();
    document.body.dataset.live = 'connected';
  });
  source.addEventListener('node', (e) => {
    const { id, html } = JSON.parse(e.data);
    replace(`node-${id}`, html, true);
    drawLines();
  });
  source.addEventListener('activity', (e) => {
    const { html, text, move } = JSON.parse(e.data);
    if (!activity) return;
    document.getElementById('activity-empty')?.remove();
    activity.insertAdjacentHTML('afterbegin', html);
    while (activity.childElementCount > KEPT) activity.lastElementChild.remove();
    announce(text);
    if (move) animateMove(move);
  });
  source.addEventListener('safety', (e) => {
    const panel = document.getElementById('safety');
    if (panel) panel.innerHTML = JSON.parse(e.data).html;
  });
  source.addEventListener('controls', (e) => {
    replace('demo-controls', JSON.parse(e.data).html, false);
    bindForms();
  });
  source.addEventListener('error', () => {
    document.body.dataset.live = 'reconnecting';
  });
}

/** The demo's forms, sent in the background: the page (and its picture) stays; the outcome is shown and announced. */
function bindForms() {
  for (const form of document.querySelectorAll('form[data-action]')) {
    if (form.dataset.bound) continue;
    form.dataset.bound = 'yes';
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = form.querySelector('button');
      if (button) button.disabled = true;
      announce(`${button?.textContent?.trim() ?? 'Working'}…`);
      try {
        const response = await fetch(form.action, {
          method: 'POST',
          headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(new FormData(form)),
        });
        const answer = await response.json();
        const area = document.getElementById('notice-area');
        if (area && answer.html) area.innerHTML = answer.html;
        announce(answer.text ?? answer.issue?.[0]?.diagnostics ?? `The action failed (${response.status})`);
      } catch {
        announce('The action could not be sent: is the flow view still running?');
      } finally {
        if (button) button.disabled = false;
      }
    });
  }
}

if (map) {
  drawLines();
  window.addEventListener('resize', drawLines);
  listen();
}
bindForms();
