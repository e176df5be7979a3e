/**
 * Floating widgets (a chat, a help desk): until a visitor wants one, the page gets a light button of ours,
 * not the module. The embed script imports this only for sites that have such a widget. On the first click
 * the widget's element goes on the page — the loader sees it and loads its module — inside a modal dialog:
 * the page behind is inert, focus stays in the dialog, Escape closes it, and focus and scroll come back to
 * where they were. The button sits above the page at `--dm-z-index` (the dialog is in the top layer).
 */

interface Launcher {
  tag: string;
  label: string;
}

const styles = `
:host{position:fixed;right:16px;bottom:16px;z-index:var(--dm-z-index,2147483000)}
button{font:inherit;font-family:var(--dm-font-family,system-ui,sans-serif);cursor:pointer;border:0;
  border-radius:999px;padding:12px 20px;color:#fff;background:var(--dm-color-primary,#2454d6);
  box-shadow:0 4px 16px rgb(0 0 0/.2)}
button:focus-visible{outline:2px solid var(--dm-color-primary,#2454d6);outline-offset:3px}
dialog{border:0;border-radius:var(--dm-radius,8px);padding:0;width:min(420px,100vw - 32px);
  max-height:min(640px,100vh - 32px);overflow:auto}
dialog::backdrop{background:rgb(0 0 0/.3)}
.close{position:sticky;top:0;float:right;padding:4px 12px;margin:8px;border-radius:var(--dm-radius,8px)}
@media (prefers-reduced-motion:no-preference){button{transition:transform .15s}button:hover{transform:scale(1.04)}}
`;

export default async function launch(launchers: Launcher[]): Promise<void> {
  if (document.readyState === 'loading') {
    await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
  }
  for (const { tag, label } of launchers) {
    // A placeholder of the page's own says where the widget goes: then it needs no launcher.
    if (document.querySelector(tag)) continue;
    const host = document.createElement('div');
    host.setAttribute('data-dramac-launcher', tag);
    const root = host.attachShadow({ mode: 'open' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(styles);
    root.adoptedStyleSheets = [sheet];

    const open = document.createElement('button');
    open.setAttribute('part', 'launcher');
    open.setAttribute('aria-haspopup', 'dialog');
    open.textContent = label;
    const dialog = document.createElement('dialog');
    dialog.setAttribute('aria-label', label);
    const close = document.createElement('button');
    close.className = 'close';
    close.textContent = '×';
    close.setAttribute('aria-label', 'Close');
    dialog.append(close, document.createElement('slot'));
    root.append(open, dialog);

    let scroll = { x: 0, y: 0 };
    let overflow = '';
    open.addEventListener('click', () => {
      if (!host.querySelector(tag)) host.append(document.createElement(tag)); // the loader takes it from here
      scroll = { x: scrollX, y: scrollY };
      overflow = document.documentElement.style.overflow;
      document.documentElement.style.overflow = 'hidden';
      dialog.showModal();
    });
    close.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      document.documentElement.style.overflow = overflow;
      scrollTo(scroll.x, scroll.y);
      open.focus();
    });
    document.body.append(host);
  }
}
