// Countdowns on the home page: each [data-ends] element shows the time left by the
// server's clock (the page's data-now is the server time when it was rendered).
(() => {
  const list = document.querySelector('[data-now]');
  if (!list) return;
  const offset = Number(list.dataset.now) - Date.now();
  const format = (ms) => {
    const s = Math.max(0, Math.floor(ms / 1000));
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    if (d) return `${d}d ${h}h`;
    if (h) return `${h}h ${m}m`;
    return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  };
  const tick = () => {
    for (const el of document.querySelectorAll('[data-ends]')) {
      const left = Number(el.dataset.ends) - (Date.now() + offset);
      el.textContent = left > 0 ? format(left) : 'now';
    }
  };
  tick();
  setInterval(tick, 1000);
})();
