// Reads the site's public profile with its publishable key, as a widget would, and shows it.
const key = document.querySelector('meta[name="dramac-key"]').content;
const api = document.querySelector('meta[name="dramac-api"]').content;
const panel = document.getElementById('site');

function show(lines, className) {
  panel.replaceChildren(
    ...lines.map((text) => {
      const p = document.createElement('p');
      p.textContent = text; // never innerHTML: names come from users
      if (className) p.className = className;
      return p;
    }),
  );
}

try {
  const response = await fetch(`${api}/v1/public/site?key=${encodeURIComponent(key)}`);
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail ?? `HTTP ${response.status}`);
  show([`Connected to Dramac as the site “${body.name}”.`, `Site id: ${body.id}`]);
  panel.dataset.state = 'connected';
} catch (error) {
  show([`Could not reach Dramac: ${error.message}`], 'error');
  panel.dataset.state = 'error';
}
